/**
 * Ordering and commit, in one process: submitted envelopes queue up and are cut into blocks as
 * Fabric's orderer cuts them (its block cutter): `blockMs` after the first envelope of a block
 * arrives (BatchTimeout), at `blockSize` envelopes (MaxMessageCount), or before an envelope that
 * would take the block's bytes past `blockBytes` (PreferredMaxBytes; an envelope larger than that
 * is a block of its own). Each transaction is validated in block order
 * against the state as the block's earlier valid transactions left it: a duplicate transaction
 * id is DUPLICATE_TXID, a missing or bad devnet endorsement ENDORSEMENT_POLICY_FAILURE, a key
 * read at a version that is no longer current MVCC_READ_CONFLICT (private keys too, by the
 * version of their hash), a range scan that would now return other keys or versions
 * PHANTOM_READ_CONFLICT. Valid writes apply with version (block, index in block). Block 0 is an
 * empty genesis block, made at start: transactions start at block 1. Each block's header holds
 * the Fabric hash of the one before it (`blockHash`), and committed blocks can be read again by
 * number (from the state file, else from memory) for the query system chaincode.
 *
 * Private data, as a Fabric peer commits it: a valid transaction's hashed writes apply to every
 * collection's hashes; its private writes come from the transient store, and a collection's
 * private read-write set applies only if its sha256 is the hash the transaction carries (else
 * the values are missing, as on a peer that did not receive them). The private data committed
 * with a block is stored with it; the transient store forgets the block's transactions.
 *
 * A transaction this peer endorsed is read with its endorsement (`Endorsements`): if it carries
 * the response payload signed here, its read-write sets are taken as the simulator built them
 * rather than read back from the bytes; every check above runs on it all the same.
 */
import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import type { BlockFile, BlockPrivateData } from './block-file.ts';
import { blockHash } from './block-hash.ts';
import { hashedNamespace, keyHash, privateNamespace, sha256 } from './collections.ts';
import { DevnetError } from './errors.ts';
import type { SigningIdentity } from './identity.ts';
import { sameVersion, type WorldState } from './state.ts';
import {
  readTransaction,
  type EndorsedTransaction,
  type Endorsements,
  type RangeRead,
} from './transaction.ts';
import type { TransientStore } from './transient-store.ts';

const { kvrwset } = ledger.rwset;

const Code = peer.TxValidationCode;
type ValidationCode = (typeof Code)[keyof typeof Code];

/** One committed transaction as the event and status services need it. */
export interface CommittedTx {
  txId: string;
  code: ValidationCode;
  event: peer.ChaincodeEvent | undefined;
}

/** One committed block. */
export interface CommittedBlock {
  number: number;
  txs: CommittedTx[];
}

/** A transaction's final status. */
export interface TxStatus {
  code: ValidationCode;
  block: number;
}

/** How blocks are cut, as Fabric's orderer settings name it. */
export interface CommitterOptions {
  /** BatchTimeout: a block is cut this long after its first envelope arrives, ms. */
  blockMs: number;
  /** MaxMessageCount: ...or once it holds this many envelopes. */
  blockSize: number;
  /** PreferredMaxBytes: ...or before an envelope that would take its bytes past this (may be Infinity). */
  blockBytes: number;
}

/** A submitted envelope, waiting for its block. */
interface Pending {
  txId: string;
  envelope: Uint8Array;
}

/** The channel's orderer and committer. */
export class Committer {
  readonly #state: WorldState;
  readonly #identity: SigningIdentity;
  readonly #file: BlockFile | undefined;
  readonly #transient: TransientStore;
  readonly #endorsements: Endorsements;
  readonly #options: CommitterOptions;
  readonly #blocks: CommittedBlock[] = [{ number: 0, txs: [] }];
  readonly #statuses = new Map<string, TxStatus>();
  /** Blocks cut and not yet committed, in order. */
  readonly #cut: Pending[][] = [];
  /** The block being filled, and its envelopes' bytes. */
  #filling: Pending[] = [];
  #fillingBytes = 0;
  /** The ids of every envelope not yet committed (in `#cut` or `#filling`). */
  readonly #pendingIds = new Set<string>();
  readonly #waiters = new Map<string, ((s: TxStatus) => void)[]>();
  readonly #listeners = new Set<(block: CommittedBlock) => void>();
  readonly #genesis = makeBlock(0, new Uint8Array(), [], []);
  /** The committed blocks when there is no state file to read them from. */
  readonly #kept: common.Block[] = [];
  /** The hash of the last block. */
  #previousHash: Uint8Array = blockHash(this.#genesis.getHeader()!);
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    state: WorldState,
    identity: SigningIdentity,
    options: CommitterOptions,
    transient: TransientStore,
    endorsements: Endorsements,
    file?: { file: BlockFile; blocks: common.Block[]; privateData: ReadonlyMap<number, BlockPrivateData> },
  ) {
    this.#state = state;
    this.#identity = identity;
    this.#options = options;
    this.#transient = transient;
    this.#endorsements = endorsements;
    this.#file = file?.file;
    for (const block of file?.blocks ?? []) this.#replay(block, file?.privateData);
  }

  /** The number of the next block. */
  get height(): number {
    return this.#blocks.length;
  }

  /** Blocks from `from` (inclusive) up to now. */
  blocksFrom(from: number): readonly CommittedBlock[] {
    return this.#blocks.slice(Math.max(0, from));
  }

  /** Calls `listener` with each block committed from now on; returns the unsubscribe. */
  onBlock(listener: (block: CommittedBlock) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A committed block (0: the genesis block), or undefined if there is none with that number yet. */
  block(number: number): common.Block | undefined {
    if (number === 0) return this.#genesis;
    if (number < 0 || number >= this.height) return undefined;
    return this.#file === undefined ? this.#kept[number - 1] : this.#file.read(number);
  }

  /** The hash of the last block (Fabric's, as the next block's header holds it). */
  get lastHash(): Uint8Array {
    return this.#previousHash;
  }

  /** A committed transaction's envelope and validation code, or undefined if none has this id. */
  transaction(txId: string): { envelope: Uint8Array; code: ValidationCode } | undefined {
    const committed = this.#statuses.get(txId);
    if (committed === undefined) return undefined;
    const index = this.#blocks[committed.block]?.txs.findIndex((tx) => tx.txId === txId) ?? -1;
    const envelope = this.block(committed.block)?.getData()?.getDataList_asU8()[index];
    return envelope === undefined ? undefined : { envelope, code: committed.code };
  }

  /** Whether a transaction with this id has been committed (valid or not). */
  isCommitted(txId: string): boolean {
    return this.#statuses.has(txId);
  }

  /** Queues a signed, checked envelope for ordering; refuses a transaction id already seen. */
  submit(txId: string, envelope: Uint8Array): void {
    if (this.#closed) throw new DevnetError(status.UNAVAILABLE, 'devnet is closing');
    if (this.#statuses.has(txId) || this.#pendingIds.has(txId)) {
      throw new DevnetError(status.ALREADY_EXISTS, `transaction ${txId} has already been submitted`);
    }
    this.#pendingIds.add(txId);
    const cutBefore = this.#cut.length;
    this.#order({ txId, envelope });
    // Committed on the next turn, after the submitter's own work (as an orderer's block arrives later).
    if (this.#cut.length > cutBefore) setImmediate(() => this.#commitCut());
    if (this.#filling.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#cutFilling();
        this.#commitCut();
      }, this.#options.blockMs);
    }
  }

  /** The transaction's status once it is committed (waits until then). */
  status(txId: string): Promise<TxStatus> {
    const known = this.#statuses.get(txId);
    if (known !== undefined) return Promise.resolve(known);
    if (this.#closed) return Promise.reject(new DevnetError(status.UNAVAILABLE, 'devnet is closing'));
    return new Promise((resolve) => {
      const list = this.#waiters.get(txId) ?? [];
      list.push(resolve);
      this.#waiters.set(txId, list);
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#file?.close();
  }

  /**
   * Fabric's block cutter (`blockcutter.Ordered`): an envelope larger than `blockBytes` cuts the
   * block being filled and is a block of its own; one that would take the block past
   * `blockBytes` cuts it first; a block cuts once it holds `blockSize` envelopes.
   */
  #order(entry: Pending): void {
    const bytes = entry.envelope.length;
    if (bytes > this.#options.blockBytes) {
      this.#cutFilling();
      this.#cut.push([entry]);
      return;
    }
    if (this.#fillingBytes + bytes > this.#options.blockBytes) this.#cutFilling();
    this.#filling.push(entry);
    this.#fillingBytes += bytes;
    if (this.#filling.length >= this.#options.blockSize) this.#cutFilling();
  }

  #cutFilling(): void {
    if (this.#filling.length === 0) return;
    this.#cut.push(this.#filling);
    this.#filling = [];
    this.#fillingBytes = 0;
  }

  /** Commits the blocks cut so far, in order. */
  #commitCut(): void {
    for (let batch = this.#cut.shift(); batch !== undefined && !this.#closed; batch = this.#cut.shift())
      this.#commit(batch);
  }

  #commit(batch: readonly Pending[]): void {
    const number = this.#blocks.length;
    const seen = new Set<string>();
    const txs: CommittedTx[] = [];
    const privateData = new Map<number, Uint8Array>();
    batch.forEach(({ txId, envelope }, index) => {
      this.#pendingIds.delete(txId);
      const duplicate = this.#statuses.has(txId) || seen.has(txId);
      seen.add(txId);
      let tx: EndorsedTransaction | undefined;
      try {
        tx = readTransaction(envelope, this.#endorsements.take(txId));
      } catch {
        tx = undefined;
      }
      const code: ValidationCode = duplicate
        ? Code.DUPLICATE_TXID
        : tx === undefined
          ? Code.BAD_PAYLOAD
          : this.#validate(tx);
      if (code === Code.VALID && tx !== undefined) {
        const committed = this.#apply(tx, number, index, this.#transient.get(txId));
        if (committed !== undefined) privateData.set(index, committed);
      }
      txs.push({ txId, code, event: code === Code.VALID ? tx?.event : undefined });
    });
    const block = makeBlock(
      number,
      this.#previousHash,
      batch.map((b) => b.envelope),
      txs.map((t) => t.code),
    );
    this.#previousHash = blockHash(block.getHeader()!);
    if (this.#file === undefined) this.#kept.push(block);
    else this.#file.append(block, privateData);
    this.#transient.purge(
      batch.map((b) => b.txId),
      number,
    );
    this.#record({ number, txs });
  }

  #validate(tx: EndorsedTransaction): ValidationCode {
    const endorsed =
      tx.hashMatches &&
      tx.endorsements.some(
        (e) =>
          Buffer.from(e.getEndorser_asU8()).equals(this.#identity.serialized) &&
          this.#identity.verify(
            Buffer.concat([tx.responsePayload, e.getEndorser_asU8()]),
            e.getSignature_asU8(),
          ),
      );
    if (!endorsed) return Code.ENDORSEMENT_POLICY_FAILURE;
    for (const set of tx.rwSets) {
      for (const read of set.reads) {
        if (!sameVersion(read.version, this.#state.get(set.namespace, read.key)))
          return Code.MVCC_READ_CONFLICT;
      }
      for (const range of set.ranges) {
        if (this.#phantom(set.namespace, range)) return Code.PHANTOM_READ_CONFLICT;
      }
      for (const coll of set.collections) {
        const hashes = hashedNamespace(set.namespace, coll.collection);
        for (const read of coll.reads) {
          if (!sameVersion(read.version, this.#state.get(hashes, read.keyHash)))
            return Code.MVCC_READ_CONFLICT;
        }
      }
    }
    return Code.VALID;
  }

  /** Whether the range would now return other keys or versions than it did in simulation. */
  #phantom(namespace: string, range: RangeRead): boolean {
    let now = this.#state.range(namespace, range.startKey, range.endKey);
    if (!range.exhausted) {
      const last = range.reads.at(-1);
      const upTo = last === undefined ? -1 : now.findIndex((e) => e.key === last.key);
      now = now.slice(0, upTo + 1);
    }
    if (now.length !== range.reads.length) return true;
    return now.some((entry, i) => {
      const read = range.reads[i];
      return read === undefined || read.key !== entry.key || !sameVersion(read.version, entry.versioned);
    });
  }

  /**
   * Applies a valid transaction's writes and hashed writes, and the private writes of each
   * collection whose private read-write set is among `candidates` (serialized
   * `TxPvtReadWriteSet`s) with the hash the transaction carries. Returns the private data applied
   * (a `TxPvtReadWriteSet`), if any.
   */
  #apply(
    tx: EndorsedTransaction,
    block: number,
    index: number,
    candidates: readonly Uint8Array[],
  ): Uint8Array | undefined {
    const version = { block, tx: index };
    const offered = candidates.flatMap((bytes) => collectionSets(bytes));
    const committed = new ledger.rwset.TxPvtReadWriteSet();
    committed.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
    for (const set of tx.rwSets) {
      for (const write of set.writes) this.#state.apply(set.namespace, write.key, write.value, version);
      const nsCommitted = new ledger.rwset.NsPvtReadWriteSet();
      nsCommitted.setNamespace(set.namespace);
      for (const coll of set.collections) {
        const hashes = hashedNamespace(set.namespace, coll.collection);
        for (const write of coll.writes) this.#state.apply(hashes, write.keyHash, write.valueHash, version);
        if (coll.privateHash.length === 0) continue;
        const expected = Buffer.from(coll.privateHash);
        const match = offered.find(
          (o) =>
            o.namespace === set.namespace &&
            o.set.getCollectionName() === coll.collection &&
            sha256(o.set.getRwset_asU8()).equals(expected),
        );
        if (match === undefined) continue; // missing private data: the hashes alone are committed
        const written = new Set(coll.writes.map((w) => w.keyHash));
        const values = privateNamespace(set.namespace, coll.collection);
        for (const write of kvrwset.KVRWSet.deserializeBinary(match.set.getRwset_asU8()).getWritesList()) {
          if (!written.has(keyHash(write.getKey()))) continue;
          this.#state.apply(
            values,
            write.getKey(),
            write.getIsDelete() ? undefined : write.getValue_asU8(),
            version,
          );
        }
        nsCommitted.addCollectionPvtRwset(match.set);
      }
      if (nsCommitted.getCollectionPvtRwsetList().length > 0) committed.addNsPvtRwset(nsCommitted);
    }
    return committed.getNsPvtRwsetList().length > 0 ? committed.serializeBinary() : undefined;
  }

  /** Applies a block read back from the state file (its recorded verdicts stand). */
  #replay(block: common.Block, privateData: ReadonlyMap<number, BlockPrivateData> | undefined): void {
    const number = block.getHeader()?.getNumber() ?? this.#blocks.length;
    if (number !== this.#blocks.length)
      throw new Error(`state file: block ${number} where ${this.#blocks.length} was due`);
    const codes =
      block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? [];
    const txs: CommittedTx[] = (block.getData()?.getDataList_asU8() ?? []).map((envelope, index) => {
      const tx = readTransaction(envelope);
      const code = (codes[index] ?? Code.NOT_VALIDATED) as ValidationCode;
      if (code === Code.VALID) {
        const stored = privateData?.get(number)?.get(index);
        this.#apply(tx, number, index, stored === undefined ? [] : [stored]);
      }
      return { txId: tx.txId, code, event: code === Code.VALID ? tx.event : undefined };
    });
    this.#previousHash = blockHash(block.getHeader() ?? new common.BlockHeader());
    this.#record({ number, txs });
  }

  #record(block: CommittedBlock): void {
    if (block.number > 0) this.#blocks.push(block);
    for (const tx of block.txs) {
      if (tx.code === Code.DUPLICATE_TXID && this.#statuses.has(tx.txId)) continue;
      const txStatus = { code: tx.code, block: block.number };
      this.#statuses.set(tx.txId, txStatus);
      const waiters = this.#waiters.get(tx.txId);
      this.#waiters.delete(tx.txId);
      for (const resolve of waiters ?? []) resolve(txStatus);
    }
    for (const listener of this.#listeners) {
      try {
        listener(block);
      } catch {
        // one listener's error cannot stop the others (they are stream writers)
      }
    }
  }
}

/** A block: its header (number, the previous block's hash, the hash of its data), data and transaction filter. */
function makeBlock(
  number: number,
  previousHash: Uint8Array,
  envelopes: Uint8Array[],
  codes: number[],
): common.Block {
  const header = new common.BlockHeader();
  header.setNumber(number);
  header.setPreviousHash(previousHash);
  const dataHash = createHash('sha256');
  for (const envelope of envelopes) dataHash.update(envelope);
  header.setDataHash(dataHash.digest());
  const data = new common.BlockData();
  data.setDataList(envelopes);
  const metadata = new common.BlockMetadata();
  const entries: Uint8Array[] = [
    new Uint8Array(),
    new Uint8Array(),
    new Uint8Array(),
    new Uint8Array(),
    new Uint8Array(),
  ];
  entries[common.BlockMetadataIndex.TRANSACTIONS_FILTER] = Uint8Array.from(codes);
  metadata.setMetadataList(entries);
  const block = new common.Block();
  block.setHeader(header);
  block.setData(data);
  block.setMetadata(metadata);
  return block;
}

/** The collections' private read-write sets in a serialized `TxPvtReadWriteSet`. */
function collectionSets(
  bytes: Uint8Array,
): { namespace: string; set: InstanceType<typeof ledger.rwset.CollectionPvtReadWriteSet> }[] {
  try {
    return ledger.rwset.TxPvtReadWriteSet.deserializeBinary(bytes)
      .getNsPvtRwsetList()
      .flatMap((ns) => ns.getCollectionPvtRwsetList().map((set) => ({ namespace: ns.getNamespace(), set })));
  } catch {
    return [];
  }
}
