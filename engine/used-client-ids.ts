/**
 * Client order ids of accepted orders, remembered after their orders end, so that an id is used
 * once per account even across restarts (this is engine state: journaled, snapshotted, rebuilt
 * by replay) and through any gateway. It keeps the 64-bit fingerprints of (account, client order
 * id) of the last `capacity` accepted orders, oldest forgotten first: a ring of fingerprints in
 * acceptance order, indexed by an open-addressing table (linear probing, backward-shift deletion)
 * whose slots hold a ring position beside the fingerprint's low half, so that a probe reads one
 * cache line and not the ring. Both grow by doubling up to the capacity, so memory follows use:
 * at most 8 bytes in the ring and 16 in the table per id. A different id shares a fingerprint
 * with odds of about n / 2^64 for n ids remembered. The fingerprint `has` computed is kept for
 * the `add` that follows it (the engine asks, then remembers an accepted order's id).
 */
import { Fingerprint } from './fingerprint.ts';

/** Ids remembered by default: 4,000,000 (96 MB once full). */
export const CLIENT_ID_MEMORY = 4_000_000;

export class UsedClientIds {
  readonly capacity: number;
  /** Ring of fingerprints, oldest at `#head`: two halves per id. */
  #hi: Int32Array;
  #lo: Int32Array;
  #head = 0;
  #count = 0;
  /** Per slot: ring position + 1 (0: empty), then the fingerprint's low half. */
  #table: Int32Array;
  /** Slots - 1. */
  #mask: number;
  readonly #fp: Fingerprint;

  /** `fp`: the fingerprint shared with the live-order table (see fingerprint.ts). */
  constructor(capacity = CLIENT_ID_MEMORY, fp = new Fingerprint()) {
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > 2 ** 28)
      throw new RangeError(`the client order id memory must be from 1 to 2^28 ids, not ${capacity}`);
    this.capacity = capacity;
    this.#fp = fp;
    const ring = Math.min(capacity, 16);
    this.#hi = new Int32Array(ring);
    this.#lo = new Int32Array(ring);
    this.#table = new Int32Array(2 * tableSize(ring));
    this.#mask = tableSize(ring) - 1;
  }

  /** Ids remembered now. */
  get size(): number {
    return this.#count;
  }

  /** Whether `account` (an account index) accepted an order with `clientOrderId` within memory. */
  has(account: number, clientOrderId: string): boolean {
    const fp = this.#fp.of(account, clientOrderId);
    return this.#find(fp.hi, fp.lo) >= 0;
  }

  /** Remembers an id (which `has` just denied), forgetting the oldest when full. */
  add(account: number, clientOrderId: string): void {
    const fp = this.#fp.of(account, clientOrderId);
    this.#push(fp.hi, fp.lo);
  }

  /** The fingerprints oldest first, 8 bytes each (high then low half, little-endian), for snapshots. Allocates. */
  export(): Uint8Array {
    const out = new Uint8Array(this.#count * 8);
    const view = new DataView(out.buffer);
    let at = 0;
    this.forEach((hi, lo) => {
      view.setInt32(at, hi, true);
      view.setInt32(at + 4, lo, true);
      at += 8;
    });
    return out;
  }

  /** Remembers exported fingerprints, oldest first (the oldest are forgotten if they do not fit). */
  import(bytes: Uint8Array): void {
    if (bytes.length % 8 !== 0) throw new RangeError('client order id fingerprints are 8 bytes each');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let at = 0; at < bytes.length; at += 8) {
      const hi = view.getInt32(at, true);
      const lo = view.getInt32(at + 4, true);
      if (this.#find(hi, lo) >= 0) throw new RangeError('a client order id fingerprint appears twice');
      this.#push(hi, lo);
    }
  }

  /** Folds every fingerprint, oldest first, into `fold` (the state hash). */
  forEach(fold: (hi: number, lo: number) => void): void {
    const n = this.#hi.length;
    for (let i = 0; i < this.#count; i++) {
      const p = (this.#head + i) % n;
      fold(this.#hi[p]!, this.#lo[p]!);
    }
  }

  #push(hi: number, lo: number): void {
    if (this.#count === this.#hi.length) {
      if (this.#count < this.capacity) this.#grow();
      else this.#forgetOldest();
    }
    const p = (this.#head + this.#count) % this.#hi.length;
    this.#hi[p] = hi;
    this.#lo[p] = lo;
    this.#count++;
    this.#place(p, lo);
  }

  /** Puts ring position `p` (fingerprint low half `lo`) in the first free slot from its home. */
  #place(p: number, lo: number): void {
    const table = this.#table;
    const mask = this.#mask;
    let i = lo & mask;
    while (table[2 * i] !== 0) i = (i + 1) & mask;
    table[2 * i] = p + 1;
    table[2 * i + 1] = lo;
  }

  /** The slot holding this fingerprint, or -1. */
  #find(hi: number, lo: number): number {
    const table = this.#table;
    const mask = this.#mask;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const t = table[2 * i]!;
      if (t === 0) return -1;
      if (table[2 * i + 1] === lo && this.#hi[t - 1] === hi) return i;
    }
  }

  #forgetOldest(): void {
    const table = this.#table;
    const mask = this.#mask;
    let i = this.#find(this.#hi[this.#head]!, this.#lo[this.#head]!);
    for (let j = (i + 1) & mask; table[2 * j] !== 0; j = (j + 1) & mask) {
      const home = table[2 * j + 1]! & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      table[2 * i] = table[2 * j]!;
      table[2 * i + 1] = table[2 * j + 1]!;
      i = j;
    }
    table[2 * i] = 0;
    this.#head = (this.#head + 1) % this.#hi.length;
    this.#count--;
  }

  /** Doubles the ring (oldest first again) and rebuilds the table for it. */
  #grow(): void {
    const n = Math.min(this.capacity, this.#hi.length * 2);
    const hi = new Int32Array(n);
    const lo = new Int32Array(n);
    let k = 0;
    this.forEach((h, l) => {
      hi[k] = h;
      lo[k++] = l;
    });
    this.#hi = hi;
    this.#lo = lo;
    this.#head = 0;
    const slots = tableSize(n);
    this.#table = new Int32Array(2 * slots);
    this.#mask = slots - 1;
    for (let p = 0; p < k; p++) this.#place(p, lo[p]!);
  }
}

/** A power of two at least twice the ring. */
function tableSize(ring: number): number {
  let t = 16;
  while (t < ring * 2) t *= 2;
  return t;
}
