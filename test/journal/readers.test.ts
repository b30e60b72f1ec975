/**
 * Readers of the durable events (the history store is one): recovery hands a reader the events
 * of every command after its durable position, replayed from a snapshot at or before it, and
 * compaction keeps that snapshot and the journal after it however far snapshots have gone on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Command, Engine, eventToObject } from '../../engine/index.ts';
import {
  DurableEngine,
  type EventReader,
  listSegments,
  listSnapshots,
  type PublishedEvent,
} from '../../journal/index.ts';
import { drive, tempDir, Workload } from './support.ts';
import { silentLogger } from '../../common/index.ts';

/**
 * A reader whose durable position follows what it is given up to `stopAt`, and stays there: a
 * store that stopped committing (or whose commits a crash will undo).
 */
class Reader implements EventReader {
  durableSeq: number;
  readonly applied: Array<[number, PublishedEvent[]]> = [];
  readonly stopAt: number;

  constructor(durableSeq = 0, stopAt = Infinity) {
    this.durableSeq = durableSeq;
    this.stopAt = stopAt;
  }

  apply(seq: number, events: PublishedEvent[]): void {
    this.applied.push([seq, events]);
    this.durableSeq = Math.max(this.durableSeq, Math.min(seq, this.stopAt));
  }
}

const OPTIONS = { snapshotEvery: 20, keepSnapshots: 1, journal: { segmentBytes: 512 }, log: silentLogger };

/** Runs `n` seeded commands through a durable engine on `dir` with `reader`; returns them. */
async function run(dir: string, reader: Reader, n: number): Promise<Command[]> {
  const d = DurableEngine.open({ dir, ...OPTIONS, readers: [reader] });
  const sent: Command[] = [];
  await drive(d, new Workload(7), n, 10, sent);
  await d.close();
  return sent;
}

/** The events a plain engine makes for each command. */
function reference(commands: Command[]): PublishedEvent[][] {
  const engine = new Engine();
  let current: PublishedEvent[] = [];
  engine.addListener({ onEvent: (e) => current.push(eventToObject(e)) });
  return commands.map((c) => {
    current = [];
    engine.execute(c);
    return current;
  });
}

describe('durable engine: readers of the events', () => {
  it('given a reader left behind by snapshots, then compaction keeps what it needs and recovery hands it every command after', async (t) => {
    const dir = tempDir(t, 'readers');
    // Given a reader whose position stays at 45 while 120 commands and several snapshots go by
    const behind = new Reader(0, 45);
    const commands = await run(dir, behind, 120);
    assert.deepEqual(
      behind.applied.map(([seq]) => seq),
      commands.map((_, i) => i + 1),
      'it was handed every command as it became durable',
    );
    // Then the newest snapshot at or before 45 and the journal after it stay, and nothing older
    const snapshots = listSnapshots(dir).map((s) => s.seq);
    assert.ok(snapshots[0]! > 100, `snapshots went on: ${snapshots}`);
    const anchor = snapshots.find((s) => s <= 45);
    assert.ok(anchor !== undefined && anchor > 20, `a snapshot at or before 45 stays: ${snapshots}`);
    const first = listSegments(dir)[0]!.firstSeq;
    assert.ok(first <= anchor + 1 && first > 1, `the journal reaches back to ${anchor + 1}, from ${first}`);

    // When the engine opens again with the reader still at 45
    const again = new Reader(45, 45);
    const d = DurableEngine.open({ dir, ...OPTIONS, readers: [again] });
    // Then recovery hands it commands 46 to 120, with the events a plain engine makes
    const expected = reference(commands);
    assert.deepEqual(
      again.applied.map(([seq]) => seq),
      commands.slice(45).map((_, i) => i + 46),
    );
    again.applied.forEach(([seq, events]) => assert.deepEqual(events, expected[seq - 1], `command ${seq}`));
    assert.equal(d.recovery.lastSeq, 120);
    await d.close();
  });

  it('given a reader that keeps up, then compaction prunes as it would without one', async (t) => {
    const dir = tempDir(t, 'readers');
    const reader = new Reader();
    await run(dir, reader, 120);
    const newest = listSnapshots(dir)[0]!.seq;
    assert.deepEqual(
      listSnapshots(dir).map((s) => s.seq),
      [newest],
    );
    assert.ok(listSegments(dir)[0]!.firstSeq > 15, 'segments below the snapshot are gone');
    // And opening again hands it nothing it has
    const again = new Reader(reader.durableSeq);
    const d = DurableEngine.open({ dir, ...OPTIONS, readers: [again] });
    assert.deepEqual(again.applied, []);
    await d.close();
  });

  it('given a reader whose position lags the engine by more than a snapshot, then the journal is still compacted behind it', async (t) => {
    const dir = tempDir(t, 'readers');
    // Given a reader durable 50 commands behind what it is handed (snapshots every 20)
    const lagging = new Reader();
    lagging.apply = function (seq, events) {
      this.applied.push([seq, events]);
      this.durableSeq = Math.max(0, seq - 50);
    };
    const commands = await run(dir, lagging, 300);
    // Then the journal was compacted, yet reaches back to a snapshot at or before its position
    const first = listSegments(dir)[0]!.firstSeq;
    const anchor = listSnapshots(dir).find((s) => s.seq <= lagging.durableSeq);
    assert.ok(first > 150, `the journal starts at ${first}`);
    assert.ok(
      anchor !== undefined && first <= anchor.seq + 1,
      `a snapshot at or before ${lagging.durableSeq}`,
    );
    // And recovery hands it every command after its position, with the events a plain engine makes
    const again = new Reader(lagging.durableSeq);
    const d = DurableEngine.open({ dir, ...OPTIONS, readers: [again] });
    const expected = reference(commands);
    assert.deepEqual(
      again.applied.map(([seq]) => seq),
      commands.slice(lagging.durableSeq).map((_, i) => i + lagging.durableSeq + 1),
    );
    again.applied.forEach(([seq, events]) => assert.deepEqual(events, expected[seq - 1], `command ${seq}`));
    await d.close();
  });

  it('given a reader beyond the journal, then opening refuses it', async (t) => {
    const dir = tempDir(t, 'readers');
    await run(dir, new Reader(), 10);
    assert.throws(
      () => DurableEngine.open({ dir, ...OPTIONS, readers: [new Reader(50)] }),
      /a reader of the events is at command 50, beyond the journal's last, 10/,
    );
    // And the folder opens again as it was
    const d = DurableEngine.open({ dir, ...OPTIONS });
    assert.equal(d.recovery.lastSeq, 10);
    await d.close();
  });
});
