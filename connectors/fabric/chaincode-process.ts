/**
 * Runs the settlement chaincode as its own process, as chaincode-as-a-service runs on a real
 * network: `node dist/connectors/fabric/chaincode/main.js`, listening on a loopback port the peer
 * dials. It has to be its own process anyway: fabric-shim brings an older @hyperledger/fabric-protos
 * whose classes and the gateway's share one global protobuf namespace and break each other's
 * messages ("Error serializing response") when both load in one process. The child stops when
 * this process closes its stdin, or ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../free-port.ts';

export interface ChaincodeProcess {
  /** host:port the peer dials. */
  readonly address: string;
  readonly ccid: string;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./chaincode/main.js', import.meta.url));

/**
 * Starts the chaincode on 127.0.0.1 (a free port unless given); resolves once it listens. `admin`
 * names who may configure the venue the first time (`CHAINCODE_ADMIN`: `MSPID:CommonName`
 * identities and MSP ids, comma-separated).
 */
export async function startChaincode(o: {
  ccid: string;
  admin: string;
  port?: number;
}): Promise<ChaincodeProcess> {
  const address = `127.0.0.1:${o.port ?? (await freePort())}`;
  const child = spawn(process.execPath, ['--no-deprecation', MAIN], {
    env: {
      ...process.env,
      CHAINCODE_ID: o.ccid,
      CHAINCODE_SERVER_ADDRESS: address,
      CHAINCODE_ADMIN: o.admin,
      CHAINCODE_EXIT_WITH_STDIN: '1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stderr.on('data', keep);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`chaincode did not start within 20 s: ${output}`)),
      20_000,
    );
    child.stdout.on('data', (d: Buffer) => {
      keep(d);
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    // 'close', not 'exit': its output is all read by then.
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`chaincode exited with ${code} before listening: ${output}`));
    });
  });
  return { address, ccid: o.ccid, stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  return exited.finally(() => clearTimeout(timer));
}
