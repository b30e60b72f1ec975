/**
 * Reading an endorsed transaction envelope back, as the committer and the replay of the block
 * file need it: transaction id, chaincode, the endorsements and proposal hash to check, the
 * chaincode event, and the read-write set per namespace, with its collections' hashed
 * read-write sets.
 *
 * What this peer endorsed lately is kept by transaction id (`Endorsements`): its response payload
 * and that payload's contents as the simulator built them. A submitted envelope is untrusted and
 * read in full down to its response payload; when that payload is the very bytes this peer
 * endorsed, its contents are known and are not read again (the endorsement's signature over those
 * bytes is still checked by the committer, as for any other).
 */
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { proposalHash } from './proposal.ts';
import type { Version } from './state.ts';

const { kvrwset } = ledger.rwset;

/** A range scan the transaction made, to check for phantoms. */
export interface RangeRead {
  startKey: string;
  endKey: string;
  exhausted: boolean;
  reads: { key: string; version: Version | undefined }[];
}

/** A collection's reads and writes as the public ledger carries them: hashes. */
export interface CollectionHashedRwSet {
  collection: string;
  /** `keyHash`: hex of sha256(key). */
  reads: { keyHash: string; version: Version | undefined }[];
  /** `valueHash` undefined: a delete. */
  writes: { keyHash: string; valueHash: Uint8Array | undefined }[];
  /** sha256 of the collection's private read-write set (empty when nothing was written). */
  privateHash: Uint8Array;
}

/** One namespace's reads and writes. */
export interface NamespaceRwSet {
  namespace: string;
  reads: { key: string; version: Version | undefined }[];
  ranges: RangeRead[];
  /** `value` undefined: a delete. */
  writes: { key: string; value: Uint8Array | undefined }[];
  collections: CollectionHashedRwSet[];
}

/** What the committer reads from an endorsed transaction. */
export interface EndorsedTransaction {
  txId: string;
  chaincodeName: string;
  event: peer.ChaincodeEvent | undefined;
  rwSets: NamespaceRwSet[];
  endorsements: peer.Endorsement[];
  /** The ProposalResponsePayload the endorsements sign (with each endorser's bytes appended). */
  responsePayload: Uint8Array;
  /** Whether the response payload's proposal hash is that of this transaction's header and payload. */
  hashMatches: boolean;
}

function version(
  read: InstanceType<typeof kvrwset.KVRead> | InstanceType<typeof kvrwset.KVReadHash>,
): Version | undefined {
  const v = read.getVersion();
  return v === undefined ? undefined : { block: v.getBlockNum(), tx: v.getTxNum() };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/**
 * What this peer endorsed under a transaction id: the ProposalResponsePayload it signed and what
 * that payload holds, as reading it back would give it.
 */
export interface Endorsement {
  responsePayload: Uint8Array;
  proposalHash: Uint8Array;
  /** What `proposalHash` hashes: the proposal's channel and signature headers, its payload for the transaction. */
  hashed: readonly [Uint8Array, Uint8Array, Uint8Array];
  chaincodeName: string;
  event: peer.ChaincodeEvent | undefined;
  rwSets: NamespaceRwSet[];
}

/** The endorsements of the last `limit` transaction ids endorsed and not yet taken, by id. */
export class Endorsements {
  readonly #byTxId = new Map<string, Endorsement>();
  readonly #limit: number;

  constructor(limit = 256) {
    this.#limit = limit;
  }

  /** Keeps an endorsement (a transaction id endorsed again keeps its last). */
  put(txId: string, endorsement: Endorsement): void {
    this.#byTxId.delete(txId);
    this.#byTxId.set(txId, endorsement);
    if (this.#byTxId.size > this.#limit) {
      const oldest = this.#byTxId.keys().next();
      if (oldest.done !== true) this.#byTxId.delete(oldest.value);
    }
  }

  /** The endorsement kept under `txId`, forgotten as it is taken. */
  take(txId: string): Endorsement | undefined {
    const endorsement = this.#byTxId.get(txId);
    this.#byTxId.delete(txId);
    return endorsement;
  }
}

/**
 * Parses an endorsed transaction envelope; throws when it is not one. `known`: what this peer
 * endorsed under the transaction's id, taken for the response payload's contents if the envelope
 * carries that very payload.
 */
export function readTransaction(envelopeBytes: Uint8Array, known?: Endorsement): EndorsedTransaction {
  const envelope = common.Envelope.deserializeBinary(envelopeBytes);
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const header = payload.getHeader();
  if (header === undefined) throw new Error('missing header');
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const [txAction] = transaction.getActionsList();
  if (txAction === undefined || transaction.getActionsList().length !== 1) {
    throw new Error('a transaction must have exactly one action');
  }
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(txAction.getPayload_asU8());
  const endorsed = actionPayload.getAction();
  if (endorsed === undefined) throw new Error('missing endorsed action');
  const responsePayload = endorsed.getProposalResponsePayload_asU8();
  const proposed = actionPayload.getChaincodeProposalPayload_asU8();
  const txId = channelHeader.getTxId();
  const endorsements = endorsed.getEndorsementsList();
  if (known !== undefined && Buffer.compare(known.responsePayload, responsePayload) === 0) {
    // The bytes this peer hashed hash the same: only other bytes need hashing.
    const [channel, signature, payloadForTx] = known.hashed;
    const sameBytes =
      Buffer.compare(channel, header.getChannelHeader_asU8()) === 0 &&
      Buffer.compare(signature, header.getSignatureHeader_asU8()) === 0 &&
      Buffer.compare(payloadForTx, proposed) === 0;
    return {
      txId,
      chaincodeName: known.chaincodeName,
      event: known.event,
      rwSets: known.rwSets,
      endorsements,
      responsePayload,
      hashMatches: sameBytes || Buffer.compare(known.proposalHash, proposalHash(header, proposed)) === 0,
    };
  }
  const expectedHash = proposalHash(header, proposed);
  const prp = peer.ProposalResponsePayload.deserializeBinary(responsePayload);
  const action = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
  const eventBytes = action.getEvents_asU8();
  return {
    txId,
    chaincodeName: action.getChaincodeId()?.getName() ?? '',
    event: eventBytes.length > 0 ? peer.ChaincodeEvent.deserializeBinary(eventBytes) : undefined,
    rwSets: readRwSets(action.getResults_asU8()),
    endorsements,
    responsePayload,
    hashMatches: Buffer.compare(prp.getProposalHash_asU8(), expectedHash) === 0,
  };
}

/** The read-write sets of a serialized `TxReadWriteSet`, per namespace; throws when it is not one. */
export function readRwSets(bytes: Uint8Array): NamespaceRwSet[] {
  const rwSets: NamespaceRwSet[] = [];
  const txSet = ledger.rwset.TxReadWriteSet.deserializeBinary(bytes);
  for (const nsSet of txSet.getNsRwsetList()) {
    const kv = kvrwset.KVRWSet.deserializeBinary(nsSet.getRwset_asU8());
    rwSets.push({
      namespace: nsSet.getNamespace(),
      reads: kv.getReadsList().map((r) => ({ key: r.getKey(), version: version(r) })),
      ranges: kv.getRangeQueriesInfoList().map((info) => ({
        startKey: info.getStartKey(),
        endKey: info.getEndKey(),
        exhausted: info.getItrExhausted(),
        reads: (info.getRawReads()?.getKvReadsList() ?? []).map((r) => ({
          key: r.getKey(),
          version: version(r),
        })),
      })),
      writes: kv.getWritesList().map((w) => ({
        key: w.getKey(),
        value: w.getIsDelete() ? undefined : w.getValue_asU8(),
      })),
      collections: nsSet.getCollectionHashedRwsetList().map((c) => {
        const hashed = kvrwset.HashedRWSet.deserializeBinary(c.getHashedRwset_asU8());
        return {
          collection: c.getCollectionName(),
          reads: hashed
            .getHashedReadsList()
            .map((r) => ({ keyHash: hex(r.getKeyHash_asU8()), version: version(r) })),
          writes: hashed.getHashedWritesList().map((w) => ({
            keyHash: hex(w.getKeyHash_asU8()),
            valueHash: w.getIsDelete() ? undefined : w.getValueHash_asU8(),
          })),
          privateHash: c.getPvtRwsetHash_asU8(),
        };
      }),
    });
  }
  return rwSets;
}
