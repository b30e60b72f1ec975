/**
 * Transaction simulation, as Fabric's TxSimulator: reads see committed state only (never the
 * transaction's own writes), each key's first read is recorded with the version read (or none),
 * writes and deletes are buffered (an empty value is a delete, as in Fabric), and a range scan
 * records the keys it returned, so the committer can detect phantoms.
 *
 * Private data (a collection of the namespace) goes two ways, as in Fabric's RWSetBuilder: the
 * public read-write set gets, per collection, a hashed read-write set (sha256 of each key read
 * with its version, sha256 of each key and value written) and the hash of the collection's
 * private read-write set; the private read-write set (the written keys and values, no reads)
 * travels apart. `results()` gives both: the `TxReadWriteSet` that goes into the proposal
 * response and the `TxPvtReadWriteSet` for the transient store; and the public one as the
 * committer reads it (`NamespaceRwSet`s), built first and encoded from (`rwset-encode.ts`).
 */
import { ledger } from '@hyperledger/fabric-protos';
import { hashedNamespace, keyHash, privateNamespace, sha256 } from './collections.ts';
import { hasSurrogate } from './proto-writer.ts';
import { encodeRwSets } from './rwset-encode.ts';
import { byteOrder, type RangeEntry, type Version, type WorldState } from './state.ts';
import type { NamespaceRwSet } from './transaction.ts';

const { kvrwset } = ledger.rwset;

/** Results a range iterator hands out per QueryResponse (Fabric's default maxResultLimit). */
export const RANGE_PAGE = 100;

interface RangeRecord {
  startKey: string;
  endKey: string;
  entries: RangeEntry[];
  consumed: number;
  exhausted: boolean;
}

interface NamespaceSet {
  reads: Map<string, Version | undefined>;
  writes: Map<string, Uint8Array | undefined>;
  ranges: RangeRecord[];
  /** Per collection: its reads (by key, with the version of the key's hash) and writes. */
  collections: Map<string, CollectionSet>;
}

interface CollectionSet {
  reads: Map<string, Version | undefined>;
  writes: Map<string, Uint8Array | undefined>;
}

/** What a simulation produced: the public read-write set and the private one, if any. */
export interface SimulationResults {
  /** `TxReadWriteSet`, private data as hashes only. */
  readWriteSet: Uint8Array;
  /**
   * What reading `readWriteSet` back gives, for the committer to take instead of reading it
   * again; undefined when only the bytes say it (a key with a UTF-16 surrogate).
   */
  rwSets: NamespaceRwSet[] | undefined;
  /** `TxPvtReadWriteSet` of the collections written, or undefined. */
  privateData: Uint8Array | undefined;
}

/** An open range scan of one simulation. */
export interface RangeIterator {
  namespace: string;
  record: RangeRecord;
}

/** The reads and writes of one transaction proposal. */
export class TxSimulator {
  readonly #state: WorldState;
  readonly #sets = new Map<string, NamespaceSet>();
  readonly #iterators = new Map<string, RangeIterator>();
  #nextIterator = 0;

  constructor(state: WorldState) {
    this.#state = state;
  }

  #set(namespace: string): NamespaceSet {
    let set = this.#sets.get(namespace);
    if (set === undefined) {
      set = { reads: new Map(), writes: new Map(), ranges: [], collections: new Map() };
      this.#sets.set(namespace, set);
    }
    return set;
  }

  getState(namespace: string, key: string): Uint8Array | undefined {
    const committed = this.#state.get(namespace, key);
    const reads = this.#set(namespace).reads;
    if (!reads.has(key)) {
      reads.set(key, committed === undefined ? undefined : { block: committed.block, tx: committed.tx });
    }
    return committed?.value;
  }

  putState(namespace: string, key: string, value: Uint8Array): void {
    this.#set(namespace).writes.set(key, value.length === 0 ? undefined : value);
  }

  deleteState(namespace: string, key: string): void {
    this.#set(namespace).writes.set(key, undefined);
  }

  #collection(namespace: string, collection: string): CollectionSet {
    const sets = this.#set(namespace).collections;
    let set = sets.get(collection);
    if (set === undefined) {
      set = { reads: new Map(), writes: new Map() };
      sets.set(collection, set);
    }
    return set;
  }

  /** Records a read of a private key at the version of its hash; returns the committed hash. */
  #readHash(namespace: string, collection: string, key: string): Uint8Array | undefined {
    const committed = this.#state.get(hashedNamespace(namespace, collection), keyHash(key));
    const reads = this.#collection(namespace, collection).reads;
    if (!reads.has(key)) {
      reads.set(key, committed === undefined ? undefined : { block: committed.block, tx: committed.tx });
    }
    return committed?.value;
  }

  /** A private value as committed (not this transaction's writes); the read is recorded hashed. */
  getPrivateData(namespace: string, collection: string, key: string): Uint8Array | undefined {
    if (this.#readHash(namespace, collection, key) === undefined) return undefined;
    return this.#state.get(privateNamespace(namespace, collection), key)?.value;
  }

  /** sha256 of a private value as committed: readable without being a member. */
  getPrivateDataHash(namespace: string, collection: string, key: string): Uint8Array | undefined {
    return this.#readHash(namespace, collection, key);
  }

  putPrivateData(namespace: string, collection: string, key: string, value: Uint8Array): void {
    this.#collection(namespace, collection).writes.set(key, value.length === 0 ? undefined : value);
  }

  deletePrivateData(namespace: string, collection: string, key: string): void {
    this.#collection(namespace, collection).writes.set(key, undefined);
  }

  /** Opens a range scan; returns its id and its first page. */
  openRange(
    namespace: string,
    startKey: string,
    endKey: string,
  ): { id: string; page: RangeEntry[]; hasMore: boolean } {
    const record: RangeRecord = {
      startKey,
      endKey,
      entries: this.#state.range(namespace, startKey, endKey),
      consumed: 0,
      exhausted: false,
    };
    this.#set(namespace).ranges.push(record);
    const id = `range-${this.#nextIterator++}`;
    this.#iterators.set(id, { namespace, record });
    return { id, ...this.nextPage(id) };
  }

  /** The next page of an open range scan (empty when it is unknown or done). */
  nextPage(id: string): { page: RangeEntry[]; hasMore: boolean } {
    const iterator = this.#iterators.get(id);
    if (iterator === undefined) return { page: [], hasMore: false };
    const { record } = iterator;
    const page = record.entries.slice(record.consumed, record.consumed + RANGE_PAGE);
    record.consumed += page.length;
    const hasMore = record.consumed < record.entries.length;
    if (!hasMore) {
      record.exhausted = true;
      this.#iterators.delete(id);
    }
    return { page, hasMore };
  }

  closeRange(id: string): void {
    this.#iterators.delete(id);
  }

  hasIterator(id: string): boolean {
    return this.#iterators.has(id);
  }

  /**
   * Both read-write sets, namespaces and keys in byte order as Fabric builds them; the private
   * one's hash per collection is in the public one.
   */
  results(): SimulationResults {
    const privateSet = this.#privateSet();
    const rwSets: NamespaceRwSet[] = [];
    for (const namespace of sortedKeys(this.#sets)) {
      const set = this.#set(namespace);
      rwSets.push({
        namespace,
        reads: sortedKeys(set.reads).map((key) => ({ key, version: set.reads.get(key) })),
        ranges: set.ranges.map((range) => ({
          startKey: range.startKey,
          endKey: range.endKey,
          exhausted: range.exhausted,
          reads: range.entries.slice(0, range.consumed).map(({ key, versioned }) => ({
            key,
            version: { block: versioned.block, tx: versioned.tx },
          })),
        })),
        writes: sortedKeys(set.writes).map((key) => ({ key, value: set.writes.get(key) })),
        collections: byKey(set.collections).map(([collection, collected]) => ({
          collection,
          reads: byKey(collected.reads).map(([key, version]) => ({ keyHash: keyHash(key), version })),
          writes: byKey(collected.writes).map(([key, value]) => ({
            keyHash: keyHash(key),
            valueHash: value === undefined ? undefined : sha256(value),
          })),
          privateHash: privateSet.hashes.get(namespace)?.get(collection) ?? new Uint8Array(),
        })),
      });
    }
    const { bytes, exact } = encodeRwSets(rwSets);
    return { readWriteSet: bytes, rwSets: exact ? rwSets : undefined, privateData: privateSet.bytes };
  }

  /** The `TxPvtReadWriteSet` of the collections written, and each one's rwset hash. */
  #privateSet(): { bytes: Uint8Array | undefined; hashes: Map<string, Map<string, Buffer>> } {
    const hashes = new Map<string, Map<string, Buffer>>();
    const txSet = new ledger.rwset.TxPvtReadWriteSet();
    txSet.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
    for (const [namespace, set] of byKey(this.#sets)) {
      const nsSet = new ledger.rwset.NsPvtReadWriteSet();
      nsSet.setNamespace(namespace);
      const nsHashes = new Map<string, Buffer>();
      for (const [collection, { writes }] of byKey(set.collections)) {
        if (writes.size === 0) continue;
        const kv = new kvrwset.KVRWSet();
        for (const [key, value] of byKey(writes)) kv.addWrites(kvWrite(key, value));
        const rwset = kv.serializeBinary();
        nsHashes.set(collection, sha256(rwset));
        const collSet = new ledger.rwset.CollectionPvtReadWriteSet();
        collSet.setCollectionName(collection);
        collSet.setRwset(rwset);
        nsSet.addCollectionPvtRwset(collSet);
      }
      if (nsHashes.size === 0) continue;
      hashes.set(namespace, nsHashes);
      txSet.addNsPvtRwset(nsSet);
    }
    return { bytes: hashes.size > 0 ? txSet.serializeBinary() : undefined, hashes };
  }
}

/**
 * A map's keys in byte order: the native sort (UTF-16 code units) where no key holds a surrogate,
 * as then UTF-16 order is UTF-8's.
 */
function sortedKeys(map: ReadonlyMap<string, unknown>): string[] {
  const keys = [...map.keys()];
  return keys.some(hasSurrogate) ? keys.sort(byteOrder) : keys.sort();
}

/** A map's entries in the byte order of their keys. */
function byKey<V>(map: ReadonlyMap<string, V>): [string, V][] {
  return [...map].sort(([a], [b]) => byteOrder(a, b));
}

function kvWrite(key: string, value: Uint8Array | undefined): InstanceType<typeof kvrwset.KVWrite> {
  const write = new kvrwset.KVWrite();
  write.setKey(key);
  write.setIsDelete(value === undefined);
  if (value !== undefined) write.setValue(value);
  return write;
}
