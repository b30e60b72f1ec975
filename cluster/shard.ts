/**
 * An engine shard: the follower of its command stream that also publishes. Each command
 * message's events (each of its commands', with its id) go to the shard's event stream as one
 * message whose stream sequence is the command message's (the publish expects the previous
 * sequence, so two instances of a shard cannot interleave, and both compute the same events
 * anyway). Every `snapshotEvery` command messages, once their events are
 * published, the engine's state goes to the snapshot bucket and commands before the previous
 * snapshot are purged. When no command has come for `tickMs`, it sends itself a tick (GTD
 * expiry), once per quiet spell even with two instances running.
 */
import { type JetStreamClient, type JetStreamManager, jetstream } from '@nats-io/jetstream';
import type { ObjectStore } from '@nats-io/obj';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { type Logger, retry } from '../common/index.ts';
import { makeError } from './errors.ts';
import type { BookKind } from '../engine/index.ts';
import { KeyedPublisher } from './keyed.ts';
import { eventObjects, INLINE_EVENTS_MAX, OBJECT_HEADER, putEvents } from './large-events.ts';
import { CommandBus } from './bus.ts';
import type { ClusterConfig } from './config.ts';
import { ShardFollower } from './follower.ts';
import { ShardHistory } from './history.ts';
import { answered, jetStreamReady, saveSnapshot, snapshotStore } from './nats.ts';
import { serveReads } from './reads.ts';
import { type Topology, venueOfId, WIDE_KINDS } from './topology.ts';
import { type CommandEvents, encodeCommandEvents, EVENTS_FORMAT, formatHeaders } from './wire-format.ts';

export interface ShardOptions {
  nc: NatsConnection;
  topology: Topology;
  config: Pick<ClusterConfig, 'replicas' | 'snapshotEvery' | 'tickMs'>;
  shard: number;
  risk: boolean;
  book?: BookKind;
  log: Logger;
  /** The shard stopped on an error it cannot get past: the process should exit and be restarted. */
  onError: (err: Error) => void;
  /** Where it keeps the history of its venues (none kept without). */
  historyDir?: string;
}

export interface ShardStats {
  seq: number;
  /** Last command whose events the event stream holds. */
  published: number;
  snapshotSeq: number;
  snapshots: number;
  ticks: number;
}

/** Event publishes in flight at most before the shard waits for JetStream. */
const WINDOW = 1_000;

export class Shard {
  readonly follower: ShardFollower;
  /** The history of its venues, answering the gateways' reads. */
  history: ShardHistory | null = null;
  #o: ShardOptions;
  #js: JetStreamClient;
  #jsm: JetStreamManager;
  #store: ObjectStore;
  /** Where the events of a command message too large for NATS go (large-events.ts). */
  #events: ObjectStore;
  #bus: CommandBus;
  #keyed: KeyedPublisher;
  #reads: Subscription;
  #published: number;
  #inflight: Array<Promise<void>> = [];
  #snapshotSeq: number;
  #snapshotting: Promise<void> | null = null;
  #snapshots = 0;
  #ticks = 0;
  #ticker: NodeJS.Timeout | null = null;
  #ticking = false;
  #tickLogged = 0;
  /** Ends the publishes' retries at close. */
  #stop = new AbortController();
  /** The last publish started (settled either way): a retry waits for it. */
  #last: Promise<void> = Promise.resolve();

  private constructor(
    o: ShardOptions,
    follower: ShardFollower,
    jsm: JetStreamManager,
    store: ObjectStore,
    events: ObjectStore,
    published: number,
  ) {
    this.#o = o;
    this.follower = follower;
    this.#js = jetstream(o.nc);
    this.#jsm = jsm;
    this.#store = store;
    this.#events = events;
    this.#bus = new CommandBus(this.#js, o.topology);
    this.#published = published;
    this.#snapshotSeq = follower.snapshotSeq;
    this.#keyed = new KeyedPublisher(o.nc, o.topology, o.shard, () => follower.engine.liveOrders);
    // Commands whose events are stored had their account and market-data messages sent by an earlier instance, and
    // are not sent again: the heartbeat names them from the start (a gateway that missed some reads
    // them from the event stream), not only once the replay reaches them.
    this.#keyed.sentBefore(published);
    this.#reads = serveReads(o.nc, o.topology, o.shard, follower);
    follower.onEvents((seq, commands) => this.#onCommand(seq, commands));
  }

  /** Recovers the shard (its snapshot, then the stream after it) and starts it. */
  static async start(o: ShardOptions): Promise<Shard> {
    const follower = await ShardFollower.open({
      nc: o.nc,
      topology: o.topology,
      shard: o.shard,
      risk: o.risk,
      replicas: o.config.replicas,
      log: o.log,
      onError: o.onError,
      ...(o.book === undefined ? {} : { book: o.book }),
    });
    const jsm = await jetStreamReady(o.nc);
    const published = (await answered(() => jsm.streams.info(o.topology.eventStream(o.shard)))).state
      .last_seq;
    if (published < follower.snapshotSeq) {
      throw makeError(
        `shard ${o.shard}: the event stream ends at ${published}, before the snapshot's ${follower.snapshotSeq}`,
        'STREAM_GAP',
        { shard: o.shard },
      );
    }
    const store = await snapshotStore(jetstream(o.nc), o.topology, o.config.replicas);
    const events = await eventObjects(jetstream(o.nc), o.topology, o.config.replicas);
    const shard = new Shard(o, follower, jsm, store, events, published);
    if (o.historyDir !== undefined) {
      const { nc, topology, log, onError } = o;
      shard.history = ShardHistory.start({
        published,
        nc,
        topology,
        shard: o.shard,
        dir: o.historyDir,
        log,
        onError,
      });
    }
    o.log.info(
      `shard ${o.shard}: snapshot at ${follower.snapshotSeq}, events published to ${published}; following ${o.topology.commandStream(o.shard)}`,
    );
    follower.start();
    if (o.config.tickMs > 0) {
      shard.#ticker = setInterval(() => shard.#tick(), Math.max(10, o.config.tickMs / 4));
      shard.#ticker.unref();
    }
    return shard;
  }

  get stats(): ShardStats {
    return {
      seq: this.follower.seq,
      published: this.#published,
      snapshotSeq: this.#snapshotSeq,
      snapshots: this.#snapshots,
      ticks: this.#ticks,
    };
  }

  /** Stops following, waits for the events in flight and any snapshot being stored. */
  async close(): Promise<void> {
    this.#stop.abort();
    if (this.#ticker) clearInterval(this.#ticker);
    this.#reads.unsubscribe();
    await this.follower.close();
    this.#keyed.close();
    await Promise.allSettled(this.#inflight);
    await this.#snapshotting;
    await this.history?.close();
  }

  #onCommand(seq: number, commands: CommandEvents[]): Promise<void> | undefined {
    if (seq > this.#published) {
      // Each account's events and each instrument's market data first (the fast path to its gateways), then the stored message.
      for (const c of commands) this.#keyed.publish(seq, c.ref, c.events);
      this.#inflight.push(this.#publish(seq, commands));
    } else {
      this.#keyed.sentBefore(seq);
    }
    if (seq - this.#snapshotSeq >= this.#o.config.snapshotEvery && this.#snapshotting === null) {
      this.#snapshotting = this.#snapshot().finally(() => {
        this.#snapshotting = null;
      });
    }
    if (this.#inflight.length >= WINDOW) {
      const done = this.#inflight;
      this.#inflight = [];
      return Promise.all(done).then(() => {});
    }
    return undefined;
  }

  /**
   * Publishes command message `seq`'s events as the event stream's message `seq`, trying again
   * until the stream has it (NATS may be electing a leader, or reconnecting): the shard cannot go
   * past a command whose events are not out, and the window of publishes in flight holds it
   * back. A try after a failure waits for the message before it, so that the stream's sequence
   * check passes.
   */
  #publish(seq: number, commands: CommandEvents[]): Promise<void> {
    const { topology, shard } = this.#o;
    // The venue the commands concern (those sent together concern one): the first instrument's, or withdrawal's asset's.
    let named: CommandEvents['events'][number] | undefined;
    for (const c of commands) {
      named = c.events.find((e) => e.instrument !== '' || e.kind === 'withdrawal');
      if (named !== undefined) break;
    }
    const id = named?.kind === 'withdrawal' ? named.instrument || named.asset : named?.instrument;
    const venue = id === undefined ? undefined : venueOfId(id);
    const wide = commands.some((c) => c.events.some((e) => WIDE_KINDS.has(e.kind)));
    const subject = topology.eventSubject(shard, venue, wide);
    const { data, batch } = encodeCommandEvents(commands);
    const before = this.#last;
    let lastLog = 0;
    const attempt = async (n: number): Promise<void> => {
      if (n > 1) {
        // Another instance of the shard may have published it: the same events, already there.
        if (await this.#hasEvent(seq)) return;
        await before;
      }
      const headers = formatHeaders(EVENTS_FORMAT);
      let payload: Uint8Array = data;
      if (data.length > INLINE_EVENTS_MAX) {
        headers.set(OBJECT_HEADER, await putEvents(this.#events, shard, seq, data));
        payload = new Uint8Array(0);
      }
      const ack = await this.#js.publish(subject, payload, {
        msgID: String(seq),
        headers,
        expect: { lastSequence: seq - 1 },
      });
      if (ack.seq !== seq)
        throw makeError(`the event stream put command ${seq}'s events at ${ack.seq}`, 'OUT_OF_STEP', {
          shard,
          seq,
          at: ack.seq,
        });
    };
    const done = retry(attempt, {
      initialMs: 100,
      capMs: 2_000,
      signal: this.#stop.signal,
      // Whatever the failure, the shard cannot go past this command: it tries until it closes.
      isRetryable: () => true,
      onRetry: (err) => {
        if (Date.now() - lastLog <= 10_000) return;
        lastLog = Date.now();
        this.#o.log.warn(
          `shard ${shard}: events of command ${seq} not published yet (${(err as Error).message}); trying again`,
        );
      },
    }).then(() => {
      if (seq > this.#published) this.#published = seq;
      this.history?.published(seq, batch);
    });
    this.#last = done.catch(() => {});
    return done;
  }

  async #hasEvent(seq: number): Promise<boolean> {
    try {
      return (
        (await this.#jsm.streams.getMessage(this.#o.topology.eventStream(this.#o.shard), { seq })) !== null
      );
    } catch {
      return false;
    }
  }

  /** Stores the state as of now, once its events are published; then purges what it supersedes. */
  async #snapshot(): Promise<void> {
    const engine = this.follower.engine;
    const seq = this.follower.seq;
    const snapshot = {
      commandSeq: engine.commandSeq,
      state: engine.snapshot(),
      stateHash: engine.stateHash(),
    };
    await Promise.allSettled(this.#inflight);
    if (this.#published < seq) return;
    const previous = this.#snapshotSeq;
    try {
      await saveSnapshot(this.#store, this.#o.topology, this.#o.shard, seq, snapshot);
      this.#snapshotSeq = seq;
      this.#snapshots++;
      // Followers still replaying from the previous snapshot need the commands after it.
      if (previous > 0) {
        await this.#jsm.streams.purge(this.#o.topology.commandStream(this.#o.shard), { seq: previous + 1 });
      }
      this.#o.log.info(`shard ${this.#o.shard}: snapshot at ${seq} stored`);
    } catch (err) {
      this.#o.log.warn(`shard ${this.#o.shard}: snapshot at ${seq} not stored: ${(err as Error).message}`);
    }
  }

  /** A tick after a quiet spell, at most one per command seen (its id dedupes across instances). */
  #tick(): void {
    const f = this.follower;
    if (this.#ticking || Date.now() - f.lastCommandAt < this.#o.config.tickMs) return;
    this.#ticking = true;
    this.#bus
      .send(this.#o.shard, { type: 'tick' }, `tick:${f.seq}`)
      .then(
        (sent) => {
          if (!sent.duplicate) this.#ticks++;
        },
        (err: Error) => {
          if (Date.now() - this.#tickLogged < 10_000) return;
          this.#tickLogged = Date.now();
          this.#o.log.warn(`shard ${this.#o.shard}: tick not sent: ${err.message}`);
        },
      )
      .finally(() => {
        this.#ticking = false;
      });
  }
}
