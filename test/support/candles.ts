/**
 * Candles as a suite computes them itself from the trades it made, with none of the exchange's
 * code: each trade in the interval that holds its own time, in trade id order; and a client's
 * copy of a `candles.I` channel, kept from its snapshot and updates as the protocol says, that
 * checks the sequence as it goes.
 */
import assert from 'node:assert/strict';
import BigNumber from 'bignumber.js';
import type { CandleWire } from '../../gateway/feed/candles-channel.ts';
import type { HistoryReader } from '../../history/index.ts';

/** A trade as a client saw it: the `trades` channel's shape (prices and quantities as on the wire). */
export interface SeenTrade {
  tradeId: number;
  price: string;
  quantity: string;
  ts: number;
}

/** A candle as the wire carries it. */
export type WireCandle = CandleWire;

/** The protocol's intervals, in ms, written out here rather than taken from the exchange. */
export const INTERVALS = { '1s': 1_000, '1m': 60_000, '5m': 300_000, '1h': 3_600_000 } as const;

export type Interval = keyof typeof INTERVALS;

/** The candles of `trades` at `interval`, oldest first; the volume with `quantityDecimals` decimals. */
export function candlesOf(
  trades: readonly SeenTrade[],
  interval: Interval,
  quantityDecimals = 0,
): WireCandle[] {
  const ms = INTERVALS[interval];
  const groups = new Map<number, SeenTrade[]>();
  for (const trade of [...trades].sort((a, b) => a.tradeId - b.tradeId)) {
    const t = Math.floor(trade.ts / ms) * ms;
    const group = groups.get(t);
    if (group === undefined) groups.set(t, [trade]);
    else group.push(trade);
  }
  const price = (trade: SeenTrade) => new BigNumber(trade.price);
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, list]) => ({
      t,
      open: list[0]!.price,
      high: list.reduce((a, b) => (price(b).gt(price(a)) ? b : a)).price,
      low: list.reduce((a, b) => (price(b).lt(price(a)) ? b : a)).price,
      close: list.at(-1)!.price,
      volume: list.reduce((sum, x) => sum.plus(x.quantity), new BigNumber(0)).toFixed(quantityDecimals),
      trades: list.length,
    }));
}

/**
 * Every candle of an instrument and interval a history holds, its ticks and lots as text (to
 * compare with `candlesOf` trades whose prices and quantities are ticks and lots as text).
 */
export async function storedCandles(
  history: Pick<HistoryReader, 'candles'>,
  instrument: string,
  interval: Interval,
): Promise<WireCandle[]> {
  const stored = await history.candles({ instrument, interval, limit: Number.MAX_SAFE_INTEGER }, 0);
  return stored.map((c) => ({
    t: c.t,
    open: String(c.open),
    high: String(c.high),
    low: String(c.low),
    close: String(c.close),
    volume: String(c.volume),
    trades: c.trades,
  }));
}

/** A message of a candle channel. */
interface CandleMessage {
  type: string;
  seq?: unknown;
  candles?: unknown;
}

/** A client's copy of one `candles.I` channel: a snapshot replaces it, an update replaces the candles it names. */
export class ClientCandles {
  seq = -1;
  updates = 0;
  readonly #byOpen = new Map<number, WireCandle>();

  /** Applies a message of the channel (heartbeats and notices change nothing); asserts the sequence has no gap. */
  apply(m: CandleMessage): void {
    if (m.type === 'snapshot') {
      this.#byOpen.clear();
      this.seq = m.seq as number;
    } else if (m.type === 'update') {
      assert.equal(m.seq, this.seq + 1, `an update after ${this.seq}: ${JSON.stringify(m)}`);
      this.seq = m.seq as number;
      this.updates++;
    } else return;
    for (const c of m.candles as WireCandle[]) this.#byOpen.set(c.t, c);
  }

  /** The candles held, oldest first. */
  get candles(): WireCandle[] {
    return [...this.#byOpen.values()].sort((a, b) => a.t - b.t);
  }
}
