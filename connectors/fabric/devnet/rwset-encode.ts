/**
 * A simulation's read-write sets as the proposal response carries them: a `TxReadWriteSet` with,
 * per namespace, the `KVRWSet` of its reads, range scans and writes and its collections' hashed
 * read-write sets. It is written by `ProtoWriter` into one buffer, byte for byte what
 * google-protobuf writes (`txRwSetReference` and `kvRwSetReference`, the obviously right builders
 * kept beside it for strings it cannot take and for the tests); only a collection's hashed set, a
 * message per collection and rare, is built by google-protobuf.
 */
import { ledger } from '@hyperledger/fabric-protos';
import { ProtoWriter, hasSurrogate } from './proto-writer.ts';
import type { Version } from './state.ts';
import type { CollectionHashedRwSet, NamespaceRwSet } from './transaction.ts';

const { kvrwset } = ledger.rwset;

/** A serialized `TxReadWriteSet`, and whether reading it back gives `rwSets` exactly. */
export interface EncodedRwSets {
  bytes: Uint8Array;
  /**
   * False when a namespace or key holds a UTF-16 surrogate: google-protobuf writes a lone one as
   * no UTF-8 decoder reads it back, so only the bytes say what the ledger gets.
   */
  exact: boolean;
}

/** The `TxReadWriteSet` of `rwSets` (namespaces and keys already in Fabric's order). */
export function encodeRwSets(rwSets: readonly NamespaceRwSet[]): EncodedRwSets {
  const plain = rwSets.every((set) => !hasSurrogate(set.namespace) && plainKeys(set));
  return { bytes: plain ? txRwSet(rwSets) : txRwSetReference(rwSets), exact: plain };
}

/** The `TxReadWriteSet` (ns_rwset 2; data_model 1 is KV, the default, left out), field by field. */
function txRwSet(rwSets: readonly NamespaceRwSet[]): Uint8Array {
  let size = 16;
  for (const set of rwSets) size += kvSize(set) + 64;
  const w = new ProtoWriter(size);
  for (const set of rwSets) {
    const nsSet = w.begin(2);
    if (set.namespace !== '') w.string(1, set.namespace);
    if (set.reads.length > 0 || set.ranges.length > 0 || set.writes.length > 0) {
      const rwset = w.begin(2); // an empty KVRWSet, an empty bytes field, is left out
      writeKvRwSet(w, set);
      w.end(rwset);
    }
    for (const collection of set.collections) w.bytes(3, collectionSet(collection).serializeBinary());
    w.end(nsSet);
  }
  return w.finish();
}

/** The `TxReadWriteSet` built with google-protobuf, for namespaces or keys `ProtoWriter` cannot take. */
export function txRwSetReference(rwSets: readonly NamespaceRwSet[]): Uint8Array {
  const txSet = new ledger.rwset.TxReadWriteSet();
  txSet.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
  for (const set of rwSets) {
    const nsSet = new ledger.rwset.NsReadWriteSet();
    nsSet.setNamespace(set.namespace);
    nsSet.setRwset(kvRwSetReference(set));
    for (const collection of set.collections) nsSet.addCollectionHashedRwset(collectionSet(collection));
    txSet.addNsRwset(nsSet);
  }
  return txSet.serializeBinary();
}

/** A collection's `CollectionHashedReadWriteSet`, built with google-protobuf (a message per collection). */
function collectionSet(
  collection: CollectionHashedRwSet,
): InstanceType<typeof ledger.rwset.CollectionHashedReadWriteSet> {
  const collSet = new ledger.rwset.CollectionHashedReadWriteSet();
  collSet.setCollectionName(collection.collection);
  collSet.setHashedRwset(hashedRwSet(collection));
  if (collection.privateHash.length > 0) collSet.setPvtRwsetHash(collection.privateHash);
  return collSet;
}

/** Whether no key of the set holds a surrogate (so `ProtoWriter` writes them as google-protobuf does). */
function plainKeys(set: NamespaceRwSet): boolean {
  for (const read of set.reads) if (hasSurrogate(read.key)) return false;
  for (const write of set.writes) if (hasSurrogate(write.key)) return false;
  for (const range of set.ranges) {
    if (hasSurrogate(range.startKey) || hasSurrogate(range.endKey)) return false;
    for (const read of range.reads) if (hasSurrogate(read.key)) return false;
  }
  return true;
}

/** A namespace's `KVRWSet`, written field by field; no key may hold a surrogate. */
export function kvRwSet(set: NamespaceRwSet): Uint8Array {
  const w = new ProtoWriter(kvSize(set));
  writeKvRwSet(w, set);
  return w.finish();
}

/** About the bytes of a set's `KVRWSet`, so its writer rarely grows. */
function kvSize(set: NamespaceRwSet): number {
  let size = 16;
  for (const read of set.reads) size += read.key.length + 24;
  for (const write of set.writes) size += write.key.length + 8 + (write.value?.length ?? 0);
  return size;
}

function writeKvRwSet(w: ProtoWriter, set: NamespaceRwSet): void {
  for (const read of set.reads) writeRead(w, 1, read.key, read.version);
  for (const range of set.ranges) {
    const info = w.begin(2);
    if (range.startKey !== '') w.string(1, range.startKey);
    if (range.endKey !== '') w.string(2, range.endKey);
    if (range.exhausted) w.bool(3, true);
    const raw = w.begin(4);
    for (const read of range.reads) writeRead(w, 1, read.key, read.version);
    w.end(raw);
    w.end(info);
  }
  for (const write of set.writes) {
    const kvWrite = w.begin(3);
    if (write.key !== '') w.string(1, write.key);
    if (write.value === undefined) w.bool(2, true);
    else if (write.value.length > 0) w.bytes(3, write.value);
    w.end(kvWrite);
  }
}

/** A `KVRead` (key 1, version 2: block_num 1, tx_num 2), proto3 defaults left out. */
function writeRead(w: ProtoWriter, field: number, key: string, version: Version | undefined): void {
  const read = w.begin(field);
  if (key !== '') w.string(1, key);
  if (version !== undefined) {
    const v = w.begin(2);
    if (version.block !== 0) w.uint64(1, version.block);
    if (version.tx !== 0) w.uint64(2, version.tx);
    w.end(v);
  }
  w.end(read);
}

/** A namespace's `KVRWSet` built with google-protobuf: what `kvRwSet` must write, for any key. */
export function kvRwSetReference(set: NamespaceRwSet): Uint8Array {
  const kv = new kvrwset.KVRWSet();
  for (const read of set.reads) kv.addReads(kvRead(read.key, read.version));
  for (const range of set.ranges) {
    const info = new kvrwset.RangeQueryInfo();
    info.setStartKey(range.startKey);
    info.setEndKey(range.endKey);
    info.setItrExhausted(range.exhausted);
    const reads = new kvrwset.QueryReads();
    reads.setKvReadsList(range.reads.map((r) => kvRead(r.key, r.version)));
    info.setRawReads(reads);
    kv.addRangeQueriesInfo(info);
  }
  for (const { key, value } of set.writes) {
    const write = new kvrwset.KVWrite();
    write.setKey(key);
    write.setIsDelete(value === undefined);
    if (value !== undefined) write.setValue(value);
    kv.addWrites(write);
  }
  return kv.serializeBinary();
}

/** A collection's reads and writes as hashes (`HashedRWSet`). */
function hashedRwSet(collection: CollectionHashedRwSet): Uint8Array {
  const hashed = new kvrwset.HashedRWSet();
  for (const { keyHash, version } of collection.reads) {
    const read = new kvrwset.KVReadHash();
    read.setKeyHash(Buffer.from(keyHash, 'hex'));
    if (version !== undefined) read.setVersion(kvVersion(version));
    hashed.addHashedReads(read);
  }
  for (const { keyHash, valueHash } of collection.writes) {
    const write = new kvrwset.KVWriteHash();
    write.setKeyHash(Buffer.from(keyHash, 'hex'));
    write.setIsDelete(valueHash === undefined);
    if (valueHash !== undefined) write.setValueHash(valueHash);
    hashed.addHashedWrites(write);
  }
  return hashed.serializeBinary();
}

function kvVersion(version: Version): InstanceType<typeof kvrwset.Version> {
  const v = new kvrwset.Version();
  v.setBlockNum(version.block);
  v.setTxNum(version.tx);
  return v;
}

function kvRead(key: string, version: Version | undefined): InstanceType<typeof kvrwset.KVRead> {
  const read = new kvrwset.KVRead();
  read.setKey(key);
  if (version !== undefined) read.setVersion(kvVersion(version));
  return read;
}
