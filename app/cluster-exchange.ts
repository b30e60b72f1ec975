/**
 * The exchange as a cluster's gateway sees it, with no engine of its own: commands sent to the
 * shard that owns them over NATS under ids of this gateway (`<gateway>:<n>`, which JetStream
 * keeps as message ids: a command sent again after a lost answer counts once); the events of
 * the accounts its sessions follow, and the market data of the instruments its clients watch
 * (from their first use), on their own subjects (KeyedFeed); reads of an account asked of the
 * shards; and the listings, settlements and withdrawals REST shows kept from each shard's
 * overview and event stream after it (ClusterView). A restart starts again from the shards'
 * overviews.
 */
import { randomBytes } from 'node:crypto';
import { type Consumer, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ACCOUNTS,
  type AccountState,
  answered,
  type ClusterConfig,
  ClusterHistory,
  CommandBatcher,
  CommandBus,
  type CommandEvents,
  commandEventsOf,
  consume,
  eventObjectsOnce,
  INSTRUMENTS,
  type InstrumentRead,
  KeyedFeed,
  type ShardOverview,
  ShardReads,
  type StoredEvents,
  sharedKey,
  type Topology,
  venueOfId,
  WIDE_KINDS,
  withEvents,
} from '../cluster/index.ts';
import type { BalanceView, EventKind, OrderView, Unstamped } from '../engine/index.ts';
import { CodecError, type PublishedEvent } from '../journal/index.ts';
import {
  type AccountSeed,
  type AccountSubscriber,
  type BookSeed,
  canSeeVenue,
  Codecs,
  type Exchange,
  type ExchangeSubscriber,
  type GatewayConfig,
  type InstrumentCodec,
  makeError,
  type MarketSource,
  type Submitted,
} from '../gateway/index.ts';
import { Availability } from './availability.ts';
import { ClusterView } from './cluster-view.ts';
import type { Logger } from '../common/index.ts';

export interface ClusterExchangeOptions {
  nc: NatsConnection;
  topology: Topology;
  cluster: ClusterConfig;
  risk: boolean;
  venues: GatewayConfig['venues'];
  log: Logger;
  /** Whether the NATS connection is up (for `/health`). */
  connected: () => boolean;
}

/**
 * The kinds of events a gateway takes from the event streams: listings, trades, settlements and
 * withdrawals (what the view and the settlement and withdrawal lists keep), from the messages
 * that have any (the others are not delivered to it); orders' events reach it through its
 * accounts' subjects, books' through their instruments'. The others are passed over, not decoded.
 */
const SHOWN: readonly EventKind[] = [...WIDE_KINDS];

export class ClusterExchange implements Exchange {
  readonly view: ClusterView;
  readonly tokenKey: Uint8Array;
  readonly venues: GatewayConfig['venues'];
  /** The shards' histories, each read once it holds what this gateway has heard of. */
  readonly history: ClusterHistory;
  #o: ClusterExchangeOptions;
  #batcher: CommandBatcher;
  #codecs: Codecs;
  /** This gateway's part of every command id it makes. */
  #id = randomBytes(6).toString('hex');
  #n = 0;
  #availability = new Availability('gateway');
  #lastRetryLog = 0;
  #feeds: Array<ReturnType<typeof consume>> = [];
  #accounts: KeyedFeed<AccountState>;
  #instruments: KeyedFeed<InstrumentRead>;
  #reads: ShardReads;
  #accountSubscribers: AccountSubscriber[] = [];
  #subscribers: ExchangeSubscriber[] = [];
  #published: Array<(seq: number, events: readonly PublishedEvent[]) => void> = [];
  #eventObjects: ReturnType<typeof eventObjectsOnce>;

  private constructor(
    o: ClusterExchangeOptions,
    reads: ShardReads,
    overviews: ShardOverview[],
    tokenKey: Uint8Array,
  ) {
    this.#o = o;
    this.tokenKey = tokenKey;
    this.venues = o.venues;
    this.#reads = reads;
    this.#eventObjects = eventObjectsOnce(jetstream(o.nc), o.topology);
    const keyed = { nc: o.nc, topology: o.topology, log: o.log, onError: (err: Error) => this.fail(err) };
    this.#accounts = new KeyedFeed({
      ...keyed,
      route: ACCOUNTS,
      shardsOf: () => Array.from({ length: o.topology.shards }, (_, shard) => shard),
      read: (shard, account) => reads.account(shard, account),
      deliver: (b) => {
        for (const { ref, events } of b.commands) {
          const id = commandRef(b.shard, b.seq, ref);
          for (const sub of this.#accountSubscribers) sub(b.seq, events, id, b.key);
        }
      },
    });
    this.#instruments = new KeyedFeed({
      ...keyed,
      route: INSTRUMENTS,
      shardsOf: (id) => [o.topology.shardOfVenue(venueOfId(id)) ?? 0],
      read: (shard, id) => reads.instrument(shard, id),
      deliver: (b) => {
        for (const { events } of b.commands) for (const sub of this.#published) sub(b.seq, events);
      },
    });
    this.view = new ClusterView(overviews, o.risk, {
      liveOrders: () => this.#accounts.liveOrders,
      heard: (shard) => this.#heard(shard),
    });
    this.#codecs = new Codecs(this.view);
    // Sent again for up to a minute: long enough for NATS to elect a new leader for the stream.
    this.#batcher = new CommandBatcher(new CommandBus(jetstream(o.nc), o.topology), {
      sender: this.#id,
      onRetry: (err) => this.#retrying(err),
      forMs: 60_000,
    });
    this.history = new ClusterHistory(o.nc, o.topology, (shard) => this.#heard(shard));
  }

  /** The last command message of `shard` this gateway heard of (its event stream, or the keyed subjects and heartbeats). */
  #heard(shard: number): number {
    return Math.max(this.view.seqOf(shard), this.#accounts.heard(shard), this.#instruments.heard(shard));
  }

  /**
   * Reads every shard's overview (asking again while one is not up yet, for up to a minute);
   * `start` then follows their event streams.
   */
  static async open(o: ClusterExchangeOptions): Promise<ClusterExchange> {
    const reads = new ShardReads(o.nc, o.topology);
    const overviews = await Promise.all(
      Array.from({ length: o.topology.shards }, (_, shard) => answered(() => reads.overview(shard), 60_000)),
    );
    return new ClusterExchange(o, reads, overviews, await sharedKey(o.nc, o.topology, 'rest-tokens'));
  }

  /**
   * Follows each shard's event stream from its overview on (its messages with events of
   * WIDE_KINDS: an ordered consumer of their subjects, which delivers every one of them in
   * order), into the view and to the subscribers.
   */
  start(): void {
    const js = jetstream(this.#o.nc);
    const { topology } = this.#o;
    for (let shard = 0; shard < topology.shards; shard++) {
      const stream = topology.eventStream(shard);
      let consumer: Consumer | null = null;
      const feed = consume({
        get: async () =>
          (consumer = await js.consumers.get(stream, {
            opt_start_seq: this.view.seqOf(shard) + 1,
            filter_subjects: topology.wideEventSubjects(shard),
          })),
        handle: (m) => this.#event(shard, stream, m),
        batch: 2_000,
        behind: async () => consumer !== null && (await consumer.info()).num_pending > 0,
        name: `shard ${shard}: event stream`,
        log: this.#o.log,
      });
      this.#feeds.push(feed);
      void feed.done.catch((err: Error) => this.fail(err));
    }
  }

  /** One command message's events (from the object store if they are there). */
  #event(shard: number, stream: string, m: StoredEvents): Promise<void> | undefined {
    if (m.seq <= this.view.seqOf(shard)) return undefined;
    return withEvents(m, this.#eventObjects, (whole) => this.#events(shard, stream, whole));
  }

  /** A command message's events: a listing not known yet is read from its shard first (its events wait). */
  #events(shard: number, stream: string, m: StoredEvents): Promise<void> | undefined {
    const commands = commandEventsOf(m, m.seq, `shard ${shard}: event ${m.seq} of ${stream}`, SHOWN);
    const listed: string[] = [];
    for (const c of commands) {
      const id = this.view.needs(c.events);
      if (id !== undefined) listed.push(id);
    }
    if (listed.length === 0) {
      this.#dispatch(shard, m.seq, commands);
      return undefined;
    }
    return Promise.all(listed.map((id) => this.#reads.instrument(shard, id))).then((reads) => {
      for (const r of reads) if (r.instrument !== null) this.view.list(r.instrument, r.assets);
      this.#dispatch(shard, m.seq, commands);
    });
  }

  #dispatch(shard: number, seq: number, commands: readonly CommandEvents[]): void {
    for (const { ref, events } of commands) {
      this.view.apply(shard, seq, events);
      const id = commandRef(shard, seq, ref);
      for (const sub of this.#subscribers) sub(seq, events, id);
      // Market data takes its listings from here (an instrument's book from its own subject).
      if (!events.some(isListing)) continue;
      const listings = events.filter(isListing);
      for (const sub of this.#published) sub(seq, listings);
    }
  }

  get risk(): boolean {
    return this.#o.risk;
  }

  openOrders(account: string): Promise<OrderView[]> {
    return unavailable(() => this.#reads.orders(account));
  }

  balances(account: string): Promise<BalanceView[]> {
    return unavailable(() => this.#reads.balances(account));
  }

  standing(account: string): Promise<AccountSeed['standing']> {
    return unavailable(() => this.#reads.standing(account));
  }

  /** A cluster takes no links yet: each identity is an account of its own. */
  readonly identities = null;

  /** Never known here: the shard finds a used id and refuses the order. */
  clientOrderIdUsed(): boolean {
    return false;
  }

  /** Never known here at once: Trading knows its accounts' orders from their events. */
  liveOrder(): undefined {
    return undefined;
  }

  async follow(account: string): Promise<AccountSeed> {
    const states = await unavailable(() => this.#accounts.follow(account));
    return {
      orders: states.flatMap((s) => s.orders),
      standing: states.flatMap((s) => s.standing),
      withdrawals: states.flatMap((s) => s.withdrawals),
    };
  }

  unfollow(account: string): void {
    this.#accounts.unfollow(account);
  }

  onAccountEvents(subscriber: AccountSubscriber): void {
    this.#accountSubscribers.push(subscriber);
  }

  get error(): Error | null {
    return this.#availability.error;
  }

  onFailure(handler: (err: Error) => void): void {
    this.#availability.onFailure(handler);
  }

  send(command: Unstamped, venue?: string): Submitted {
    this.#availability.check();
    const ref = `${this.#id}:${++this.#n}`;
    const shards = this.#shardsOf(command, venue);
    try {
      const seq = this.#batcher.send(shards[0]!, command, ref, venue).then((s) => s.seq);
      // A cancel-all over every instrument goes to each shard; the request is answered by the first.
      for (const shard of shards.slice(1)) {
        this.#batcher.send(shard, command, `${ref}/${shard}`).catch((err: Error) => {
          this.#o.log.warn(
            { ref, shard, err },
            `cancel-all ${ref} on shard ${shard} not confirmed: ${err.message}`,
          );
        });
      }
      return { ref, seq };
    } catch (err) {
      if (err instanceof CodecError) {
        throw makeError(`the command cannot be journaled: ${err.message}`, 'BAD_MESSAGE', {}, err);
      }
      throw err;
    }
  }

  /** Logs that commands are being sent again, once a second at most. */
  #retrying(err: Error): void {
    if (Date.now() - this.#lastRetryLog < 1_000) return;
    this.#lastRetryLog = Date.now();
    this.#o.log.warn(
      { err },
      `commands not confirmed yet (${err.message}); sending them again under the same ids`,
    );
  }

  /** The shards a command goes to. */
  #shardsOf(command: Unstamped, venue: string | undefined): number[] {
    const { topology } = this.#o;
    const shard =
      topology.shardOf(command) ?? (venue === undefined ? undefined : topology.shardOfVenue(venue));
    if (shard !== undefined) return [shard];
    if (command.type === 'cancel-all') return Array.from({ length: topology.shards }, (_, i) => i);
    throw makeError(`${command.type}: no shard owns what it names`, 'BAD_MESSAGE');
  }

  /** Every command's events of the SHOWN kinds from the shards' event streams (once `start`ed), in each shard's order. */
  onEvents(subscriber: ExchangeSubscriber): void {
    this.#subscribers.push(subscriber);
  }

  /** Books from their shards, each from its first use on (its instrument's subject, after a read of the book) until nobody watches it. */
  readonly market: MarketSource = {
    instruments: () => this.view.instruments(),
    instrument: (id) => this.view.instrument(id),
    followBook: async (id: string, seed: (book: BookSeed) => void): Promise<void> => {
      await unavailable(() =>
        this.#instruments.follow(id, ([r]) => {
          const inst = r!.instrument;
          if (inst === null) throw new Error(`${id} is not listed on shard ${r!.shard}`);
          seed({ seq: r!.seq, lastPrice: inst.lastPrice, bids: inst.bids, asks: inst.asks });
        }),
      );
    },
    unfollowBook: (id: string) => this.#instruments.unfollow(id),
  };

  /** Market data: listings from the event streams, and the events of the instruments followed (`market`). */
  onPublished(subscriber: (seq: number, events: readonly PublishedEvent[]) => void): void {
    this.#published.push(subscriber);
  }

  codec(instrument: string): InstrumentCodec | undefined {
    return this.#codecs.get(instrument);
  }

  canSee(venue: string, memberNames: readonly string[]): boolean {
    return canSeeVenue(this.venues, venue, memberNames);
  }

  pendingSettlements(): Array<{ tradeId: number; instrument: string }> {
    return this.view.pendingSettlements();
  }

  health(): Record<string, unknown> {
    return {
      nats: this.#o.connected() ? 'connected' : 'reconnecting',
      // What this gateway hears of: its sessions' accounts, its clients' instruments.
      following: { accounts: this.#accounts.size, instruments: this.#instruments.size },
      shards: Array.from({ length: this.#o.topology.shards }, (_, shard) => ({
        shard,
        commandSeq: this.#heard(shard),
      })),
    };
  }

  async close(): Promise<void> {
    if (!this.#availability.close()) return;
    await Promise.all([this.#accounts.close(), this.#instruments.close()]);
    for (const feed of this.#feeds) feed.stop();
    await Promise.allSettled(this.#feeds.map((feed) => feed.done));
  }

  /** Following a stream stopped: the gateway accepts nothing more (its process is to be restarted). */
  fail(err: Error): void {
    this.#availability.fail(err);
  }
}

const isListing = (e: PublishedEvent): boolean => e.kind === 'instrument';

/** A command's id as its sender gave it, or `<shard>:<seq>` for one sent without. */
function commandRef(shard: number, seq: number, ref: string | undefined): string {
  return ref ?? `${shard}:${seq}`;
}

/** A read of the shards, its failure (a shard not answering, or refusing) as the gateway's UNAVAILABLE. */
async function unavailable<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw makeError(`the shards cannot be read now: ${(err as Error).message}`, 'UNAVAILABLE', {}, err);
  }
}
