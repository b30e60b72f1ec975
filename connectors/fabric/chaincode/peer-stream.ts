/**
 * The chaincode's end of a peer's stream (chaincode as a service), with Fabric 3.1's batched state
 * calls. fabric-shim 2.5.8, the latest Node shim, runs the conversation and the transactions, but
 * neither reads what a Fabric 3.1 peer offers in its READY message (`ChaincodeAdditionalParams`:
 * reads of many keys in one call, GET_STATE_MULTIPLE, and writes in one call, WRITE_BATCH_STATE,
 * each up to a size) nor sends those calls; the Go shim (fabric-chaincode-go 2.2) does both. Here
 * a peer's stream is accepted as fabric-shim's own server accepts it, what its READY offers is
 * kept, and the two calls go through the shim's handler as its own calls do (one request out per
 * transaction, answered RESPONSE or ERROR). A peer that offers nothing (Fabric 2.5 says nothing
 * in READY) is asked one key a call, as fabric-shim asks it.
 */
import { createRequire } from 'node:module';
import type { ServerDuplexStream, ServiceDefinition } from '@grpc/grpc-js';
import type { ChaincodeInterface, ChaincodeStub } from 'fabric-shim';

/**
 * fabric-shim's internals used here: its handler of one peer stream, and its own copy of the
 * protos (its stream writes only messages of that copy). That copy (fabric-protos 0.2) predates
 * the batched calls, and a second copy of fabric-protos in this process would redefine the
 * classes the first one checks against (google-protobuf keeps them in one global namespace):
 * the calls' few fields are written and read here with google-protobuf's own binary codec.
 */
interface ShimMessage {
  setType(type: number): void;
  setPayload(payload: Uint8Array): void;
  setTxid(txId: string): void;
  setChannelId(channel: string): void;
}
interface ShimHandler {
  chat(register: ShimMessage): void;
  _askPeerAndListen(msg: ShimMessage, method: string): Promise<Buffer>;
}
interface ShimProtos {
  peer: {
    ChaincodeMessage: (new () => ShimMessage) & { Type: Record<string, number> };
    ChaincodeID: new () => { setName(name: string): void; serializeBinary(): Uint8Array };
    ChaincodeService: ServiceDefinition;
  };
}
interface Writer {
  writeString(field: number, value: string): void;
  writeBytes(field: number, value: Uint8Array): void;
  writeEnum(field: number, value: number): void;
  writeMessage<T>(field: number, value: T, write: (value: T, writer: Writer) => void): void;
  getResultBuffer(): Uint8Array;
}
interface Reader {
  nextField(): boolean;
  isEndGroup(): boolean;
  getFieldNumber(): number;
  readBytes(): Uint8Array;
  readBool(): boolean;
  readUint32(): number;
  skipField(): void;
}
const shim = createRequire(createRequire(import.meta.url).resolve('fabric-shim'));
const { ChaincodeMessageHandler } = shim('./lib/handler.js') as {
  ChaincodeMessageHandler: new (stream: unknown, chaincode: ChaincodeInterface) => ShimHandler;
};
const shimProtos = (shim('@hyperledger/fabric-protos') as ShimProtos).peer;
// google-protobuf as the shim's protos have it (a dependency of theirs, not of the shim's).
const shimProtosRequire = createRequire(shim.resolve('@hyperledger/fabric-protos'));
const { BinaryReader, BinaryWriter } = shimProtosRequire('google-protobuf') as {
  BinaryReader: new (bytes: Uint8Array) => Reader;
  BinaryWriter: new () => Writer;
};
const Type = {
  REGISTER: shimProtos.ChaincodeMessage.Type.REGISTER!,
  READY: shimProtos.ChaincodeMessage.Type.READY!,
  // Fabric 3.1's (fabric-protos 0.3: ChaincodeMessage.Type, WriteRecord.Type).
  WRITE_BATCH_STATE: 24,
  GET_STATE_MULTIPLE: 25,
  PUT_STATE: 9,
  DEL_STATE: 10,
};

/** Each field of a message in `bytes`, by number, read by `read` (others skipped). */
function readFields(bytes: Uint8Array, read: (field: number, reader: Reader) => void): void {
  const reader = new BinaryReader(bytes);
  while (reader.nextField() && !reader.isEndGroup()) read(reader.getFieldNumber(), reader);
}

/** What a peer offered in READY: the most keys one read may ask and writes one call may hold. */
interface Offer {
  maxKeys: number;
  maxWrites: number;
}

/** Each stream's handler, and what its peer offered (undefined: nothing, one key a call). */
const offers = new WeakMap<object, Offer | undefined>();

/** The chaincode service, for a gRPC server: each peer that connects talks to `chaincode` as `ccid`. */
export function chaincodeService(
  chaincode: ChaincodeInterface,
  ccid: string,
): [ServiceDefinition, { connect: (stream: ServerDuplexStream<unknown, unknown>) => void }] {
  const connect = (stream: ServerDuplexStream<unknown, unknown>): void => {
    const handler = new ChaincodeMessageHandler(stream, chaincode);
    offers.set(handler, undefined);
    // Beside the shim's own listener: READY comes once, before any transaction.
    const onReady = (msg: { getType(): number; getPayload_asU8(): Uint8Array }): void => {
      if (msg.getType() !== Type.READY) return;
      stream.off('data', onReady);
      offers.set(handler, offerOf(msg.getPayload_asU8()));
    };
    stream.on('data', onReady);
    const id = new shimProtos.ChaincodeID();
    id.setName(ccid);
    const register = new shimProtos.ChaincodeMessage();
    register.setType(Type.REGISTER);
    register.setPayload(id.serializeBinary());
    handler.chat(register);
  };
  return [shimProtos.ChaincodeService, { connect }];
}

/** `ChaincodeAdditionalParams`: 1 use_write_batch, 2 max_size_write_batch, 3 use_get_multiple_keys, 4 max_size_get_multiple_keys. */
function offerOf(payload: Uint8Array): Offer | undefined {
  let writes = false;
  let keys = false;
  let maxWrites = 0;
  let maxKeys = 0;
  readFields(payload, (field, r) => {
    if (field === 1) writes = r.readBool();
    else if (field === 2) maxWrites = r.readUint32();
    else if (field === 3) keys = r.readBool();
    else if (field === 4) maxKeys = r.readUint32();
    else r.skipField();
  });
  // Both or neither: a peer that batches only one of them is asked one key a call for both.
  return writes && keys && maxKeys > 0 && maxWrites > 0 ? { maxKeys, maxWrites } : undefined;
}

/** The handler a transaction's stub talks through, and what its peer offered. */
function peerOf(stub: ChaincodeStub): { handler: ShimHandler; offer: Offer | undefined } {
  const handler = (stub as unknown as { handler: ShimHandler }).handler;
  return { handler, offer: offers.get(handler) };
}

function call(stub: ChaincodeStub, type: number, payload: Uint8Array, method: string): Promise<Buffer> {
  const msg = new shimProtos.ChaincodeMessage();
  msg.setType(type);
  msg.setPayload(payload);
  msg.setTxid(stub.getTxID());
  msg.setChannelId(stub.getChannelID());
  return peerOf(stub).handler._askPeerAndListen(msg, method);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The values of `keys` (empty: none), in order: as few calls as the peer allows. */
export async function getStates(stub: ChaincodeStub, keys: readonly string[]): Promise<Uint8Array[]> {
  const { offer } = peerOf(stub);
  if (offer === undefined) return Promise.all(keys.map((k) => stub.getState(k)));
  const values: Uint8Array[] = [];
  for (const part of chunks(keys, offer.maxKeys)) {
    // GetStateMultiple: 1 keys (repeated), 2 collection; GetStateMultipleResult: 1 values (repeated).
    const ask = new BinaryWriter();
    for (const key of part) ask.writeString(1, key);
    const answer = await call(stub, Type.GET_STATE_MULTIPLE, ask.getResultBuffer(), 'GetStateMultiple');
    const got: Uint8Array[] = [];
    readFields(answer, (field, r) => (field === 1 ? got.push(r.readBytes()) : r.skipField()));
    if (got.length !== part.length)
      throw new Error(`the peer answered ${got.length} values for ${part.length} keys`);
    values.push(...got);
  }
  return values;
}

/** Writes each `[key, value]` (an empty value deletes the key): as few calls as the peer allows. */
export async function putStates(
  stub: ChaincodeStub,
  writes: ReadonlyArray<readonly [string, Uint8Array]>,
): Promise<void> {
  const { offer } = peerOf(stub);
  if (offer === undefined) {
    await Promise.all(writes.map(([k, v]) => (v.length === 0 ? stub.deleteState(k) : stub.putState(k, v))));
    return;
  }
  for (const part of chunks(writes, offer.maxWrites)) {
    // WriteBatchState: 1 rec (repeated WriteRecord: 1 key, 2 value, 3 collection, 5 type).
    const batch = new BinaryWriter();
    for (const write of part) {
      batch.writeMessage(1, write, ([key, value], w) => {
        w.writeString(1, key);
        if (value.length > 0) w.writeBytes(2, value);
        w.writeEnum(5, value.length > 0 ? Type.PUT_STATE : Type.DEL_STATE);
      });
    }
    await call(stub, Type.WRITE_BATCH_STATE, batch.getResultBuffer(), 'WriteBatchState');
  }
}
