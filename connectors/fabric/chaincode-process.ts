/**
 * Runs the settlement chaincode as its own process, as chaincode-as-a-service runs on a real
 * network: `main.js` of the chaincode's own package (`mosaic-settlement-chaincode`, the npm
 * workspace in `chaincode/`, which `npm run build` compiles into `chaincode/dist/`), listening on
 * a loopback port the peer dials (one it binds itself and prints). It has to be its own process
 * anyway: fabric-shim brings an older @hyperledger/fabric-protos whose classes and the gateway's
 * share one global protobuf
 * namespace and break each other's messages ("Error serializing response") when both load in one
 * process. It is supervised
 * (`spawnSupervised`): a Ctrl-C in a terminal does not reach it, and it stops when this process
 * stops it or ends in any way, so the exchange stops its daemon before its chaincode.
 */
import { fileURLToPath } from 'node:url';
import { spawnSupervised, whenReady } from '../supervised.ts';

export interface ChaincodeProcess {
  /** host:port the peer dials. */
  readonly address: string;
  readonly ccid: string;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(import.meta.resolve('mosaic-settlement-chaincode/main'));

/**
 * Starts the chaincode on 127.0.0.1 (on any free port it binds itself, unless `port` is given);
 * resolves once it listens. `admin` names who may configure the venue the first time
 * (`CHAINCODE_ADMIN`: `MSPID:CommonName` identities and MSP ids, comma-separated).
 */
export async function startChaincode(o: {
  ccid: string;
  admin: string;
  port?: number;
}): Promise<ChaincodeProcess> {
  const running = spawnSupervised(process.execPath, ['--no-deprecation', MAIN], {
    env: {
      // The shim logs a few lines per transaction at its default (INFO): formatting them was a
      // tenth of the chaincode's time. Warnings and errors still show.
      CORE_CHAINCODE_LOGGING_LEVEL: 'WARNING',
      ...process.env,
      CHAINCODE_ID: o.ccid,
      CHAINCODE_SERVER_ADDRESS: `127.0.0.1:${o.port ?? 0}`,
      CHAINCODE_ADMIN: o.admin,
    },
  });
  const [, address] = await whenReady(running, / listening on (\S+:\d+)\n/, 'the chaincode');
  return { address: address!, ccid: o.ccid, stop: () => running.stop() };
}
