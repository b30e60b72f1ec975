/**
 * Runs contracts as a chaincode server (chaincode as a service), the way fabric-chaincode-node's
 * `server` command does, without its package.json lookup (which `require`s the module and cannot
 * load ES modules), on a gRPC server of its own (fabric-shim's binds without saying which port,
 * and has no stop) whose peers' streams speak Fabric 3.1's batched state calls when offered
 * (`peer-stream.ts`): the settlement contract (`main.ts`), and the devnet suite's own.
 */
import { createRequire } from 'node:module';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { type Contract, JSONSerializer } from 'fabric-contract-api';
import type { ChaincodeInterface } from 'fabric-shim';
import { chaincodeService } from './peer-stream.ts';

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
  /** host:port it listens on (the port it bound, when asked for port 0). */
  readonly address: string;
  /** Closes the server and the peers' streams at once. */
  stop(): void;
}

/**
 * Serves `contracts` on `address` (host:port; port 0: any free one) as chaincode `ccid`, without
 * TLS; `title` names the chaincode in its metadata.
 */
export async function serveChaincode(o: {
  ccid: string;
  address: string;
  contracts: ReadonlyArray<new () => Contract>;
  title: string;
}): Promise<ChaincodeServer> {
  const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
  const chaincode = new ChaincodeFromContract([...o.contracts], serializers, {}, o.title, '1.0.0');
  const server = new Server();
  server.addService(...chaincodeService(chaincode, o.ccid));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(o.address, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return {
    address: `${o.address.slice(0, o.address.lastIndexOf(':'))}:${port}`,
    stop: () => server.forceShutdown(),
  };
}
