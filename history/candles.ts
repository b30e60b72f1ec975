/**
 * Price candles (OHLCV) of an instrument's trades: per interval, one candle for each interval
 * that had trades, its open time aligned to the interval in UTC (ms since the epoch). Prices are
 * ticks, volume lots, as in the engine.
 *
 * A candle remembers the last trade it counts (`lastTradeId`): an instrument's trades come in
 * the order of their ids, so a trade whose id is not above that is one the candle holds already.
 * That is how the store's catch-up after its checkpoint (which reads again commands it may have
 * written) and the gateway's seed from the store (which may be ahead of the events it receives)
 * count every trade once. `addTrade` is the one place where a trade goes into a candle.
 */

/** The intervals, by their names on the wire, in ms. */
export const CANDLE_INTERVALS = { '1s': 1_000, '1m': 60_000, '5m': 300_000, '1h': 3_600_000 } as const;

export type CandleInterval = keyof typeof CANDLE_INTERVALS;

/** The interval names, shortest first. */
export const CANDLE_INTERVAL_NAMES = Object.keys(CANDLE_INTERVALS) as CandleInterval[];

/** One interval's trades of one instrument. */
export interface Candle {
  /** Open time: the start of the interval, ms since the epoch. */
  t: number;
  /** Ticks. */
  open: number;
  high: number;
  low: number;
  close: number;
  /** Lots traded. */
  volume: number;
  /** Trades counted. */
  trades: number;
  /** The id of the last trade counted. */
  lastTradeId: number;
}

/** A trade as candles count it. */
export interface CandleTrade {
  tradeId: number;
  /** Ticks. */
  price: number;
  /** Lots. */
  quantity: number;
  ts: number;
}

/** Candles asked of a history: the last `limit` of one interval whose open time is within [from, to], oldest first. */
export interface CandleQuery {
  instrument: string;
  interval: CandleInterval;
  /** Open times from (inclusive; default 0). */
  from?: number;
  /** Open times up to (inclusive; default: no bound). */
  to?: number;
  limit: number;
}

/** The open time of the interval of `ms` that holds `ts`. */
export function openTime(ts: number, ms: number): number {
  return ts - (((ts % ms) + ms) % ms);
}

/** A candle of one trade. */
export function firstCandle(t: number, trade: CandleTrade): Candle {
  const p = trade.price;
  return {
    t,
    open: p,
    high: p,
    low: p,
    close: p,
    volume: trade.quantity,
    trades: 1,
    lastTradeId: trade.tradeId,
  };
}

/** Counts `trade` in `c` (changed in place); false when `c` counted it already. */
export function addTrade(c: Candle, trade: CandleTrade): boolean {
  if (trade.tradeId <= c.lastTradeId) return false;
  if (trade.price > c.high) c.high = trade.price;
  if (trade.price < c.low) c.low = trade.price;
  c.close = trade.price;
  c.volume += trade.quantity;
  c.trades++;
  c.lastTradeId = trade.tradeId;
  return true;
}
