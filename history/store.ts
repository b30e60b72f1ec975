/**
 * The trading history of one engine (or shard) on disk, in LMDB: each account's fills and
 * finished orders, keyed by account and position so that a page is one range read, with an
 * index from trade id and order id to position (for `before`/`after` by id); the live orders the
 * recorder follows; and the last command applied.
 *
 * It takes each durable command's events once: writes go out asynchronously and LMDB commits
 * every write of one event-loop turn in one transaction, to which the last command applied is
 * added just before the commit, so a read waits for no more than that commit. About once a
 * second (and at close) the commit also writes the live orders changed since the last such
 * checkpoint and its command: that is where the next start picks up (the journal, or the event
 * stream, replays what came after it, writing the same fills and finished orders again under
 * the same keys), and what the journal's compaction must keep. So an order that comes and goes
 * between checkpoints costs no live-order write. Memory holds only the live orders.
 */
import type { Database } from 'lmdb';
import { lineLogger, type Logger } from '../common/index.ts';
import type { PublishedEvent } from '../engine/index.ts';
import type { EventReader } from '../journal/index.ts';
import { CHECKPOINT_MS, type EntryKey, HistoryDb } from './db.ts';
import { HistoryReads } from './reads.ts';
import { Recorder } from './records.ts';

export interface HistoryStoreOptions {
  /** Its folder (created if missing). */
  dir: string;
  /** The shard whose events it records (0 for an embedded engine): part of every position. */
  shard?: number;
  /** Where it tells of commands missing from the history (warn) and of a failed write (error). */
  log?: Logger;
}

export class HistoryStore extends HistoryReads implements EventReader {
  #recorder: Recorder;
  #log: Logger;
  #checkpointAt = Date.now();
  #closing = false;
  /** Whether this turn's writes have opened a transaction. */
  #open = false;
  /** The promise of the transaction being filled. */
  #commit: Promise<boolean> | null = null;

  private constructor(o: HistoryStoreOptions) {
    super(new HistoryDb(o.dir, o.shard ?? 0));
    this.#log = o.log ?? lineLogger((line) => process.stderr.write(`${line}\n`));
    this.#recorder = new Recorder(
      this.shard,
      this.db.liveOrders(),
      this.db.sink((db, key, value) => this.#write(db, key, value)),
      this.durable,
      this.#log,
    );
    this.db.root.on('beforecommit', () => this.#mark());
    if (this.db.meta.get('shard') === undefined) this.#write(this.db.meta, 'shard', this.shard);
  }

  /** Opens (or creates) the history kept in `o.dir`. */
  static open(o: HistoryStoreOptions): HistoryStore {
    return new HistoryStore(o);
  }

  get appliedSeq(): number {
    return this.#recorder.applied;
  }

  /** Records one command's events; a command seen before is skipped. */
  apply(seq: number, events: readonly PublishedEvent[]): void {
    if (this.committed.failed !== null || !this.#recorder.record(seq, events)) return;
    // A command that wrote nothing still moves the position on.
    if (!this.#open) this.#write(this.db.meta, 'seq', seq);
  }

  /** Writes a checkpoint of everything applied, then closes the store. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.committed.failed === null) await this.db.meta.put('seq', this.appliedSeq).catch(() => {});
    await this.db.close();
  }

  #write<K extends EntryKey | number | string, V>(db: Database<V, K>, key: K, value: V): void {
    this.#open = true;
    this.#watch(db.put(key, value));
  }

  /** Fails the store if a commit fails: once per transaction (its writes share one promise). */
  #watch(commit: Promise<boolean>): void {
    if (commit === this.#commit) return;
    this.#commit = commit;
    commit.catch((err: Error) => this.#fail(err));
  }

  /**
   * Just before a commit: adds the last command applied to it and, when a checkpoint is due, the
   * live orders changed since the last one; notes when readers see it, and when a start would
   * pick up after it.
   */
  #mark(): void {
    this.#open = false;
    const seq = this.appliedSeq;
    const checkpoint = this.#closing || Date.now() - this.#checkpointAt >= CHECKPOINT_MS;
    const { live, meta } = this.db;
    if (checkpoint) {
      this.#checkpointAt = Date.now();
      for (const [orderId, order] of this.#recorder.takeChanged()) {
        this.#watch(order === undefined ? live.remove(orderId) : live.put(orderId, order));
      }
      this.#watch(meta.put('checkpoint', seq));
    }
    meta
      .put('seq', seq)
      .then(() => {
        if (checkpoint) this.durable = Math.max(this.durable, seq);
        this.committed.advance(seq);
      })
      .catch((err: Error) => this.#fail(err));
  }

  #fail(err: Error): void {
    if (this.committed.failed !== null) return;
    this.committed.fail(err);
    this.#log.error({ err }, `history: a write failed (${err.message}); the history takes nothing more`);
  }
}
