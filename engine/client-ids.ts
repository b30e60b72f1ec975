/**
 * Live orders by (account, client order id): an open-addressing table with linear probing and
 * backward-shift deletion. Replaces a Map per account, whose constant insert/delete churn showed
 * up as garbage collection. Each slot has a tag, the low half of the pair's fingerprint with its
 * lowest bit set (0 marks an empty slot), which also places it: shared with the remembered-id
 * table (see fingerprint.ts), so a new order's id is hashed once for both. A probe reads the
 * tags, 16 to a cache line, and the order array only where a tag matches: the duplicate check of
 * every new order, a miss, reads one line.
 */
import { Fingerprint } from './fingerprint.ts';
import type { Order } from './order.ts';

export class ClientIdTable {
  #orders: Array<Order | null>;
  #tags: Int32Array;
  #mask: number;
  #size = 0;
  readonly #fp: Fingerprint;

  /** `fp`: the fingerprint shared with the remembered-id table. */
  constructor(capacity = 1024, fp = new Fingerprint()) {
    this.#fp = fp;
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.#orders = new Array<Order | null>(cap).fill(null);
    this.#tags = new Int32Array(cap);
    this.#mask = cap - 1;
  }

  /** The live order of `account` with `clientOrderId`, or undefined. */
  get(account: number, clientOrderId: string): Order | undefined {
    const tag = this.#tag(account, clientOrderId);
    const tags = this.#tags;
    const mask = this.#mask;
    for (let i = tag & mask; ; i = (i + 1) & mask) {
      const t = tags[i]!;
      if (t === 0) return undefined;
      if (t === tag) {
        const o = this.#orders[i]!;
        if (o.account === account && o.clientOrderId === clientOrderId) return o;
      }
    }
  }

  /** Adds a live order under its account and client order id (which must be free). */
  add(order: Order): void {
    if ((this.#size + 1) * 2 > this.#tags.length) this.#grow();
    this.#put(order, this.#tag(order.account, order.clientOrderId));
    this.#size++;
  }

  /** Removes this order (matched by identity); false if it is not in the table. */
  remove(order: Order): boolean {
    const orders = this.#orders;
    const tags = this.#tags;
    const mask = this.#mask;
    const tag = this.#tag(order.account, order.clientOrderId);
    let i = tag & mask;
    while (tags[i] !== tag || orders[i] !== order) {
      if (tags[i] === 0) return false;
      i = (i + 1) & mask;
    }
    for (let j = (i + 1) & mask; tags[j] !== 0; j = (j + 1) & mask) {
      const home = tags[j]! & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      orders[i] = orders[j]!;
      tags[i] = tags[j]!;
      i = j;
    }
    orders[i] = null;
    tags[i] = 0;
    this.#size--;
    return true;
  }

  #tag(account: number, clientOrderId: string): number {
    return this.#fp.of(account, clientOrderId).lo | 1;
  }

  #put(order: Order, tag: number): void {
    const mask = this.#mask;
    let i = tag & mask;
    while (this.#tags[i] !== 0) i = (i + 1) & mask;
    this.#orders[i] = order;
    this.#tags[i] = tag;
  }

  #grow(): void {
    const orders = this.#orders;
    const tags = this.#tags;
    const cap = tags.length * 2;
    this.#orders = new Array<Order | null>(cap).fill(null);
    this.#tags = new Int32Array(cap);
    this.#mask = cap - 1;
    for (let i = 0; i < tags.length; i++) if (tags[i] !== 0) this.#put(orders[i]!, tags[i]!);
  }
}
