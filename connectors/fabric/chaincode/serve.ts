/**
 * Runs contracts as a chaincode server (fabric-shim's chaincode-as-a-service), the way
 * fabric-chaincode-node's `server` command does, without its package.json lookup (which
 * `require`s the module and cannot load ES modules): the settlement contract (`main.ts`), and the
 * devnet suite's own.
 */
import { createRequire } from 'node:module';
import type { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';
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
  // The typings make `tlsProps` required; the server takes its absence as plain text.
  const server = Shim.server(chaincode, { ccid: o.ccid, address: o.address } as ChaincodeServerOpts);
  // fabric-shim's `start()` binds without saying which port: its gRPC server (`_server`, with the
  // credentials it made, `_credentials`) is bound here instead. It has no stop of its own either.
  const inner = server as unknown as { _server: GrpcServer; _credentials: ServerCredentials };
  const port = await new Promise<number>((resolve, reject) =>
    inner._server.bindAsync(o.address, inner._credentials, (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return {
    address: `${o.address.slice(0, o.address.lastIndexOf(':'))}:${port}`,
    stop: () => inner._server.forceShutdown(),
  };
}
