/**
 * Journal records on real files: a torn tail (an interrupted last write) is detected, logged,
 * cut off on open, and appending continues at the right sequence; damage anywhere before the
 * tail is corruption: opening refuses with a JournalCorruptError naming the segment and byte,
 * and leaves every file exactly as it was.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { crc32 } from 'node:zlib';
import type { Command } from '../../engine/index.ts';
import { FileJournal, JournalCorruptError, scanJournal } from '../../journal/index.ts';
import {
  flipByte,
  folderImage,
  journalEntries,
  recordBounds,
  restoreFolder,
  SEGMENT_HEADER,
  segmentFiles,
  tempDir,
  Workload,
} from './support.ts';
import { lineLogger } from '../../common/index.ts';

/** Small segments, so that a journal of a few dozen records spans several. */
const SEGMENT_BYTES = 1024;

/**
 * A journal of `n` commands written in batches of `perBatch` (each batch can rotate the
 * segment); `segmentBytes` 1 gives one segment per batch.
 */
async function journalOf(
  t: TestContext,
  n: number,
  perBatch = 5,
  segmentBytes = SEGMENT_BYTES,
): Promise<{ dir: string; commands: Command[] }> {
  const dir = tempDir(t, 'records');
  const w = new Workload(7);
  const commands: Command[] = [Workload.listing(0)];
  for (let i = 1; i < n; i++) commands.push(w.next(i));
  const j = new FileJournal(dir, { segmentBytes, log: lineLogger(() => assert.fail('nothing to log')) });
  for (let i = 0; i < n; i += perBatch) {
    for (const c of commands.slice(i, i + perBatch)) j.append(c);
    await j.flush();
  }
  await j.close();
  return { dir, commands };
}

/** Opens the journal, expecting one torn-tail line naming `segment`, `at` and the bytes cut. */
function openTorn(dir: string, segment: string, at: number, cut: number): FileJournal {
  const lines: string[] = [];
  const j = new FileJournal(dir, {
    segmentBytes: SEGMENT_BYTES,
    log: lineLogger((line) => lines.push(line)),
  });
  assert.equal(lines.length, 1, `one log line, got ${JSON.stringify(lines)}`);
  assert.match(
    lines[0]!,
    new RegExp(`${segment} has a torn tail at byte ${at} \\(.+\\); cutting ${cut} bytes$`),
  );
  return j;
}

/** Appends one more command, closes, and checks the whole journal reads back in sequence. */
async function appendAndCheck(dir: string, j: FileJournal, before: Command[]): Promise<void> {
  const extra: Command = { type: 'tick', ts: 1_000_000 };
  assert.equal(j.append(extra), before.length + 1);
  await j.close();
  const all = journalEntries(dir);
  assert.deepStrictEqual(
    all.map((e) => e.seq),
    Array.from({ length: before.length + 1 }, (_, i) => i + 1),
  );
  assert.deepStrictEqual(
    all.map((e) => e.command),
    [...before, extra],
  );
  assert.equal(scanJournal(dir).segments.at(-1)!.scan.stop, null);
}

describe('journal records: a torn tail', () => {
  it('given the last record cut at every byte inside it, when opened, then the tail is logged and cut, and appends continue', async (t) => {
    const { dir, commands } = await journalOf(t, 60);
    const segments = segmentFiles(dir);
    assert.ok(segments.length >= 3, `several segments, got ${segments.length}`);
    const name = segments.at(-1)!;
    const file = path.join(dir, name);
    const pristine = folderImage(dir);
    const full = pristine.get(name)!;
    const last = recordBounds(dir, -1).at(-1)!;
    assert.equal(last.end, full.length);
    for (let cut = last.start + 1; cut < last.end; cut++) {
      restoreFolder(dir, pristine);
      fs.writeFileSync(file, full.subarray(0, cut));
      // Given: scanning reports the torn tail without touching the file.
      const scan = scanJournal(dir);
      assert.equal(scan.lastSeq, commands.length - 1);
      assert.deepStrictEqual(
        { kind: scan.segments.at(-1)!.scan.stop?.kind, at: scan.segments.at(-1)!.scan.stop?.at },
        { kind: 'torn', at: last.start },
        `cut at ${cut}`,
      );
      assert.equal(fs.statSync(file).size, cut);
      // When: opened. Then: logged, cut back to the last whole record, and appending goes on.
      const j = openTorn(dir, name, last.start, cut - last.start);
      assert.equal(fs.statSync(file).size, last.start);
      assert.equal(j.lastSeq, commands.length - 1);
      assert.equal(j.durableSeq, commands.length - 1);
      await appendAndCheck(dir, j, commands.slice(0, -1));
    }
  });

  it('given a last segment whose only record is torn, when opened, then the segment keeps its header only and is reused', async (t) => {
    const { dir, commands } = await journalOf(t, 6, 1, 1);
    const segments = segmentFiles(dir);
    assert.equal(segments.length, 6, 'one segment per one-record batch');
    const name = segments.at(-1)!;
    const file = path.join(dir, name);
    const full = fs.readFileSync(file);
    const pristine = folderImage(dir);
    for (let cut = SEGMENT_HEADER + 1; cut < full.length; cut++) {
      restoreFolder(dir, pristine);
      fs.writeFileSync(file, full.subarray(0, cut));
      assert.equal(scanJournal(dir).lastSeq, 5);
      const j = openTorn(dir, name, SEGMENT_HEADER, cut - SEGMENT_HEADER);
      assert.equal(fs.statSync(file).size, SEGMENT_HEADER);
      assert.equal(j.lastSeq, 5);
      assert.equal(j.firstSeq, 1);
      await appendAndCheck(dir, j, commands.slice(0, 5));
      assert.deepStrictEqual(segmentFiles(dir), segments, 'the sixth command goes back into its segment');
    }
  });

  it('given a last segment cut inside its header (a crash as it was created), when opened, then it is emptied and reused with a whole header', async (t) => {
    const { dir, commands } = await journalOf(t, 6, 1, 1);
    const segments = segmentFiles(dir);
    const name = segments.at(-1)!;
    const file = path.join(dir, name);
    const full = fs.readFileSync(file);
    const pristine = folderImage(dir);
    for (let cut = 1; cut < SEGMENT_HEADER; cut++) {
      restoreFolder(dir, pristine);
      fs.writeFileSync(file, full.subarray(0, cut));
      assert.equal(scanJournal(dir).lastSeq, 5);
      const lines: string[] = [];
      const j = new FileJournal(dir, { log: lineLogger((line) => lines.push(line)) });
      assert.deepStrictEqual(lines, [
        `journal: ${name} has a torn tail at byte 0 (the segment header is cut short); cutting ${cut} bytes`,
      ]);
      assert.equal(fs.statSync(file).size, 0);
      assert.equal(j.lastSeq, 5);
      assert.equal(j.firstSeq, 1);
      await appendAndCheck(dir, j, commands.slice(0, 5));
      assert.deepStrictEqual(segmentFiles(dir), segments, 'the sixth command goes back into its segment');
      assert.deepStrictEqual(
        fs.readFileSync(file).subarray(0, SEGMENT_HEADER),
        full.subarray(0, SEGMENT_HEADER),
      );
    }
  });

  it('given a single segment whose only record is torn, when opened, then numbering starts again at 1', async (t) => {
    const { dir, commands } = await journalOf(t, 1);
    const [name] = segmentFiles(dir);
    const file = path.join(dir, name!);
    fs.truncateSync(file, fs.statSync(file).size - 3);
    const j = openTorn(dir, name!, SEGMENT_HEADER, fs.statSync(file).size - SEGMENT_HEADER);
    assert.equal(j.lastSeq, 0);
    await appendAndCheck(dir, j, commands.slice(0, 0));
  });

  const tails: Array<[string, (whole: Buffer) => Buffer]> = [
    ['one zero byte', () => Buffer.alloc(1)],
    ['seven zero bytes', () => Buffer.alloc(7)],
    ['a zero header', () => Buffer.alloc(8)],
    ['4 KiB of zeros (preallocated space)', () => Buffer.alloc(4096)],
    ['1 byte of a header', (whole) => whole.subarray(0, 1)],
    ['3 bytes of a header', (whole) => whole.subarray(0, 3)],
    ['7 bytes of a header', (whole) => whole.subarray(0, 7)],
    ['a whole header without its payload', (whole) => whole.subarray(0, 8)],
    ['a header and half a payload', (whole) => whole.subarray(0, 8 + Math.floor((whole.length - 8) / 2))],
    [
      'a header and half a payload, then zeros past its end',
      (whole) => Buffer.concat([whole.subarray(0, 30), Buffer.alloc(whole.length + 100)]),
    ],
    [
      'a whole record with a wrong checksum, then zeros',
      (whole) => {
        const bad = Buffer.from(whole);
        bad[5] = bad[5]! ^ 1;
        return Buffer.concat([bad, Buffer.alloc(64)]);
      },
    ],
  ];
  for (const [name, tail] of tails) {
    it(`given ${name} after the last record, when opened, then they are logged and cut, and appends continue`, async (t) => {
      const { dir, commands } = await journalOf(t, 30);
      const segment = segmentFiles(dir).at(-1)!;
      const file = path.join(dir, segment);
      const size = fs.statSync(file).size;
      const first = recordBounds(dir, -1)[0]!;
      // A realistic next record: the first record of the segment, renumbered.
      const whole = Buffer.from(fs.readFileSync(file).subarray(first.start, first.end));
      whole.writeDoubleLE(commands.length + 1, 8);
      whole.writeUInt32LE(crc32(whole.subarray(8)), 4);
      const extra = tail(whole);
      fs.appendFileSync(file, extra);
      const j = openTorn(dir, segment, size, extra.length);
      assert.equal(fs.statSync(file).size, size);
      assert.equal(j.lastSeq, commands.length);
      j.append({ type: 'tick', ts: 1_000_000 });
      await j.close();
      assert.deepStrictEqual(
        journalEntries(dir).map((e) => e.seq),
        Array.from({ length: commands.length + 1 }, (_, i) => i + 1),
      );
    });
  }
});

/** Rewrites record `r` of `file` with sequence `seq` and a matching checksum. */
function renumber(file: string, r: { start: number; end: number }, seq: number): void {
  const buf = fs.readFileSync(file);
  buf.writeDoubleLE(seq, r.start + 8);
  buf.writeUInt32LE(crc32(buf.subarray(r.start + 8, r.end)), r.start + 4);
  fs.writeFileSync(file, buf);
}

function setLength(file: string, at: number, len: number): void {
  const buf = fs.readFileSync(file);
  buf.writeUInt32LE(len, at);
  fs.writeFileSync(file, buf);
}

/** Expects opening (and scanning) to refuse with `message`, leaving the folder as it was. */
function assertRefused(dir: string, message: RegExp): void {
  const before = folderImage(dir);
  const lines: string[] = [];
  const refused = (err: unknown): boolean => {
    assert.ok(err instanceof JournalCorruptError, `expected a JournalCorruptError, got ${String(err)}`);
    assert.equal(err.name, 'JournalCorruptError');
    assert.match(err.message, message);
    return true;
  };
  assert.throws(() => scanJournal(dir), refused);
  assert.throws(() => new FileJournal(dir, { log: lineLogger((line) => lines.push(line)) }), refused);
  assert.deepStrictEqual(lines, [], 'nothing cut, nothing logged');
  assert.deepStrictEqual(folderImage(dir), before, 'every file unchanged');
}

function corruptAt(segment: string, at: number, why = '.+'): RegExp {
  return new RegExp(
    `^${segment} is corrupt at byte ${at}: ${why}; recovery stops here rather than skip records$`,
  );
}

describe('journal records: corruption before the tail', () => {
  it('given any byte of an earlier record flipped (checksum, sequence or command), when opened, then it refuses, naming segment and byte', async (t) => {
    const { dir } = await journalOf(t, 60);
    const segment = segmentFiles(dir).at(-1)!;
    const file = path.join(dir, segment);
    const records = recordBounds(dir, -1);
    assert.ok(records.length >= 3);
    const pristine = folderImage(dir);
    for (const r of [records[0]!, records.at(-2)!]) {
      for (let at = r.start + 4; at < r.end; at++) {
        restoreFolder(dir, pristine);
        flipByte(file, at);
        assertRefused(dir, corruptAt(segment, r.start, 'record checksum does not match'));
      }
    }
  });

  it('given a sequence gap inside a segment, when opened, then it refuses, naming segment, byte and sequences', async (t) => {
    const { dir } = await journalOf(t, 60);
    const segment = segmentFiles(dir).at(-1)!;
    const records = recordBounds(dir, -1);
    const r = records[2]!;
    renumber(path.join(dir, segment), r, r.seq + 1);
    assertRefused(dir, corruptAt(segment, r.start, `sequence ${r.seq + 1} where ${r.seq} was expected`));
  });

  it('given a wrong sequence in the very last record, when opened, then it is corruption, not a torn tail', async (t) => {
    const { dir } = await journalOf(t, 60);
    const segment = segmentFiles(dir).at(-1)!;
    const r = recordBounds(dir, -1).at(-1)!;
    renumber(path.join(dir, segment), r, r.seq + 5);
    assertRefused(dir, corruptAt(segment, r.start, `sequence ${r.seq + 5} where ${r.seq} was expected`));
  });

  it('given a first segment whose name disagrees with its first record, when opened, then it refuses', async (t) => {
    const { dir } = await journalOf(t, 60);
    const first = segmentFiles(dir)[0]!;
    const second = segmentFiles(dir)[1]!;
    // Named as if it started one later than it really does.
    const later = '00000000000000000002.wal';
    assert.notEqual(later, second);
    fs.renameSync(path.join(dir, first), path.join(dir, later));
    assertRefused(dir, corruptAt(later, SEGMENT_HEADER, 'sequence 1 where 2 was expected'));
  });

  const lengths: Array<[string, (r: { start: number; end: number }, size: number) => number]> = [
    ['too large to be possible (over 64 KiB)', () => 0x7fff_ffff],
    ['below the smallest record (9 bytes)', () => 8],
    ['zero', () => 0],
    ['one byte short, ending inside its own payload', (r) => r.end - r.start - 8 - 1],
    ['four bytes long, ending inside the next record', (r) => r.end - r.start - 8 + 4],
    ['running past the end of the segment, with whole records after it', (_, size) => size],
  ];
  for (const [name, length] of lengths) {
    it(`given an earlier record's length ${name}, when opened, then it refuses rather than cut the records after it`, async (t) => {
      const { dir } = await journalOf(t, 60);
      const segment = segmentFiles(dir).at(-1)!;
      const file = path.join(dir, segment);
      const records = recordBounds(dir, -1);
      assert.ok(records.length >= 3, 'records follow the damaged one');
      const r = records[0]!;
      setLength(file, r.start, length(r, fs.statSync(file).size));
      assertRefused(dir, corruptAt(segment, r.start));
    });
  }

  it('given a flipped byte in the last record of a non-last segment, when opened, then it refuses, naming that segment', async (t) => {
    const { dir } = await journalOf(t, 60);
    const segments = segmentFiles(dir);
    const r = recordBounds(dir, 1).at(-1)!;
    flipByte(path.join(dir, segments[1]!), r.end - 1);
    assertRefused(dir, corruptAt(segments[1]!, r.start, 'record checksum does not match'));
  });

  it('given a non-last segment cut short inside its last record, when opened, then it is corruption, not a torn tail', async (t) => {
    const { dir } = await journalOf(t, 60);
    const segments = segmentFiles(dir);
    const r = recordBounds(dir, 0).at(-1)!;
    fs.truncateSync(path.join(dir, segments[0]!), r.end - 2);
    assertRefused(dir, corruptAt(segments[0]!, r.start, 'the last record is cut short'));
  });

  it('given zeros after the last record of a non-last segment, when opened, then it refuses', async (t) => {
    const { dir } = await journalOf(t, 60);
    const segments = segmentFiles(dir);
    const file = path.join(dir, segments[1]!);
    const size = fs.statSync(file).size;
    fs.appendFileSync(file, Buffer.alloc(16));
    assertRefused(dir, corruptAt(segments[1]!, size));
  });

  it('given a missing middle segment, when opened, then it refuses, naming the segment after the gap', async (t) => {
    const { dir } = await journalOf(t, 60);
    const segments = segmentFiles(dir);
    assert.ok(segments.length >= 3);
    const lastOfFirst = recordBounds(dir, 0).at(-1)!.seq;
    fs.rmSync(path.join(dir, segments[1]!));
    const third = Number(segments[2]!.slice(0, 20));
    assertRefused(
      dir,
      new RegExp(`^${segments[2]!} starts at ${third}, but the journal before it ends at ${lastOfFirst}$`),
    );
  });
});
