/**
 * A cluster part whose parent is gone: its standard output is a pipe nobody reads any more, and
 * the supervisor's watcher sends it SIGTERM (connectors/supervised.ts). It must stop, logging
 * what it can: with an asynchronous log stream, its last lines were retried at exit for ever
 * (EPIPE in a busy loop) and the process outlived its parent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { within } from '../support/wait.ts';

const PROCESS = fileURLToPath(new URL('../../app/process.js', import.meta.url));
const GATEWAY = fileURLToPath(new URL('../../gateway/index.js', import.meta.url));

// A part as the cluster's processes are: a process logger, a stop on signals, something to wait on.
const PART = `
import { processLogger, stopOnSignals } from ${JSON.stringify(PROCESS)};
const log = processLogger({ logLevel: 'info' }, { role: 'test-part' });
stopOnSignals(log, async () => { log.info('closing'); });
setInterval(() => {}, 1000);
log.info('part running');
`;

// The gateway's server (an embedded exchange's, or a cluster's gateway process): lines logged
// as it stops, more than one write takes, so some wait unwritten at exit.
const GATEWAY_PART = `
import { makeApp } from ${JSON.stringify(GATEWAY)};
const app = makeApp({ logLevel: 'info', limits: { requestTimeoutMs: 10000 } });
process.on('SIGTERM', () => {
  for (let i = 0; i < 5; i++) app.log.info('closing ' + i);
  process.exit(0);
});
setInterval(() => {}, 1000);
app.log.info('part running');
`;

describe('a part whose parent is gone', () => {
  it('stops on SIGTERM though its standard output is closed', () => stopsOrphaned(PART));

  it("stops so with the gateway server's log lines unwritten at exit", () => stopsOrphaned(GATEWAY_PART));
});

/** Runs `part`, closes its standard output, sends it SIGTERM: it must exit 0. */
async function stopsOrphaned(part: string): Promise<void> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', part], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Given it runs, and its standard output is then read by nobody
  await within(
    'the part to run',
    new Promise<void>((resolve) => {
      let out = '';
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('part running')) resolve();
      });
    }),
  );
  child.stdout!.destroy();
  // When it is told to stop
  child.kill('SIGTERM');
  // Then it exits (0: its close went well), well before its stop deadline would matter
  try {
    assert.equal(await within('the part to exit', exited, () => '', 20_000), 0);
  } finally {
    child.kill('SIGKILL'); // a part that hung is not left behind
  }
}
