/**
 * The market-data side of the gateway: keeps each instrument's published book, trades and
 * ticker from the durable engine's events (and its candles, seeded from the history store once
 * asked for), and fans channel messages out to clients. One `publish` call is one durable
 * command: at most one update per affected channel, serialized once. The embedded engine's
 * events reach it for every instrument from the start; a cluster's
 * gateway follows an instrument's market data from its first use (a subscription, a REST read),
 * its book as its shard held it then. See docs/ws-protocol.md, "Channels and market data" to
 * "Slow consumers".
 */
import { CANDLE_INTERVAL_NAMES, type CandleInterval, type HistoryReader } from '../../history/index.ts';
import type { ExchangeView } from '../exchange.ts';
import type { EventSubscriber } from '../../journal/index.ts';
import { isGatewayError, makeError } from '../errors.ts';
import { BookChannel } from './book-channel.ts';
import { CHECKSUM_LEVELS } from './levels-channel.ts';
import { CandlesChannel, type CandleWire, candleWire } from './candles-channel.ts';
import type { Channel, Retained } from './channel.ts';
import { viewChecksum } from './checksum.ts';
import type { FeedClient, FeedOptions } from './client.ts';
import { ConsolidatedChannel, consolidatedKey } from './consolidated.ts';
import { Fanout } from './fanout.ts';
import { InstrumentCandles } from './instrument-candles.ts';
import { InstrumentFeed, type Trade } from './instrument-feed.ts';
import { type ChannelName, parseChannel } from './names.ts';
import { TickerChannel, TradesChannel } from './trade-channels.ts';

/** Counters for /metrics. */
export interface FeedStats {
  channels: number;
  subscriptions: number;
  framesSent: number;
  /** Subscriptions whose updates are withheld now (slow consumers). */
  conflated: number;
  /** Clients closed as slow consumers so far. */
  dropped: number;
  /** Times a subscription was switched to conflated updates so far. */
  conflations: number;
  /** Frames not sent to conflated subscriptions so far (their snapshot replaces them). */
  withheld: number;
  /** Bytes of update frames retained for `fromSeq`. */
  retainedBytes: number;
}

/**
 * An L2 book for REST, as the `book.N` channel of its depth holds it: `seq` and `epoch` are that
 * channel's (usable as `fromSeq` and `epoch` of a WebSocket subscription), `commandSeq` the last
 * engine command it reflects.
 */
export interface BookView {
  seq: number;
  epoch: number;
  commandSeq: number;
  bids: Array<[string, string]>;
  asks: Array<[string, string]>;
  checksum: number;
}

/** An instrument's candles of one interval for REST, with the `candles.I` channel's `seq` and `epoch` (as `BookView`'s). */
export interface CandlesView {
  seq: number;
  epoch: number;
  candles: CandleWire[];
}

/** Which candles REST asks for: open times within [from, to], the last `limit`. */
export interface CandleRange {
  from?: number;
  to?: number;
  limit: number;
}

/** An instrument's book as of a command, where its market data starts from. */
export interface BookSeed {
  seq: number;
  /** Ticks; 0 before any trade. */
  lastPrice: number;
  /** [price, qty, count] best first. */
  bids: Array<[number, number, number]>;
  asks: Array<[number, number, number]>;
}

type Listings = Pick<ExchangeView, 'instruments' | 'instrument'>;

/**
 * Where the feed's instruments and books come from: an engine whose events reach `publish` for
 * every instrument from the start (books from `depth` at once), or a source that follows an
 * instrument on first use (`followBook`: `seed` takes its book, then its events after it reach
 * `publish`; rejects, following nothing, when the book cannot be read).
 */
export type MarketSource =
  | (Listings & {
      readonly commandSeq: number;
      depth(id: string, n: number): Omit<BookSeed, 'seq' | 'lastPrice'>;
    })
  | (Listings & {
      followBook(instrument: string, seed: (book: BookSeed) => void): Promise<void>;
      /** Stops following an instrument (no event of it reaches `publish` any more). */
      unfollowBook(instrument: string): void;
    });

/** A subscription waiting for its instruments' books. */
interface Joining {
  channel: string;
  cancelled: boolean;
}

const MiB = 1024 * 1024;

export class MarketData {
  /** When these sequences began: they start again with the server (a `fromSeq` names one epoch's updates). */
  readonly epoch = Date.now();
  #source: MarketSource;
  #retain: number;
  #heartbeatMs: number;
  #keepTrades: number;
  #keepCandles: number;
  /** Where candles are read from (none: no candle channels). */
  #history: Pick<HistoryReader, 'candles'> | undefined;
  #lingerMs: number;
  #lastSweep = 0;
  #now: () => number;
  #fanout: Fanout;
  #retained: Retained = { bytes: 0 };
  #instruments = new Map<string, InstrumentFeed>();
  /** Consolidated channels by key, and by symbol. */
  #consolidated = new Map<string, ConsolidatedChannel>();
  #bySymbol = new Map<string, ConsolidatedChannel[]>();
  #channels: Channel[] = [];
  /** Instruments touched by the command being published. */
  #touched: InstrumentFeed[] = [];
  #touchedSymbols = new Set<string>();
  /** Sequence of the last command published. */
  #seq = 0;
  /** Subscriptions waiting for books, per client. */
  #joining = new Map<FeedClient, Set<Joining>>();

  /** `history`: where an instrument's candles are read from on their first use. */
  constructor(source: MarketSource, options: FeedOptions = {}, history?: Pick<HistoryReader, 'candles'>) {
    this.#source = source;
    this.#history = history;
    this.#retain = count(options.retain ?? 10_000, 'retain');
    this.#heartbeatMs = count(options.heartbeatMs ?? 1000, 'heartbeatMs');
    this.#keepTrades = count(options.trades ?? 50, 'trades');
    this.#keepCandles = count(options.candles ?? 200, 'candles');
    if (this.#keepCandles === 0) throw makeError('candles must be at least 1', 'BAD_CONFIG');
    this.#lingerMs = count(options.lingerMs ?? 60_000, 'lingerMs');
    const slowBytes = count(options.slowBytes ?? 4 * MiB, 'slowBytes');
    const hardBytes = count(options.hardBytes ?? 64 * MiB, 'hardBytes');
    if (hardBytes < slowBytes) {
      throw makeError(`hardBytes (${hardBytes}) must be at least slowBytes (${slowBytes})`, 'BAD_CONFIG');
    }
    this.#now = options.now ?? Date.now;
    const totalBytes = count(options.totalBytes ?? 64 * MiB, 'totalBytes');
    this.#fanout = new Fanout({ slowBytes, hardBytes, totalBytes }, this.#now);
    if ('depth' in source) this.#seq = source.commandSeq;
    for (const id of source.instruments()) this.#list(id);
  }

  /** Takes one durable command's events (pass to `DurableEngine.onEvents`). */
  readonly publish: EventSubscriber = (seq, events) => {
    this.#seq = seq;
    let ts = 0;
    for (const e of events) {
      ts = e.ts;
      if (e.kind === 'instrument') {
        // A new listing (its book starts empty, its depth events follow); status changes are not shown.
        if (!this.#instruments.has(e.instrument)) this.#list(e.instrument);
        continue;
      }
      if (e.kind !== 'depth' && e.kind !== 'bbo' && e.kind !== 'trade') continue;
      const feed = this.#instruments.get(e.instrument);
      if (feed === undefined || !feed.ready) continue;
      feed.seq = seq;
      if (!feed.bookTouched && !feed.tickerTouched && feed.pending.length === 0) this.#touched.push(feed);
      feed.ts = ts;
      if (e.kind === 'depth') {
        feed.book.set(e.side, e.price, e.quantity);
        feed.bookTouched = true;
      } else if (e.kind === 'bbo') {
        feed.tickerTouched = true;
      } else {
        feed.trade(e.tradeId, e.price, e.quantity, e.aggressor, ts);
      }
    }
    if (this.#touched.length > 0) this.#flush(ts);
  };

  /**
   * Subscribes `client` to `channel` and sends it `ack` (if given), then the retained updates
   * after `fromSeq` or a snapshot. Throws, having sent nothing, UNKNOWN_CHANNEL for a name that
   * is not of the protocol and UNKNOWN_INSTRUMENT for an instrument (or symbol) that does not
   * exist or whose venue `canSee` refuses. When an instrument's book is still to be read (its
   * first use at a cluster's gateway), or its candles (their first use), returns a promise of the
   * subscription, which rejects with UNAVAILABLE, having sent nothing, when they cannot be read.
   */
  subscribe(
    client: FeedClient,
    channel: string,
    canSee: (venue: string) => boolean,
    fromSeq?: number,
    ack?: Buffer,
  ): Promise<void> | undefined {
    const name = parseChannel(channel);
    const feeds =
      name.kind === 'consolidated'
        ? this.#visibleSymbol(name.target, channel, canSee)
        : [this.#visible(name.target, channel, canSee)];
    const join = () => {
      const ch =
        name.kind === 'consolidated'
          ? this.#consolidatedFor(channel, name, feeds)
          : this.#channelFor(channel, name, feeds[0]!);
      this.#fanout.join(client, ch, fromSeq, ack);
      for (const feed of feeds) feed.lastUse = this.#now();
    };
    const ready = name.kind === 'candles' ? this.#candlesReady(feeds[0]!) : this.#ready(feeds);
    if (ready === undefined) {
      join();
      return undefined;
    }
    const joining: Joining = { channel, cancelled: false };
    let waiting = this.#joining.get(client);
    if (waiting === undefined) this.#joining.set(client, (waiting = new Set()));
    waiting.add(joining);
    const done = () => {
      waiting.delete(joining);
      if (waiting.size === 0 && this.#joining.get(client) === waiting) this.#joining.delete(client);
    };
    return ready.then(
      () => {
        done();
        if (!joining.cancelled) join();
      },
      (err: Error) => {
        done();
        throw err;
      },
    );
  }

  /** Ends `client`'s subscription to `channel` (or one waiting for its books); false if it had none. */
  unsubscribe(client: FeedClient, channel: string): boolean {
    for (const joining of this.#joining.get(client) ?? []) {
      if (joining.channel === channel && !joining.cancelled) {
        joining.cancelled = true;
        return true;
      }
    }
    return this.#fanout.leaveByName(client, channel);
  }

  /** Forgets a closed connection everywhere. */
  drop(client: FeedClient): void {
    for (const joining of this.#joining.get(client) ?? []) joining.cancelled = true;
    this.#joining.delete(client);
    this.#fanout.drop(client);
  }

  /**
   * Call every ~100 ms: heartbeats of idle channels, resync or close of slow consumers; and, at
   * most once a second, instruments followed on first use that nobody watched for `lingerMs` are
   * no longer followed.
   */
  tick(): void {
    this.#fanout.tick(this.#channels, this.#heartbeatMs);
    const now = this.#now();
    if ('unfollowBook' in this.#source && now - this.#lastSweep >= 1_000) {
      this.#lastSweep = now;
      this.#sweep(now, this.#source);
    }
  }

  /**
   * An instrument's book, best `depth` levels a side, with the sequence of its `book.<depth>`
   * channel (made now if nobody subscribed to it yet). For REST; the caller checks visibility,
   * and `depth` is one of the channel depths.
   */
  async book(instrument: string, depth: number): Promise<BookView> {
    const feed = this.#feed(instrument);
    await this.#ready([feed]);
    feed.lastUse = this.#now();
    const channel = this.#channelFor(
      `book.${depth}:${instrument}`,
      { kind: 'book', depth, target: instrument },
      feed,
    );
    const { bids, asks } = feed.book;
    const top = (levels: typeof bids): Array<[string, string]> =>
      levels.slice(0, depth).map((l) => [l.wire[0], l.wire[1]]);
    return {
      seq: channel.seq,
      epoch: this.epoch,
      // A cluster's gateway: the last command message of the instrument's shard its copy of the book reflects.
      commandSeq: 'depth' in this.#source ? this.#seq : feed.seq,
      bids: top(bids),
      asks: top(asks),
      checksum: viewChecksum(bids, asks, Math.min(depth, CHECKSUM_LEVELS)),
    };
  }

  /**
   * An instrument's candles of one interval from the history (for REST), with the sequence of its
   * `candles.<interval>` channel (made now if nobody subscribed to it yet) taken before they are
   * read: the history answers once it holds every command that sequence reflects, so the candles
   * are as of that sequence or later (an update after it carries each candle it changes whole).
   * The caller checks visibility.
   */
  async candles(instrument: string, interval: CandleInterval, range: CandleRange): Promise<CandlesView> {
    const feed = this.#feed(instrument);
    await this.#candlesReady(feed);
    feed.lastUse = this.#now();
    const name = `candles.${interval}:${instrument}`;
    const channel = this.#channelFor(name, { kind: 'candles', depth: 0, target: instrument, interval }, feed);
    const seq = channel.seq;
    const read = this.#history!.candles({ instrument, interval, ...range }, feed.seq);
    const list = await read.catch((err: Error) => {
      throw isGatewayError(err) ? err : unreadable(feed, err);
    });
    return { seq, epoch: this.epoch, candles: list.map((c) => candleWire(c, feed.book)) };
  }

  /** The last trades kept of an instrument, oldest first (for REST). */
  async trades(instrument: string): Promise<Trade[]> {
    const feed = this.#feed(instrument);
    await this.#ready([feed]);
    feed.lastUse = this.#now();
    return feed.recentTrades().map((t) => ({ ...t }));
  }

  stats(): FeedStats {
    const f = this.#fanout;
    return {
      channels: this.#channels.length,
      subscriptions: f.subscriptions,
      framesSent: f.framesSent,
      conflated: f.conflated,
      dropped: f.dropped,
      conflations: f.conflations,
      withheld: f.withheld,
      retainedBytes: this.#retained.bytes,
    };
  }

  /** Updates of the touched instruments' channels, then of the consolidated books. */
  #flush(ts: number): void {
    const now = this.#now();
    const fanout = this.#fanout;
    for (const feed of this.#touched) {
      if (feed.bookTouched) {
        for (const ch of feed.books.values()) {
          const frame = ch.refresh(ts, now);
          if (frame !== null) fanout.deliver(ch, frame);
        }
        if (this.#bySymbol.has(feed.symbol)) this.#touchedSymbols.add(feed.symbol);
      }
      if (feed.pending.length > 0 && feed.trades !== null) {
        const frame = feed.trades.refresh(feed.pending, now);
        if (frame !== null) fanout.deliver(feed.trades, frame);
      }
      if (feed.pending.length > 0 && feed.candles !== null) {
        for (const ch of feed.candleChannels.values()) {
          const frame = ch.refresh(now);
          if (frame !== null) fanout.deliver(ch, frame);
        }
        feed.candles.clearChanged();
      }
      if ((feed.tickerTouched || feed.pending.length > 0) && feed.ticker !== null) {
        fanout.deliver(feed.ticker, feed.ticker.refresh(ts, now));
      }
      feed.bookTouched = false;
      feed.tickerTouched = false;
      feed.pending.length = 0;
    }
    this.#touched.length = 0;
    for (const symbol of this.#touchedSymbols) {
      for (const ch of this.#bySymbol.get(symbol)!) {
        const frame = ch.refresh(ts, now);
        if (frame !== null) fanout.deliver(ch, frame);
      }
    }
    this.#touchedSymbols.clear();
  }

  /** The instrument a channel names, if `canSee` its venue. */
  #visible(target: string, channel: string, canSee: (venue: string) => boolean): InstrumentFeed {
    const feed = this.#instruments.get(target);
    if (feed === undefined || !canSee(feed.venue)) throw unknownInstrument(target, channel);
    return feed;
  }

  /** The instruments of a symbol on the venues `canSee`, by venue. */
  #visibleSymbol(symbol: string, channel: string, canSee: (venue: string) => boolean): InstrumentFeed[] {
    const feeds: InstrumentFeed[] = [];
    for (const f of this.#instruments.values()) if (f.symbol === symbol && canSee(f.venue)) feeds.push(f);
    if (feeds.length === 0) throw unknownInstrument(symbol, channel);
    return feeds.sort((a, b) => (a.venue < b.venue ? -1 : a.venue > b.venue ? 1 : 0));
  }

  /**
   * Undefined when the instrument's candles are kept, else a promise of them (its book first, at
   * a cluster's gateway): each interval's last ones read from the history, once it holds the last
   * command the feed has of the instrument, the trades published meanwhile counted after them.
   * UNAVAILABLE when they cannot be read.
   */
  #candlesReady(feed: InstrumentFeed): Promise<void> | undefined {
    if (feed.candles?.seeded === true) return undefined;
    const book = this.#ready([feed]);
    if (book !== undefined) return book.then(() => this.#candlesReady(feed));
    return (feed.candlesLoading ??= this.#loadCandles(feed));
  }

  #loadCandles(feed: InstrumentFeed): Promise<void> {
    const history = this.#history;
    if (history === undefined) {
      return Promise.reject(makeError(`the candles of ${feed.id} are not kept here`, 'UNAVAILABLE'));
    }
    const candles = new InstrumentCandles(this.#keepCandles);
    feed.candles = candles;
    feed.lastUse = this.#now();
    const reads = CANDLE_INTERVAL_NAMES.map((interval) =>
      history.candles({ instrument: feed.id, interval, limit: this.#keepCandles }, feed.seq),
    );
    return Promise.all(reads).then(
      (seeds) => {
        if (feed.candles !== candles) return; // forgotten meanwhile
        candles.seed(seeds);
      },
      (err: Error) => {
        if (feed.candles === candles) {
          feed.candles = null;
          feed.candlesLoading = null;
        }
        throw unreadable(feed, err);
      },
    );
  }

  /** Undefined when every one of `feeds` has its book, else a promise of their books (UNAVAILABLE when one cannot be read). */
  #ready(feeds: InstrumentFeed[]): Promise<void> | undefined {
    const waits: Array<Promise<void>> = [];
    for (const feed of feeds) if (!feed.ready) waits.push((feed.following ??= this.#follow(feed)));
    return waits.length === 0 ? undefined : Promise.all(waits).then(() => undefined);
  }

  /**
   * Stops following the instruments nobody watched for `lingerMs`: their source is told, what
   * they kept is forgotten, and each of their channels leaves a sequence number out, so that a
   * `fromSeq` from before cannot be replayed (a snapshot instead) once it is followed again.
   */
  #sweep(now: number, source: { unfollowBook(instrument: string): void }): void {
    for (const feed of this.#instruments.values()) {
      if (!feed.ready) continue;
      const channels = [
        ...feed.books.values(),
        feed.trades,
        feed.ticker,
        ...feed.candleChannels.values(),
      ].filter((c) => c !== null);
      const consolidated = (this.#bySymbol.get(feed.symbol) ?? []).filter((c) => c.feeds.includes(feed));
      if ([...channels, ...consolidated].some((c) => c.subs.length > 0)) feed.lastUse = now;
      if (now - feed.lastUse < this.#lingerMs) continue;
      source.unfollowBook(feed.id);
      for (const c of [...channels, ...consolidated]) {
        c.release();
        c.seq++;
      }
      feed.forget();
    }
  }

  #follow(feed: InstrumentFeed): Promise<void> {
    const source = this.#source;
    if (!('followBook' in source)) throw new Error(`${feed.id}: no book`); // eager feeds start ready
    return source
      .followBook(feed.id, (b) => {
        for (const [price, qty] of b.bids) feed.book.set('buy', price, qty);
        for (const [price, qty] of b.asks) feed.book.set('sell', price, qty);
        if (b.lastPrice > 0) feed.last = feed.book.prices.format(b.lastPrice);
        feed.seq = b.seq;
        feed.ready = true;
        // Followed again: its channels' views catch up with the book read (updates nobody is sent).
        feed.bookTouched = feed.tickerTouched = true;
        this.#touched.push(feed);
        this.#flush(this.#now());
      })
      .catch((err: Error) => {
        feed.following = null;
        throw makeError(
          `the market data of ${feed.id} cannot be read now: ${err.message}`,
          'UNAVAILABLE',
          { instrument: feed.id },
          err,
        );
      });
  }

  #channelFor(channel: string, name: ChannelName, feed: InstrumentFeed): Channel {
    const now = this.#now();
    let ch: Channel | undefined;
    if (name.kind === 'book') {
      ch = feed.books.get(name.depth);
      if (ch === undefined) {
        const book = new BookChannel(channel, this.#retain, this.#retained, now, feed, name.depth);
        feed.books.set(name.depth, book);
        ch = book;
        this.#channels.push(ch);
      }
    } else if (name.kind === 'candles') {
      const interval = name.interval!;
      ch = feed.candleChannels.get(interval);
      if (ch === undefined) {
        const candles = new CandlesChannel(channel, this.#retain, this.#retained, now, feed, interval);
        feed.candleChannels.set(interval, this.#add(candles));
        ch = candles;
      }
    } else if (name.kind === 'trades') {
      ch = feed.trades ??= this.#add(new TradesChannel(channel, this.#retain, this.#retained, now, feed));
    } else {
      ch = feed.ticker ??= this.#add(new TickerChannel(channel, this.#retain, this.#retained, now, feed));
    }
    return ch;
  }

  #consolidatedFor(channel: string, name: ChannelName, feeds: InstrumentFeed[]): Channel {
    const key = consolidatedKey(channel, feeds);
    let ch = this.#consolidated.get(key);
    if (ch === undefined) {
      ch = this.#add(
        new ConsolidatedChannel(channel, this.#retain, this.#retained, this.#now(), feeds, name.depth),
      );
      this.#consolidated.set(key, ch);
      const list = this.#bySymbol.get(name.target);
      if (list === undefined) this.#bySymbol.set(name.target, [ch]);
      else list.push(ch);
    }
    return ch;
  }

  #add<C extends Channel>(ch: C): C {
    this.#channels.push(ch);
    return ch;
  }

  #feed(instrument: string): InstrumentFeed {
    const feed = this.#instruments.get(instrument);
    if (feed === undefined) throw unknownInstrument(instrument);
    return feed;
  }

  /** A listed instrument's feed: with its book at once from an engine, or to follow on first use. */
  #list(id: string): void {
    const source = this.#source;
    const info = source.instrument(id);
    if (info === undefined) return;
    const feed = new InstrumentFeed(info.spec, info.lastPrice, this.#keepTrades);
    this.#instruments.set(id, feed);
    if (!('depth' in source)) return;
    const { bids, asks } = source.depth(id, Number.MAX_SAFE_INTEGER);
    for (const [price, qty] of bids) feed.book.set('buy', price, qty);
    for (const [price, qty] of asks) feed.book.set('sell', price, qty);
    feed.ready = true;
  }
}

function unknownInstrument(target: string, channel?: string): Error {
  return makeError(
    `unknown instrument ${JSON.stringify(target)}${channel === undefined ? '' : ` in channel ${JSON.stringify(channel)}`}: ` +
      'it is not listed, or not on a venue this session may see',
    'UNKNOWN_INSTRUMENT',
    channel === undefined ? { instrument: target } : { instrument: target, channel },
  );
}

/** A read of an instrument's candles that failed (the history does not answer, or not in time). */
function unreadable(feed: InstrumentFeed, err: Error): Error {
  return makeError(
    `the candles of ${feed.id} cannot be read now: ${err.message}`,
    'UNAVAILABLE',
    { instrument: feed.id },
    err,
  );
}

function count(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw makeError(`${what} must be a whole number >= 0, not ${String(value)}`, 'BAD_CONFIG', {
      [what]: value,
    });
  }
  return value;
}
