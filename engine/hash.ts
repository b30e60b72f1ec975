/**
 * A 64-bit state hash (two FNV-1a lanes over 32-bit words) for comparing engine states:
 * replay against live, reference book against fast book. Not cryptographic.
 */
export class StateHasher {
  #a = 0x811c9dc5;
  #b = 0x01000193 ^ 0x5bd1e995;

  /** Adds a safe integer (negative numbers and fractions are not expected). */
  num(n: number): this {
    const lo = n >>> 0;
    const hi = Math.floor(n / 4294967296) >>> 0;
    this.#word(lo);
    this.#word(hi);
    return this;
  }

  str(s: string): this {
    this.num(s.length);
    for (let i = 0; i < s.length; i++) this.#word(s.charCodeAt(i));
    return this;
  }

  /** 16 hex digits. */
  digest(): string {
    return (this.#a >>> 0).toString(16).padStart(8, '0') + (this.#b >>> 0).toString(16).padStart(8, '0');
  }

  #word(w: number): void {
    for (let i = 0; i < 4; i++) {
      const byte = (w >>> (i * 8)) & 0xff;
      this.#a = Math.imul(this.#a ^ byte, 0x01000193);
      this.#b = Math.imul(this.#b ^ byte, 0x01000193) ^ (this.#a >>> 15);
    }
  }
}
