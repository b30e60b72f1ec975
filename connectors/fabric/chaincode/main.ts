/**
 * The settlement chaincode as a service (Fabric's "chaincode as a service"): it listens on
 * `CHAINCODE_SERVER_ADDRESS` as chaincode `CHAINCODE_ID` and the peer connects to it. On a
 * production Fabric network, install a package of type `ccaas` whose connection.json names this
 * address, approve and commit the definition as usual, and run this process (or its container)
 * with the package id as `CHAINCODE_ID`; docs/fabric.md has the steps.
 *
 *   CHAINCODE_ID=mosaic:abc… CHAINCODE_SERVER_ADDRESS=0.0.0.0:9999 node dist/connectors/fabric/chaincode/main.js
 */
import { serveChaincode } from './serve.ts';

const ccid = process.env.CHAINCODE_ID;
const address = process.env.CHAINCODE_SERVER_ADDRESS;
if (!ccid || !address) {
  process.stderr.write('settlement chaincode: set CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS (host:port)\n');
  process.exit(2);
}
const server = await serveChaincode({ ccid, address });
process.stdout.write(`settlement chaincode ${ccid} listening on ${address}\n`);
// How the exchange stops it (`chaincode-process.ts`), as a container runtime would.
process.once('SIGTERM', () => {
  server.stop();
  process.exit(0);
});
