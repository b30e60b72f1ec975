/**
 * Transaction simulation, as Fabric's TxSimulator: reads see committed state only (never the
 * transaction's own writes), each key's first read is recorded with the version read (or none),
 * writes and deletes are buffered (an empty value is a delete, as in Fabric), and a range scan
 * records the keys it returned, so the committer can detect phantoms. `readWriteSet()` is the
 * `TxReadWriteSet` that goes into the proposal response.
 */
import { ledger } from '@hyperledger/fabric-protos';
import type { RangeEntry, Version, WorldState } from './state.ts';

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
}

/** An open range scan of one simulation. */
export interface RangeIterator {
  namespace: string;
  record: RangeRecord;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
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
      set = { reads: new Map(), writes: new Map(), ranges: [] };
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

  /** The `TxReadWriteSet` (serialized), namespaces and keys in byte order as Fabric builds it. */
  readWriteSet(): Uint8Array {
    const txSet = new ledger.rwset.TxReadWriteSet();
    txSet.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
    for (const namespace of [...this.#sets.keys()].sort(byteOrder)) {
      const set = this.#set(namespace);
      const kv = new kvrwset.KVRWSet();
      for (const key of [...set.reads.keys()].sort(byteOrder)) {
        kv.addReads(kvRead(key, set.reads.get(key)));
      }
      for (const range of set.ranges) {
        const info = new kvrwset.RangeQueryInfo();
        info.setStartKey(range.startKey);
        info.setEndKey(range.endKey);
        info.setItrExhausted(range.exhausted);
        const reads = new kvrwset.QueryReads();
        reads.setKvReadsList(range.entries.slice(0, range.consumed).map((e) => kvRead(e.key, e.versioned)));
        info.setRawReads(reads);
        kv.addRangeQueriesInfo(info);
      }
      for (const key of [...set.writes.keys()].sort(byteOrder)) {
        const value = set.writes.get(key);
        const write = new kvrwset.KVWrite();
        write.setKey(key);
        write.setIsDelete(value === undefined);
        if (value !== undefined) write.setValue(value);
        kv.addWrites(write);
      }
      const nsSet = new ledger.rwset.NsReadWriteSet();
      nsSet.setNamespace(namespace);
      nsSet.setRwset(kv.serializeBinary());
      txSet.addNsRwset(nsSet);
    }
    return txSet.serializeBinary();
  }
}

function kvRead(key: string, version: Version | undefined): InstanceType<typeof kvrwset.KVRead> {
  const read = new kvrwset.KVRead();
  read.setKey(key);
  if (version !== undefined) {
    const v = new kvrwset.Version();
    v.setBlockNum(version.block);
    v.setTxNum(version.tx);
    read.setVersion(v);
  }
  return read;
}
