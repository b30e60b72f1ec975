/**
 * Whether an account may trade on each venue it may see, and if not why, for the login answer:
 * a venue settles on one kind of ledger (the part of its name before the colon, `evm:31337`), an
 * identity is of one kind, and the venue's ledger must have made the account eligible and not
 * frozen it. Without pre-trade risk the engine checks none of this: every venue is open. Without this, an order there is simply refused (`RISK_NOT_ELIGIBLE`).
 */
import type { EngineView } from '../engine/index.ts';

export type AccessReason = 'other-ledger' | 'not-eligible' | 'frozen';

export interface VenueAccess {
  venue: string;
  canTrade: boolean;
  /** Why not, when `canTrade` is false. */
  reason?: AccessReason;
  message?: string;
}

/** The ledger kind a venue settles on. */
export function ledgerKindOf(venue: string): string {
  const colon = venue.indexOf(':');
  return colon < 0 ? venue : venue.slice(0, colon);
}

export function venueAccess(
  engine: EngineView,
  identityKind: string,
  account: string,
  venues: readonly string[],
): VenueAccess[] {
  const standing = new Map(engine.standing(account).map((s) => [s.venue, s]));
  return venues.map((venue): VenueAccess => {
    if (!engine.risk) return { venue, canTrade: true };
    const kind = ledgerKindOf(venue);
    if (kind !== identityKind) {
      return {
        venue,
        canTrade: false,
        reason: 'other-ledger',
        message: `${venue} settles on a ${kind} ledger, where this ${identityKind} identity has no account: log in with a ${kind} identity to trade there`,
      };
    }
    const s = standing.get(venue);
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
