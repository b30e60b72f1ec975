/**
 * GTD expiries: a binary min-heap of (expireAt, orderId). Canceled or filled orders stay in the
 * heap until they surface, and are skipped then (order ids are never reused).
 */
export class ExpiryQueue {
  #at: number[] = [];
  #ids: number[] = [];

  push(expireAt: number, orderId: number): void {
    const at = this.#at;
    const ids = this.#ids;
    let i = at.length;
    at.push(expireAt);
    ids.push(orderId);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** The order id of the earliest expiry at or before `now`, taken out; or 0. */
  pop(now: number): number {
    const at = this.#at;
    if (at.length === 0 || at[0]! > now) return 0;
    const id = this.#ids[0]!;
    const last = at.length - 1;
    this.#swap(0, last);
    at.pop();
    this.#ids.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.#less(l, m)) m = l;
      if (r < last && this.#less(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
    return id;
  }

  #less(a: number, b: number): boolean {
    const x = this.#at[a]!;
    const y = this.#at[b]!;
    return x < y || (x === y && this.#ids[a]! < this.#ids[b]!);
  }

  #swap(a: number, b: number): void {
    const at = this.#at;
    const ids = this.#ids;
    const t = at[a]!;
    at[a] = at[b]!;
    at[b] = t;
    const u = ids[a]!;
    ids[a] = ids[b]!;
    ids[b] = u;
  }
}
