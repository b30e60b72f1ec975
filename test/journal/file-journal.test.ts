/**
 * The file journal on real files: group commit (one write and one fdatasync per batch),
 * `onDurable` reporting what is on disk, `flush`, batch cutting at `maxBatchBytes`, segment
 * rotation at `segmentBytes`, `prune` below a snapshot, and numbering after `baseSeq`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as nextTick } from 'node:timers/promises';
import type { Command } from '../../engine/index.ts';
import {
  CodecError,
  FileJournal,
  type FileJournalOptions,
  JournalCorruptError,
} from '../../journal/index.ts';
import { quietPeriod } from '../support/wait.ts';
import { journalEntries, recordBounds, segmentFiles, tempDir, Workload } from './support.ts';
import { lineLogger } from '../../common/index.ts';

function commands(n: number, seed = 11): Command[] {
  const w = new Workload(seed);
  return [Workload.listing(0), ...Array.from({ length: n - 1 }, (_, i) => w.next(i + 1))];
}

const quiet: FileJournalOptions = { log: lineLogger((line) => assert.fail(`unexpected log: ${line}`)) };

function folderBytes(dir: string): number {
  return segmentFiles(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

describe('file journal: group commit', () => {
  it('given 1000 appends in one tick, when flushed, then they go to disk in one batch', async (t) => {
    const dir = tempDir(t);
    const j = new FileJournal(dir, quiet);
    const cs = commands(1000);
    const seqs = cs.map((c) => j.append(c));
    assert.deepStrictEqual(
      seqs,
      cs.map((_, i) => i + 1),
    );
    assert.equal(j.durableSeq, 0, 'nothing is durable within the tick');
    await j.flush();
    assert.deepStrictEqual({ ...j.stats }, { batches: 1, records: 1000, bytes: folderBytes(dir) });
    assert.equal(j.durableSeq, 1000);
    await j.close();
    assert.deepStrictEqual(
      journalEntries(dir).map((e) => e.command),
      cs,
    );
  });

  it('given appends in every tick while writes are in flight, then batches are fewer than ticks and every append lands', async (t) => {
    const dir = tempDir(t);
    const j = new FileJournal(dir, quiet);
    const cs = commands(2000);
    for (let i = 0; i < cs.length; i += 10) {
      for (const c of cs.slice(i, i + 10)) j.append(c);
      await nextTick();
    }
    await j.close();
    assert.equal(j.stats.records, 2000);
    assert.ok(j.stats.batches >= 1 && j.stats.batches < 200, `batches ${j.stats.batches} for 200 ticks`);
    assert.equal(j.stats.bytes, folderBytes(dir));
    assert.deepStrictEqual(
      journalEntries(dir).map((e) => e.command),
      cs,
    );
  });
});

describe('file journal: onDurable', () => {
  it('reports increasing sequences, once per batch, each already on disk, the last covering every append', async (t) => {
    const dir = tempDir(t);
    const reported: number[] = [];
    let batchWritten = () => {};
    const j = new FileJournal(dir, {
      ...quiet,
      segmentBytes: 4096,
      onDurable: (seq) => {
        // Then: what is reported durable is in the files already, and the getter agrees.
        const onDisk = journalEntries(dir).at(-1)?.seq ?? 0;
        assert.ok(onDisk >= seq, `onDurable(${seq}) with only ${onDisk} on disk`);
        assert.equal(j.durableSeq, seq);
        reported.push(seq);
        batchWritten();
      },
    });
    const cs = commands(1500);
    const appended: number[] = [];
    for (let i = 0; i < cs.length;) {
      const n = 1 + (i % 37);
      for (const c of cs.slice(i, i + n)) appended.push(j.append(c));
      i += n;
      // Now and then the next batch is on disk before more come (what was just appended is not yet).
      if (i % 3 === 0) await new Promise<void>((resolve) => (batchWritten = resolve));
      else await nextTick();
    }
    await j.flush();
    assert.ok(reported.length > 1);
    assert.equal(reported.length, j.stats.batches);
    for (let i = 1; i < reported.length; i++) assert.ok(reported[i]! > reported[i - 1]!, `${reported}`);
    assert.equal(reported.at(-1), appended.at(-1));
    assert.equal(reported.at(-1), j.lastSeq);
    await j.close();
  });
});

describe('file journal: flush', () => {
  it('resolves at once when everything is durable, and otherwise once the last append is on disk', async (t) => {
    const dir = tempDir(t);
    const j = new FileJournal(dir, quiet);
    await j.flush();
    const cs = commands(300);
    for (const c of cs.slice(0, 100)) j.append(c);
    await nextTick(); // the first batch is being written
    for (const c of cs.slice(100)) j.append(c);
    const waits = [j.flush(), j.flush()];
    await Promise.all(waits);
    assert.equal(j.durableSeq, 300);
    assert.equal(journalEntries(dir).length, 300);
    await j.flush();
    await j.close();
  });

  it('given close, then pending commands are flushed and further appends are refused', async (t) => {
    const dir = tempDir(t);
    const j = new FileJournal(dir, quiet);
    for (const c of commands(50)) j.append(c);
    await j.close();
    assert.equal(journalEntries(dir).length, 50);
    assert.throws(() => j.append({ type: 'tick', ts: 99 }), /closed/);
  });

  it('given an unencodable command, then append throws CodecError and the sequence is not used', async (t) => {
    const dir = tempDir(t);
    const j = new FileJournal(dir, quiet);
    j.append({ type: 'tick', ts: 1 });
    assert.throws(
      () => j.append({ type: 'tick', ts: '2' } as unknown as Command),
      (err: unknown) => err instanceof CodecError && /^ts /.test(err.message),
    );
    assert.equal(j.lastSeq, 1);
    assert.equal(j.append({ type: 'tick', ts: 3 }), 2);
    await j.close();
    assert.deepStrictEqual(journalEntries(dir), [
      { seq: 1, command: { type: 'tick', ts: 1 } },
      { seq: 2, command: { type: 'tick', ts: 3 } },
    ]);
  });

  it('given a write that fails, then onError fires once, flush rejects and appends are refused', async (t) => {
    const dir = tempDir(t);
    const errors: Error[] = [];
    const j = new FileJournal(dir, { ...quiet, onError: (err) => errors.push(err) });
    // The first segment's name is taken by a folder: opening it for appending fails.
    fs.mkdirSync(path.join(dir, '00000000000000000001.wal'));
    j.append({ type: 'tick', ts: 1 });
    const flushed = j.flush();
    await assert.rejects(flushed, /EISDIR|illegal operation on a directory/);
    assert.equal(errors.length, 1);
    assert.equal(j.durableSeq, 0);
    assert.throws(() => j.append({ type: 'tick', ts: 2 }), /EISDIR|directory/);
    await assert.rejects(j.flush(), /EISDIR|directory/);
    assert.equal(errors.length, 1, 'onError fires once');
  });
});

describe('file journal: maxBatchBytes and lingerMs', () => {
  it('given lingerMs, then a small batch waits for the linger before it is written', async (t) => {
    const dir = tempDir(t);
    let durable = (_seq: number) => {};
    const j = new FileJournal(dir, { ...quiet, lingerMs: 150, onDurable: (seq) => durable(seq) });
    // Waited for without flush(): flush() asks for durability now and would cut the linger short.
    const written = new Promise<void>((resolve) => (durable = (seq) => seq === 2 && resolve()));
    const start = Date.now();
    j.append({ type: 'tick', ts: 1 });
    const still = await quietPeriod(40, 'nothing is written before the linger of 150 ms is up');
    j.append({ type: 'tick', ts: 2 });
    assert.equal(j.durableSeq, 0, still);
    await written;
    assert.ok(Date.now() - start >= 140, 'written after the linger');
    assert.deepStrictEqual(
      { batches: j.stats.batches, records: j.stats.records },
      { batches: 1, records: 2 },
    );
    await j.close();
  });

  it('given a lingering batch that reaches maxBatchBytes, then it is written without waiting out the linger', async (t) => {
    const dir = tempDir(t);
    const lingerMs = 1500;
    const j = new FileJournal(dir, { ...quiet, lingerMs, maxBatchBytes: 2048 });
    j.append({ type: 'tick', ts: 1 });
    await nextTick(); // the first command lingers
    const start = Date.now();
    for (const c of commands(200).slice(1)) j.append(c);
    assert.ok(j.pendingBytes >= 2048);
    await j.flush();
    const took = Date.now() - start;
    assert.ok(took < lingerMs / 2, `a full batch waited ${took} ms, as long as the ${lingerMs} ms linger`);
    await j.close();
  });

  it('given many appends in one tick, then no batch is larger than maxBatchBytes plus one record', async (t) => {
    const dir = tempDir(t);
    const maxBatchBytes = 4096;
    const sizes: number[] = [];
    let written = 0;
    const j = new FileJournal(dir, {
      ...quiet,
      maxBatchBytes,
      onDurable: () => {
        sizes.push(j.stats.bytes - written);
        written = j.stats.bytes;
      },
    });
    const cs = commands(1000);
    for (const c of cs) j.append(c);
    await j.close();
    assert.equal(journalEntries(dir).length, 1000);
    const largest = Math.max(...sizes);
    assert.ok(
      largest <= maxBatchBytes + 200,
      `${sizes.length} batch(es), the largest ${largest} bytes with maxBatchBytes ${maxBatchBytes}`,
    );
    assert.ok(sizes.length >= Math.floor(folderBytes(dir) / (maxBatchBytes + 200)));
  });
});

/** Appends `cs` in batches of `perBatch`, flushing after each. */
async function appendInBatches(j: FileJournal, cs: Command[], perBatch: number): Promise<void> {
  for (let i = 0; i < cs.length; i += perBatch) {
    for (const c of cs.slice(i, i + perBatch)) j.append(c);
    await j.flush();
  }
}

describe('file journal: segments', () => {
  it('given a small segmentBytes, then segments rotate, are named by their first sequence, and reopen as one journal', async (t) => {
    const dir = tempDir(t);
    const segmentBytes = 1024;
    const j = new FileJournal(dir, { ...quiet, segmentBytes });
    const cs = commands(150);
    await appendInBatches(j, cs, 5);
    await j.close();
    const files = segmentFiles(dir);
    assert.ok(files.length >= 5, `${files.length} segments`);
    files.forEach((f, i) => {
      const records = recordBounds(dir, i);
      assert.ok(records.length > 0, `${f} holds records`);
      assert.equal(Number(f.slice(0, 20)), records[0]!.seq, `${f} is named by its first sequence`);
      if (i === files.length - 1) return;
      assert.equal(
        records.at(-1)!.seq + 1,
        Number(files[i + 1]!.slice(0, 20)),
        `${f} ends where the next starts`,
      );
      const size = fs.statSync(path.join(dir, f)).size;
      assert.ok(size >= segmentBytes, `${f} rotated at ${size} bytes, below segmentBytes`);
      assert.ok(size < segmentBytes + 1024, `${f} grew to ${size} bytes`);
    });
    // When reopened: every segment is read, in order, and appending goes on.
    const k = new FileJournal(dir, { ...quiet, segmentBytes });
    assert.equal(k.firstSeq, 1);
    assert.equal(k.lastSeq, 150);
    assert.deepStrictEqual(
      [...k.recovered(0)].map((e) => e.command),
      cs,
    );
    assert.deepStrictEqual(
      [...k.recovered(140)].map((e) => e.seq),
      [141, 142, 143, 144, 145, 146, 147, 148, 149, 150],
    );
    k.releaseRecovered();
    assert.deepStrictEqual([...k.recovered(0)], []);
    assert.equal(k.append({ type: 'tick', ts: 500 }), 151);
    await k.close();
    assert.deepStrictEqual(
      journalEntries(dir).map((e) => e.seq),
      Array.from({ length: 151 }, (_, i) => i + 1),
    );
  });

  it('prune(seq) deletes only segments wholly at or below seq, and always keeps the last', async (t) => {
    const dir = tempDir(t);
    const j = new FileJournal(dir, { ...quiet, segmentBytes: 1024 });
    await appendInBatches(j, commands(150), 5);
    const files = segmentFiles(dir);
    assert.ok(files.length >= 4);
    const firsts = files.map((f) => Number(f.slice(0, 20)));
    const lastOf = (i: number) => firsts[i + 1]! - 1;
    assert.deepStrictEqual(j.prune(0), []);
    assert.deepStrictEqual(j.prune(lastOf(0) - 1), [], 'a segment with a sequence above seq stays');
    assert.deepStrictEqual(j.prune(lastOf(0)), [path.join(dir, files[0]!)]);
    assert.deepStrictEqual(j.prune(lastOf(1) + 1), [path.join(dir, files[1]!)]);
    assert.deepStrictEqual(segmentFiles(dir), files.slice(2));
    const gone = j.prune(1_000_000);
    assert.deepStrictEqual(
      gone,
      files.slice(2, -1).map((f) => path.join(dir, f)),
    );
    assert.deepStrictEqual(segmentFiles(dir), [files.at(-1)!], 'the last segment stays');
    // Appending goes on after pruning, and a reopened journal starts at the last segment.
    assert.equal(j.append({ type: 'tick', ts: 900 }), 151);
    await j.close();
    const k = new FileJournal(dir, quiet);
    assert.equal(k.firstSeq, firsts.at(-1));
    assert.equal(k.lastSeq, 151);
    assert.equal([...k.recovered(0)][0]!.seq, firsts.at(-1));
    await k.close();
  });

  it('given baseSeq on an empty folder, then numbering continues after it and the first segment is named for it', async (t) => {
    const dir = tempDir(t);
    const j = new FileJournal(dir, { ...quiet, baseSeq: 100 });
    assert.equal(j.lastSeq, 100);
    assert.equal(j.durableSeq, 100);
    assert.equal(j.firstSeq, 101);
    await j.flush();
    assert.equal(j.append({ type: 'tick', ts: 1 }), 101);
    await j.close();
    assert.deepStrictEqual(segmentFiles(dir), ['00000000000000000101.wal']);
    const k = new FileJournal(dir, { ...quiet, baseSeq: 50 });
    assert.equal(k.lastSeq, 101, 'the journal beyond the base wins');
    assert.equal(k.firstSeq, 101);
    await k.close();
    assert.throws(
      () => new FileJournal(dir, { ...quiet, baseSeq: 200 }),
      (err: unknown) =>
        err instanceof JournalCorruptError &&
        /ends at 101, before the snapshot's sequence 200/.test(err.message),
    );
  });
});
