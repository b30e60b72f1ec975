/**
 * The settlement chaincode as a service (Fabric's "chaincode as a service"): it listens on
 * `CHAINCODE_SERVER_ADDRESS` (port 0: any free one, printed) as chaincode `CHAINCODE_ID` and the
 * peer connects to it. On a
 * production Fabric network, install a package of type `ccaas` whose connection.json names this
 * address, approve and commit the definition as usual, and run this process (or its container)
 * with the package id as `CHAINCODE_ID`; docs/fabric.md has the steps. `CHAINCODE_ADMIN` names who
 * may configure the venue the first time: the deployer's identity (`MSPID:CommonName`) and/or
 * admin MSPs, comma-separated.
 *
 *   CHAINCODE_ID=mosaic:abc… CHAINCODE_SERVER_ADDRESS=0.0.0.0:9999 CHAINCODE_ADMIN=BankAMSP:admin \
 *     node dist/connectors/fabric/chaincode/main.js
 */
import './quiet-logs.ts';
import { parseAdmins, SettlementContract } from './contract.ts';
import { serveChaincode } from './serve.ts';

const ccid = process.env.CHAINCODE_ID;
const address = process.env.CHAINCODE_SERVER_ADDRESS;
const admin = process.env.CHAINCODE_ADMIN ?? '';
if (!ccid || !address || admin.trim() === '') {
  process.stderr.write(
    'settlement chaincode: set CHAINCODE_ID, CHAINCODE_SERVER_ADDRESS (host:port) and CHAINCODE_ADMIN ' +
      '(who may configure the venue: the deployer as MSPID:CommonName, or an admin MSP id)\n',
  );
  process.exit(2);
}
try {
  parseAdmins(admin);
} catch (err) {
  process.stderr.write(`settlement chaincode: ${(err as Error).message}\n`);
  process.exit(2);
}
const server = await serveChaincode({
  ccid,
  address,
  contracts: [SettlementContract],
  title: 'mosaic-settlement',
});
// With port 0 the address says which port it bound: the exchange reads it here.
process.stdout.write(`settlement chaincode ${ccid} listening on ${server.address}\n`);
// How the exchange stops it (`chaincode-process.ts`), as a container runtime would.
process.once('SIGTERM', () => {
  server.stop();
  process.exit(0);
});
