/**
 * Whether an account may trade on each venue it may see, and if not why, for the login answer:
 * a venue settles on one kind of ledger, which names its parties one way (Ethereum addresses, or
 * the X.509 identities of MSPs), an identity that logs in is of one of those ways, and the venue's
 * ledger must have made the account eligible and not frozen it. Without pre-trade risk the engine
 * checks none of this: every venue is open. Without this, an order there is simply refused
 * (`RISK_NOT_ELIGIBLE`).
 */
import type { Identity } from './auth/index.ts';
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

/** The scheme an identity logged in with. */
export function schemeOf(identity: Identity): LoginScheme {
  return identity.kind === 'evm' ? 'evm' : 'x509';
}

/** `risk`: whether the engine checks trades before they match; `standing`: the account's on each venue. */
export function venueAccess(
  risk: boolean,
  standing: AccountSeed['standing'],
  identity: Identity,
  venues: readonly string[],
  ledgerOf: (venue: string) => VenueLedger | undefined,
): VenueAccess[] {
  const byVenue = new Map(standing.map((s) => [s.venue, s]));
  return venues.map((venue): VenueAccess => {
    if (!risk) return { venue, canTrade: true };
    const ledger = ledgerOf(venue);
    if (ledger !== undefined && ledger.scheme !== schemeOf(identity)) {
      return {
        venue,
        canTrade: false,
        reason: 'other-ledger',
        message: `${venue} settles on a ${ledger.kind} ledger, where this ${identity.kind} identity has no account: log in with a ${ledger.kind} identity to trade there`,
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
        message: `the ledger of ${venue} has not made this account eligible yet: its operator registers investors (with the demo settings, within seconds of the first login)`,
      };
    }
    return { venue, canTrade: true };
  });
}
