/**
 * Linked identities. An account is named after the ledger identity it was first seen as (an
 * Ethereum address, a Fabric `MSPID:name`) and may link more, whose control the gateway has
 * checked. A ledger change (a deposit, a standing) names the identity that made it on its
 * ledger: a linked identity's changes are its account's. On each venue an account settles as one
 * identity, its party there: its own name, or the linked identity whose changes reached the venue
 * first while the account held nothing there. Linking moves what the identity held as an account
 * of its own into the account (and makes it the party where it held something); unlinking moves
 * what the account holds where that identity is its party back to the identity's own account.
 * Both are refused while orders, trades or withdrawals on those venues are open, so a trade's
 * parties never change between its match and its settlement.
 */
import type { Account } from './account.ts';
import { Code } from './codes.ts';
import type { RiskBook } from './risk.ts';
import type { EngineState } from './state.ts';

/** Why a command about identities is refused: a result code and the reason. */
export type Refusal = readonly [code: number, reason: string];

export function isRefusal(x: ChangeTarget | Refusal | string[]): x is Refusal {
  return Array.isArray(x) && typeof x[0] === 'number';
}

/** The venue of an instrument or asset id (`SYMBOL@venue`). */
export function venueOfId(id: string): string {
  return id.slice(id.indexOf('@') + 1);
}

/** The identity an account settles as on a venue. */
export function partyOf(acc: Account, venue: string): string {
  return acc.parties?.get(venue) ?? acc.id;
}

/** The account an identity logs in to: the one it is linked to, else its own. */
export function ownerName(s: EngineState, identity: string): string {
  return s.owners.get(identity)?.id ?? identity;
}

/** Where a ledger change goes: an account, and whether the change makes the identity its party on the venue. */
export interface ChangeTarget {
  acc: Account;
  /** The change is the first of a linked identity on a venue where its account holds nothing. */
  binds: boolean;
}

/**
 * The account a ledger change by `identity` on `venue` belongs to (an identity seen for the first
 * time gets an account of its own), without changing anything (`applyChange` does, once the
 * change is taken), or why it belongs to none. A linked identity's change is its account's where
 * the account settles as it, or holds nothing yet (it then becomes the account's party there);
 * where the account settles as another identity (one per ledger), it is held for the identity in
 * an account of its own, which it gets back when unlinked. A change by an account's own name on
 * a venue where it settles as a linked identity is refused: the ledger holds it for that name,
 * which cannot be a second party there.
 */
export function changeAccount(s: EngineState, identity: string, venue: string): ChangeTarget | Refusal {
  const owner = s.owners.get(identity);
  if (owner !== undefined) {
    const party = partyOf(owner, venue);
    if (party === identity) return { acc: owner, binds: false };
    if (party === owner.id && !holdsOn(s, owner, venue)) return { acc: owner, binds: true };
    return { acc: s.account(identity), binds: false };
  }
  const own = s.accountById.get(identity);
  const party = own === undefined ? identity : partyOf(own, venue);
  if (party === identity) return { acc: own ?? s.account(identity), binds: false };
  return [
    Code.IDENTITY_LEDGER_TAKEN,
    `account ${identity} settles on ${venue} as its linked identity ${party}: it cannot also hold anything there as itself`,
  ];
}

/** Takes a change `changeAccount` directed: a first change of a linked identity makes it the party. */
export function applyChange(target: ChangeTarget, identity: string, venue: string): Account {
  if (target.binds) (target.acc.parties ??= new Map()).set(venue, identity);
  return target.acc;
}

/** Links `identity` to `acc`; returns why not, or the venues whose holdings moved into `acc`. */
export function link(s: EngineState, acc: Account, identity: string): Refusal | string[] {
  if (identity === acc.id) return [Code.IDENTITY_LINKED, `${identity} is the account's own identity`];
  const above = s.owners.get(acc.id);
  if (above !== undefined)
    return [
      Code.IDENTITY_LINKED,
      `${acc.id} is linked to account ${above.id}: link identities to that account`,
    ];
  const owner = s.owners.get(identity);
  if (owner !== undefined) {
    return [
      Code.IDENTITY_LINKED,
      owner === acc
        ? `${identity} is linked to this account already`
        : `${identity} is linked to another account; unlink it there first`,
    ];
  }
  const own = s.accountById.get(identity);
  const venues = own === undefined ? [] : heldVenues(s, own);
  if (own !== undefined) {
    if (own.identities !== null)
      return [Code.IDENTITY_LINKED, `${identity} has linked identities of its own; unlink them first`];
    const busy = busyOn(s, own, null);
    if (busy !== null)
      return [Code.IDENTITY_BUSY, `${identity} ${busy}: wait for them to end, or cancel them`];
    for (const venue of venues) {
      if (holdsOn(s, acc, venue) || acc.parties?.has(venue) === true) {
        return [
          Code.IDENTITY_LEDGER_TAKEN,
          `account ${acc.id} settles on ${venue} as ${partyOf(acc, venue)} and ${identity} holds something there too: an account has one identity per ledger`,
        ];
      }
    }
  }
  s.owners.set(identity, acc);
  (acc.identities ??= []).push(identity);
  if (own !== undefined && venues.length > 0) {
    acc.parties ??= new Map();
    for (const venue of venues) acc.parties.set(venue, identity);
    moveHoldings(s, own, acc, venues);
  }
  return venues;
}

/** Unlinks `identity` from `acc`; returns why not, or the venues whose holdings moved back to it. */
export function unlink(s: EngineState, acc: Account, identity: string): Refusal | string[] {
  if (s.owners.get(identity) !== acc)
    return [Code.IDENTITY_NOT_LINKED, `${identity} is not linked to account ${acc.id}`];
  const venues: string[] = [];
  for (const [venue, party] of acc.parties ?? []) if (party === identity) venues.push(venue);
  const busy = busyOn(s, acc, new Set(venues));
  if (busy !== null) {
    return [
      Code.IDENTITY_BUSY,
      `account ${acc.id} settles as ${identity} where it ${busy}: wait for them to end, or cancel them`,
    ];
  }
  s.owners.delete(identity);
  acc.identities = acc.identities!.filter((i) => i !== identity);
  if (acc.identities.length === 0) acc.identities = null;
  for (const venue of venues) acc.parties!.delete(venue);
  if (acc.parties?.size === 0) acc.parties = null;
  if (venues.length > 0) moveHoldings(s, acc, s.account(identity), venues);
  return venues;
}

/** Whether an account has a standing or any amount of an asset on a venue. */
function holdsOn(s: EngineState, acc: Account, venue: string): boolean {
  if (acc.venues.has(venue)) return true;
  const risk = s.risk;
  if (risk === null) return false;
  return acc.balances.some(
    (b, i) =>
      (b.available !== 0 || b.reserved !== 0 || b.pendingIn !== 0 || b.pendingOut !== 0) &&
      venueOfId(risk.assets[i]!) === venue,
  );
}

/** The venues an account has a standing or any amount on, in first-seen order. */
function heldVenues(s: EngineState, acc: Account): string[] {
  const venues = new Set(acc.venues.keys());
  const risk = s.risk;
  if (risk !== null) acc.balances.forEach((_b, i) => venues.add(venueOfId(risk.assets[i]!)));
  return [...venues].filter((v) => holdsOn(s, acc, v));
}

/**
 * What an account has open on `venues` (null: on any) that a link or unlink must wait for: live
 * orders, trades waiting for settlement, withdrawals waiting for their ledger; null for nothing.
 */
function busyOn(s: EngineState, acc: Account, venues: ReadonlySet<string> | null): string | null {
  const on = (venue: string) => venues === null || venues.has(venue);
  // A cross-ledger instrument's orders and trades are on both its venues.
  const touched = (instrument: number) => {
    const inst = s.instruments[instrument]!;
    return on(inst.venue) ? inst.venue : on(inst.cashVenue) ? inst.cashVenue : null;
  };
  for (let o = acc.head; o !== null; o = o.accountNext) {
    const venue = touched(o.instrument);
    if (venue !== null) return `has open orders on ${venue}`;
  }
  const risk = s.risk;
  if (risk === null) return null;
  for (const t of risk.pending.values()) {
    const venue = t.buyer === acc.index || t.seller === acc.index ? touched(t.instrument) : null;
    if (venue !== null) return `has trade ${t.tradeId} waiting for settlement on ${venue}`;
  }
  for (const w of risk.withdrawals.values()) {
    const venue = venueOfId(risk.assets[w.asset]!);
    if (w.account === acc.index && on(venue)) return `has withdrawal ${w.withdrawalId} waiting on ${venue}`;
  }
  return null;
}

/**
 * Moves what `from` holds on `venues` to `to`: available balances (nothing is reserved or
 * pending: `busyOn` saw to that), added to what `to` may hold there, and standings.
 */
function moveHoldings(s: EngineState, from: Account, to: Account, venues: readonly string[]): void {
  const risk: RiskBook | null = s.risk;
  const here = new Set(venues);
  if (risk !== null) {
    from.balances.forEach((b, asset) => {
      if (b.available === 0 || !here.has(venueOfId(risk.assets[asset]!))) return;
      const amount = b.available;
      risk.credit(from, asset, -amount);
      risk.credit(to, asset, amount);
    });
  }
  for (const venue of venues) {
    const flags = from.venues.get(venue);
    if (flags === undefined) continue;
    to.venues.set(venue, flags);
    from.venues.delete(venue);
  }
}
