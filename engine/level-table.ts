/**
 * A book side's price levels by price: an open-addressing hash table with linear probing and
 * backward-shift deletion (no tombstones), keys scattered by Fibonacci hashing. It replaces a
 * `Map`, which keeps a deleted entry in its bucket's chain until it rehashes: a level closed and
 * reopened at the same price again and again (the best level, filled and quoted anew) walked a
 * chain that grew by one each time, about 25 us per close and reopen with 12,500 levels on the
 * side (bench:micro "levels"). Allocates only when it doubles.
 */
export class LevelTable<T> {
  #keys: Float64Array;
  #values: Array<T | undefined>;
  #mask: number;
  #shift: number;
  #size = 0;

  constructor() {
    const cap = 32;
    this.#keys = new Float64Array(cap);
    this.#values = new Array<T | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
    this.#shift = 32 - Math.log2(cap);
  }

  get size(): number {
    return this.#size;
  }

  /** The value for a positive price, or undefined. */
  get(key: number): T | undefined {
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = this.#slot(key); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) return this.#values[i];
      if (k === 0) return undefined;
    }
  }

  /** Sets the value for a price (a positive safe integer). */
  set(key: number, value: T): void {
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
    const keys = this.#keys;
    const mask = this.#mask;
    let i = this.#slot(key);
    while (keys[i] !== 0 && keys[i] !== key) i = (i + 1) & mask;
    if (keys[i] === 0) this.#size++;
    keys[i] = key;
    this.#values[i] = value;
  }

  delete(key: number): boolean {
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    let i = this.#slot(key);
    while (keys[i] !== key) {
      if (keys[i] === 0) return false;
      i = (i + 1) & mask;
    }
    // Backward shift: move later entries of the probe run into the hole where that keeps them reachable.
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = this.#slot(keys[j]!);
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      keys[i] = keys[j]!;
      values[i] = values[j];
      i = j;
    }
    keys[i] = 0;
    values[i] = undefined;
    this.#size--;
    return true;
  }

  /** Home slot of a price: the top bits of (low word ^ high word) * 2^32 / golden ratio. */
  #slot(key: number): number {
    return Math.imul((key ^ (key / 4294967296)) | 0, 0x9e3779b1) >>> this.#shift;
  }

  #grow(): void {
    const keys = this.#keys;
    const values = this.#values;
    const cap = keys.length * 2;
    this.#keys = new Float64Array(cap);
    this.#values = new Array<T | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
    this.#shift = 32 - Math.log2(cap);
    this.#size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.set(keys[i]!, values[i]!);
  }
}
