/**
 * Live orders by id. The engine hands ids out in ascending order and most orders end young, so
 * the recent ids live in a ring indexed by `id & mask`: a new order is written next to the
 * previous one (no hashing, no probing, no cache miss) and a lookup or delete is one array read.
 * When the newest id moves on, an order still live from `size` ids back (one that has outlived a
 * whole ring of newer orders) moves to a `Map`; when that map holds more than a quarter of the
 * ring, the ring doubles, so that it spans the ids most live orders have. Lookups are about 2.4
 * times a Map's over 100,000 live orders (bench:micro "IdTable"), and it allocates only when the
 * ring doubles or an old order moves.
 */
export class IdTable<T extends { readonly id: number }> {
  #ring: Array<T | undefined>;
  #mask: number;
  /** The highest id set so far: the ring holds ids in (top - ring length, top]. */
  #top = 0;
  /** Live orders older than the ring spans. */
  readonly #old = new Map<number, T>();
  #size = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.#ring = new Array<T | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** The value for a positive id, or undefined. */
  get(id: number): T | undefined {
    if (id > this.#top || id < 1) return undefined;
    if (id > this.#top - this.#ring.length) return this.#ring[id & this.#mask];
    return this.#old.get(id);
  }

  /** Sets the value for its id (a positive safe integer), replacing any value with that id. */
  set(value: T): void {
    const id = value.id;
    if (id > this.#top) this.#advance(id);
    if (id > this.#top - this.#ring.length) {
      const slot = id & this.#mask;
      if (this.#ring[slot] === undefined) this.#size++;
      this.#ring[slot] = value;
    } else {
      if (!this.#old.has(id)) this.#size++;
      this.#old.set(id, value);
    }
  }

  delete(id: number): boolean {
    if (id > this.#top || id < 1) return false;
    if (id > this.#top - this.#ring.length) {
      const slot = id & this.#mask;
      if (this.#ring[slot] === undefined) return false;
      this.#ring[slot] = undefined;
    } else if (!this.#old.delete(id)) {
      return false;
    }
    this.#size--;
    return true;
  }

  /** Makes `to` the newest id: each slot it passes gives its old order, if still live, to the map. */
  #advance(to: number): void {
    const ring = this.#ring;
    const mask = this.#mask;
    for (let id = Math.max(this.#top + 1, to - ring.length + 1); id <= to; id++) {
      const slot = id & mask;
      const old = ring[slot];
      if (old !== undefined) {
        ring[slot] = undefined;
        this.#old.set(old.id, old);
      }
    }
    this.#top = to;
    if (this.#old.size * 4 > ring.length) this.#grow();
  }

  /** Doubles the ring and brings back from the map the orders it now spans. */
  #grow(): void {
    const ring = this.#ring;
    const cap = ring.length * 2;
    const mask = cap - 1;
    const next = new Array<T | undefined>(cap).fill(undefined);
    for (const v of ring) if (v !== undefined) next[v.id & mask] = v;
    const from = this.#top - cap;
    for (const [id, v] of this.#old) {
      if (id > from) {
        next[id & mask] = v;
        this.#old.delete(id);
      }
    }
    this.#ring = next;
    this.#mask = mask;
  }
}
