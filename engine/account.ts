/**
 * An account as the engine knows it: an index for compact order records, its live orders as an
 * intrusive list in order-id order (for cancel-all and queries, without a scan), for the risk
 * stage its balances and its standing on each venue, and the ledger identities linked to it.
 */
import type { Order } from './order.ts';
import type { Balance } from './risk.ts';

export class Account {
  head: Order | null = null;
  tail: Order | null = null;
  /** Live orders of the account. */
  count = 0;
  /** Balances by asset index (pre-trade risk). */
  readonly balances: Balance[] = [];
  /** Per venue: ELIGIBLE and FROZEN flags (pre-trade risk). */
  readonly venues = new Map<string, number>();
  /** Ledger identities linked to it, in link order; null for none (`identities.ts`). */
  identities: string[] | null = null;
  /** Per venue, the linked identity it settles as there; absent: as its own name. */
  parties: Map<string, string> | null = null;

  constructor(
    readonly index: number,
    readonly id: string,
  ) {}

  /** Appends a new live order (order ids only grow, so the list stays in id order). */
  link(o: Order): void {
    o.accountPrev = this.tail;
    o.accountNext = null;
    if (this.tail === null) this.head = o;
    else this.tail.accountNext = o;
    this.tail = o;
    this.count++;
  }

  unlink(o: Order): void {
    if (o.accountPrev === null) this.head = o.accountNext;
    else o.accountPrev.accountNext = o.accountNext;
    if (o.accountNext === null) this.tail = o.accountPrev;
    else o.accountNext.accountPrev = o.accountPrev;
    o.accountPrev = null;
    o.accountNext = null;
    this.count--;
  }

  /** The live orders, in order-id order. Allocates. */
  orders(): Order[] {
    const out: Order[] = [];
    for (let o = this.head; o !== null; o = o.accountNext) out.push(o);
    return out;
  }
}

/** Stands in for an account that does not exist yet, in checks that must not create it. */
export const NOBODY = new Account(-1, '');
