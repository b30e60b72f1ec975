/**
 * The history with its writer on a thread of its own, for the process that also runs the engine:
 * recording a trade is about seven LMDB writes, which cost the engine's thread more than the engine
 * itself. Here each durable command's events of the kinds the history records are written as bytes
 * (journal/event-codec.ts) and handed to the writer thread (writer-thread.ts) at the end of the
 * event-loop turn, or, while it commits the batch before (each commit waits for the disk), once it
 * has, and COMMIT_GAP_MS after the batch before at the earliest: so a commit takes all that came
 * meanwhile, however few commands come at a time, and reads are answered on this thread from the
 * same files, once the writer has committed every command applied before them. The thread holds the
 * process open only while it has commands to commit.
 */
import { Worker } from 'node:worker_threads';
import { lineLogger, type Logger } from '../common/index.ts';
import type { PublishedEvent } from '../engine/index.ts';
import { EventBatchWriter, type EventReader } from '../journal/index.ts';
import type { Candle, CandleQuery } from './candles.ts';
import { Committed } from './committed.ts';
import { HistoryDb } from './db.ts';
import type { Entry, HistoryKind, HistoryReader, PageQuery, Position } from './query.ts';
import { type FillRecord, type OrderRecord, RECORDED_KINDS } from './records.ts';
import { BUSY, type FromWriter, STOP, type ToWriter, type WriterData } from './writer-messages.ts';

/** A batch is handed over at the end of the turn, or sooner once it holds this many bytes. */
const BATCH_BYTES = 1 << 20;
/**
 * A batch goes this long after the one before at the earliest (unless full): each commit waits
 * for the disk, and costs as much for one command as for many.
 */
const COMMIT_GAP_MS = 10;
/** The longest a process exit waits for the batch being written. */
const EXIT_WAIT_MS = 10_000;

export interface ThreadedHistoryOptions {
  /** Its folder (created if missing). */
  dir: string;
  /** The shard whose events it records (0 for an embedded engine): part of every position. */
  shard?: number;
  /** Where the writer's notes go (commands missing from the history, a failed write). */
  log?: Logger;
}

export class ThreadedHistory implements EventReader, HistoryReader {
  readonly shard: number;
  /** The files, read on this thread once the writer has committed what a read waits for. */
  #db: HistoryDb;
  /** How far the writer's commits have come, and the reads waiting for a command to be in. */
  #committed: Committed;
  /** The last checkpoint's command. */
  #durable: number;
  #worker: Worker;
  #log: Logger;
  #batch = new EventBatchWriter(RECORDED_KINDS);
  #scheduled = false;
  /** A batch is with the writer, not committed yet. */
  #writing = false;
  /** When the last batch went (performance.now()), and the timer for the next while it waits. */
  #sentAt = -COMMIT_GAP_MS;
  #timer: NodeJS.Timeout | null = null;
  #applied: number;
  #closing: Promise<void> | null = null;
  #onExit: () => void;

  private constructor(o: ThreadedHistoryOptions) {
    this.#db = new HistoryDb(o.dir, o.shard ?? 0);
    this.shard = this.#db.shard;
    this.#durable = this.#db.checkpoint;
    this.#committed = new Committed(this.#durable, `shard ${this.shard}`);
    this.#log = o.log ?? lineLogger((line) => process.stderr.write(`${line}\n`));
    this.#applied = this.#durable;
    const state = new Int32Array(new SharedArrayBuffer(8));
    const data: WriterData = { dir: o.dir, shard: this.shard, state };
    this.#worker = new Worker(new URL('./writer-thread.js', import.meta.url), { workerData: data });
    // At exit, no batch may be left half-written: the thread's LMDB cleanup would wait for ever.
    this.#onExit = () => {
      Atomics.store(state, STOP, 1);
      Atomics.wait(state, BUSY, 1, EXIT_WAIT_MS);
    };
    process.on('exit', this.#onExit);
    this.#worker.unref();
    this.#worker.on('message', (m: FromWriter) => this.#heard(m));
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => {
      if (this.#closing === null)
        this.#fail(new Error(`the history's writer thread stopped (exit code ${code})`));
    });
  }

  /** Opens (or creates) the history kept in `o.dir` and starts its writer thread. */
  static open(o: ThreadedHistoryOptions): ThreadedHistory {
    return new ThreadedHistory(o);
  }

  /** The last command applied (what a read waits for). */
  get appliedSeq(): number {
    return this.#applied;
  }

  /** The last checkpoint's command: a start picks up after it. */
  get durableSeq(): number {
    return this.#durable;
  }

  /**
   * Up to `q.limit` entries of `q.account` in `q.order` within the bounds, once every command
   * applied so far (and `atLeast`, when given) is committed; rejects when that takes longer than
   * `timeoutMs`.
   */
  async page(q: PageQuery, atLeast = 0, timeoutMs = 10_000): Promise<Entry<FillRecord | OrderRecord>[]> {
    await this.#committed.reached(Math.max(atLeast, this.#applied), timeoutMs);
    return this.#db.page(q);
  }

  /** Where an account's fill (by trade id) or finished order (by order id) stands, if it has one here. */
  async position(kind: HistoryKind, account: string, id: number, atLeast = 0): Promise<Position | undefined> {
    await this.#committed.reached(Math.max(atLeast, this.#applied), 10_000);
    return this.#db.position(kind, account, id);
  }

  /** An instrument's candles, once every command applied so far (and `atLeast`) is committed. */
  async candles(q: CandleQuery, atLeast = 0, timeoutMs = 10_000): Promise<Candle[]> {
    await this.#committed.reached(Math.max(atLeast, this.#applied), timeoutMs);
    return this.#db.candleRange(q);
  }

  /** Takes one command's events for the writer; a command seen before is skipped. */
  apply(seq: number, events: readonly PublishedEvent[]): void {
    if (seq <= this.#applied || this.#committed.failed !== null || this.#closing !== null) return;
    this.#batch.command(seq, events);
    this.#took(seq);
  }

  /**
   * Takes command message `seq`'s events as an event batch holds them (journal/event-codec.ts,
   * each of its commands under `seq`: the writer records them as one), passed on as they are;
   * a message seen before is skipped.
   */
  applyBatch(seq: number, batch: Uint8Array): void {
    if (seq <= this.#applied || this.#committed.failed !== null || this.#closing !== null) return;
    this.#batch.append(batch);
    this.#took(seq);
  }

  #took(seq: number): void {
    this.#applied = seq;
    if (this.#batch.size >= BATCH_BYTES) this.#send();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#send());
    }
  }

  /** Hands over what is left, lets the writer checkpoint it and stop, then closes the files. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#send();
      if (this.#committed.failed === null) {
        this.#worker.ref();
        const closed = new Promise<void>((resolve) => {
          this.#worker.on('message', (m: FromWriter) => m.op === 'closed' && resolve());
          this.#worker.once('exit', () => resolve());
        });
        this.#post({ op: 'close' });
        await closed;
      }
      await this.#worker.terminate();
      process.off('exit', this.#onExit);
      await this.#db.close();
    })();
    return this.#closing;
  }

  #send(): void {
    this.#scheduled = false;
    if (this.#batch.size === 0 || this.#committed.failed !== null) return;
    const full = this.#batch.size >= BATCH_BYTES || this.#closing !== null;
    // The next batch goes once this one is committed (sooner only when it is full, or at close).
    if (this.#writing && !full) return;
    const wait = this.#sentAt + COMMIT_GAP_MS - performance.now();
    if (wait > 0 && !full) {
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        this.#send();
      }, wait);
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#sentAt = performance.now();
    this.#writing = true;
    const bytes = this.#batch.take();
    // Held open until the writer has committed what it was given.
    this.#worker.ref();
    this.#post({ op: 'events', bytes });
  }

  #post(m: ToWriter): void {
    this.#worker.postMessage(m);
  }

  #heard(m: FromWriter): void {
    switch (m.op) {
      case 'commit':
        this.#durable = Math.max(this.#durable, m.durable);
        this.#committed.advance(m.committed);
        this.#writing = false;
        this.#send();
        if (this.#committed.seq >= this.#applied && this.#closing === null) this.#worker.unref();
        break;
      case 'log':
        this.#log[m.level](m.fields, m.message);
        break;
      case 'failed':
        this.#fail(new Error(m.message));
        break;
      case 'closed':
        this.#durable = Math.max(this.#durable, m.durable);
        this.#committed.advance(m.committed);
        break;
    }
  }

  #fail(err: Error): void {
    if (this.#committed.failed !== null) return;
    this.#committed.fail(err);
    this.#log.error({ err }, `history: ${err.message}; the history takes nothing more`);
  }
}
