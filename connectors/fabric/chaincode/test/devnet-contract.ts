/**
 * The devnet suite's chaincode (test/connectors/fabric-devnet.test.ts in the exchange): a small
 * fabric-contract-api contract (no decorators: every prototype method not starting with `_` is a
 * transaction) served as chaincode-as-a-service, for the devnet to dial. It lives in this package
 * because fabric-shim and fabric-contract-api are this package's dependencies, not the
 * exchange's. It runs as its own process, as CaaS does: run it with node, it prints
 * `{"address":"127.0.0.1:<port>"}` once serving and exits when its stdin closes. (It cannot share
 * a process with fabric-gateway: fabric-shim 2.5 brings @hyperledger/fabric-protos 0.2, whose
 * generated classes and those of 0.3 overwrite each other in google-protobuf's global `proto`
 * namespace, and grpc's `instanceof` checks then fail.)
 */
import { Contract, type Context } from 'fabric-contract-api';
import { getStates, putStates } from '../peer-stream.ts';
import { serveChaincode } from '../serve.ts';

process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'CRITICAL';

/**
 * put/get/del a key, a counter with an event, a range query, a failure, Fabric's read semantics,
 * and the same on private data; many keys read or written together (Fabric 3.1's batched calls
 * where the peer offers them).
 */
export class DevnetTestContract extends Contract {
  constructor() {
    super('devnet');
  }

  async put(ctx: Context, key: string, value: string): Promise<void> {
    await ctx.stub.putState(key, Buffer.from(value));
  }

  async get(ctx: Context, key: string): Promise<string> {
    return Buffer.from(await ctx.stub.getState(key)).toString();
  }

  async del(ctx: Context, key: string): Promise<void> {
    await ctx.stub.deleteState(key);
  }

  /** Adds one to the counter at `key`, emits `incremented` and returns the new value. */
  async increment(ctx: Context, key: string): Promise<string> {
    const value = Number(Buffer.from(await ctx.stub.getState(key)).toString() || '0') + 1;
    await ctx.stub.putState(key, Buffer.from(String(value)));
    ctx.stub.setEvent('incremented', Buffer.from(JSON.stringify({ key, value })));
    return String(value);
  }

  /** The keys and values in [start, end), as JSON. */
  async range(ctx: Context, start: string, end: string): Promise<string> {
    const found: { key: string; value: string }[] = [];
    for await (const { key, value } of ctx.stub.getStateByRange(start, end)) {
      found.push({ key, value: Buffer.from(value).toString() });
    }
    return JSON.stringify(found);
  }

  /** Writes `value` then reads the key back: Fabric's simulation does not see its own writes. */
  async putThenGet(ctx: Context, key: string, value: string): Promise<string> {
    await ctx.stub.putState(key, Buffer.from(value));
    return Buffer.from(await ctx.stub.getState(key)).toString();
  }

  /** The transient value under `name`. */
  async transient(ctx: Context, name: string): Promise<string> {
    return Buffer.from(ctx.stub.getTransient().get(name) ?? new Uint8Array()).toString();
  }

  /** Puts a value into a private data collection. */
  async putPrivate(ctx: Context, collection: string, key: string, value: string): Promise<void> {
    await ctx.stub.putPrivateData(collection, key, Buffer.from(value));
  }

  async getPrivate(ctx: Context, collection: string, key: string): Promise<string> {
    return Buffer.from(await ctx.stub.getPrivateData(collection, key)).toString();
  }

  /** The hex sha256 of a private value, as the peer keeps it. */
  async privateHash(ctx: Context, collection: string, key: string): Promise<string> {
    return Buffer.from(await ctx.stub.getPrivateDataHash(collection, key)).toString('hex');
  }

  /** Adds one to a private counter and returns the new value. */
  async incrementPrivate(ctx: Context, collection: string, key: string): Promise<string> {
    const value = Number(Buffer.from(await ctx.stub.getPrivateData(collection, key)).toString() || '0') + 1;
    await ctx.stub.putPrivateData(collection, key, Buffer.from(String(value)));
    return String(value);
  }

  /** The caller's MSP id. */
  async whoami(ctx: Context): Promise<string> {
    return ctx.clientIdentity.getMSPID();
  }

  /** The values of the keys in the JSON list, as a JSON list: in as few calls as the peer allows. */
  async getMany(ctx: Context, keys: string): Promise<string> {
    const values = await getStates(ctx.stub, JSON.parse(keys) as string[]);
    return JSON.stringify(values.map((v) => Buffer.from(v).toString()));
  }

  /** Writes each `[key, value]` of the JSON list (an empty value deletes): in as few calls as the peer allows. */
  async putMany(ctx: Context, writes: string): Promise<void> {
    const pairs = (JSON.parse(writes) as [string, string][]).map(([k, v]) => [k, Buffer.from(v)] as const);
    await putStates(ctx.stub, pairs);
  }

  async fail(_ctx: Context, message: string): Promise<void> {
    throw new Error(message);
  }
}

/** Serves `DevnetTestContract` as chaincode-as-a-service on a port of 127.0.0.1 it binds itself. */
async function serve(ccid: string): Promise<string> {
  const server = await serveChaincode({
    ccid,
    address: '127.0.0.1:0',
    contracts: [DevnetTestContract],
    title: 'devnet-test',
  });
  process.stdin.on('end', server.stop).on('close', server.stop).resume();
  return server.address;
}

const address = await serve(process.argv[2] ?? 'devnet-test:0123');
process.stdout.write(`${JSON.stringify({ address })}\n`);
