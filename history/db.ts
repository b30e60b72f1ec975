/**
 * The history's LMDB files and its reads: each account's fills and finished orders keyed by
 * account and position (a page is one range read), the index from trade id and order id to
 * position, each instrument's candles keyed by instrument, interval and open time, the live
 * orders the recorder follows, and `meta` (the shard, the last command committed, the last
 * checkpoint). Opened by the writer thread (`SyncHistoryWriter`) and by the
 * readers beside it (`ThreadedHistory`): LMDB lets one process's threads share the files, each
 * reader seeing the last commit.
 */
import fs from 'node:fs';
import { type Database, open, type RootDatabase } from 'lmdb';
import type { CandleKey, CandleRecorder } from './candle-recorder.ts';
import { type Candle, CANDLE_INTERVALS, type CandleQuery } from './candles.ts';
import {
  decodeAt,
  decodeCandle,
  decodeFill,
  decodeOrder,
  encodeAt,
  encodeCandle,
  encodeFill,
  encodeOrder,
} from './codec.ts';
import { type Entry, type HistoryKind, localBound, type PageQuery, type Position } from './query.ts';
import type { FillRecord, LiveOrder, OrderRecord, RecordSink } from './records.ts';

/** How often a writer checkpoints: the live orders and the position a start picks up from. */
export const CHECKPOINT_MS = 1_000;

/** `[account, ts, event seq]`: an entry of one account, in time order. */
export type EntryKey = [string, number, number];

export class HistoryDb {
  readonly shard: number;
  readonly root: RootDatabase;
  readonly entries: Record<HistoryKind, Database<Buffer, EntryKey>>;
  /** Trade id or order id to its `ts` and event seq (a trade's one entry serves both its fills). */
  readonly ids: Record<HistoryKind, Database<Buffer, number>>;
  readonly candles: Database<Buffer, CandleKey>;
  readonly live: Database<LiveOrder, number>;
  readonly meta: Database<number, string>;

  /** Opens (or creates) the files in `dir`; throws if they hold another shard's history. */
  constructor(dir: string, shard: number) {
    fs.mkdirSync(dir, { recursive: true });
    this.shard = shard;
    // Each commit is flushed before it counts (no overlapping sync): a little less CPU per order
    // at saturation, and what readers see is then also what survives a power loss.
    this.root = open({ path: dir, maxDbs: 8, compression: false, overlappingSync: false });
    this.entries = {
      fills: this.root.openDB({ name: 'fills', encoding: 'binary' }),
      orders: this.root.openDB({ name: 'orders', encoding: 'binary' }),
    };
    this.ids = {
      fills: this.root.openDB({ name: 'fill-ids', encoding: 'binary' }),
      orders: this.root.openDB({ name: 'order-ids', encoding: 'binary' }),
    };
    this.candles = this.root.openDB({ name: 'candles', encoding: 'binary' });
    this.live = this.root.openDB({ name: 'live' });
    this.meta = this.root.openDB({ name: 'meta' });
    const stored = this.meta.get('shard');
    if (stored !== undefined && stored !== shard) {
      void this.root.close();
      throw new Error(`${dir} holds the history of shard ${stored}, not of shard ${shard}`);
    }
  }

  /** The last checkpoint's command: a start picks up after it. */
  get checkpoint(): number {
    return this.meta.get('checkpoint') ?? 0;
  }

  /** Up to `q.limit` entries of `q.account` in `q.order` within the bounds, as committed now. */
  page(q: PageQuery): Entry<FillRecord | OrderRecord>[] {
    const account = q.account;
    const low: EntryKey = q.above ? [account, ...localBound(q.above, this.shard)] : [account, -1, -1];
    const high: EntryKey = q.below
      ? [account, ...localBound(q.below, this.shard)]
      : [account, Number.MAX_SAFE_INTEGER, 0];
    const desc = q.order === 'desc';
    const range = this.entries[q.kind].getRange(
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

  /** Where an account's fill (by trade id) or finished order (by order id) stands, as committed now. */
  position(kind: HistoryKind, account: string, id: number): Position | undefined {
    const bytes = this.ids[kind].get(id);
    if (bytes === undefined) return undefined;
    const [ts, seq] = decodeAt(bytes);
    return this.entries[kind].doesExist([account, ts, seq]) ? [ts, this.shard, seq] : undefined;
  }

  /** The candles of `q.interval` with open times within [from, to], the last `q.limit`, oldest first, as committed now. */
  candleRange(q: CandleQuery): Candle[] {
    const ms = CANDLE_INTERVALS[q.interval];
    const range = this.candles.getRange({
      start: [q.instrument, ms, q.to ?? Number.MAX_SAFE_INTEGER],
      end: [q.instrument, ms, (q.from ?? 0) - 1],
      reverse: true,
      limit: q.limit,
    });
    const out: Candle[] = [];
    for (const { key, value } of range) out.push(decodeCandle(value, key[2]));
    return out.reverse();
  }

  /** A candle as the store holds it (within the writer's transaction: as written so far). */
  candle(key: CandleKey): Candle | undefined {
    const bytes = this.candles.get(key);
    return bytes === undefined ? undefined : decodeCandle(bytes, key[2]);
  }

  /** Writes the candles `candles` changed since it was last asked, through `put`. */
  putCandles(
    candles: CandleRecorder,
    put: (db: Database<Buffer, CandleKey>, key: CandleKey, value: Buffer) => void,
  ): void {
    for (const [key, c] of candles.take()) put(this.candles, key, encodeCandle(c));
  }

  /**
   * The recorder's writes as puts, through `put` (this turn's transaction, or a synchronous one);
   * each trade is counted in `candles` too, which `putCandles` writes.
   */
  sink(
    put: <K extends EntryKey | number, V>(db: Database<V, K>, key: K, value: V) => void,
    candles: CandleRecorder,
  ): RecordSink {
    const { entries, ids } = this;
    return {
      fills: ([ts, , seq], [taker, t], [maker, m]) => {
        put(entries.fills, [taker, ts, seq], encodeFill(t));
        put(entries.fills, [maker, ts, seq], encodeFill(m));
        put(ids.fills, t.tradeId, encodeAt(ts, seq));
        candles.trade(t.instrument, t);
      },
      finished: (account, [ts, , seq], order) => {
        put(entries.orders, [account, ts, seq], encodeOrder(order));
        if (order.orderId !== null) put(ids.orders, order.orderId, encodeAt(ts, seq));
      },
    };
  }

  /** The live orders as the last checkpoint left them. */
  liveOrders(): Map<number, LiveOrder> {
    const live = new Map<number, LiveOrder>();
    for (const { key, value } of this.live.getRange()) live.set(key, value);
    return live;
  }

  close(): Promise<void> {
    return this.root.close();
  }
}

function sameKey(a: EntryKey, b: EntryKey): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}
