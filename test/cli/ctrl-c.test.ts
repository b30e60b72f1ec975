/**
 * Ctrl-C in a terminal, as a terminal sends it: SIGINT to the whole process group of `mosaic
 * start`, while the demo market maker trades and a settlement batch is out on the Fabric devnet
 * (seen in the daemon's progress store, which LMDB lets another process read). The exchange
 * stops its parts in order (daemons before their chaincode and chain), exits 0 within 5 s
 * without an error, leaves no process behind, and the next start settles what was in flight.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { START_READY } from '../../app/children.ts';
import { Progress } from '../../connectors/index.ts';
import { killAll, MosaicProcess, nothingLeft } from '../support/exchange-process.ts';
import { until } from '../support/wait.ts';

describe('Ctrl-C', { timeout: 240_000 }, () => {
  const running = new Set<ChildProcess>();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-ctrl-c-'));
  const run = randomUUID();

  after(async () => {
    await killAll(running);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = (env: Record<string, string> = {}) =>
    MosaicProcess.spawn(['start'], START_READY, running, {
      MOSAIC_DATA_DIR: dir,
      MOSAIC_PORT: '0',
      MOSAIC_TEST_RUN: run,
      ...env,
    });

  it('stops in order within 5 s with a batch in flight, exit 0, no error, nothing left; the next start settles it', async () => {
    // Given the exchange trading (the demo market maker) and settling on its chain and devnet
    const exchange = await start();
    const progress = Progress.open(path.join(dir, 'fabric-bank-net', 'progress'));
    // When a Fabric batch is out (taken from the queue, its outcome not recorded yet)
    let inflight: number[];
    try {
      inflight = await until(
        'a Fabric settlement batch in flight',
        () => {
          const ids = progress.trades.inflight().flatMap((b) => b.instructions.map((i) => i.tradeId));
          return ids.length > 0 ? ids : undefined;
        },
        () => exchange.output,
        90_000,
      );
      // ...the terminal's Ctrl-C reaches every process of its foreground group
      const t0 = performance.now();
      process.kill(-exchange.child.pid!, 'SIGINT');
      const code = await exchange.exited;
      const seconds = (performance.now() - t0) / 1000;
      // Then it stops cleanly and quickly
      assert.equal(code, 0, exchange.output);
      assert.ok(seconds < 5, `stopped in ${seconds.toFixed(1)} s:\n${exchange.output}`);
    } finally {
      await progress.close();
    }
    assert.match(exchange.output, /stopped at command \d+, journal flushed/);
    assert.doesNotMatch(exchange.output, /error|fail|unavailable/i);
    await nothingLeft('MOSAIC_TEST_RUN', run);

    // And the next start settles the trades that were in flight
    const again = await start({ MOSAIC_MARKET_MAKER: '0' });
    let pipelines = '';
    await until(
      'nothing left to settle',
      async () => {
        pipelines = await (await fetch(`${again.url}/api/settlements`)).text();
        const list = JSON.parse(pipelines) as Array<{ pending: number }>;
        return list.every((p) => p.pending === 0);
      },
      () => `${pipelines}\n${again.output}`,
    );
    assert.equal(await again.kill('SIGTERM'), 0, again.output);
    await nothingLeft('MOSAIC_TEST_RUN', run);
    const done = Progress.open(path.join(dir, 'fabric-bank-net', 'progress'));
    assert.deepEqual(
      inflight.map((id) => done.trades.state(id)),
      inflight.map(() => 'done'),
    );
    await done.close();
  });
});
