/**
 * The settlement daemon's progress store on a real LMDB: each trade in exactly one state, taken
 * in once, finished once, surviving a close and a SIGKILL at any point.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Progress, type SettlementInstruction } from '../../connectors/index.ts';
import { within } from '../support/wait.ts';
import { tradesOf } from './progress-trades.ts';

const CHILD = fileURLToPath(new URL('./progress-child.js', import.meta.url));

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-progress-'));
}

function trade(tradeId: number): SettlementInstruction {
  return {
    tradeId,
    instrument: 'ACME@evm:31337',
    venue: 'evm:31337',
    buyer: '0xb',
    seller: '0xs',
    quantity: 2,
    buyerCash: 20_010,
    sellerCash: 19_998,
    fee: 12,
    matchedAt: 1_000 + tradeId,
  };
}

describe('settlement progress (LMDB)', () => {
  it('takes a trade in once, batches in trade-id order, and keeps the first outcome', async () => {
    const dir = tempDir();
    const p = Progress.open(dir);
    assert.equal(p.trades.enqueue(5, [trade(3), trade(1), trade(2)]), 3);
    assert.equal(p.trades.enqueue(6, [trade(2), trade(4)]), 1, 'trade 2 again is ignored');
    assert.equal(p.cursor, 6);
    assert.equal(p.trades.queuedCount(), 4);
    const batch = p.trades.nextBatch(2)!;
    assert.equal(p.trades.queuedCount(), 2);
    assert.deepEqual(
      batch.instructions.map((i) => i.tradeId),
      [1, 2],
    );
    assert.deepEqual([p.trades.state(1), p.trades.state(3)], ['inflight', 'queued']);
    assert.throws(
      () => p.trades.finish(batch.id, [{ tradeId: 1, ok: true, ref: '0x1' }]),
      /no outcome for trade 2/,
    );
    assert.equal(p.trades.state(1), 'inflight', 'a refused finish writes nothing');
    p.trades.finish(batch.id, [
      { tradeId: 1, ok: true, ref: '0x1' },
      { tradeId: 2, ok: false, reason: 'buyer frozen' },
    ]);
    assert.deepEqual(p.trades.outcome(2), { tradeId: 2, ok: false, reason: 'buyer frozen' });
    assert.throws(() => p.trades.finish(batch.id, []), /not in flight/);
    assert.deepEqual(p.trades.counts(), { queued: 2, inflight: 0, done: 2 });
    await p.close();
  });

  it('keeps queue, batches in flight, outcomes, cursor and checkpoints across a reopen', async () => {
    const dir = tempDir();
    const p = Progress.open(dir);
    p.trades.enqueue(10, [trade(1), trade(2), trade(3)]);
    const first = p.trades.nextBatch(1)!;
    p.trades.finish(first.id, [{ tradeId: 1, ok: true, ref: '0xa' }]);
    const second = p.trades.nextBatch(1)!;
    p.setCheckpoint('evm:31337', 'block 42');
    await p.close();

    const q = Progress.open(dir);
    assert.equal(q.cursor, 10);
    assert.deepEqual(q.trades.inflight(), [second]);
    assert.deepEqual(q.trades.outcome(1), { tradeId: 1, ok: true, ref: '0xa' });
    assert.equal(q.checkpoint('evm:31337'), 'block 42');
    assert.equal(q.checkpoint('fabric:bank-net'), null);
    assert.equal(q.trades.nextBatch(10)!.instructions[0]!.tradeId, 3);
    assert.ok(q.trades.nextBatch(10) === null);
    await q.close();
  });

  it('survives SIGKILL at any point: every trade taken in is in exactly one state, none lost', async () => {
    const dir = tempDir();
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, [CHILD, dir, String(round + 1)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      await within(
        'the child to take in events',
        new Promise<void>((resolve) =>
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if ((out.match(/seq /g)?.length ?? 0) >= 50 + round * 13) resolve();
          }),
        ),
        () => out,
      );
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const acknowledged = Math.max(...[...out.matchAll(/seq (\d+)/g)].map((m) => Number(m[1])));

      const p = Progress.open(dir);
      assert.ok(p.cursor >= acknowledged, `cursor ${p.cursor} behind the acknowledged ${acknowledged}`);
      // Every trade of every event up to the cursor was taken in, once; none after it.
      let expected = 0;
      for (let seq = 1; seq <= p.cursor + 3; seq++) {
        for (let i = 0; i < 4; i++) {
          const known = p.trades.state(seq * 4 + i) !== undefined;
          assert.equal(known, seq <= p.cursor && i < tradesOf(seq), `trade ${seq * 4 + i}`);
          if (known) expected++;
        }
      }
      const counts = p.trades.counts();
      assert.equal(counts.queued + counts.inflight + counts.done, expected);
      for (const batch of p.trades.inflight()) {
        for (const i of batch.instructions) assert.equal(p.trades.state(i.tradeId), 'inflight');
      }
      await p.close();
    }
  });
});
