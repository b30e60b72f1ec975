/**
 * What the feed keeps of one instrument's candles (history/candles.ts): the last `keep` of each
 * interval, what a snapshot shows. Made on first use (a candle channel, a REST read) and seeded
 * from the history store, then kept from the trades published; trades published while the seed
 * is read wait, and go in after it (a trade the seed counts already changes nothing). For each
 * interval, the candles the command being published changed: the channels' update.
 */
import {
  addTrade,
  type Candle,
  CANDLE_INTERVAL_NAMES,
  CANDLE_INTERVALS,
  type CandleInterval,
  type CandleTrade,
  firstCandle,
  openTime,
} from '../../history/index.ts';

const byInterval = <T>(make: () => T) =>
  Object.fromEntries(CANDLE_INTERVAL_NAMES.map((i) => [i, make()])) as Record<CandleInterval, T>;

export class InstrumentCandles {
  /** Per interval, the candles changed by the command being published (cleared after it). */
  readonly changed = byInterval<Candle[]>(() => []);
  readonly #keep: number;
  /** Per interval, the last `keep` candles, oldest first. */
  readonly #kept = byInterval<Candle[]>(() => []);
  /** Trades published before the seed came (null once it has). */
  #early: CandleTrade[] | null = [];

  constructor(keep: number) {
    this.#keep = keep;
  }

  /** Whether the seed came. */
  get seeded(): boolean {
    return this.#early === null;
  }

  /** The last candles kept of an interval, oldest first. */
  recent(interval: CandleInterval): readonly Candle[] {
    return this.#kept[interval];
  }

  /**
   * Takes each interval's last candles as the history holds them (oldest first; one list per
   * interval, in the order of `CANDLE_INTERVAL_NAMES`), then the trades that waited.
   */
  seed(seeds: readonly Candle[][]): void {
    CANDLE_INTERVAL_NAMES.forEach((i, k) => (this.#kept[i] = (seeds[k] ?? []).slice(-this.#keep)));
    const early = this.#early ?? [];
    this.#early = null;
    for (const trade of early) this.trade(trade);
    this.clearChanged();
  }

  /** Counts a trade of the command being published (or keeps it until the seed comes). */
  trade(trade: CandleTrade): void {
    if (this.#early !== null) {
      this.#early.push(trade);
      return;
    }
    for (const i of CANDLE_INTERVAL_NAMES) {
      const c = this.#count(i, trade);
      const changed = this.changed[i];
      if (c !== null && !changed.includes(c)) changed.push(c);
    }
  }

  clearChanged(): void {
    for (const i of CANDLE_INTERVAL_NAMES) this.changed[i].length = 0;
  }

  /** The candle of `interval` the trade changed or opened, or null (counted before, or older than those kept). */
  #count(interval: CandleInterval, trade: CandleTrade): Candle | null {
    const list = this.#kept[interval];
    const t = openTime(trade.ts, CANDLE_INTERVALS[interval]);
    let i = list.length - 1;
    while (i >= 0 && list[i]!.t > t) i--;
    const at = list[i];
    if (at?.t === t) return addTrade(at, trade) ? at : null;
    if (i < 0 && list.length >= this.#keep) return null;
    const c = firstCandle(t, trade);
    list.splice(i + 1, 0, c);
    if (list.length > this.#keep) list.shift();
    return c;
  }
}
