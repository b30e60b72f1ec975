/**
 * The feed suites' harness: in-memory `FeedClient`s that keep every frame and can pretend to be
 * slow, and a market: a real engine whose commands' events go through `eventToObject` to
 * `feed.publish` (and, when it has one, to a history store first), as the durable engine
 * delivers them.
 */
import {
  type Command,
  Engine,
  eventToObject,
  type InstrumentSpec,
  type PublishedEvent,
  type Side,
} from '../../engine/index.ts';
import { type FeedClient, type FeedOptions, MarketData } from '../../gateway/feed/index.ts';
import type { ThreadedHistory } from '../../history/index.ts';
import type { WireCandle } from './candles.ts';

export type Level = [string, string, ...unknown[]];

export interface Msg {
  type: string;
  channel: string;
  seq: number;
  bids?: Level[];
  asks?: Level[];
  checksum?: number;
  trades?: Array<{ tradeId: number; price: string; quantity: string; side: string; ts: number }>;
  candles?: WireCandle[];
  bid?: [string, string] | null;
  ask?: [string, string] | null;
  last?: string | null;
  volume?: string;
  ts?: number;
}

/** A connection that keeps what it is sent and can pretend to have a full buffer. */
export class TestClient implements FeedClient {
  bufferedAmount = 0;
  closed: [number, string] | null = null;
  frames: Buffer[] = [];
  #read = 0;

  send(frame: Buffer): void {
    this.frames.push(frame);
  }

  close(code: number, reason: string): void {
    this.closed = [code, reason];
  }

  /** Messages received since the last call. */
  take(): Msg[] {
    const out = this.frames.slice(this.#read).map((f) => JSON.parse(f.toString('utf8')) as Msg);
    this.#read = this.frames.length;
    return out;
  }
}

export const ALL = (): boolean => true;
export const ACME = 'ACME@evm:31337';

/**
 * A real engine whose commands' events reach the feed one publish per command; with a `history`,
 * they reach it first, as the durable engine hands them to its readers before its subscribers.
 */
export class Market {
  readonly engine = new Engine();
  readonly feed: MarketData;
  /** The feed's clock. */
  clock = 1_000_000;
  /** The time of the last order entered: the next one's is one more. */
  ts = 0;
  #events: PublishedEvent[] = [];
  #orders = 0;
  #history: ThreadedHistory | undefined;

  constructor(
    specs: InstrumentSpec[],
    options: FeedOptions = {},
    listFirst = false,
    history?: ThreadedHistory,
  ) {
    this.#history = history;
    this.engine.addListener({ onEvent: (e) => this.#events.push(eventToObject(e)) });
    if (listFirst) for (const s of specs) this.engine.execute({ type: 'list-instrument', ts: 0, spec: s });
    this.feed = new MarketData(this.engine, { now: () => this.clock, ...options }, history);
    if (!listFirst) for (const s of specs) this.run({ type: 'list-instrument', ts: 0, spec: s });
  }

  /** While set, commands' events reach the history but wait for `deliver` to reach the feed: a feed behind its history. */
  hold = false;
  readonly #held: Array<[number, PublishedEvent[]]> = [];

  run(cmd: Command): void {
    this.#events = [];
    this.engine.execute(cmd);
    this.#history?.apply(this.engine.commandSeq, this.#events);
    if (this.hold) this.#held.push([this.engine.commandSeq, this.#events]);
    else this.feed.publish(this.engine.commandSeq, this.#events);
  }

  /** Publishes the first `n` commands held (all by default) to the feed. */
  deliver(n = Infinity): void {
    for (const [seq, events] of this.#held.splice(0, n)) this.feed.publish(seq, events);
  }

  /** A GTC limit order; returns its order id. */
  limit(account: string, side: Side, qty: number, price: number, instrument = ACME): number {
    this.run({
      type: 'new',
      ts: ++this.ts,
      instrument,
      account,
      clientOrderId: `c${++this.#orders}`,
      side,
      orderType: 'limit',
      quantity: qty,
      price,
    });
    return this.engine.commandSeq; // not the order id: use `cancel` by client order id
  }

  cancel(account: string, n: number): void {
    this.run({ type: 'cancel', ts: ++this.ts, account, clientOrderId: `c${n}` });
  }

  /** Client order number of the last order entered. */
  get lastOrder(): number {
    return this.#orders;
  }
}
