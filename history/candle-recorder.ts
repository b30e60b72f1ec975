/**
 * The store's side of candles (candles.ts): each trade the recorder reads goes into its candle
 * of every interval. The newest candle of each instrument and interval stays in memory (the next
 * trade is almost always in it); any other is read from the store. The candles changed since the
 * last `take` are written once each, at the end of the writer's transaction. On the writer's
 * thread, once per trade: no strings or arrays made for a trade in the current candles.
 */
import {
  addTrade,
  type Candle,
  CANDLE_INTERVAL_NAMES,
  CANDLE_INTERVALS,
  type CandleTrade,
  firstCandle,
  openTime,
} from './candles.ts';

/** Where a candle is kept: `[instrument, interval ms, open time]`. */
export type CandleKey = [string, number, number];

const MS = CANDLE_INTERVAL_NAMES.map((name) => CANDLE_INTERVALS[name]);

export class CandleRecorder {
  readonly #load: (key: CandleKey) => Candle | undefined;
  /** Per instrument, the newest candle of each interval (in the order of `MS`). */
  readonly #newest = new Map<string, Array<Candle | undefined>>();
  /** Candles changed since the last `take`, with where each is kept. */
  #changed = new Map<Candle, CandleKey>();

  /** `load` reads a candle the store holds (as of the transaction under way). */
  constructor(load: (key: CandleKey) => Candle | undefined) {
    this.#load = load;
  }

  /** Counts a trade of `instrument` in its candle of each interval (a trade counted before changes nothing). */
  trade(instrument: string, trade: CandleTrade): void {
    let newest = this.#newest.get(instrument);
    if (newest === undefined) this.#newest.set(instrument, (newest = MS.map(() => undefined)));
    for (let k = 0; k < MS.length; k++) {
      const ms = MS[k]!;
      const t = openTime(trade.ts, ms);
      const last = newest[k];
      let c = last;
      if (c?.t !== t) {
        c = this.#other(instrument, ms, t, last);
        if (c === undefined) c = firstCandle(t, trade);
        else if (!addTrade(c, trade)) continue;
        if (last === undefined || t > last.t) newest[k] = c;
      } else if (!addTrade(c, trade)) continue;
      if (!this.#changed.has(c)) this.#changed.set(c, [instrument, ms, t]);
    }
  }

  /** The candles changed since the last call, to write. */
  take(): Array<[CandleKey, Candle]> {
    const out = [...this.#changed].map(([c, key]): [CandleKey, Candle] => [key, c]);
    this.#changed.clear();
    return out;
  }

  /**
   * A candle other than the newest kept: the store's, or, for one older than the newest (a trade
   * of an earlier time: rare), one changed in this transaction (a newer one cannot be).
   */
  #other(instrument: string, ms: number, t: number, newest: Candle | undefined): Candle | undefined {
    if (newest !== undefined && t < newest.t) {
      for (const [c, [i, m]] of this.#changed) if (c.t === t && m === ms && i === instrument) return c;
    }
    return this.#load([instrument, ms, t]);
  }
}
