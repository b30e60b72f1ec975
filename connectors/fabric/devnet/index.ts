/**
 * Devnet: a single-process Hyperledger Fabric peer, orderer and committer for one channel, for
 * tests and the embedded default of `npm start`. It speaks Fabric's real protocols: the
 * `gateway.Gateway` gRPC service for the unmodified `@hyperledger/fabric-gateway` client, and the
 * chaincode-as-a-service `protos.Chaincode/Connect` stream, dialled to real chaincode (fabric-shim,
 * fabric-contract-api). World state lives in memory; with `stateFile` the committed blocks are
 * kept in a file and replayed at start. Private data collections (per chaincode) work as on a
 * Fabric peer that is a member of all of them: transactions carry hashes, values go through the
 * transient store to the committer and are kept beside the blocks, member-only reads are refused
 * to clients of other MSPs. Blocks are linked by Fabric's block hash, and the query system
 * chaincode (`qscc`) answers `GetChainInfo`, `GetBlockByNumber` and `GetTransactionByID`. Not
 * supported: range or rich queries on private data, purge and block-to-live of private data, rich
 * (CouchDB) queries, history, chaincode-to-chaincode calls, state metadata, paginated range
 * queries, TLS, the Deliver (block events) service, the other system chaincodes and endorsement
 * policies beyond "the devnet peer endorsed".
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { gateway } from '@hyperledger/fabric-protos';
import type { KeyObject } from 'node:crypto';
import { BlockFile } from './block-file.ts';
import { makePeerIdentity } from './certs.ts';
import { ChaincodeLink, STATE_CALL_BATCHES, type StateCallBatches } from './chaincode-link.ts';
import { Collections, type DevnetCollection } from './collections.ts';
import { Committer } from './committer.ts';
import { Endorser } from './endorser.ts';
import { gatewayService } from './gateway-service.ts';
import { MspRegistry, SigningIdentity, type DevnetMsp } from './identity.ts';
import { WorldState } from './state.ts';
import { Endorsements } from './transaction.ts';
import { TransientStore } from './transient-store.ts';

export { blockHash } from './block-hash.ts';
/** An MSP's CA and an identity it issues, made with node:crypto alone (for an embedded operator). */
export { issueMember, type KeyedCert, makeCa, makePeerIdentity as makeIdentity } from './certs.ts';

/** A chaincode server the devnet dials (chaincode-as-a-service). */
export interface DevnetChaincode {
  /** The chaincode name clients use (the namespace of its state). */
  name: string;
  /** host:port of its fabric-shim server. */
  address: string;
  /** Its private data collections (the chaincode definition's collection config); default none. */
  collections?: readonly DevnetCollection[];
}

/** The peer's own signing identity, when not made at start. */
export interface DevnetPeerIdentity {
  mspId: string;
  /** PEM. */
  certificate: string;
  privateKey: KeyObject | string;
}

/** How to start a devnet. */
export interface DevnetOptions {
  channel: string;
  /** The channel's member organizations; clients must hold a certificate issued by one's root. */
  msps: readonly DevnetMsp[];
  chaincodes: readonly DevnetChaincode[];
  /** 0 (default): a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Where committed blocks are kept; a devnet restarted on the same file carries on. Committed
   * private data is kept beside it, in `<stateFile>.private`.
   */
  stateFile?: string;
  /** A block is cut this long after its first transaction arrives (Fabric's BatchTimeout); default 10 ms. */
  blockMs?: number;
  /** ...or once it holds this many transactions (MaxMessageCount); default 100. */
  blockSize?: number;
  /**
   * ...or before a transaction that would take its envelopes' bytes past this (PreferredMaxBytes;
   * a larger transaction is a block of its own); default: no limit.
   */
  blockBytes?: number;
  /** How long to wait for a chaincode to connect or complete a transaction; default 30 s. */
  chaincodeTimeoutMs?: number;
  /**
   * What the peer offers chaincodes of Fabric 3.1's batched state calls (reads of many keys in one
   * call, writes in one call, each up to a number); default `STATE_CALL_BATCHES`, Fabric's. False:
   * none, as a Fabric 2.5 peer, which answers one key a call.
   */
  stateCallBatches?: StateCallBatches | false;
  /** Default: a fresh devnet CA issues the peer a certificate at start (MSP `DevnetPeerMSP`). */
  peer?: DevnetPeerIdentity;
}

/** How a devnet cuts blocks: Fabric's orderer settings BatchTimeout, MaxMessageCount and PreferredMaxBytes. */
export type DevnetBlocks = Required<Pick<DevnetOptions, 'blockMs' | 'blockSize'>> &
  Pick<DevnetOptions, 'blockBytes'>;

/** The devnet's defaults: blocks as soon as the devnet goes, for tests and the embedded exchange. */
export const DEVNET_BLOCKS: Readonly<DevnetBlocks> = { blockMs: 10, blockSize: 100 };

/**
 * The ordering settings of Fabric's own test network (fabric-samples
 * `test-network/configtx/configtx.yaml`: BatchTimeout 2s, MaxMessageCount 10, PreferredMaxBytes
 * 512 KB): the block times a user of a Fabric network set up from the samples meets.
 */
export const FABRIC_TEST_NETWORK_BLOCKS: Readonly<DevnetBlocks> = {
  blockMs: 2_000,
  blockSize: 10,
  blockBytes: 512 * 1024,
};

/** A running devnet. */
export interface Devnet {
  port: number;
  /** host:port for `new grpc.Client(endpoint, credentials.createInsecure())`. */
  endpoint: string;
  /** The peer's identity: what endorsements are signed with. */
  peer: { mspId: string; certificate: string };
  /** The number of the next block. */
  height(): number;
  /** How many state calls chaincodes made, by message type (`GET_STATE`, `GET_STATE_MULTIPLE`, …). */
  stateCalls(): Record<string, number>;
  /** Stops at once (forceShutdown: open event streams would hold a graceful shutdown). */
  close(): Promise<void>;
}

/** Starts a devnet; resolves once it listens (chaincodes are dialled on first use). */
export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const peerOptions = options.peer ?? defaultPeer();
  const identity = new SigningIdentity(peerOptions.mspId, peerOptions.certificate, peerOptions.privateKey);
  const msps = new MspRegistry(options.msps);
  const state = new WorldState();
  const timeoutMs = options.chaincodeTimeoutMs ?? 30_000;
  const offered = options.stateCallBatches ?? STATE_CALL_BATCHES;
  const batches = offered === false ? undefined : offered;
  const links = new Map(
    options.chaincodes.map((c) => [
      c.name,
      new ChaincodeLink(c.name, c.address, new Collections(c.name, c.collections), timeoutMs, batches),
    ]),
  );
  const transient = new TransientStore();
  const endorsements = new Endorsements();
  const stored = options.stateFile === undefined ? undefined : BlockFile.open(options.stateFile);
  const committer = new Committer(
    state,
    identity,
    {
      blockMs: options.blockMs ?? DEVNET_BLOCKS.blockMs,
      blockSize: options.blockSize ?? DEVNET_BLOCKS.blockSize,
      blockBytes: options.blockBytes ?? Number.POSITIVE_INFINITY,
    },
    transient,
    endorsements,
    stored,
  );
  const host = options.host ?? '127.0.0.1';
  let endpoint = '';
  const server = new Server();
  server.addService(
    gateway.GatewayService,
    gatewayService({
      channel: options.channel,
      msps,
      endorser: new Endorser(state, links, identity, transient, endorsements, () => committer.height),
      committer,
      address: () => endpoint,
      peerMspId: identity.mspId,
    }),
  );
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
  } catch (err) {
    committer.close();
    throw err;
  }
  endpoint = `${host}:${port}`;
  for (const link of links.values()) link.ready().catch(() => undefined); // dial early; errors surface on use
  return {
    port,
    endpoint,
    peer: { mspId: identity.mspId, certificate: peerOptions.certificate },
    height: () => committer.height,
    stateCalls: () => {
      const calls: Record<string, number> = {};
      for (const link of links.values())
        for (const [type, n] of link.stateCalls) calls[type] = (calls[type] ?? 0) + n;
      return calls;
    },
    close: async () => {
      committer.close();
      for (const link of links.values()) link.close();
      server.forceShutdown();
    },
  };
}

function defaultPeer(): DevnetPeerIdentity {
  const mspId = 'DevnetPeerMSP';
  const { peer } = makePeerIdentity(mspId, 'peer0.devnet');
  return { mspId, certificate: peer.certificate, privateKey: peer.privateKey };
}
