/**
 * Pages of an account's history. Every entry has a position: its time, then the shard that
 * recorded it and the sequence of the engine event there. Positions order entries by time
 * across shards and never tie, so a page is an exclusive range of positions in one direction,
 * and the pages of several shards merge by position into one.
 */
import type { Candle, CandleQuery } from './candles.ts';
import type { FillRecord, OrderRecord } from './records.ts';

/** Where an entry stands: `[ts, shard, event seq]`, compared in that order. */
export type Position = readonly [ts: number, shard: number, seq: number];

export type HistoryKind = 'fills' | 'orders';

/** One page asked of a history. */
export interface PageQuery {
  kind: HistoryKind;
  account: string;
  /** `desc`: newest first; `asc`: oldest first. */
  order: 'asc' | 'desc';
  /** At most this many entries. */
  limit: number;
  /** Only entries before this position (exclusive). */
  below?: Position;
  /** Only entries after this position (exclusive). */
  above?: Position;
  /** Venues whose entries are left out (permissioned ones the caller is no member of). */
  hidden?: readonly string[];
}

/** An entry with its position. */
export interface Entry<R> {
  pos: Position;
  record: R;
}

/** Where the gateway reads the history: the store itself, or the shards' stores over NATS. */
export interface HistoryReader {
  /** Up to `q.limit` entries, in `q.order`, once every command the reader knows of is in. */
  page(q: PageQuery): Promise<Entry<FillRecord | OrderRecord>[]>;
  /** Where an account's fill (trade id) or finished order (order id) stands; undefined if it has none. */
  position(kind: HistoryKind, account: string, id: number): Promise<Position | undefined>;
  /**
   * An instrument's candles (candles.ts), once every command the reader knows of is in, and
   * command `atLeast` of the instrument's engine (a cluster: its shard's command message).
   */
  candles(q: CandleQuery, atLeast: number): Promise<Candle[]>;
}

/** Below every shard and event seq: the bound for "before time `ts`" (`-1` travels as JSON). */
const LOWEST = -1;
/** Above every shard and event seq: the bound for "after time `ts`". */
const HIGHEST = Number.MAX_SAFE_INTEGER;

/** Orders two positions: negative when `a` comes first. */
export function comparePositions(a: Position, b: Position): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The bound that keeps the entries strictly before (`below`) or after (`above`) time `ts`. */
export function timeBound(ts: number, side: 'below' | 'above'): Position {
  return side === 'below' ? [ts, LOWEST, LOWEST] : [ts, HIGHEST, HIGHEST];
}

/** The tighter of two bounds on one side (undefined: no bound). */
export function tighter(
  a: Position | undefined,
  b: Position | undefined,
  side: 'below' | 'above',
): Position | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const c = comparePositions(a, b);
  return (side === 'below' ? c <= 0 : c >= 0) ? a : b;
}

/**
 * The bound a shard applies to its own entries, `[ts, seq]`: a position of another shard cuts
 * this shard's entries of the same time before all of them (a higher shard) or after them.
 */
export function localBound(bound: Position, shard: number): [number, number] {
  const [ts, s, seq] = bound;
  return [ts, s === shard ? seq : s > shard ? HIGHEST : LOWEST];
}

/** The first `limit` entries of several pages (each in the query's order), in that order. */
export function mergePages<R>(pages: ReadonlyArray<ReadonlyArray<Entry<R>>>, query: PageQuery): Entry<R>[] {
  const sign = query.order === 'desc' ? -1 : 1;
  return pages
    .flat()
    .sort((a, b) => sign * comparePositions(a.pos, b.pos))
    .slice(0, query.limit);
}

/** A position as a cursor's text. */
export function cursorOf(pos: Position): string {
  return pos.join('.');
}

/** A cursor's position, or undefined when the text is not one. */
export function parseCursor(text: string): Position | undefined {
  const m = /^(\d{1,16})\.(\d{1,6})\.(\d{1,16})$/.exec(text);
  if (m === null) return undefined;
  const pos = [Number(m[1]), Number(m[2]), Number(m[3])] as const;
  return pos.every(Number.isSafeInteger) ? pos : undefined;
}
