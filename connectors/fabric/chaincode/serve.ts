/**
 * Runs a contract as a chaincode server (fabric-shim's chaincode-as-a-service), the way
 * fabric-chaincode-node's `server` command does, without its package.json lookup (which
 * `require`s the module and cannot load ES modules): the settlement contract (`main.ts`) and the
 * devnet suite's test contract (`test/devnet-contract.ts`).
 */
import { createRequire } from 'node:module';
import { type Contract, JSONSerializer } from 'fabric-contract-api';
import { type ChaincodeInterface, type ChaincodeServerOpts, Shim } from 'fabric-shim';

const require = createRequire(import.meta.url);
/** fabric-shim's adapter from contract classes to the chaincode interface (not in its typings). */
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract.js') as new (
  contracts: unknown[],
  serializers: unknown,
  metadata: Record<string, unknown>,
  title: string,
  version: string,
) => ChaincodeInterface;

/** A running chaincode server. */
export interface ChaincodeServer {
  /** Closes the server and the peers' streams at once. */
  stop(): void;
}

/**
 * Starts `contract` as a chaincode server on `address` (host:port), chaincode `ccid`, without
 * TLS; `title` names it in the contract metadata.
 */
export async function serveChaincode(o: {
  contract: new () => Contract;
  title: string;
  ccid: string;
  address: string;
}): Promise<ChaincodeServer> {
  const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
  const chaincode = new ChaincodeFromContract([o.contract], serializers, {}, o.title, '1.0.0');
  // The typings make `tlsProps` required; the server takes its absence as plain text.
  const server = Shim.server(chaincode, { ccid: o.ccid, address: o.address } as ChaincodeServerOpts);
  await server.start();
  // fabric-shim's server has no stop of its own: its gRPC server is `_server`.
  const grpc = (server as unknown as { _server: { forceShutdown(): void } })._server;
  return { stop: () => grpc.forceShutdown() };
}
