/**
 * The command-log port: DurableEngine runs on any CommandLog, not only the file journal. A
 * small in-memory log (kept across "restarts" in a plain array) stands in for a distributed
 * log here, to show the engine neither knows nor cares.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from '../../engine/index.ts';
import {
  type CommandLog,
  type CommandLogHooks,
  DurableEngine,
  type JournalEntry,
} from '../../journal/index.ts';
import { spec } from '../support/engine.ts';
import { silentLogger } from '../../common/index.ts';

/** Commands in memory; durable one tick after they are appended. */
class MemoryLog implements CommandLog {
  firstSeq: number;
  durableSeq: number;
  lastSeq: number;
  #held: JournalEntry[];
  #hooks: CommandLogHooks;

  constructor(store: JournalEntry[], hooks: CommandLogHooks) {
    this.#held = store;
    this.#hooks = hooks;
    this.lastSeq = Math.max(store.at(-1)?.seq ?? 0, hooks.baseSeq);
    this.durableSeq = this.lastSeq;
    this.firstSeq = store[0]?.seq ?? this.lastSeq + 1;
  }

  append(command: Command): number {
    const seq = ++this.lastSeq;
    this.#held.push({ seq, command: structuredClone(command) });
    setImmediate(() => {
      if (seq > this.durableSeq) {
        this.durableSeq = seq;
        this.#hooks.onDurable(seq);
      }
    });
    return seq;
  }

  async flush(): Promise<void> {
    while (this.durableSeq < this.lastSeq) await new Promise((r) => setImmediate(r));
  }

  *recovered(after: number): Iterable<JournalEntry> {
    for (const e of this.#held) if (e.seq > after) yield e;
  }

  releaseRecovered(): void {}

  prune(seq: number): string[] {
    const gone = this.#held.filter((e) => e.seq <= seq).length;
    this.#held.splice(0, gone);
    return gone > 0 ? [`${gone} commands`] : [];
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

describe('command log port', () => {
  it('given an in-memory log, then commands are answered once durable and a restart recovers from it', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-port-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store: JournalEntry[] = [];
    const open = () =>
      DurableEngine.open({
        dir,
        snapshotEvery: 0,
        log: silentLogger,
        commandLog: (_, hooks) => new MemoryLog(store, hooks),
      });
    const d = open();
    const published: number[] = [];
    d.onEvents((seq) => published.push(seq));
    await d.submit({ type: 'list-instrument', ts: 1, spec: spec() });
    const pending = [1, 2, 3].map((i) =>
      d.submit({
        type: 'new',
        ts: 2,
        instrument: 'ACME@evm:31337',
        account: `acct${i % 2}`,
        clientOrderId: `c${i}`,
        side: i % 2 === 0 ? 'buy' : 'sell',
        orderType: 'limit',
        price: 10_000,
        quantity: 5,
      }),
    );
    for (const r of await Promise.all(pending)) assert.ok(d.journal.durableSeq >= r.seq);
    assert.deepEqual(published, [1, 2, 3, 4]);
    assert.equal(store.length, 4);
    const hash = d.engine.stateHash();
    await d.close();

    const again = open();
    assert.deepEqual(
      { replayed: again.recovery.replayed, lastSeq: again.recovery.lastSeq, hash: again.engine.stateHash() },
      { replayed: 4, lastSeq: 4, hash },
    );
    // A snapshot prunes the in-memory log, and recovery starts from the snapshot instead.
    await again.snapshot();
    assert.equal(store.length, 0);
    await again.close();
    const third = open();
    assert.deepEqual(
      [third.recovery.snapshotSeq, third.recovery.replayed, third.engine.stateHash()],
      [4, 0, hash],
    );
    await third.close();
  });
});
