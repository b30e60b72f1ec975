/**
 * Live orders by (account, client order id): an open-addressing table with linear probing and
 * backward-shift deletion, storing each entry's hash so nothing is rehashed on a move. Replaces
 * a Map per account, whose constant insert/delete churn showed up as garbage collection. The hash
 * is the low half of the pair's fingerprint, shared with the remembered-id table (see
 * fingerprint.ts): a new order's id is hashed once for both.
 */
import { Fingerprint } from './fingerprint.ts';
import type { Order } from './order.ts';

export class ClientIdTable {
  #orders: Array<Order | null>;
  #hashes: Int32Array;
  #mask: number;
  #size = 0;
  readonly #fp: Fingerprint;

  /** `fp`: the fingerprint shared with the remembered-id table. */
  constructor(capacity = 1024, fp = new Fingerprint()) {
    this.#fp = fp;
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.#orders = new Array<Order | null>(cap).fill(null);
    this.#hashes = new Int32Array(cap);
    this.#mask = cap - 1;
  }

  /** The live order of `account` with `clientOrderId`, or undefined. */
  get(account: number, clientOrderId: string): Order | undefined {
    const h = this.#fp.of(account, clientOrderId).lo;
    const orders = this.#orders;
    const mask = this.#mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const o = orders[i];
      if (o === null || o === undefined) return undefined;
      if (this.#hashes[i] === h && o.account === account && o.clientOrderId === clientOrderId) return o;
    }
  }

  /** Adds a live order under its account and client order id (which must be free). */
  add(order: Order): void {
    if ((this.#size + 1) * 2 > this.#orders.length) this.#grow();
    this.#put(order, this.#fp.of(order.account, order.clientOrderId).lo);
    this.#size++;
  }

  /** Removes this order (matched by identity); false if it is not in the table. */
  remove(order: Order): boolean {
    const orders = this.#orders;
    const hashes = this.#hashes;
    const mask = this.#mask;
    let i = this.#fp.of(order.account, order.clientOrderId).lo & mask;
    while (orders[i] !== order) {
      if (orders[i] === null) return false;
      i = (i + 1) & mask;
    }
    for (let j = (i + 1) & mask; orders[j] !== null; j = (j + 1) & mask) {
      const home = hashes[j]! & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      orders[i] = orders[j]!;
      hashes[i] = hashes[j]!;
      i = j;
    }
    orders[i] = null;
    this.#size--;
    return true;
  }

  #put(order: Order, h: number): void {
    const mask = this.#mask;
    let i = h & mask;
    while (this.#orders[i] !== null) i = (i + 1) & mask;
    this.#orders[i] = order;
    this.#hashes[i] = h;
  }

  #grow(): void {
    const orders = this.#orders;
    const hashes = this.#hashes;
    const cap = orders.length * 2;
    this.#orders = new Array<Order | null>(cap).fill(null);
    this.#hashes = new Int32Array(cap);
    this.#mask = cap - 1;
    for (let i = 0; i < orders.length; i++) {
      const o = orders[i];
      if (o !== null && o !== undefined) this.#put(o, hashes[i]!);
    }
  }
}
