/**
 * The history's writer as its own thread runs it: each batch of commands' events (bytes, see
 * journal/event-codec.ts; the kinds it records taken, the others passed over; consecutive
 * commands under one sequence, a cluster's command message, recorded as one) recorded in one
 * synchronous LMDB transaction, with the candles its trades changed, the last command
 * applied and, about once a second, a checkpoint (the live orders changed since the last one,
 * and its command: where the next start picks up). Synchronous, so that between batches no
 * transaction is open: LMDB's cleanup of a thread stopped inside one (at process exit) waits for
 * ever, and the thread that started this one waits for the batch under way before exiting.
 */
import type { Logger } from '../common/index.ts';
import type { PublishedEvent } from '../engine/index.ts';
import { readEventBatch } from '../journal/index.ts';
import { CandleRecorder } from './candle-recorder.ts';
import { CHECKPOINT_MS, HistoryDb } from './db.ts';
import { RECORDED_KINDS, Recorder } from './records.ts';

export class SyncHistoryWriter {
  #db: HistoryDb;
  #recorder: Recorder;
  #candles: CandleRecorder;
  #durable: number;
  #checkpointAt = Date.now();

  constructor(dir: string, shard: number, log: Logger) {
    this.#db = new HistoryDb(dir, shard);
    this.#durable = this.#db.checkpoint;
    this.#candles = new CandleRecorder((key) => this.#db.candle(key));
    this.#recorder = new Recorder(
      shard,
      this.#db.liveOrders(),
      this.#db.sink((db, key, value) => db.putSync(key, value), this.#candles),
      this.#durable,
      log,
    );
    if (this.#db.meta.get('shard') === undefined) this.#db.meta.putSync('shard', shard);
  }

  /** The last command committed, and the last checkpoint's. */
  get position(): { committed: number; durable: number } {
    return { committed: this.#recorder.applied, durable: this.#durable };
  }

  /** Records a batch in one transaction (commands seen before are skipped), checkpointing when due. */
  write(bytes: Uint8Array): void {
    const checkpoint = Date.now() - this.#checkpointAt >= CHECKPOINT_MS;
    this.#commit(() => {
      // The commands of one message, under its sequence, are recorded as one.
      let seq = -1;
      let events: PublishedEvent[] = [];
      readEventBatch(
        bytes,
        (s, e) => {
          if (s === seq) {
            for (const x of e) events.push(x);
            return;
          }
          if (seq >= 0) this.#recorder.record(seq, events);
          seq = s;
          events = e;
        },
        RECORDED_KINDS,
      );
      if (seq >= 0) this.#recorder.record(seq, events);
    }, checkpoint);
  }

  /** Writes a checkpoint of everything recorded, then closes the files. */
  close(): void {
    this.#commit(() => {}, true);
    void this.#db.close();
  }

  #commit(record: () => void, checkpoint: boolean): void {
    const { root, live, meta } = this.#db;
    root.transactionSync(() => {
      record();
      this.#db.putCandles(this.#candles, (db, key, value) => db.putSync(key, value));
      meta.putSync('seq', this.#recorder.applied);
      if (!checkpoint) return;
      for (const [orderId, order] of this.#recorder.takeChanged()) {
        if (order === undefined) live.removeSync(orderId);
        else live.putSync(orderId, order);
      }
      meta.putSync('checkpoint', this.#recorder.applied);
    });
    if (checkpoint) {
      this.#checkpointAt = Date.now();
      this.#durable = this.#recorder.applied;
    }
  }
}
