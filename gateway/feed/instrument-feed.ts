/**
 * What the feed keeps of one instrument between commands: its L2 book, its recent trades, last
 * price and volume, its candles once asked for, and its channels (created on first subscribe and
 * kept).
 */
import type { InstrumentSpec } from '../../engine/index.ts';
import type { CandleInterval } from '../../history/index.ts';
import type { BookChannel } from './book-channel.ts';
import type { CandlesChannel } from './candles-channel.ts';
import { Decimals } from '../decimals.ts';
import type { InstrumentCandles } from './instrument-candles.ts';
import { L2Book } from './l2-book.ts';
import type { TickerChannel, TradesChannel } from './trade-channels.ts';

/** A trade as it travels (the REST shape too). */
export interface Trade {
  tradeId: number;
  price: string;
  quantity: string;
  /** The aggressor's side. */
  side: string;
  ts: number;
}

/** `ACME@evm:31337` -> `['ACME', 'evm:31337']`. */
export function splitInstrument(id: string): [symbol: string, venue: string] {
  const at = id.indexOf('@');
  return at < 0 ? [id, ''] : [id.slice(0, at), id.slice(at + 1)];
}

export class InstrumentFeed {
  readonly id: string;
  readonly symbol: string;
  readonly venue: string;
  readonly spec: Readonly<InstrumentSpec>;
  readonly book: L2Book;
  /** Last trade price, null before the first one. */
  last: string | null;
  /** Whether its book is known (an engine's at once; a cluster's gateway once followed: `following`). */
  ready = false;
  following: Promise<void> | null = null;
  /** The last command that touched it (or its book was read at). */
  seq = 0;
  /** Timestamp of the last command published that touched it (-1: none since the feed started). */
  ts = -1;
  /** Lots traded since the feed started. */
  volume = 0;
  /** Trades of the command being published. */
  readonly pending: Trade[] = [];
  /** Set while a command is published: the book / the ticker changed. */
  bookTouched = false;
  tickerTouched = false;
  readonly books = new Map<number, BookChannel>();
  trades: TradesChannel | null = null;
  ticker: TickerChannel | null = null;
  /** Its candles, from their first use on (a candle channel, a REST read): seeded from the history, then kept. */
  candles: InstrumentCandles | null = null;
  /** The candles' seed being read (or read). */
  candlesLoading: Promise<void> | null = null;
  readonly candleChannels = new Map<CandleInterval, CandlesChannel>();
  #recent: Trade[] = [];
  #keep: number;
  #next = 0;

  constructor(spec: Readonly<InstrumentSpec>, lastTicks: number, keep: number) {
    this.id = spec.id;
    [this.symbol, this.venue] = splitInstrument(spec.id);
    this.spec = spec;
    this.book = new L2Book(
      spec.id,
      new Decimals(spec.tickSize, spec.priceDecimals),
      new Decimals(spec.lotSize, spec.quantityDecimals),
    );
    this.last = lastTicks > 0 ? this.book.prices.format(lastTicks) : null;
    this.#keep = keep;
  }

  /** When a subscription or REST read last used it, or the feed last saw it watched (feed's clock). */
  lastUse = 0;

  /** Forgets what it followed (its book, trades, volume and candles): its source no longer feeds it. */
  forget(): void {
    this.ready = false;
    this.following = null;
    this.book.bids.length = 0;
    this.book.asks.length = 0;
    this.#recent = [];
    this.#next = 0;
    this.volume = 0;
    this.ts = -1;
    this.candles = null;
    this.candlesLoading = null;
  }

  /** Records a trade of the command being published. */
  trade(tradeId: number, ticks: number, lots: number, side: string, ts: number): void {
    const t: Trade = {
      tradeId,
      price: this.book.prices.format(ticks),
      quantity: this.book.quantities.format(lots),
      side,
      ts,
    };
    this.last = t.price;
    this.volume += lots;
    this.pending.push(t);
    this.tickerTouched = true;
    this.candles?.trade({ tradeId, price: ticks, quantity: lots, ts });
    if (this.#keep === 0) return;
    if (this.#recent.length < this.#keep) this.#recent.push(t);
    else {
      this.#recent[this.#next] = t;
      this.#next = (this.#next + 1) % this.#keep;
    }
  }

  /** The last trades kept, oldest first (a copy). */
  recentTrades(): Trade[] {
    const r = this.#recent;
    return r.length < this.#keep ? r.slice() : [...r.slice(this.#next), ...r.slice(0, this.#next)];
  }
}
