/**
 * The history with its writer on a thread of its own, as the embedded exchange runs it (the
 * cases it shares with the store in this thread are in store.test.ts): a process that records
 * events and returns without closing it stays until the writer has committed them, and one that
 * exits while the writer records exits at once, leaving whole batches.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type FillRecord, ThreadedHistory } from '../../history/index.ts';
import { silentLogger } from '../../common/index.ts';
import { tempDir } from '../journal/support.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'threaded-child.js');

describe('history with its writer thread', () => {
  it('given a process that records 20,000 trades and returns without closing it, then they are all on disk', async (t) => {
    const dir = tempDir(t, 'history-threaded');
    await promisify(execFile)(process.execPath, [CHILD, dir, '20000'], { timeout: 60_000 });
    const store = ThreadedHistory.open({ dir, log: silentLogger });
    t.after(() => store.close());
    const fills = await store.page({ kind: 'fills', account: 'bob', order: 'asc', limit: 100_000 });
    assert.equal(fills.length, 20_000);
    assert.deepEqual([fills[0]!.record.clientOrderId, fills.at(-1)!.record.clientOrderId], ['b0', 'b19999']);
  });

  it('given a process that exits while the writer records, then it exits at once, and a new start reads a whole history', async (t) => {
    const dir = tempDir(t, 'history-threaded');
    for (let i = 0; i < 3; i++) {
      // LMDB's cleanup of a thread stopped inside a transaction waited minutes
      await promisify(execFile)(process.execPath, [CHILD, dir, '20000', 'exit'], { timeout: 20_000 });
    }
    const store = ThreadedHistory.open({ dir, log: silentLogger });
    t.after(() => store.close());
    const fills = await store.page({ kind: 'fills', account: 'bob', order: 'asc', limit: 100_000 });
    // Each life wrote its first half at least, and whole batches only: every trade has both fills
    assert.ok(fills.length >= 10_000, `${fills.length} fills`);
    const ann = await store.page({ kind: 'fills', account: 'ann', order: 'asc', limit: 100_000 });
    assert.deepEqual(
      ann.map((e) => (e.record as FillRecord).tradeId),
      fills.map((e) => (e.record as FillRecord).tradeId),
    );
  });
});
