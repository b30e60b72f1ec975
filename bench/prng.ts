/**
 * The seeded PRNG of the benchmark workloads (bench/WORKLOADS.md): xorshift32 with shifts 13,
 * 17, 5. Tests use it too, so that a failing seed reproduces anywhere.
 */
export class XorShift32 {
  #x: number;

  constructor(seed = 42) {
    if (!Number.isInteger(seed) || seed === 0) throw new RangeError('seed must be a non-zero integer');
    this.#x = seed >>> 0;
  }

  /** The next raw 32-bit state as an unsigned integer. */
  nextU32(): number {
    let x = this.#x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x >>> 0;
    return this.#x;
  }

  /** A uniform float in [0, 1): `x / 2**32`. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in lo..hi inclusive: `lo + floor(u * (hi - lo + 1))`. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}
