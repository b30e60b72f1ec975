/**
 * `trades:INSTRUMENT` (one update per command that traded, the snapshot holds the last trades
 * kept, oldest first) and `ticker:INSTRUMENT` (always the whole state: best bid and offer, last
 * price, volume since the feed started).
 */
import { type Retained, Channel } from './channel.ts';
import type { InstrumentFeed, Trade } from './instrument-feed.ts';

export class TradesChannel extends Channel {
  readonly feed: InstrumentFeed;

  constructor(name: string, retain: number, retained: Retained, now: number, feed: InstrumentFeed) {
    super(name, name, retain, retained, now);
    this.feed = feed;
  }

  /** The update of one command's trades (appended), or null without any. */
  refresh(trades: readonly Trade[], now: number): Buffer | null {
    if (trades.length === 0) return null;
    const frame = Buffer.from(this.#message('update', this.seq + 1, trades));
    this.append(frame, now);
    return frame;
  }

  protected render(): string {
    return this.#message('snapshot', this.seq, this.feed.recentTrades());
  }

  #message(type: string, seq: number, trades: readonly Trade[]): string {
    return `{"type":"${type}","channel":${this.quoted},"seq":${seq},"trades":${JSON.stringify(trades)}}`;
  }
}

export class TickerChannel extends Channel {
  readonly feed: InstrumentFeed;

  constructor(name: string, retain: number, retained: Retained, now: number, feed: InstrumentFeed) {
    super(name, name, retain, retained, now);
    this.feed = feed;
  }

  /** The update after a command that moved the BBO or traded (appended). */
  refresh(ts: number, now: number): Buffer {
    const frame = Buffer.from(this.#message('update', this.seq + 1, ts));
    this.append(frame, now);
    return frame;
  }

  protected render(now: number): string {
    return this.#message('snapshot', this.seq, this.feed.ts < 0 ? now : this.feed.ts);
  }

  #message(type: string, seq: number, ts: number): string {
    const f = this.feed;
    const { bids, asks } = f.book;
    return JSON.stringify({
      type,
      channel: this.name,
      seq,
      bid: bids[0]?.wire ?? null,
      ask: asks[0]?.wire ?? null,
      last: f.last,
      volume: f.book.quantities.format(f.volume),
      ts,
    });
  }
}
