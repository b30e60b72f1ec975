/**
 * The peer's end of chaincode-as-a-service: the devnet dials the chaincode's server and speaks
 * `protos.Chaincode/Connect`, a bidirectional stream of `ChaincodeMessage`s. The chaincode says
 * REGISTER (its ChaincodeID), the peer answers REGISTERED then READY; then per transaction the
 * peer sends TRANSACTION (or INIT) with the ChaincodeInput, the signed proposal (which carries
 * the transient map), txid and channel, and answers the chaincode's state calls against the
 * transaction's simulator until COMPLETED or ERROR. Many transactions share one stream, keyed by
 * channel + txid, as in Fabric's handler.
 *
 * As a Fabric 3.1 peer, READY carries `ChaincodeAdditionalParams`: whether the chaincode may read
 * many keys in one call (GET_STATE_MULTIPLE) and send its writes in one (WRITE_BATCH_STATE), and
 * how many keys or writes one call may hold (core.yaml's `chaincode.runtimeParams`). A chaincode
 * that reads nothing there (fabric-shim 2.5, a Fabric 2.5 peer's READY) makes one call per key.
 */
import { credentials, status, type ClientDuplexStream } from '@grpc/grpc-js';
import { ledger, peer } from '@hyperledger/fabric-protos';
import type { Collections } from './collections.ts';
import { DevnetError } from './errors.ts';
import {
  getStateMultiple,
  readGetStateMultiple,
  readWriteBatchState,
  writeBatchState,
} from './proto-reader.ts';
import { ProtoWriter } from './proto-writer.ts';
import type { RangeEntry } from './state.ts';
import type { TxSimulator } from './simulator.ts';

const Type = peer.ChaincodeMessage.Type;
type Message = peer.ChaincodeMessage;
type MessageType = (typeof Type)[keyof typeof Type];

/** What a transaction gives the chaincode and gets back. */
export interface Execution {
  channel: string;
  txId: string;
  signedProposal: peer.SignedProposal;
  input: peer.ChaincodeInput;
  /** The MSP of the proposal's creator, for collections' member-only access. */
  creatorMspId: string;
  simulator: TxSimulator;
}

/** The chaincode's answer: its response and the event it set, if any. */
export interface ExecutionResult {
  response: peer.Response;
  event: peer.ChaincodeEvent | undefined;
}

interface InFlight {
  execution: Execution;
  resolve: (result: ExecutionResult) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** How many keys one batched call may hold: core.yaml's `chaincode.runtimeParams`. */
export interface StateCallBatches {
  maxKeys: number;
  maxWrites: number;
}

/** Fabric 3.1's defaults (`maxSizeGetMultipleKeys`, `maxSizeWriteBatch`). */
export const STATE_CALL_BATCHES: Readonly<StateCallBatches> = { maxKeys: 1_000, maxWrites: 1_000 };

function typeName(type: number): string {
  return Object.entries(Type).find(([, value]) => value === type)?.[0] ?? String(type);
}

/** One chaincode server the devnet dials, and the transactions in flight on its stream. */
export class ChaincodeLink {
  readonly name: string;
  readonly address: string;
  readonly #collections: Collections;
  readonly #timeoutMs: number;
  readonly #client: peer.ChaincodeClient;
  /** Undefined: the peer offers no batched state calls (a Fabric 2.5 peer). */
  readonly #batches: StateCallBatches | undefined;
  #stream: ClientDuplexStream<Message, Message> | undefined;
  #ready: Promise<void> | undefined;
  #registeredAs = '';
  readonly #inFlight = new Map<string, InFlight>();
  /** State calls answered (or refused), by message type. */
  readonly stateCalls = new Map<string, number>();
  #closed = false;

  constructor(
    name: string,
    address: string,
    collections: Collections,
    timeoutMs: number,
    batches: StateCallBatches | undefined,
  ) {
    this.name = name;
    this.address = address;
    this.#collections = collections;
    this.#timeoutMs = timeoutMs;
    this.#batches = batches;
    this.#client = new peer.ChaincodeClient(address, credentials.createInsecure());
  }

  /** The ChaincodeID name the chaincode registered with (its package id in CaaS). */
  get registeredAs(): string {
    return this.#registeredAs;
  }

  /** Connects if not connected; resolves once the chaincode is READY. */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new DevnetError(status.UNAVAILABLE, 'devnet is closed'));
    this.#ready ??= this.#connect().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  #connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (why: string, cause?: unknown): void =>
        reject(
          new DevnetError(status.UNAVAILABLE, `chaincode ${this.name} at ${this.address}: ${why}`, [], {
            cause,
          }),
        );
      this.#client.waitForReady(Date.now() + this.#timeoutMs, (err) => {
        if (err) return fail('cannot connect', err);
        const stream = this.#client.connect();
        this.#stream = stream;
        let registered = false;
        stream.on('data', (msg: Message) => {
          if (!registered) {
            if (msg.getType() !== Type.REGISTER) {
              stream.cancel();
              return fail(`expected REGISTER, got ${typeName(msg.getType())}`);
            }
            this.#registeredAs = peer.ChaincodeID.deserializeBinary(msg.getPayload_asU8()).getName();
            registered = true;
            stream.write(this.#message(Type.REGISTERED, '', ''));
            stream.write(this.#message(Type.READY, '', '', this.#readyParams()));
            return resolve();
          }
          this.#onMessage(msg);
        });
        const lost = (why: string): void => {
          if (this.#stream !== stream) return;
          this.#stream = undefined;
          this.#ready = undefined;
          if (!registered) fail(why);
          for (const [key, tx] of this.#inFlight) {
            clearTimeout(tx.timer);
            this.#inFlight.delete(key);
            tx.reject(new DevnetError(status.UNAVAILABLE, `chaincode ${this.name} stream ${why}`));
          }
        };
        stream.on('error', (e: Error) => lost(`failed: ${e.message}`));
        stream.on('end', () => lost('ended'));
      });
    });
  }

  /** READY's payload: the batched state calls this peer takes (none: all false, as Fabric 2.5 says nothing). */
  #readyParams(): Uint8Array {
    const params = new peer.ChaincodeAdditionalParams();
    if (this.#batches !== undefined) {
      params.setUseGetMultipleKeys(true);
      params.setMaxSizeGetMultipleKeys(this.#batches.maxKeys);
      params.setUseWriteBatch(true);
      params.setMaxSizeWriteBatch(this.#batches.maxWrites);
    }
    return params.serializeBinary();
  }

  /** Runs one transaction on the chaincode (TRANSACTION, or INIT when the input says so). */
  async execute(execution: Execution): Promise<ExecutionResult> {
    await this.ready();
    const stream = this.#stream;
    if (stream === undefined)
      throw new DevnetError(status.UNAVAILABLE, `chaincode ${this.name} is not connected`);
    const key = `${execution.channel}${execution.txId}`;
    if (this.#inFlight.has(key)) {
      throw new DevnetError(
        status.ALREADY_EXISTS,
        `transaction ${execution.txId} is already running on ${this.name}`,
      );
    }
    return new Promise<ExecutionResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#inFlight.delete(key);
        reject(
          new DevnetError(
            status.DEADLINE_EXCEEDED,
            `chaincode ${this.name} did not complete in ${this.#timeoutMs} ms`,
          ),
        );
      }, this.#timeoutMs);
      this.#inFlight.set(key, { execution, resolve, reject, timer });
      const msg = this.#message(
        execution.input.getIsInit() ? Type.INIT : Type.TRANSACTION,
        execution.channel,
        execution.txId,
        execution.input.serializeBinary(),
      );
      msg.setProposal(execution.signedProposal);
      stream.write(msg);
    });
  }

  #message(type: MessageType, channel: string, txId: string, payload?: Uint8Array): Message {
    const msg = new peer.ChaincodeMessage();
    msg.setType(type);
    msg.setChannelId(channel);
    msg.setTxid(txId);
    if (payload !== undefined) msg.setPayload(payload);
    return msg;
  }

  #onMessage(msg: Message): void {
    const key = `${msg.getChannelId()}${msg.getTxid()}`;
    const tx = this.#inFlight.get(key);
    const type = msg.getType();
    if (type === Type.KEEPALIVE) return;
    if (tx === undefined) {
      this.#reply(
        msg,
        Type.ERROR,
        Buffer.from(`no transaction context for ${msg.getTxid()} on ${msg.getChannelId()}`),
      );
      return;
    }
    if (type === Type.COMPLETED || type === Type.ERROR) {
      clearTimeout(tx.timer);
      this.#inFlight.delete(key);
      if (type === Type.ERROR) {
        tx.reject(
          new DevnetError(
            status.ABORTED,
            `chaincode ${this.name} failed: ${Buffer.from(msg.getPayload_asU8()).toString()}`,
          ),
        );
        return;
      }
      const event = msg.getChaincodeEvent();
      tx.resolve({ response: peer.Response.deserializeBinary(msg.getPayload_asU8()), event });
      return;
    }
    const name = typeName(type);
    this.stateCalls.set(name, (this.stateCalls.get(name) ?? 0) + 1);
    try {
      this.#reply(msg, Type.RESPONSE, this.#stateCall(type, msg.getPayload_asU8(), tx.execution));
    } catch (err) {
      this.#reply(msg, Type.ERROR, Buffer.from(err instanceof Error ? err.message : String(err)));
    }
  }

  #reply(to: Message, type: MessageType, payload: Uint8Array): void {
    this.#stream?.write(this.#message(type, to.getChannelId(), to.getTxid(), payload));
  }

  /** Answers one state call against the simulator; throws to answer ERROR. */
  #stateCall(type: number, payload: Uint8Array, execution: Execution): Uint8Array {
    const ns = this.name;
    const sim = execution.simulator;
    switch (type) {
      case Type.GET_STATE: {
        const call = peer.GetState.deserializeBinary(payload);
        const collection = call.getCollection();
        if (collection === '') return sim.getState(ns, call.getKey()) ?? new Uint8Array();
        this.#private(execution, collection, 'read');
        return sim.getPrivateData(ns, collection, call.getKey()) ?? new Uint8Array();
      }
      case Type.GET_PRIVATE_DATA_HASH: {
        const call = peer.GetState.deserializeBinary(payload);
        this.#private(execution, call.getCollection(), 'hash');
        return sim.getPrivateDataHash(ns, call.getCollection(), call.getKey()) ?? new Uint8Array();
      }
      case Type.GET_STATE_MULTIPLE: {
        const { keys, collection } = readGetStateMultiple(payload) ?? getStateMultiple(payload);
        const max = this.#offered('GET_STATE_MULTIPLE').maxKeys;
        if (keys.length > max)
          throw new Error(`${keys.length} keys in one call, more than the ${max} offered`);
        if (collection !== '') this.#private(execution, collection, 'read');
        return stateMultipleResult(
          keys.map(
            (key) =>
              (collection === '' ? sim.getState(ns, key) : sim.getPrivateData(ns, collection, key)) ?? EMPTY,
          ),
        );
      }
      case Type.PUT_STATE: {
        const call = peer.PutState.deserializeBinary(payload);
        this.#write(execution, call.getCollection(), call.getKey(), call.getValue_asU8());
        return new Uint8Array();
      }
      case Type.DEL_STATE: {
        const call = peer.DelState.deserializeBinary(payload);
        this.#write(execution, call.getCollection(), call.getKey(), undefined);
        return new Uint8Array();
      }
      case Type.WRITE_BATCH_STATE: {
        const records = readWriteBatchState(payload) ?? writeBatchState(payload);
        const max = this.#offered('WRITE_BATCH_STATE').maxWrites;
        if (records.length > max)
          throw new Error(`${records.length} writes in one call, more than the ${max} offered`);
        for (const r of records) {
          const put = r.type === peer.WriteRecord.Type.PUT_STATE;
          if (!put && r.type !== peer.WriteRecord.Type.DEL_STATE)
            throw new Error(`write type ${r.type} is not supported by the devnet`);
          this.#write(execution, r.collection, r.key, put ? r.value : undefined);
        }
        return new Uint8Array();
      }
      case Type.GET_STATE_BY_RANGE: {
        const call = peer.GetStateByRange.deserializeBinary(payload);
        noCollection(call.getCollection());
        if (call.getMetadata_asU8().length > 0) {
          const meta = peer.QueryMetadata.deserializeBinary(call.getMetadata_asU8());
          if (meta.getPagesize() > 0)
            throw new Error('paginated range queries are not supported by the devnet');
        }
        const { id, page, hasMore } = sim.openRange(ns, call.getStartkey(), call.getEndkey());
        return queryResponse(ns, id, page, hasMore);
      }
      case Type.QUERY_STATE_NEXT: {
        const id = peer.QueryStateNext.deserializeBinary(payload).getId();
        if (!sim.hasIterator(id)) throw new Error(`query iterator ${id} not found`);
        const { page, hasMore } = sim.nextPage(id);
        return queryResponse(ns, id, page, hasMore);
      }
      case Type.QUERY_STATE_CLOSE: {
        const id = peer.QueryStateClose.deserializeBinary(payload).getId();
        sim.closeRange(id);
        return queryResponse(ns, id, [], false);
      }
      default:
        throw new Error(`${typeName(type)} is not supported by the devnet peer`);
    }
  }

  /** What this peer offered for a batched call; throws if it offered none (as a Fabric 2.5 peer would not know the call). */
  #offered(call: string): StateCallBatches {
    if (this.#batches === undefined) throw new Error(`${call} is not supported by this peer`);
    return this.#batches;
  }

  /** Writes `value` under `key` (undefined: deletes it), in the collection if one is named. */
  #write(execution: Execution, collection: string, key: string, value: Uint8Array | undefined): void {
    checkKey(key);
    const sim = execution.simulator;
    if (collection !== '') this.#private(execution, collection, 'write');
    if (value === undefined) {
      if (collection === '') sim.deleteState(this.name, key);
      else sim.deletePrivateData(this.name, collection, key);
    } else if (collection === '') sim.putState(this.name, key, value);
    else sim.putPrivateData(this.name, collection, key, value);
  }

  /** Throws unless the execution may make this private data call on the collection. */
  #private(execution: Execution, collection: string, access: 'read' | 'hash' | 'write'): void {
    if (collection === '') throw new Error('a private data call must name a collection');
    if (execution.input.getIsInit()) throw new Error('private data APIs are not allowed in chaincode Init()');
    if (access === 'read') this.#collections.checkRead(collection, execution.creatorMspId);
    else if (access === 'write') this.#collections.checkWrite(collection, execution.creatorMspId);
    else this.#collections.get(collection);
  }

  /** Ends the stream and fails what is in flight. */
  close(): void {
    this.#closed = true;
    this.#stream?.cancel();
    for (const [key, tx] of this.#inFlight) {
      clearTimeout(tx.timer);
      this.#inFlight.delete(key);
      tx.reject(new DevnetError(status.UNAVAILABLE, 'devnet is closing'));
    }
    this.#client.close();
  }
}

const EMPTY = new Uint8Array();

/**
 * A `GetStateMultipleResult` (values: repeated bytes, field 1, an empty one for a key not found),
 * as google-protobuf writes it, without its objects.
 */
export function stateMultipleResult(values: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const value of values) size += value.length + 6;
  const w = new ProtoWriter(size);
  for (const value of values) w.bytes(1, value);
  return w.finish();
}

/** `stateMultipleResult`, built with google-protobuf (the reference the tests and the bench compare with). */
export function stateMultipleResultReference(values: readonly Uint8Array[]): Uint8Array {
  const result = new peer.GetStateMultipleResult();
  result.setValuesList([...values]);
  return result.serializeBinary();
}

function noCollection(collection: string): void {
  if (collection !== '')
    throw new Error(
      `range queries on private data (collection ${collection}) are not supported by the devnet`,
    );
}

function checkKey(key: string): void {
  if (key === '') throw new Error('key must not be an empty string');
}

function queryResponse(namespace: string, id: string, page: RangeEntry[], hasMore: boolean): Uint8Array {
  const response = new peer.QueryResponse();
  response.setId(id);
  response.setHasMore(hasMore);
  for (const { key, versioned } of page) {
    const kv = new ledger.queryresult.KV();
    kv.setNamespace(namespace);
    kv.setKey(key);
    kv.setValue(versioned.value);
    const bytes = new peer.QueryResultBytes();
    bytes.setResultbytes(kv.serializeBinary());
    response.addResults(bytes);
  }
  return response.serializeBinary();
}
