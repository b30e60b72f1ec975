/**
 * Whether an account may trade on each venue it may see, and if not why, for the login answer:
 * a venue settles on one kind of ledger, which names its parties one way (Ethereum addresses, or
 * the X.509 identities of MSPs), the account must have an identity of that way (the one it logged
 * in with, or one linked to it), and the venue's ledger must have made the account eligible and
 * not frozen it. Without pre-trade risk the engine
 * checks none of this: every venue is open. Without this, an order there is simply refused
 * (`RISK_NOT_ELIGIBLE`).
 */
import type { AccountSeed } from './exchange.ts';

export type AccessReason = 'other-ledger' | 'not-eligible' | 'frozen';

export interface VenueAccess {
  venue: string;
  canTrade: boolean;
  /** Why not, when `canTrade` is false. */
  reason?: AccessReason;
  message?: string;
}

/** How a login names an identity: an Ethereum account (`evm`) or an MSP's X.509 certificate (`x509`). */
export type LoginScheme = 'evm' | 'x509';

/** The kind of ledger a venue settles on (`evm`, `fabric`) and the scheme of the identities it holds assets for. */
export interface VenueLedger {
  kind: string;
  scheme: LoginScheme;
}

/**
 * The scheme of an identity named as accounts are: an Ethereum address (`evm`), an MSP's
 * `MSPID:name` (`x509`); null for a name of neither kind (an account no one logs in to).
 */
export function schemeOfName(name: string): LoginScheme | null {
  if (/^0x[0-9a-fA-F]{40}$/.test(name)) return 'evm';
  return name.indexOf(':') > 0 ? 'x509' : null;
}

/**
 * The member name of an identity named as accounts are, as venues list their members:
 * `evm:<address>`, `x509:<MSPID>`.
 */
export function memberNameOf(name: string): string {
  const scheme = schemeOfName(name);
  if (scheme === 'evm') return `evm:${name}`;
  return scheme === 'x509' ? `x509:${name.slice(0, name.indexOf(':'))}` : name;
}

/**
 * `risk`: whether the engine checks trades before they match; `standing`: the account's on each
 * venue; `names`: the account's identities (its own name, then those linked to it).
 */
export function venueAccess(
  risk: boolean,
  standing: AccountSeed['standing'],
  names: readonly string[],
  venues: readonly string[],
  ledgerOf: (venue: string) => VenueLedger | undefined,
): VenueAccess[] {
  const byVenue = new Map(standing.map((s) => [s.venue, s]));
  const schemes = new Set(names.map(schemeOfName));
  return venues.map((venue): VenueAccess => {
    if (!risk) return { venue, canTrade: true };
    const ledger = ledgerOf(venue);
    if (ledger !== undefined && !schemes.has(ledger.scheme)) {
      return {
        venue,
        canTrade: false,
        reason: 'other-ledger',
        message: `${venue} settles on a ${ledger.kind} ledger, where none of this account's identities has an account: link a ${ledger.kind} identity to it (or log in with one) to trade there`,
      };
    }
    const s = byVenue.get(venue);
    if (s?.frozen === true) {
      return {
        venue,
        canTrade: false,
        reason: 'frozen',
        message: `the ledger of ${venue} froze this account`,
      };
    }
    if (s?.eligible !== true) {
      return {
        venue,
        canTrade: false,
        reason: 'not-eligible',
        message: `the ledger of ${venue} has not made this account eligible yet: its operator registers investors (with the demo settings, within seconds of the first login or link)`,
      };
    }
    return { venue, canTrade: true };
  });
}
