/**
 * bench:engine's journaled runs (`--journal DIR`, `--journal-rates`) stay runnable and mean what
 * they say: every timed op is acknowledged, a paced run never sends an op before it is due, and
 * pacing changes when ops go in, not what they do (the books end alike). Asserts no speed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runJournaled } from '../../bench/engine/journaled.ts';
import { generate } from '../../bench/engine/workloads.ts';

const OPS = 5_000;
const RATE = 20_000;

describe('bench:engine journaled smoke', { timeout: 120_000 }, () => {
  it('given a shortened W1 at saturation and paced, then every op is acknowledged and the books end alike', async () => {
    const w = generate('W1', 42, OPS);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-bench-journal-'));
    try {
      const full = await runJournaled(w, dir, { timedOps: OPS, chunk: 500, label: 'smoke' });
      const paced = await runJournaled(w, dir, {
        timedOps: OPS,
        chunk: 500,
        label: 'smoke paced',
        rate: RATE,
      });
      for (const r of [full, paced]) {
        assert.equal(r.ops, OPS);
        assert.ok(r.ackP50Us > 0 && r.ackP99Us >= r.ackP50Us, JSON.stringify(r));
        assert.ok(r.commandsPerBatch >= 1 && r.bytesPerCommand > 0, JSON.stringify(r));
      }
      assert.equal(full.rate, null);
      assert.equal(paced.rate, RATE);
      // The last op was due (OPS - 1) / RATE s after the start, and acknowledged after that.
      assert.ok(paced.opsPerSec <= Math.ceil((RATE * OPS) / (OPS - 1)), `paced at ${paced.opsPerSec} ops/s`);
      assert.equal(paced.stateHash, full.stateHash, 'pacing changed the book');
      assert.equal(paced.liveOrders, full.liveOrders);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
