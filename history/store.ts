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
import fs from 'node:fs';
import { type Database, open, type RootDatabase } from 'lmdb';
import { lineLogger, type Logger } from '../common/index.ts';
import type { PublishedEvent } from '../engine/index.ts';
import type { EventReader } from '../journal/index.ts';
import { decodeAt, decodeFill, decodeOrder, encodeAt, encodeFill, encodeOrder } from './codec.ts';
import { type Entry, type HistoryKind, localBound, type PageQuery, type Position } from './query.ts';
import { type FillRecord, type LiveOrder, type OrderRecord, type RecordSink, Recorder } from './records.ts';

/** How often the live orders and the position a start picks up from are written. */
const CHECKPOINT_MS = 1_000;

/** `[account, ts, event seq]`: an entry of one account, in time order. */
type EntryKey = [string, number, number];

export interface HistoryStoreOptions {
  /** Its folder (created if missing). */
  dir: string;
  /** The shard whose events it records (0 for an embedded engine): part of every position. */
  shard?: number;
  /** Where it tells of commands missing from the history (warn) and of a failed write (error). */
  log?: Logger;
}

export class HistoryStore implements EventReader {
  readonly shard: number;
  #root: RootDatabase;
  #entries: Record<HistoryKind, Database<Buffer, EntryKey>>;
  /** Trade id or order id to its `ts` and event seq (a trade's one entry serves both its fills). */
  #ids: Record<HistoryKind, Database<Buffer, number>>;
  #live: Database<LiveOrder, number>;
  #meta: Database<number, string>;
  #recorder: Recorder;
  #log: Logger;
  /** Last command applied; last one committed (what readers see); last checkpoint's. */
  #applied: number;
  #committed: number;
  #durable: number;
  #checkpointAt = Date.now();
  #closing = false;
  /** Whether this turn's writes have opened a transaction. */
  #open = false;
  #waiting: Array<{ seq: number; resolve: () => void }> = [];
  #failed: Error | null = null;
  /** The promise of the transaction being filled. */
  #commit: Promise<boolean> | null = null;

  private constructor(o: HistoryStoreOptions) {
    fs.mkdirSync(o.dir, { recursive: true });
    this.shard = o.shard ?? 0;
    this.#log = o.log ?? lineLogger((line) => process.stderr.write(`${line}\n`));
    // Each commit is flushed before it counts (no overlapping sync): a little less CPU per order
    // at saturation, and what readers see is then also what survives a power loss.
    this.#root = open({ path: o.dir, maxDbs: 8, compression: false, overlappingSync: false });
    this.#entries = {
      fills: this.#root.openDB({ name: 'fills', encoding: 'binary' }),
      orders: this.#root.openDB({ name: 'orders', encoding: 'binary' }),
    };
    this.#ids = {
      fills: this.#root.openDB({ name: 'fill-ids', encoding: 'binary' }),
      orders: this.#root.openDB({ name: 'order-ids', encoding: 'binary' }),
    };
    this.#live = this.#root.openDB({ name: 'live' });
    this.#meta = this.#root.openDB({ name: 'meta' });
    const shard = this.#meta.get('shard');
    if (shard !== undefined && shard !== this.shard) {
      throw new Error(`${o.dir} holds the history of shard ${shard}, not of shard ${this.shard}`);
    }
    this.#applied = this.#committed = this.#durable = this.#meta.get('checkpoint') ?? 0;
    const live = new Map<number, LiveOrder>();
    for (const { key, value } of this.#live.getRange()) live.set(key, value);
    this.#recorder = new Recorder(this.shard, live, this.#sink());
    this.#root.on('beforecommit', () => this.#mark());
    if (shard === undefined) this.#write(this.#meta, 'shard', this.shard);
  }

  /** Opens (or creates) the history kept in `o.dir`. */
  static open(o: HistoryStoreOptions): HistoryStore {
    return new HistoryStore(o);
  }

  /** The last checkpoint's command: a start picks up after it. */
  get durableSeq(): number {
    return this.#durable;
  }

  /** The last command applied (what a read waits for). */
  get appliedSeq(): number {
    return this.#applied;
  }

  /** Records one command's events; a command seen before is skipped. */
  apply(seq: number, events: readonly PublishedEvent[]): void {
    if (seq <= this.#applied || this.#failed !== null) return;
    if (seq > this.#applied + 1) {
      this.#log.warn(
        { from: this.#applied + 1, to: seq - 1 },
        `history: commands ${this.#applied + 1} to ${seq - 1} are not in the history (they were compacted away first)`,
      );
    }
    this.#recorder.apply(events);
    this.#applied = seq;
    // A command that wrote nothing still moves the position on.
    if (!this.#open) this.#write(this.#meta, 'seq', seq);
  }

  /**
   * Up to `q.limit` entries of `q.account` in `q.order` within the bounds, once every command
   * applied so far (and `atLeast`, when given) is committed; rejects when that takes longer than
   * `timeoutMs`.
   */
  async page(q: PageQuery, atLeast = 0, timeoutMs = 10_000): Promise<Entry<FillRecord | OrderRecord>[]> {
    await this.#settled(Math.max(atLeast, this.#applied), timeoutMs);
    const account = q.account;
    const low: EntryKey = q.above ? [account, ...localBound(q.above, this.shard)] : [account, -1, -1];
    const high: EntryKey = q.below
      ? [account, ...localBound(q.below, this.shard)]
      : [account, Number.MAX_SAFE_INTEGER, 0];
    const desc = q.order === 'desc';
    const range = this.#entries[q.kind].getRange(
      desc ? { start: high, end: low, reverse: true } : { start: low, end: high },
    );
    const hidden = new Set(q.hidden ?? []);
    const decode = q.kind === 'fills' ? decodeFill : decodeOrder;
    const out: Entry<FillRecord | OrderRecord>[] = [];
    for (const { key, value } of range) {
      if (out.length >= q.limit) break;
      if (sameKey(key, low) || sameKey(key, high)) continue; // bounds are exclusive
      const record = decode(value, key[1]);
      if (hidden.size > 0 && hidden.has(record.instrument.slice(record.instrument.indexOf('@') + 1)))
        continue;
      out.push({ pos: [key[1], this.shard, key[2]], record });
    }
    return out;
  }

  /** Where an account's fill (by trade id) or finished order (by order id) stands, if it has one here. */
  async position(kind: HistoryKind, account: string, id: number, atLeast = 0): Promise<Position | undefined> {
    await this.#settled(Math.max(atLeast, this.#applied), 10_000);
    const bytes = this.#ids[kind].get(id);
    if (bytes === undefined) return undefined;
    const [ts, seq] = decodeAt(bytes);
    return this.#entries[kind].doesExist([account, ts, seq]) ? [ts, this.shard, seq] : undefined;
  }

  /** Writes a checkpoint of everything applied, then closes the store. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#failed === null) await this.#meta.put('seq', this.#applied).catch(() => {});
    await this.#root.close();
  }

  /** The recorder's writes, each into this turn's transaction. */
  #sink(): RecordSink {
    return {
      fills: ([ts, , seq], [taker, t], [maker, m]) => {
        this.#write(this.#entries.fills, [taker, ts, seq], encodeFill(t));
        this.#write(this.#entries.fills, [maker, ts, seq], encodeFill(m));
        this.#write(this.#ids.fills, t.tradeId, encodeAt(ts, seq));
      },
      finished: (account, [ts, , seq], order) => {
        this.#write(this.#entries.orders, [account, ts, seq], encodeOrder(order));
        if (order.orderId !== null) this.#write(this.#ids.orders, order.orderId, encodeAt(ts, seq));
      },
    };
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
    const seq = this.#applied;
    const checkpoint = this.#closing || Date.now() - this.#checkpointAt >= CHECKPOINT_MS;
    if (checkpoint) {
      this.#checkpointAt = Date.now();
      for (const [orderId, order] of this.#recorder.takeChanged()) {
        this.#watch(order === undefined ? this.#live.remove(orderId) : this.#live.put(orderId, order));
      }
      this.#watch(this.#meta.put('checkpoint', seq));
    }
    this.#meta
      .put('seq', seq)
      .then(() => {
        this.#committed = Math.max(this.#committed, seq);
        if (checkpoint) this.#durable = Math.max(this.#durable, seq);
        this.#wake();
      })
      .catch((err: Error) => this.#fail(err));
  }

  #settled(seq: number, timeoutMs: number): Promise<void> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    if (this.#committed >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((w) => w.resolve !== done);
        reject(
          new Error(`the history of shard ${this.shard} is at command ${this.#committed}, not yet at ${seq}`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiting.push({ seq, resolve: done });
    });
  }

  #wake(): void {
    if (this.#waiting.length === 0) return;
    const ready = this.#waiting.filter((w) => w.seq <= this.#committed);
    this.#waiting = this.#waiting.filter((w) => w.seq > this.#committed);
    for (const w of ready) w.resolve();
  }

  #fail(err: Error): void {
    if (this.#failed !== null) return;
    this.#failed = err;
    this.#log.error({ err }, `history: a write failed (${err.message}); the history takes nothing more`);
  }
}

function sameKey(a: EntryKey, b: EntryKey): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}
