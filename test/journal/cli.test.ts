/**
 * `mosaic journal verify|replay|inspect DIR`, run as an operator runs it: the built CLI as a
 * child process, its output and exit code (0 sound, 1 not sound, 2 usage), and the folder left
 * exactly as it was.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { crc32 } from 'node:zlib';
import { DurableEngine, listSnapshots } from '../../journal/index.ts';
import {
  drive,
  flipByte,
  folderImage,
  journalEntries,
  mosaic,
  recordBounds,
  SEGMENT_HEADER,
  segmentFiles,
  tempDir,
  Workload,
} from './support.ts';
import { silentLogger } from '../../common/index.ts';

interface Folder {
  dir: string;
  hash: string;
  last: number;
  snapshot: number;
}

/**
 * A sound folder: 300 commands, a snapshot, 100 more. With `segmentBytes` small the journal
 * rotates and is pruned below the snapshot; by default it is one segment, never pruned.
 */
async function folder(t: TestContext, segmentBytes?: number): Promise<Folder> {
  const dir = tempDir(t, 'cli');
  const d = DurableEngine.open({
    dir,
    snapshotEvery: 0,
    keepSnapshots: 1,
    journal: segmentBytes ? { segmentBytes } : {},
    log: silentLogger,
  });
  const w = new Workload(41);
  await drive(d, w, 300);
  const snapshot = await d.snapshot();
  await drive(d, w, 100);
  const hash = d.engine.stateHash();
  await d.close();
  return { dir, hash, last: 400, snapshot };
}

/** Runs the CLI and checks that it left the folder as it was. */
async function readOnly(
  dir: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const before = folderImage(dir);
  const r = await mosaic('journal', ...args);
  assert.deepStrictEqual(folderImage(dir), before, 'the folder is unchanged');
  assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace: ${r.stderr}`);
  return r;
}

describe('mosaic journal verify', () => {
  it('given a sound folder of several segments and a snapshot, then it lists them and says ok, exit 0', async (t) => {
    const f = await folder(t, 2048);
    const segments = segmentFiles(f.dir);
    assert.ok(segments.length > 2);
    const first = Number(segments[0]!.slice(0, 20));
    const r = await readOnly(f.dir, 'verify', f.dir);
    assert.equal(r.code, 0, r.stdout);
    const lines = r.stdout.trim().split('\n');
    assert.deepStrictEqual(
      lines.slice(0, segments.length).map((l) => l.split(':')[0]),
      segments.map((s) => `segment ${s}`),
    );
    for (const l of lines.slice(0, segments.length))
      assert.match(l, /^segment \d{20}\.wal: \d+ records, \d+ bytes$/);
    assert.deepStrictEqual(lines.slice(segments.length), [
      `journal: ${f.last - first + 1} records, sequences ${first} to ${f.last}`,
      `snapshot ${String(f.snapshot).padStart(20, '0')}.snap: valid, sequence ${f.snapshot}`,
      'verify: ok',
    ]);
  });

  it('given an empty folder, then the journal is empty and it is ok, exit 0', async (t) => {
    const dir = tempDir(t, 'cli');
    const r = await readOnly(dir, 'verify', dir);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'journal: empty\nverify: ok\n');
  });

  it('given a torn tail, then it is reported as one recovery will cut, exit 0, and nothing is cut', async (t) => {
    const f = await folder(t);
    const [segment] = segmentFiles(f.dir);
    const file = path.join(f.dir, segment!);
    const size = fs.statSync(file).size;
    fs.appendFileSync(file, Buffer.from([0x40, 0, 0, 0, 1, 2]));
    const r = await readOnly(f.dir, 'verify', f.dir);
    assert.equal(r.code, 0, r.stdout);
    assert.match(
      r.stdout,
      new RegExp(
        `^segment ${segment}: 400 records, ${size + 6} bytes, torn tail at byte ${size} \\(.+\\): recovery will cut it$`,
        'm',
      ),
    );
    assert.match(r.stdout, /^verify: ok$/m);
  });

  it('given a damaged record before the tail, then one clear line names segment and byte, exit 1', async (t) => {
    const f = await folder(t);
    const [segment] = segmentFiles(f.dir);
    const r0 = recordBounds(f.dir, 0)[10]!;
    flipByte(path.join(f.dir, segment!), r0.end - 1);
    const r = await readOnly(f.dir, 'verify', f.dir);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      `corrupt: ${segment} is corrupt at byte ${r0.start}: record checksum does not match; recovery stops here rather than skip records\n`,
    );
  });

  it('given a whole record whose command does not decode, then it names segment and sequence, exit 1', async (t) => {
    const f = await folder(t);
    const [segment] = segmentFiles(f.dir);
    const file = path.join(f.dir, segment!);
    const rec = recordBounds(f.dir, 0)[20]!;
    const buf = fs.readFileSync(file);
    buf[rec.start + 16] = 200; // the command type
    buf.writeUInt32LE(crc32(buf.subarray(rec.start + 8, rec.end)), rec.start + 4);
    fs.writeFileSync(file, buf);
    const r = await readOnly(f.dir, 'verify', f.dir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^corrupt: ${segment}: record ${rec.seq} does not decode: .*200`, 'm'));
    assert.match(r.stdout, /^verify: FAILED$/m);
  });

  it('given a damaged snapshot, then it is named with what is wrong, exit 1', async (t) => {
    const f = await folder(t);
    const [snap] = listSnapshots(f.dir);
    flipByte(snap!.file, fs.statSync(snap!.file).size - 3);
    const r = await readOnly(f.dir, 'verify', f.dir);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      new RegExp(`^snapshot ${path.basename(snap!.file)}: damaged: body checksum does not match$`, 'm'),
    );
    assert.match(r.stdout, /^verify: FAILED$/m);
  });
});

describe('mosaic journal replay', () => {
  it('given an unpruned journal, then it replays from nothing to the live state hash', async (t) => {
    const f = await folder(t);
    const r = await readOnly(f.dir, 'replay', f.dir);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `replay: 400 commands from sequence 1; at 400; state hash ${f.hash}\n`);
  });

  it('given --from-snapshot, then it replays only the journal after the snapshot, to the same hash', async (t) => {
    const f = await folder(t, 2048);
    const r = await readOnly(f.dir, 'replay', f.dir, '--from-snapshot');
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      `replay: ${f.last - f.snapshot} commands from sequence ${f.snapshot + 1}; at ${f.last}; state hash ${f.hash}\n`,
    );
  });

  it('given a pruned journal without --from-snapshot, then it says what was pruned and what to do, exit 1', async (t) => {
    const f = await folder(t, 2048);
    const first = Number(segmentFiles(f.dir)[0]!.slice(0, 20));
    const r = await readOnly(f.dir, 'replay', f.dir);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      `replay: the journal starts at ${first}; commands 1 to ${first - 1} were pruned (use --from-snapshot)\n`,
    );
  });

  it('given --from-snapshot and no snapshot, then it says so, exit 1', async (t) => {
    const f = await folder(t);
    for (const s of listSnapshots(f.dir)) fs.rmSync(s.file);
    const r = await readOnly(f.dir, 'replay', f.dir, '--from-snapshot');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'replay: no snapshot in the folder\n');
  });

  it('given --events, then every event is a JSON line before the state hash line', async (t) => {
    const f = await folder(t);
    const r = await readOnly(f.dir, 'replay', f.dir, '--events');
    assert.equal(r.code, 0);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.at(-1), `replay: 400 commands from sequence 1; at 400; state hash ${f.hash}`);
    const events = lines.slice(0, -1).map((l) => JSON.parse(l) as { seq: number; commandSeq: number });
    assert.deepStrictEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
    );
    assert.equal(events.at(-1)!.commandSeq, 400);
  });

  it('given the newest snapshot damaged and --from-snapshot, then it exits 1 with a clear line, or uses an older snapshot', async (t) => {
    const f = await folder(t);
    const d = DurableEngine.open({ dir: f.dir, keepSnapshots: 2, log: silentLogger });
    await d.submit({ type: 'tick', ts: 10_000 });
    const newest = await d.snapshot();
    await d.close();
    flipByte(path.join(f.dir, `${String(newest).padStart(20, '0')}.snap`), 60);
    const recovered = DurableEngine.open({ dir: f.dir, log: silentLogger });
    const hash = recovered.recovery.stateHash;
    await recovered.close();
    const r = await readOnly(f.dir, 'replay', f.dir, '--from-snapshot');
    if (r.code === 0) assert.match(r.stdout, new RegExp(`; at 401; state hash ${hash}$`, 'm'));
    else {
      assert.equal(r.code, 1);
      assert.match(`${r.stdout}${r.stderr}`, new RegExp(`${newest}\\.snap.*damaged`));
    }
  });

  it('given a whole record whose command does not decode, then it exits 1 with a clear line', async (t) => {
    const f = await folder(t);
    const [segment] = segmentFiles(f.dir);
    const file = path.join(f.dir, segment!);
    const rec = recordBounds(f.dir, 0)[20]!;
    const buf = fs.readFileSync(file);
    buf[rec.start + 16] = 200;
    buf.writeUInt32LE(crc32(buf.subarray(rec.start + 8, rec.end)), rec.start + 4);
    fs.writeFileSync(file, buf);
    const r = await readOnly(f.dir, 'replay', f.dir);
    assert.equal(r.code, 1);
    assert.match(`${r.stdout}${r.stderr}`, new RegExp(`${segment}|record ${rec.seq}`));
  });
});

describe('mosaic journal inspect', () => {
  it('prints every journaled command as a JSON line with its sequence', async (t) => {
    const f = await folder(t);
    const r = await readOnly(f.dir, 'inspect', f.dir);
    assert.equal(r.code, 0);
    const lines = r.stdout.trim().split('\n');
    assert.deepStrictEqual(
      lines.map((l) => JSON.parse(l)),
      journalEntries(f.dir).map((e) => ({ seq: e.seq, ...e.command })),
    );
  });

  const windows: Array<[string[], number[]]> = [
    [
      ['--from', '10', '--limit', '5'],
      [10, 11, 12, 13, 14],
    ],
    [
      ['--from', '398'],
      [398, 399, 400],
    ],
    [
      ['--limit', '2'],
      [1, 2],
    ],
    [['--from', '401'], []],
    [['--limit', '0'], []],
    [['--from', '0', '--limit', '1'], [1]],
  ];
  for (const [args, seqs] of windows) {
    it(`given ${args.join(' ')}, then it prints sequences ${seqs.join(',') || 'none'}`, async (t) => {
      const f = await folder(t);
      const r = await readOnly(f.dir, 'inspect', f.dir, ...args);
      assert.equal(r.code, 0);
      const lines = r.stdout === '' ? [] : r.stdout.trim().split('\n');
      assert.deepStrictEqual(
        lines.map((l) => (JSON.parse(l) as { seq: number }).seq),
        seqs,
      );
    });
  }

  it('given a pruned journal, then it starts at the first sequence kept', async (t) => {
    const f = await folder(t, 2048);
    const first = Number(segmentFiles(f.dir)[0]!.slice(0, 20));
    const r = await readOnly(f.dir, 'inspect', f.dir, '--limit', '1');
    assert.equal((JSON.parse(r.stdout) as { seq: number }).seq, first);
  });

  it('given a corrupt journal, then it says so, exit 1', async (t) => {
    const f = await folder(t);
    const [segment] = segmentFiles(f.dir);
    flipByte(path.join(f.dir, segment!), SEGMENT_HEADER + 12);
    const r = await readOnly(f.dir, 'inspect', f.dir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^corrupt: ${segment} is corrupt at byte ${SEGMENT_HEADER}: `));
  });
});

describe('mosaic journal: usage errors', () => {
  const cases: Array<[string, (dir: string, file: string) => string[], RegExp]> = [
    ['no action', () => ['journal'], /name an action and a journal folder/],
    ['no folder', () => ['journal', 'verify'], /name an action and a journal folder/],
    [
      'an unknown action',
      (dir) => ['journal', 'check', dir],
      /unknown action "check": verify, replay or inspect/,
    ],
    ['a missing folder', (dir) => ['journal', 'verify', path.join(dir, 'nope')], /nope is not a folder/],
    ['a file for a folder', (_, file) => ['journal', 'replay', file], /is not a folder/],
    ['an extra argument', (dir) => ['journal', 'verify', dir, 'extra'], /unexpected argument "extra"/],
    ['an unknown option', (dir) => ['journal', 'verify', dir, '--wat'], /Unknown option '--wat'/],
    [
      '--from that is not a number',
      (dir) => ['journal', 'inspect', dir, '--from', 'x'],
      /--from must be a whole number, got "x"/,
    ],
    [
      '--limit that is negative',
      (dir) => ['journal', 'inspect', dir, '--limit=-1'],
      /--limit must be a whole number/,
    ],
    ['--from without a value', (dir) => ['journal', 'inspect', dir, '--from'], /--from/],
  ];
  for (const [name, args, message] of cases) {
    it(`given ${name}, then a clear error and the usage, exit 2`, async (t) => {
      const dir = tempDir(t, 'cli');
      const file = path.join(dir, 'a-file');
      fs.writeFileSync(file, '');
      const r = await mosaic(...args(dir, file));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: mosaic start/);
      assert.match(r.stderr, /mosaic journal verify DIR/);
      assert.match(r.stderr, /mosaic journal inspect DIR \[--from SEQ\] \[--limit N\]/);
      assert.equal(r.stdout, '');
    });
  }
});
