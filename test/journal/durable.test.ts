/**
 * DurableEngine on real files: a command is answered, and its events published, only once it
 * is on disk; subscribers see every command's events in order; a command the journal cannot
 * hold changes nothing; automatic snapshots prune the journal and recovery gives the same
 * state; replaying the journal from nothing gives the live engine's state hash.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as nextTick } from 'node:timers/promises';
import { type Command, Engine, eventToObject, keepEvent } from '../../engine/index.ts';
import {
  CodecError,
  type CommandResult,
  DurableEngine,
  listSnapshots,
  type PublishedEvent,
} from '../../journal/index.ts';
import { drive, journalEntries, mosaic, replayHash, segmentFiles, tempDir, Workload } from './support.ts';
import { lineLogger, silentLogger } from '../../common/index.ts';

/** The events a plain engine produces for each command, one list per command. */
function reference(commands: Command[]): { events: PublishedEvent[][]; hash: string } {
  const engine = new Engine();
  let current: PublishedEvent[] = [];
  engine.addListener({ onEvent: (e) => current.push(eventToObject(e)) });
  const events = commands.map((c) => {
    current = [];
    engine.execute(c);
    return current;
  });
  return { events, hash: engine.stateHash() };
}

describe('durable engine: answers only what is durable', () => {
  it('given a fresh folder, when opened, then recovery reports an empty engine', async (t) => {
    const dir = tempDir(t, 'durable');
    const d = DurableEngine.open({ dir, log: lineLogger(() => assert.fail('nothing to log')) });
    assert.deepStrictEqual(d.recovery, {
      snapshotSeq: 0,
      replayed: 0,
      lastSeq: 0,
      stateHash: new Engine().stateHash(),
    });
    await d.close();
  });

  it('given commands in flight, then each resolves with its events only when it is on disk', async (t) => {
    const dir = tempDir(t, 'durable');
    const d = DurableEngine.open({ dir, log: silentLogger });
    const w = new Workload(31);
    const sent: Command[] = [];
    const answered: CommandResult[] = [];
    for (let round = 0; round < 8; round++) {
      const pending: Array<Promise<void>> = [];
      let settledEarly = false;
      for (let i = 0; i < 40; i++) {
        const ts = d.engine.commandSeq + 1;
        const c = d.engine.instruments().length === 0 ? Workload.listing(ts) : w.next(ts);
        sent.push(c);
        pending.push(
          d.submit(c).then((r) => {
            settledEarly = true;
            // Then: the journal says it is durable, and it is in the file.
            assert.ok(d.journal.durableSeq >= r.seq, `answered ${r.seq} at durable ${d.journal.durableSeq}`);
            assert.ok(journalEntries(dir).some((e) => e.seq === r.seq));
            answered.push(r);
          }),
        );
      }
      await Promise.resolve();
      assert.equal(settledEarly, false, 'nothing is answered before a write');
      await Promise.all(pending);
    }
    const ref = reference(sent);
    assert.deepStrictEqual(
      answered.map((r) => r.seq),
      sent.map((_, i) => i + 1),
    );
    answered.forEach((r, i) => {
      assert.ok(r.events.length > 0);
      for (const e of r.events) assert.equal(e.commandSeq, r.seq);
      assert.deepStrictEqual(r.events, ref.events[i], `events of command ${r.seq}`);
    });
    assert.equal(d.engine.stateHash(), ref.hash);
    await d.close();
  });

  it('given subscribers, then each sees every command once, in order, with gap-free events, before its submitter', async (t) => {
    const dir = tempDir(t, 'durable');
    const lines: string[] = [];
    const d = DurableEngine.open({ dir, log: lineLogger((line) => lines.push(line)) });
    const seen: Array<{ seq: number; events: PublishedEvent[] }> = [];
    const second: number[] = [];
    d.onEvents(() => {
      throw new Error('boom');
    });
    d.onEvents((seq, events) => seen.push({ seq, events: events.map(keepEvent) }));
    d.onEvents((seq) => second.push(seq));
    const w = new Workload(32);
    const results: CommandResult[] = [];
    for (let i = 0; i < 600; i++) {
      const ts = d.engine.commandSeq + 1;
      const c = i === 0 ? Workload.listing(ts) : w.next(ts);
      const p = d.submit(c).then((r) => {
        assert.ok(
          seen.some((s) => s.seq === r.seq),
          `command ${r.seq} answered before it was published`,
        );
        results.push(r);
      });
      if (i % 50 === 49) await p;
    }
    await d.flush();
    assert.deepStrictEqual(
      seen.map((s) => s.seq),
      Array.from({ length: 600 }, (_, i) => i + 1),
    );
    assert.deepStrictEqual(
      second,
      seen.map((s) => s.seq),
    );
    assert.deepStrictEqual(
      seen.map((s) => s.events),
      results.map((r) => r.events),
    );
    const eventSeqs = seen.flatMap((s) => s.events.map((e) => e.seq));
    assert.deepStrictEqual(
      eventSeqs,
      Array.from({ length: eventSeqs.length }, (_, i) => i + 1),
    );
    assert.equal(lines.length, 600, 'the failing subscriber is logged every time');
    assert.match(lines[0]!, /^events: a subscriber failed: boom$/);
    await d.close();
  });
});

describe('durable engine: commands the journal cannot hold', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    [
      'postOnly as a string',
      {
        type: 'new',
        ts: 1_000,
        instrument: 'ACME@evm:31337',
        account: 'acct-0',
        clientOrderId: 'bad-1',
        side: 'buy',
        orderType: 'limit',
        quantity: 1,
        price: 10_000,
        postOnly: 'yes',
      },
      /^postOnly /,
    ],
    ['an unknown type', { type: 'amend', ts: 1_000 }, /^type /],
    ['a lone surrogate in account', { type: 'cancel-all', ts: 1_000, account: '\uD800' }, /^account /],
  ];
  for (const [name, command, message] of bad) {
    it(`given ${name}, when submitted, then it is rejected at once and nothing changes`, async (t) => {
      const dir = tempDir(t, 'durable');
      const d = DurableEngine.open({ dir, log: silentLogger });
      await drive(d, new Workload(33), 100);
      const published: number[] = [];
      d.onEvents((seq) => published.push(seq));
      const hash = d.engine.stateHash();
      const seq = d.engine.commandSeq;
      const p = d.submit(command as Command);
      // Then, before anything else can happen: unchanged.
      assert.equal(d.engine.commandSeq, seq);
      assert.equal(d.engine.stateHash(), hash);
      assert.equal(d.journal.lastSeq, seq);
      const outcome = await Promise.race([
        p.then(
          () => 'resolved',
          (err: unknown) => err,
        ),
        nextTick('late'),
      ]);
      assert.ok(outcome instanceof CodecError, `rejected at once with a CodecError, got ${String(outcome)}`);
      assert.match(outcome.message, message);
      // And the next good command takes the next sequence; the journal holds only good ones.
      const r = await d.submit({ type: 'tick', ts: 2_000 });
      assert.equal(r.seq, seq + 1);
      assert.deepStrictEqual(published, [seq + 1]);
      await d.close();
      assert.deepStrictEqual(
        journalEntries(dir).map((e) => e.seq),
        Array.from({ length: seq + 1 }, (_, i) => i + 1),
      );
      assert.deepStrictEqual(journalEntries(dir).at(-1)!.command, { type: 'tick', ts: 2_000 });
    });
  }

  it('given a closed engine, when a command is submitted, then it is refused and nothing changes', async (t) => {
    const dir = tempDir(t, 'durable');
    const d = DurableEngine.open({ dir, log: silentLogger });
    await drive(d, new Workload(34), 20);
    await d.close();
    const hash = d.engine.stateHash();
    await assert.rejects(d.submit({ type: 'tick', ts: 999 }), /closed/);
    assert.equal(d.engine.commandSeq, 20);
    assert.equal(d.engine.stateHash(), hash);
  });

  it('given a journal write that fails, then commands in flight and after are rejected, and it is logged', async (t) => {
    const dir = tempDir(t, 'durable');
    const lines: string[] = [];
    const d = DurableEngine.open({ dir, log: lineLogger((line) => lines.push(line)) });
    const published: number[] = [];
    d.onEvents((seq) => published.push(seq));
    fs.mkdirSync(path.join(dir, '00000000000000000001.wal'));
    const inFlight = [1, 2, 3].map((ts) => d.submit({ type: 'tick', ts }));
    for (const p of inFlight) await assert.rejects(p, /EISDIR|directory/);
    await assert.rejects(d.submit({ type: 'tick', ts: 4 }), /EISDIR|directory/);
    assert.deepStrictEqual(published, []);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^journal: .*; no further commands are accepted$/);
  });
});

describe('durable engine: snapshots, recovery and replay', () => {
  it('given snapshotEvery and small segments, then the journal is pruned and recovery after close gives the same state', async (t) => {
    const dir = tempDir(t, 'durable');
    const options = {
      dir,
      snapshotEvery: 100,
      keepSnapshots: 2,
      journal: { segmentBytes: 2048 },
      log: silentLogger,
    };
    const d = DurableEngine.open(options);
    const w = new Workload(35);
    const sent: Command[] = [];
    await drive(d, w, 1000, 25, sent);
    await d.flush();
    const snaps = listSnapshots(dir);
    assert.equal(snaps.length, 2);
    const segments = segmentFiles(dir);
    const firstSeq = Number(segments[0]!.slice(0, 20));
    assert.ok(
      firstSeq > 1 && firstSeq <= snaps[1]!.seq + 1,
      `journal from ${firstSeq}, snapshot ${snaps[1]!.seq}`,
    );
    assert.ok(segments.length < 20, `${segments.length} segments kept for ${1000 - snaps[1]!.seq} commands`);
    const hash = d.engine.stateHash();
    await d.close();

    // When reopened: the newest snapshot plus the journal after it; then it goes on as one stream.
    const again = DurableEngine.open(options);
    assert.deepStrictEqual(again.recovery, {
      snapshotSeq: snaps[0]!.seq,
      replayed: 1000 - snaps[0]!.seq,
      lastSeq: 1000,
      stateHash: hash,
    });
    await drive(again, w, 300, 25, sent);
    assert.equal(again.engine.stateHash(), reference(sent).hash);
    const replayed = await replayHash(dir, true);
    assert.deepStrictEqual(replayed, { seq: 1300, hash: again.engine.stateHash() });
    await again.close();
  });

  it('given a journal never pruned, when replayed from nothing by the CLI, then the state hash is the live one', async (t) => {
    const dir = tempDir(t, 'durable');
    const d = DurableEngine.open({ dir, snapshotEvery: 0, log: silentLogger });
    await drive(d, new Workload(36), 800, 40);
    const live = { seq: d.engine.commandSeq, hash: d.engine.stateHash() };
    // Read while the engine is still open: everything answered is on disk.
    assert.deepStrictEqual(await replayHash(dir), live);
    await d.close();
    assert.deepStrictEqual(await replayHash(dir), live);
    const withEvents = await mosaic('journal', 'replay', dir, '--events');
    assert.equal(withEvents.code, 0);
    const lines = withEvents.stdout.trim().split('\n');
    assert.equal(JSON.parse(lines[0]!).seq, 1);
    assert.equal(lines.length - 1, d.engine.eventSeq);
  });
});
