/**
 * Live orders by id: an open-addressing hash table with linear probing and backward-shift
 * deletion (no tombstones). Ids are scattered by Fibonacci hashing: sequential ids placed at
 * `id & mask` would form one long run that every deletion has to shift through.
 * Faster than a Map with hundreds of thousands of integer keys, and it allocates only when it
 * doubles.
 */
export class IdTable<T> {
  #keys: Float64Array;
  #values: Array<T | undefined>;
  #mask: number;
  #shift: number;
  #size = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.#keys = new Float64Array(cap);
    this.#values = new Array<T | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
    this.#shift = 32 - Math.log2(cap);
  }

  get size(): number {
    return this.#size;
  }

  /** The value for a positive id, or undefined. */
  get(id: number): T | undefined {
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = this.#slot(id); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) return this.#values[i];
      if (k === 0) return undefined;
    }
  }

  /** Sets the value for a positive id (ids are positive safe integers). */
  set(id: number, value: T): void {
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
    const keys = this.#keys;
    const mask = this.#mask;
    let i = this.#slot(id);
    while (keys[i] !== 0 && keys[i] !== id) i = (i + 1) & mask;
    if (keys[i] === 0) this.#size++;
    keys[i] = id;
    this.#values[i] = value;
  }

  delete(id: number): boolean {
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    let i = this.#slot(id);
    while (keys[i] !== id) {
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

  /** Home slot of an id: the top bits of (low word ^ high word) * 2^32 / golden ratio. */
  #slot(id: number): number {
    return Math.imul((id ^ (id / 4294967296)) | 0, 0x9e3779b1) >>> this.#shift;
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
