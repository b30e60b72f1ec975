/**
 * The 64-bit fingerprint of an (account, client order id) pair: two independent 32-bit hashes of
 * the account index and the id's UTF-16 code units. The live-order table hashes by its low half
 * and the remembered-id table keeps both halves. One instance is shared by both tables and keeps
 * the last pair it hashed, so that a new order's id is hashed once for the duplicate check and
 * the two inserts that follow it.
 */
export class Fingerprint {
  hi = 0;
  lo = 0;
  #account = -1;
  #id = '';

  /** Sets `hi` and `lo` to the pair's fingerprint (computed again only for a different pair). */
  of(account: number, s: string): this {
    if (account === this.#account && s === this.#id) return this;
    let a = 0x811c9dc5 ^ Math.imul(account + 1, 0x9e3779b1);
    let b = 0x3c6ef372 ^ Math.imul(account + 1, 0x85ebca6b);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul((b << 5) | (b >>> 27), 0x2c1b3c6d) ^ c;
    }
    a = Math.imul(a ^ (a >>> 16), 0x7feb352d);
    b = Math.imul(b ^ (b >>> 15), 0x846ca68b) ^ s.length;
    this.hi = (a ^ (a >>> 15)) | 0;
    this.lo = (b ^ (b >>> 16)) | 0;
    this.#account = account;
    this.#id = s;
    return this;
  }
}
