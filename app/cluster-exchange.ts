/**
 * The exchange as a cluster's gateway sees it: a follower of every engine shard's command stream
 * (so it reads books, orders and balances as the shards hold them, and answers requests with
 * their execution reports as they execute, even while a shard process is down), market data
 * from the shards' event streams, and commands sent to the shard that owns them over NATS under ids of this
 * gateway (`<gateway>:<n>`), which JetStream keeps as message ids: a command sent again after a
 * lost answer counts once. The gateway holds nothing of its own: a restart follows the shards
 * again from their snapshots.
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AccountFeed,
  type ClusterConfig,
  ClusterHistory,
  CommandBus,
  consume,
  eventsOf,
  ShardedView,
  ShardFollower,
  ShardReads,
  type Topology,
} from '../cluster/index.ts';
import type { BalanceView, OrderView, PendingSettlementView, Unstamped } from '../engine/index.ts';
import { CodecError, type PublishedEvent } from '../journal/index.ts';
import {
  type AccountSeed,
  type AccountSubscriber,
  canSeeVenue,
  Codecs,
  type Exchange,
  type ExchangeSubscriber,
  type GatewayConfig,
  type InstrumentCodec,
  makeError,
  type Submitted,
} from '../gateway/index.ts';
import { Availability } from './availability.ts';
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

export class ClusterExchange implements Exchange {
  readonly engine: ShardedView;
  readonly venues: GatewayConfig['venues'];
  readonly followers: readonly ShardFollower[];
  /** The shards' histories, each read once it holds what this gateway's followers executed. */
  readonly history: ClusterHistory;
  #o: ClusterExchangeOptions;
  #bus: CommandBus;
  #codecs: Codecs;
  /** This gateway's part of every command id it makes. */
  #id = randomBytes(6).toString('hex');
  #n = 0;
  #availability = new Availability('gateway');
  #lastRetryLog = 0;
  #feeds: Array<ReturnType<typeof consume>> = [];
  #accounts: AccountFeed;
  #reads: ShardReads;
  #accountSubscribers: AccountSubscriber[] = [];

  private constructor(o: ClusterExchangeOptions, followers: ShardFollower[]) {
    this.#o = o;
    this.venues = o.venues;
    this.followers = followers;
    this.engine = new ShardedView(
      followers.map((f) => f.engine),
      o.topology,
    );
    this.#codecs = new Codecs(this.engine);
    this.#bus = new CommandBus(jetstream(o.nc), o.topology);
    this.history = new ClusterHistory(o.nc, o.topology, (shard) => followers[shard]?.seq ?? 0);
    this.#reads = new ShardReads(o.nc, o.topology);
    this.#accounts = new AccountFeed({
      nc: o.nc,
      topology: o.topology,
      reads: this.#reads,
      log: o.log,
      deliver: (b) => {
        const ref = b.ref ?? `${b.shard}:${b.seq}`;
        for (const sub of this.#accountSubscribers) sub(b.seq, b.events, ref, b.account);
      },
      onError: (err) => this.fail(err),
    });
  }

  /** Account messages received from the shards: those of the accounts followed here only. */
  get accountMessages(): number {
    return this.#accounts.received;
  }

  get risk(): boolean {
    return this.#o.risk;
  }

  openOrders(account: string): Promise<OrderView[]> {
    return this.#reads.orders(account);
  }

  balances(account: string): Promise<BalanceView[]> {
    return this.#reads.balances(account);
  }

  /** Never known here: the shard finds a used id and refuses the order. */
  clientOrderIdUsed(): boolean {
    return false;
  }

  /** Never known here at once: Trading knows its accounts' orders from their events. */
  liveOrder(): undefined {
    return undefined;
  }

  async follow(account: string): Promise<AccountSeed> {
    const states = await this.#accounts.follow(account);
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

  /** Follows every shard up to the end of its stream. */
  static async open(o: ClusterExchangeOptions): Promise<ClusterExchange> {
    const failed: { exchange: ClusterExchange | null } = { exchange: null };
    const followers: ShardFollower[] = [];
    for (let shard = 0; shard < o.topology.shards; shard++) {
      followers.push(
        await ShardFollower.open({
          nc: o.nc,
          topology: o.topology,
          shard,
          risk: o.risk,
          replicas: o.cluster.replicas,
          log: o.log,
          onError: (err) => failed.exchange?.fail(err),
        }),
      );
    }
    const exchange = new ClusterExchange(o, followers);
    failed.exchange = exchange;
    for (const f of followers) f.start();
    await Promise.all(followers.map((f) => f.caughtUp()));
    return exchange;
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
      // A cancel-all over every instrument goes to each shard; the request is answered by the first.
      for (const shard of shards.slice(1)) {
        this.#bus.sendSurely(shard, command, `${ref}/${shard}`).catch((err: Error) => {
          this.#o.log.warn(
            { ref, shard, err },
            `cancel-all ${ref} on shard ${shard} not confirmed: ${err.message}`,
          );
        });
      }
      const retry = (err: Error) => this.#retrying(err);
      // Sent again for up to a minute: long enough for NATS to elect a new leader for the stream.
      return { ref, seq: this.#bus.sendSurely(shards[0]!, command, ref, retry, 60_000).then((s) => s.seq) };
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

  onEvents(subscriber: ExchangeSubscriber): void {
    for (const f of this.followers) {
      f.onEvents((seq, events, msgId) => subscriber(seq, events, msgId ?? `${f.shard}:${seq}`));
    }
  }

  /**
   * Market data from each shard's event stream, from the commands the followers have executed
   * now on (the feed's books start from their state): what the shards published, as they
   * publish it.
   */
  onPublished(subscriber: (seq: number, events: readonly PublishedEvent[]) => void): void {
    const js = jetstream(this.#o.nc);
    for (const f of this.followers) {
      let seq = f.seq;
      const stream = this.#o.topology.eventStream(f.shard);
      this.#feeds.push(
        consume({
          get: () => js.consumers.get(stream, { opt_start_seq: seq + 1 }),
          handle: (m) => {
            if (m.seq !== seq + 1) throw new Error(`shard ${f.shard}: event ${m.seq} came after ${seq}`);
            seq = m.seq;
            subscriber(m.seq, eventsOf(m, `shard ${f.shard}: event ${m.seq} of ${stream}`));
          },
          batch: 2_000,
          behind: async () => {
            const jsm = await jetstreamManager(this.#o.nc);
            return (await jsm.streams.info(stream)).state.last_seq > seq;
          },
          name: `shard ${f.shard}: event stream`,
          log: this.#o.log,
        }),
      );
      void this.#feeds.at(-1)!.done.catch((err: Error) => this.fail(err));
    }
  }

  codec(instrument: string): InstrumentCodec | undefined {
    return this.#codecs.get(instrument);
  }

  canSee(venue: string, memberNames: readonly string[]): boolean {
    return canSeeVenue(this.venues, venue, memberNames);
  }

  pendingSettlements(): readonly PendingSettlementView[] {
    return this.engine.pendingSettlements();
  }

  health(): Record<string, unknown> {
    return {
      nats: this.#o.connected() ? 'connected' : 'reconnecting',
      shards: this.followers.map((f) => ({ shard: f.shard, commandSeq: f.seq })),
    };
  }

  async close(): Promise<void> {
    if (!this.#availability.close()) return;
    await this.#accounts.close();
    for (const feed of this.#feeds) feed.stop();
    await Promise.allSettled(this.#feeds.map((feed) => feed.done));
    for (const f of this.followers) await f.close();
  }

  /** A follower stopped: the gateway accepts nothing more (its process is to be restarted). */
  fail(err: Error): void {
    this.#availability.fail(err);
  }
}
