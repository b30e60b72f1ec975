/**
 * `mosaic start`, run as a user runs it: a child process with its environment, its output, its
 * exit code, and the exchange it serves until Ctrl-C (SIGINT).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEMO_LISTINGS } from '../../app/index.ts';
import { until } from '../support/wait.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/mosaic.js', import.meta.url));

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-start-'));
}

async function mosaic(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Starts `mosaic start` and resolves with the URL it prints. */
async function startExchange(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: { ...process.env, MOSAIC_PORT: '0', MOSAIC_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start banner within 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', () => {
      const m = /Mosaic is running at (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before starting:\n${out}`)));
  });
  return { child, url, out: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('mosaic start', () => {
  it('serves the exchange with the demo market maker, stops cleanly on Ctrl-C and recovers from its journal', async () => {
    const dir = tempDir();
    const { child, url, out } = await startExchange({ MOSAIC_DATA_DIR: dir });
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    const page = await fetch(`${url}/`);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const instruments = (await (await fetch(`${url}/api/instruments`)).json()) as Array<{ id: string }>;
    assert.deepEqual(
      instruments.map((i) => i.id),
      ['ACME@evm:31337', 'ACME@fabric:bank-net', 'BOND@fabric:bank-net'],
    );
    // The market maker quotes and, now and then, trades.
    const trades = async () =>
      (await (await fetch(`${url}/api/instruments/ACME@evm:31337/trades`)).json()) as unknown[];
    await until('a trade of the demo market maker', async () => (await trades()).length > 0, out);
    // ...on a local chain it funded through the faucet, where the connector settles its trades.
    assert.match(out(), /settlement evm:31337: local anvil 31337 at http:\/\/127\.0\.0\.1:\d+, escrow 0x/);
    /** The venue's settlement pipeline once it has settled a trade. */
    const settledOn = async (venue: string) => {
      type Pipeline = { venue: string; settled: number; costed: number; gas: number; gasFee: string };
      return until(
        `a trade settled on ${venue}`,
        async () => {
          const pipelines = (await (await fetch(`${url}/api/settlements`)).json()) as Pipeline[];
          const p = pipelines.find((x) => x.venue === venue);
          return p !== undefined && p.settled > 0 && p;
        },
        out,
      );
    };
    const evm = await settledOn('evm:31337');
    assert.ok(evm.costed > 0 && evm.gas > 0 && BigInt(evm.gasFee) > 0n, JSON.stringify(evm));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const name of ['settled', 'gas', 'fee', 'costed']) {
      const m = new RegExp(`^mosaic_settlement_${name}_total\\{venue="evm:31337"\\} (\\S+)$`, 'm').exec(
        metrics,
      );
      assert.ok(m && Number(m[1]) > 0, `mosaic_settlement_${name}_total for evm:31337 in:\n${metrics}`);
    }

    // ...and on the Fabric devnet, through the settlement chaincode
    assert.match(
      out(),
      /settlement fabric:bank-net: devnet at 127\.0\.0\.1:\d+, channel bank-net, chaincode mosaic-settlement/,
    );
    await settledOn('fabric:bank-net');

    const done = exited(child);
    child.kill('SIGINT');
    assert.equal(await done, 0, out());
    const stopped = /stopped at command (\d+), journal flushed/.exec(out());
    assert.ok(stopped, out());
    const verify = await mosaic(['journal', 'verify', dir]);
    assert.equal(verify.code, 0, verify.stderr);

    const again = await startExchange({ MOSAIC_DATA_DIR: dir, MOSAIC_MARKET_MAKER: '0' });
    const h = (await (await fetch(`${again.url}/health`)).json()) as { commandSeq: number };
    assert.ok(h.commandSeq >= Number(stopped[1]), `recovered to ${h.commandSeq}, stopped at ${stopped[1]}`);
    const second = exited(again.child);
    again.child.kill('SIGTERM');
    assert.equal(await second, 0);
  });

  it('says which address is taken when the port is in use, and exits 1', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const r = await mosaic(['start'], {
      MOSAIC_PORT: String(port),
      MOSAIC_DATA_DIR: tempDir(),
      MOSAIC_LOG_LEVEL: 'silent',
    });
    server.close();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot start: .*EADDRINUSE/);
  });

  const configFile = (content: string) => {
    const file = path.join(tempDir(), 'mosaic.json');
    fs.writeFileSync(file, content);
    return file;
  };
  const bad: Array<[string, string[], Record<string, string>, RegExp]> = [
    [
      'a port that is not a number',
      ['start'],
      { MOSAIC_PORT: 'eighty' },
      /MOSAIC_PORT must be a whole number, got "eighty"/,
    ],
    [
      'a port out of range',
      ['start'],
      { MOSAIC_PORT: '70000' },
      /\/port \(from MOSAIC_PORT\): must be <= 65535/,
    ],
    [
      'a switch that is not a boolean',
      ['start'],
      { MOSAIC_MARKET_MAKER: 'maybe' },
      /MOSAIC_MARKET_MAKER must be true or false/,
    ],
    [
      'a missing config file',
      ['start', '--config', '/nonexistent/mosaic.json'],
      {},
      /cannot read config file \/nonexistent\/mosaic.json/,
    ],
    [
      'a config file that is not JSON',
      ['start', '--config', configFile('{port: 1')],
      {},
      /is not valid JSON/,
    ],
    [
      'an unknown setting',
      ['start', '--config', configFile('{"prot": 1}')],
      {},
      /^mosaic: invalid configuration: \/prot \(in .*mosaic.json\): unknown setting$/,
    ],
    [
      'a log level that is not one (the allowed ones named, once)',
      ['start'],
      { MOSAIC_LOG_LEVEL: 'verbose' },
      /^mosaic: invalid configuration: \/logLevel \(from MOSAIC_LOG_LEVEL\): must be "fatal", "error", "warn", "info", "debug" or "silent", got "verbose"$/,
    ],
    [
      'a log level of the wrong type in the file, with another problem',
      ['start', '--config', configFile('{"logLevel": 3, "evm": {"maxFeeGwei": 0}}')],
      {},
      /^mosaic: invalid configuration: \/logLevel \(in .*mosaic.json\): must be "fatal", .* or "silent", got 3; \/evm\/maxFeeGwei \(in .*mosaic.json\): must be > 0$/,
    ],
    [
      'a wrong type in the file',
      ['start', '--config', configFile('{"limits": {"burst": "lots"}}')],
      {},
      /\/limits\/burst \(in .*mosaic.json\): must be integer/,
    ],
    [
      'an EVM endpoint that is not an http URL',
      ['start'],
      { MOSAIC_EVM_RPC_URL: 'ftp://127.0.0.1:8545' },
      /\/connectors\/0\/rpcUrl \(from MOSAIC_EVM_RPC_URL\): must be an http or https URL/,
    ],
    [
      'an EVM endpoint without the contracts deployed there',
      ['start'],
      { MOSAIC_EVM_RPC_URL: 'http://127.0.0.1:8545' },
      /\/connectors\/0\/contracts: must name the deployed contracts when rpcUrl is set/,
    ],
    [
      'an operator key that is not one (and it is not echoed)',
      ['start'],
      { MOSAIC_EVM_OPERATOR_KEY: '0xsecretsecret' },
      /^(?![\s\S]*secretsecret)[\s\S]*\/connectors\/0\/operatorKey \(from MOSAIC_EVM_OPERATOR_KEY\): must match pattern/,
    ],
    [
      'contracts that are not addresses',
      [
        'start',
        '--config',
        configFile(
          '{"evm": {"contracts": {"settlement": "0x12", "registry": "x", "cash": {}, "securities": {}}}}',
        ),
      ],
      {},
      /\/evm\/contracts/,
    ],
    [
      'a Fabric operator certificate that cannot be read',
      [
        'start',
        '--config',
        configFile(
          JSON.stringify({
            fabric: {
              networks: [
                {
                  venue: 'fabric:bank-net',
                  channel: 'bank-net',
                  chaincode: 'mosaic-settlement',
                  endpoint: '127.0.0.1:7051',
                  tlsRootCert: '',
                  operator: {
                    mspId: 'BankAMSP',
                    certificate: '/nonexistent/op.pem',
                    privateKey: '/nonexistent/op.key',
                  },
                  privateCollection: '',
                  batchSize: 100,
                  batchMs: 200,
                },
              ],
            },
          }),
        ),
      ],
      {},
      /\/fabric\/networks\/0\/operator\/certificate: cannot read \/nonexistent\/op\.pem/,
    ],
  ];
  for (const [name, args, env, message] of bad) {
    it(`refuses ${name} with one line naming the setting, exit code 2 and no usage`, async () => {
      const r = await mosaic(args, { MOSAIC_DATA_DIR: tempDir(), ...env });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.split('\n').length, 2, `one line:\n${r.stderr}`);
      assert.match(r.stderr.trimEnd(), message);
      assert.equal(r.stdout, '');
    });
  }
  for (const [name, args, message] of [
    ['an unknown option', ['start', '--wat'], /Unknown option '--wat'/],
    ['an unknown command', ['launch'], /unknown command "launch"/],
    ['an extra argument', ['start', 'extra'], /unexpected argument "extra"/],
  ] as const) {
    it(`refuses ${name} with a clear error, the usage and exit code 2`, async () => {
      const r = await mosaic([...args], { MOSAIC_DATA_DIR: tempDir() });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: mosaic start/);
      assert.equal(r.stdout, '');
    });
  }
  it('mosaic engine refuses a cross-ledger instrument, which a cluster does not settle yet, with exit code 2', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'mosaic.json');
    const bond = { ...DEMO_LISTINGS[3]!, id: 'BUND@fabric:bank-net' };
    fs.writeFileSync(file, JSON.stringify({ dataDir: dir, instruments: [bond] }));
    const r = await mosaic(['engine', '--shard', '0', '--config', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      'mosaic: instruments: BUND@fabric:bank-net is cross-ledger (quoteVenue); a cluster does not settle cross-ledger instruments yet\n',
    );
  });
  for (const command of [['gateway'], ['engine', '--shard', '0'], ['connector', 'evm']]) {
    it(`mosaic ${command.join(' ')} refuses a bad setting the same way`, async () => {
      const r = await mosaic(command, { MOSAIC_LOG_LEVEL: 'verbose' });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr,
        'mosaic: invalid configuration: /logLevel (from MOSAIC_LOG_LEVEL): must be "fatal", "error", "warn", "info", "debug" or "silent", got "verbose"\n',
      );
    });
  }
});
