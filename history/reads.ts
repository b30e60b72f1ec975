/**
 * The history's reads, on the thread that applies the events: from its files once every command
 * applied before them is committed (`Committed`), its position, and that of its last checkpoint.
 */
import { Committed } from './committed.ts';
import type { HistoryDb } from './db.ts';
import type { Entry, HistoryKind, HistoryReader, PageQuery, Position } from './query.ts';
import type { FillRecord, OrderRecord } from './records.ts';

export abstract class HistoryReads implements HistoryReader {
  readonly shard: number;
  protected readonly db: HistoryDb;
  protected readonly committed: Committed;
  /** The last checkpoint's command. */
  protected durable: number;

  constructor(db: HistoryDb) {
    this.db = db;
    this.shard = db.shard;
    this.durable = db.checkpoint;
    this.committed = new Committed(this.durable, `shard ${this.shard}`);
  }

  /** The last command applied (what a read waits for). */
  abstract get appliedSeq(): number;

  /** The last checkpoint's command: a start picks up after it. */
  get durableSeq(): number {
    return this.durable;
  }

  /**
   * Up to `q.limit` entries of `q.account` in `q.order` within the bounds, once every command
   * applied so far (and `atLeast`, when given) is committed; rejects when that takes longer than
   * `timeoutMs`.
   */
  async page(q: PageQuery, atLeast = 0, timeoutMs = 10_000): Promise<Entry<FillRecord | OrderRecord>[]> {
    await this.committed.reached(Math.max(atLeast, this.appliedSeq), timeoutMs);
    return this.db.page(q);
  }

  /** Where an account's fill (by trade id) or finished order (by order id) stands, if it has one here. */
  async position(kind: HistoryKind, account: string, id: number, atLeast = 0): Promise<Position | undefined> {
    await this.committed.reached(Math.max(atLeast, this.appliedSeq), 10_000);
    return this.db.position(kind, account, id);
  }
}
