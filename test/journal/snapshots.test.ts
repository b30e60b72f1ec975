/**
 * Snapshots on real files: a written snapshot restores to the same state hash and the same
 * behaviour; recovery reports a damaged newest snapshot and falls back to an older one, or to
 * the journal alone while it is whole; when nothing can cover a pruned journal, opening refuses
 * and names the gap rather than start empty; no temporary file outlives a snapshot.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, it, type TestContext } from 'node:test';
import { type Command, Engine, eventToObject } from '../../engine/index.ts';
import {
  DurableEngine,
  type DurableOptions,
  listSnapshots,
  readSnapshot,
  writeSnapshot,
} from '../../journal/index.ts';
import { BOOKS } from '../support/engine.ts';
import { drive, flipByte, folderImage, segmentFiles, snapshotFiles, tempDir, Workload } from './support.ts';
import { lineLogger, silentLogger } from '../../common/index.ts';

function stream(seed: number, n: number, fromTs: number): Command[] {
  const w = new Workload(seed);
  return Array.from({ length: n }, (_, i) => w.next(fromTs + i));
}

function recorded(engine: Engine): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
  return events;
}

describe('snapshots: write and read', () => {
  for (const book of BOOKS) {
    it(`given a ${book}-book engine after 400 commands, when snapshotted and read back, then the state and what follows are the same`, (t) => {
      const dir = tempDir(t, 'snap');
      const original = new Engine({ book });
      original.execute(Workload.listing(0));
      for (const c of stream(3, 400, 1)) original.execute(c);
      assert.ok(original.liveOrders > 0, 'the snapshot has resting orders to carry');
      const seq = original.commandSeq;
      const file = writeSnapshot(dir, seq, original.snapshot(), original.stateHash());
      assert.equal(path.basename(file), `${String(seq).padStart(20, '0')}.snap`);
      assert.deepStrictEqual(listSnapshots(dir), [{ file, seq }]);
      assert.deepStrictEqual(fs.readdirSync(dir), [path.basename(file)], 'no temporary file is left');

      for (const kind of BOOKS) {
        const restored = readSnapshot(file, kind);
        assert.equal(restored.seq, seq);
        assert.equal(restored.engine.commandSeq, seq);
        assert.equal(restored.engine.stateHash(), original.stateHash());
      }
      // When the same further commands reach both: the same events, the same state.
      const restored = readSnapshot(file, book).engine;
      const a = recorded(original);
      const b = recorded(restored);
      for (const c of stream(4, 300, 401)) {
        original.execute(c);
        restored.execute(c);
      }
      assert.ok(a.some((e) => e.kind === 'trade'));
      assert.deepStrictEqual(b, a);
      assert.equal(restored.stateHash(), original.stateHash());
    });
  }
});

/**
 * A folder with two snapshots (at `s1` and `s2`) and journal commands after each; `hash` is the
 * state at the end, `last` its sequence.
 */
async function twoSnapshots(
  t: TestContext,
  options: Partial<DurableOptions> = {},
): Promise<{ dir: string; s1: number; s2: number; last: number; hash: string }> {
  const dir = tempDir(t, 'snap');
  const d = DurableEngine.open({ dir, snapshotEvery: 0, keepSnapshots: 2, log: silentLogger, ...options });
  const w = new Workload(21);
  await drive(d, w, 200);
  const s1 = await d.snapshot();
  await drive(d, w, 200);
  const s2 = await d.snapshot();
  await drive(d, w, 100);
  const hash = d.engine.stateHash();
  const last = d.engine.commandSeq;
  await d.close();
  assert.deepStrictEqual(
    listSnapshots(dir).map((s) => s.seq),
    [s2, s1].slice(0, options.keepSnapshots ?? 2),
  );
  return { dir, s1, s2, last, hash };
}

function snapFile(dir: string, seq: number): string {
  return path.join(dir, `${String(seq).padStart(20, '0')}.snap`);
}

/** Rewrites a snapshot through `edit(header, body)`, keeping it otherwise consistent. */
function rewrite(
  file: string,
  edit: (header: Record<string, unknown>, body: Buffer) => Buffer | undefined,
): void {
  const buf = fs.readFileSync(file);
  const nl = buf.indexOf(10);
  const header = JSON.parse(buf.toString('utf8', 0, nl)) as Record<string, unknown>;
  const body = edit(header, buf.subarray(nl + 1)) ?? buf.subarray(nl + 1);
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]));
}

const damages: Array<[string, (file: string) => void, RegExp]> = [
  [
    'a flipped byte in the body',
    (f) => flipByte(f, fs.statSync(f).size - 10),
    /body checksum does not match/,
  ],
  ['a flipped byte in the header', (f) => flipByte(f, 0), /the header is not JSON/],
  [
    'the body cut short',
    (f) => fs.truncateSync(f, fs.statSync(f).size - 100),
    /body is \d+ bytes, the header says \d+/,
  ],
  ['the header cut short', (f) => fs.truncateSync(f, 20), /no header line/],
  ['an empty file', (f) => fs.writeFileSync(f, ''), /no header line/],
  [
    'a missing body',
    (f) => fs.writeFileSync(f, fs.readFileSync(f).subarray(0, fs.readFileSync(f).indexOf(10) + 1)),
    /body is 0 bytes/,
  ],
  [
    'a header of another format',
    (f) =>
      rewrite(f, (h) => {
        h.format = 'other-snapshot';
        return undefined;
      }),
    /not a version 1 Mosaic snapshot/,
  ],
  [
    'a header of version 2',
    (f) =>
      rewrite(f, (h) => {
        h.version = 2;
        return undefined;
      }),
    /not a version 1 Mosaic snapshot/,
  ],
  [
    'a header naming another sequence',
    (f) =>
      rewrite(f, (h) => {
        h.seq = (h.seq as number) + 1;
        return undefined;
      }),
    /state is at \d+, the header says \d+/,
  ],
  [
    'a state that is whole but not the one whose hash was recorded',
    (f) =>
      rewrite(f, (h, body) => {
        const state = JSON.parse(body.toString('utf8')) as { instruments: Array<{ lastPrice: number }> };
        state.instruments[0]!.lastPrice += 1;
        const changed = Buffer.from(JSON.stringify(state));
        h.bodyBytes = changed.length;
        h.crc32 = crc32(changed);
        return changed;
      }),
    /restored state hash differs from the recorded one/,
  ],
  [
    'a body that is not JSON, with a matching checksum',
    (f) =>
      rewrite(f, (h) => {
        const junk = Buffer.from('{"version":1,');
        h.bodyBytes = junk.length;
        h.crc32 = crc32(junk);
        return junk;
      }),
    /JSON/,
  ],
];

describe('snapshots: recovery', () => {
  for (const [name, damage, why] of damages) {
    it(`given the newest snapshot with ${name}, when opened, then it is reported and recovery uses the older one`, async (t) => {
      const { dir, s1, s2, last, hash } = await twoSnapshots(t);
      damage(snapFile(dir, s2));
      const lines: string[] = [];
      const d = DurableEngine.open({ dir, log: lineLogger((line) => lines.push(line)) });
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.match(lines[0]!, new RegExp(`^snapshot: ${path.basename(snapFile(dir, s2))} is damaged \\(`));
      assert.match(lines[0]!, why);
      assert.match(lines[0]!, /\); trying an older one$/);
      assert.deepStrictEqual(d.recovery, {
        snapshotSeq: s1,
        replayed: last - s1,
        lastSeq: last,
        stateHash: hash,
      });
      // And it goes on from there.
      const r = await d.submit({ type: 'tick', ts: last + 1 });
      assert.equal(r.seq, last + 1);
      await d.close();
    });
  }

  it('given an undamaged newest snapshot, when opened, then it is used and only the journal after it is replayed', async (t) => {
    const { dir, s2, last, hash } = await twoSnapshots(t);
    const lines: string[] = [];
    const d = DurableEngine.open({ dir, log: lineLogger((line) => lines.push(line)) });
    assert.deepStrictEqual(lines, []);
    assert.deepStrictEqual(d.recovery, {
      snapshotSeq: s2,
      replayed: last - s2,
      lastSeq: last,
      stateHash: hash,
    });
    await d.close();
  });

  it('given no snapshot and a journal that was never pruned, when opened, then it recovers from the journal alone', async (t) => {
    const { dir, last, hash } = await twoSnapshots(t);
    assert.equal(segmentFiles(dir)[0], '00000000000000000001.wal', 'one segment: nothing pruned');
    for (const f of snapshotFiles(dir)) fs.rmSync(path.join(dir, f));
    const lines: string[] = [];
    const d = DurableEngine.open({ dir, log: lineLogger((line) => lines.push(line)) });
    assert.deepStrictEqual(lines, []);
    assert.deepStrictEqual(d.recovery, { snapshotSeq: 0, replayed: last, lastSeq: last, stateHash: hash });
    await d.close();
  });

  it('given every snapshot damaged and a journal that was never pruned, when opened, then both are reported and the journal alone recovers', async (t) => {
    const { dir, s1, s2, last, hash } = await twoSnapshots(t);
    flipByte(snapFile(dir, s1), fs.statSync(snapFile(dir, s1)).size - 1);
    flipByte(snapFile(dir, s2), fs.statSync(snapFile(dir, s2)).size - 1);
    const lines: string[] = [];
    const d = DurableEngine.open({ dir, log: lineLogger((line) => lines.push(line)) });
    assert.equal(lines.length, 2);
    assert.deepStrictEqual(d.recovery, { snapshotSeq: 0, replayed: last, lastSeq: last, stateHash: hash });
    await d.close();
  });

  const gaps: Array<[string, number, (dir: string, seqs: number[]) => void]> = [
    [
      'the only snapshot damaged',
      1,
      (dir, [s]) => flipByte(snapFile(dir, s!), fs.statSync(snapFile(dir, s!)).size - 1),
    ],
    ['the only snapshot deleted', 1, (dir, [s]) => fs.rmSync(snapFile(dir, s!))],
    [
      'both kept snapshots damaged',
      2,
      (dir, seqs) => {
        for (const s of seqs) fs.truncateSync(snapFile(dir, s), 30);
      },
    ],
  ];
  for (const [name, keepSnapshots, damage] of gaps) {
    it(`given a pruned journal and ${name}, when opened, then it refuses, naming the gap, rather than start empty`, async (t) => {
      const { dir } = await twoSnapshots(t, { keepSnapshots, journal: { segmentBytes: 2048 } });
      const firstSeq = Number(segmentFiles(dir)[0]!.slice(0, 20));
      assert.ok(firstSeq > 1, 'the journal was pruned');
      damage(
        dir,
        listSnapshots(dir).map((s) => s.seq),
      );
      const before = folderImage(dir);
      assert.throws(
        () => DurableEngine.open({ dir, log: silentLogger }),
        new RegExp(
          `the journal starts at ${firstSeq} but the newest valid snapshot covers only up to 0: commands in between are missing`,
        ),
      );
      assert.deepStrictEqual(folderImage(dir), before, 'the folder is left as it was');
    });
  }
});

describe('snapshots: automatic, pruning and temporary files', () => {
  it('given snapshotEvery, then snapshots keep coming, only keepSnapshots stay, and no .tmp file is left', async (t) => {
    const dir = tempDir(t, 'snap');
    const d = DurableEngine.open({
      dir,
      snapshotEvery: 60,
      keepSnapshots: 2,
      journal: { segmentBytes: 2048 },
      log: silentLogger,
    });
    await drive(d, new Workload(5), 700, 20);
    await d.flush();
    const hash = d.engine.stateHash();
    await d.close();
    const names = fs.readdirSync(dir);
    assert.deepStrictEqual(
      names.filter((f) => f.endsWith('.tmp')),
      [],
    );
    const snaps = listSnapshots(dir);
    assert.equal(snaps.length, 2);
    assert.ok(snaps[0]!.seq >= 700 - 60 - 20, `newest snapshot at ${snaps[0]!.seq}`);
    const firstSeq = Number(segmentFiles(dir)[0]!.slice(0, 20));
    assert.ok(
      firstSeq > 1 && firstSeq <= snaps[1]!.seq + 1,
      `journal from ${firstSeq}, snapshots ${snaps[1]!.seq}`,
    );
    const again = DurableEngine.open({ dir, log: silentLogger });
    assert.equal(again.recovery.stateHash, hash);
    assert.equal(again.recovery.snapshotSeq, snaps[0]!.seq);
    await again.close();
  });

  it('given a stray .snap.tmp from an interrupted snapshot, then recovery ignores it and the next snapshot removes it', async (t) => {
    const { dir, s2, last, hash } = await twoSnapshots(t);
    const stray = `${snapFile(dir, last)}.tmp`;
    fs.writeFileSync(stray, '{"format":"mosaic-snapshot","version":1,"seq":');
    const lines: string[] = [];
    const d = DurableEngine.open({ dir, log: lineLogger((line) => lines.push(line)) });
    assert.deepStrictEqual(lines, []);
    assert.deepStrictEqual(d.recovery, {
      snapshotSeq: s2,
      replayed: last - s2,
      lastSeq: last,
      stateHash: hash,
    });
    await d.submit({ type: 'tick', ts: last + 1 });
    assert.equal(await d.snapshot(), last + 1);
    await d.close();
    assert.equal(fs.existsSync(stray), false);
    assert.deepStrictEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('given commands submitted while a snapshot is being taken, then the snapshot holds the state when it was asked for', async (t) => {
    const dir = tempDir(t, 'snap');
    const d = DurableEngine.open({ dir, snapshotEvery: 0, log: silentLogger });
    const w = new Workload(9);
    await drive(d, w, 150);
    const hashThen = d.engine.stateHash();
    const seqThen = d.engine.commandSeq;
    const taking = d.snapshot();
    const more = drive(d, w, 150, 150);
    assert.equal(await taking, seqThen);
    await more;
    const { engine, seq } = readSnapshot(snapFile(dir, seqThen));
    assert.equal(seq, seqThen);
    assert.equal(engine.stateHash(), hashThen);
    assert.notEqual(d.engine.stateHash(), hashThen);
    await d.close();
  });
});
