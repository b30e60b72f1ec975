/**
 * World state: per chaincode namespace, each key's value and version (block number, transaction
 * index in the block), as the committer leaves it. Keys order by their UTF-8 bytes, as in
 * Fabric's LevelDB state database, for range queries.
 */

/** Where a key's value was last written. */
export interface Version {
  block: number;
  tx: number;
}

/** A committed value and its version. */
export interface VersionedValue extends Version {
  value: Uint8Array;
}

/** One key of a range scan. */
export interface RangeEntry {
  key: string;
  versioned: VersionedValue;
}

/** Whether two versions (either possibly absent) are the same. */
export function sameVersion(a: Version | undefined, b: Version | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.block === b.block && a.tx === b.tx;
}

/**
 * The order of two keys' UTF-8 bytes (Fabric's key order), without encoding them: UTF-16 code
 * units order as UTF-8 bytes do, except that a surrogate (U+D800-DFFF, half of a code point past
 * U+FFFF) must follow the units U+E000-FFFF; so at the first unit that differs, those two ranges
 * trade places.
 */
export function byteOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

function utf8Rank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}

/** The committed world state of the channel. */
export class WorldState {
  readonly #namespaces = new Map<string, Map<string, VersionedValue>>();

  get(namespace: string, key: string): VersionedValue | undefined {
    return this.#namespaces.get(namespace)?.get(key);
  }

  /**
   * The keys in [startKey, endKey) in byte order; an empty `endKey` is open-ended. Allocates a
   * sorted copy: the devnet favours obviously right over fast.
   */
  range(namespace: string, startKey: string, endKey: string): RangeEntry[] {
    const keys = this.#namespaces.get(namespace);
    if (keys === undefined) return [];
    const entries: RangeEntry[] = [];
    for (const [key, versioned] of keys) {
      if (byteOrder(key, startKey) < 0) continue;
      if (endKey !== '' && byteOrder(key, endKey) >= 0) continue;
      entries.push({ key, versioned });
    }
    return entries.sort((a, b) => byteOrder(a.key, b.key));
  }

  /** Writes (or, with `value` undefined, deletes) a key at `version`. */
  apply(namespace: string, key: string, value: Uint8Array | undefined, version: Version): void {
    let keys = this.#namespaces.get(namespace);
    if (keys === undefined) {
      keys = new Map();
      this.#namespaces.set(namespace, keys);
    }
    if (value === undefined) keys.delete(key);
    else keys.set(key, { value, block: version.block, tx: version.tx });
  }
}
