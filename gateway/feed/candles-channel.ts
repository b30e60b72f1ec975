/**
 * `candles.I:INSTRUMENT`: an instrument's price candles of interval I (1s, 1m, 5m, 1h). The
 * snapshot holds the last candles kept, oldest first; an update, the candles one command changed,
 * each whole (the current one, or a new one its trade opened); a command without trades sends
 * none. Only intervals that had trades have a candle.
 */
import type { Candle, CandleInterval } from '../../history/index.ts';
import { type Retained, Channel } from './channel.ts';
import type { InstrumentFeed } from './instrument-feed.ts';
import type { L2Book } from './l2-book.ts';

/** A candle as it travels (the REST shape too): prices and volume with the instrument's decimals. */
export interface CandleWire {
  t: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  trades: number;
}

/** A candle on the wire, its prices and volume formatted as the instrument's trades are. */
export function candleWire(c: Candle, book: L2Book): CandleWire {
  const p = book.prices;
  return {
    t: c.t,
    open: p.format(c.open),
    high: p.format(c.high),
    low: p.format(c.low),
    close: p.format(c.close),
    volume: book.quantities.format(c.volume),
    trades: c.trades,
  };
}

export class CandlesChannel extends Channel {
  readonly feed: InstrumentFeed;
  readonly interval: CandleInterval;

  constructor(
    name: string,
    retain: number,
    retained: Retained,
    now: number,
    feed: InstrumentFeed,
    interval: CandleInterval,
  ) {
    super(name, name, retain, retained, now);
    this.feed = feed;
    this.interval = interval;
  }

  /** The update of the candles the command being published changed (appended), or null without any. */
  refresh(now: number): Buffer | null {
    const changed = this.feed.candles?.changed[this.interval] ?? [];
    if (changed.length === 0) return null;
    const frame = Buffer.from(this.#message('update', this.seq + 1, changed));
    this.append(frame, now);
    return frame;
  }

  protected render(): string {
    return this.#message('snapshot', this.seq, this.feed.candles?.recent(this.interval) ?? []);
  }

  #message(type: string, seq: number, candles: readonly Candle[]): string {
    const book = this.feed.book;
    const wire = JSON.stringify(candles.map((c) => candleWire(c, book)));
    return `{"type":"${type}","channel":${this.quoted},"seq":${seq},"candles":${wire}}`;
  }
}
