/**
 * A gateway's side of the keyed subjects (keyed.ts): the events of the keys it follows (the
 * accounts of its own sessions, the instruments its clients watch), from their shards, in each
 * shard's command order, each command's once (told apart by the sequence of the command message
 * each came in, which the commands sent together share, and which come together). Following a
 * key subscribes to its subjects, then asks each of its shards for the key's state (reads.ts):
 * events up to the command message the answer names are in it, the ones after it are
 * delivered. The messages are plain NATS messages: when the connection comes back after a break
 * (a NATS node died), what a shard published meanwhile is read again from its event stream,
 * from the last command the gateway had heard of (its heartbeats keep that current) up to the
 * one its first heartbeat after the break names; messages arriving meanwhile wait, then go out
 * in order, those already delivered skipped (and if the connection breaks again meanwhile, the
 * reading goes on to the heartbeat after that).
 */
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../common/index.ts';
import { FormatVersionError, type PublishedEvent } from '../journal/index.ts';
import { KEYED_FORMAT, type Route } from './keyed.ts';
import { eventObjectsOnce, type StoredEvents, TOO_LARGE_HEADER, withEvents } from './large-events.ts';
import { consume } from './consume.ts';
import { jetStreamReady } from './nats.ts';
import type { Topology } from './topology.ts';
import { type CommandEvents, commandEventsOf, decodeCommandEvents, FORMAT_HEADER } from './wire-format.ts';

/** The events of one command message that concern one key. */
export interface KeyedBatch {
  shard: number;
  /** The message's sequence on its shard's command stream. */
  seq: number;
  key: string;
  /** Its commands that concern the key: each one's id (its sender's, when it had one) and events. */
  commands: Array<{ ref: string | undefined; events: PublishedEvent[] }>;
}

/** A key's state on one shard, as of its command message `seq`. */
export interface KeyState {
  shard: number;
  seq: number;
}

export interface KeyedFeedOptions<S extends KeyState> {
  nc: NatsConnection;
  topology: Topology;
  /** Accounts or instruments. */
  route: Route;
  /** The shards a key's events come from. */
  shardsOf: (key: string) => number[];
  /** Asks a shard for a key's state. */
  read: (shard: number, key: string) => Promise<S>;
  log: Logger;
  /** Takes each key's events, in each shard's order. */
  deliver: (batch: KeyedBatch) => void;
  /** Reading an event stream again stopped on an error it cannot get past. */
  onError: (err: Error) => void;
}

interface Followed {
  key: string;
  subs: Subscription[];
  /** Per shard of the key, the last command delivered (first the one the state names); undefined until the state came. */
  last: Map<number, number | undefined>;
  /** What came before the state. */
  early: KeyedBatch[];
}

export class KeyedFeed<S extends KeyState> {
  #o: KeyedFeedOptions<S>;
  #followed = new Map<string, Followed>();
  /** Per shard: every message up to this command has come (or been read again). */
  #heard: number[];
  /** Per shard, while its messages are read again: the live ones, held. */
  #held: Array<KeyedBatch[] | null>;
  /** Per shard, while waiting for its first heartbeat after a break: who waits. */
  #beatWaiters: Array<((seq: number) => void) | null>;
  /** Per shard, whether the connection broke again while its messages were read again. */
  #again: boolean[];
  /** Per shard, its live orders as its last heartbeat said. */
  #liveOrders: number[];
  #beats: Subscription;
  #readers: Array<ReturnType<typeof consume>> = [];
  #closed = false;
  /** Messages received (only the followed keys' come: the tests count them). */
  received = 0;

  constructor(o: KeyedFeedOptions<S>) {
    this.#o = o;
    const n = o.topology.shards;
    this.#heard = new Array<number>(n).fill(0);
    this.#held = new Array<KeyedBatch[] | null>(n).fill(null);
    this.#beatWaiters = new Array<((seq: number) => void) | null>(n).fill(null);
    this.#liveOrders = new Array<number>(n).fill(0);
    this.#again = new Array<boolean>(n).fill(false);
    this.#beats = o.nc.subscribe(o.topology.beatSubject('*'), {
      callback: (err, msg) => {
        if (err === null) this.#beat(msg);
      },
    });
    void this.#watch();
  }

  /** The shards' live orders, as their last heartbeats said. */
  get liveOrders(): number {
    return this.#liveOrders.reduce((n, x) => n + x, 0);
  }

  /** The last command of `shard` the gateway has heard of (every message up to it came). */
  heard(shard: number): number {
    return this.#heard[shard] ?? 0;
  }

  /**
   * Starts following a key (not followed yet): resolves with its state on each of its shards,
   * the events after which are delivered from then on (`seeded` takes the states first, before
   * any of them).
   */
  async follow(key: string, seeded?: (states: S[]) => void): Promise<S[]> {
    const { nc, topology, route, read } = this.#o;
    const shards = this.#o.shardsOf(key);
    const f: Followed = { key, subs: [], last: new Map(shards.map((s) => [s, undefined])), early: [] };
    this.#followed.set(key, f);
    for (const shard of shards) {
      f.subs.push(
        nc.subscribe(route.subject(topology, shard, key), {
          callback: (err, msg) => {
            if (err === null) this.#message(f, shard, msg);
          },
        }),
      );
    }
    try {
      // The subscriptions are in place before any shard is asked: what it executes after answering reaches them.
      await nc.flush();
      const states = await Promise.all(shards.map((s) => read(s, key)));
      if (this.#followed.get(key) !== f) return states;
      for (const s of states) f.last.set(s.shard, s.seq);
      seeded?.(states);
      const early = f.early.splice(0);
      for (const b of early) this.#offer(f, b);
      return states;
    } catch (err) {
      this.unfollow(key);
      throw err;
    }
  }

  /** How many keys are followed. */
  get size(): number {
    return this.#followed.size;
  }

  /** Stops following a key. */
  unfollow(key: string): void {
    const f = this.#followed.get(key);
    if (f === undefined) return;
    this.#followed.delete(key);
    for (const s of f.subs) s.unsubscribe();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#beats.unsubscribe();
    for (const key of [...this.#followed.keys()]) this.unfollow(key);
    for (const r of this.#readers) r.stop();
    await Promise.allSettled(this.#readers.map((r) => r.done));
  }

  #message(f: Followed, shard: number, msg: Msg): void {
    if (this.#followed.get(f.key) !== f) return;
    this.received++;
    const version = msg.headers?.get(FORMAT_HEADER);
    if (version !== String(KEYED_FORMAT) && version !== '1') {
      // A shard of another release: what it says cannot be read; the event stream still can.
      this.#o.onError(
        new FormatVersionError(
          `shard ${shard}: an ${this.#o.route.what} message in format version ${version || 'none'}; this release reads versions 1 and ${KEYED_FORMAT}: upgrade the gateway`,
        ),
      );
      return;
    }
    const tooLarge = msg.headers?.get(TOO_LARGE_HEADER);
    if (tooLarge) {
      // Its events are read from the event stream, with what came before them: the ones after wait.
      const seq = Number(tooLarge);
      if (this.#held[shard] !== null) this.#again[shard] = true;
      else this.#catchUp(shard, seq).catch((err: Error) => this.#o.onError(err));
      return;
    }
    let commands: CommandEvents[];
    try {
      commands = decodeCommandEvents(msg.data);
    } catch (err) {
      this.#o.onError(err as Error);
      return;
    }
    const held = this.#held[shard]!;
    // The commands of one command message come together: one batch each message.
    const batches: KeyedBatch[] = [];
    for (const { seq, ref, events } of commands) {
      if (batches.at(-1)?.seq !== seq) batches.push({ shard, seq, key: f.key, commands: [] });
      batches.at(-1)!.commands.push({ ref, events });
    }
    for (const batch of batches) {
      if (held !== null) held.push(batch);
      else {
        if (batch.seq > this.#heard[shard]!) this.#heard[shard] = batch.seq;
        this.#offer(f, batch);
      }
    }
  }

  #offer(f: Followed, b: KeyedBatch): void {
    const last = f.last.get(b.shard);
    if (last === undefined) f.early.push(b);
    else if (b.seq > last) {
      f.last.set(b.shard, b.seq);
      this.#o.deliver(b);
    }
  }

  #beat(msg: Msg): void {
    const shard = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    const [seq, live] = msg.string().split(' ').map(Number) as [number, number | undefined];
    if (!(shard >= 0 && shard < this.#heard.length) || !Number.isSafeInteger(seq)) return;
    if (live !== undefined && Number.isSafeInteger(live)) this.#liveOrders[shard] = live;
    const waiter = this.#beatWaiters[shard]!;
    if (waiter !== null) {
      this.#beatWaiters[shard] = null;
      waiter(seq);
    }
    if (this.#held[shard] === null && seq > this.#heard[shard]!) this.#heard[shard] = seq;
  }

  /** Reads again what each shard published while the connection was down, after each reconnection. */
  async #watch(): Promise<void> {
    for await (const s of this.#o.nc.status()) {
      if (this.#closed) return;
      if (s.type !== 'reconnect') continue;
      for (let shard = 0; shard < this.#heard.length; shard++) {
        // Already reading again: what it holds may have a gap now, so it reads again to the next heartbeat.
        if (this.#held[shard] !== null) this.#again[shard] = true;
        else this.#catchUp(shard).catch((err: Error) => this.#o.onError(err));
      }
    }
  }

  /** Reads `shard`'s messages again up to `to` (a message too large to come), or to its next heartbeat. */
  async #catchUp(shard: number, to?: number): Promise<void> {
    for (;;) {
      const held: KeyedBatch[] = [];
      this.#held[shard] = held;
      // Every command up to the one the first heartbeat names had its messages sent before it.
      const until = to ?? (await new Promise<number>((resolve) => (this.#beatWaiters[shard] = resolve)));
      // A message too large to come is read even if others of its command message came (heard).
      const from = Math.min(this.#heard[shard]! + 1, to ?? Infinity);
      to = undefined;
      if (from <= until && this.#followed.size > 0) await this.#readAgain(shard, from, until);
      if (this.#again[shard]) {
        // The connection broke again meanwhile: what came live since may have a gap; the stream has it all.
        this.#again[shard] = false;
        continue;
      }
      this.#held[shard] = null;
      if (until > this.#heard[shard]!) this.#heard[shard] = until;
      for (const b of held) {
        if (b.seq > this.#heard[shard]!) this.#heard[shard] = b.seq;
        const f = this.#followed.get(b.key);
        if (f !== undefined) this.#offer(f, b);
      }
      return;
    }
  }

  /** Offers the followed keys' events of `shard`'s commands `from` to `until`, from its event stream. */
  async #readAgain(shard: number, from: number, until: number): Promise<void> {
    let next = from;
    this.#o.log.info(
      `shard ${shard}: reading commands ${next} to ${until} again for the ${this.#o.route.what}s followed here`,
    );
    const { nc, topology } = this.#o;
    const js = jetstream(nc);
    const stream = topology.eventStream(shard);
    let reader: ReturnType<typeof consume> | null = null;
    const objects = eventObjectsOnce(js, topology);
    const handle = (msg: JsMsg) => withEvents(msg, objects, take);
    const take = (m: StoredEvents) => {
      const batches = new Map<string, KeyedBatch>();
      for (const { ref, events } of commandEventsOf(
        m,
        m.seq,
        `shard ${shard}: event ${m.seq} of ${stream}`,
      )) {
        this.#o.route.split(
          events,
          (key, list) => {
            let b = batches.get(key);
            if (b === undefined) batches.set(key, (b = { shard, seq: m.seq, key, commands: [] }));
            b.commands.push({ ref, events: list });
          },
          (key) => this.#followed.has(key),
        );
      }
      for (const b of batches.values()) this.#offer(this.#followed.get(b.key)!, b);
      next = m.seq + 1;
      if (m.seq >= until) reader!.stop();
    };
    reader = consume({
      get: () => js.consumers.get(stream, { opt_start_seq: next }),
      handle,
      batch: 1_000,
      behind: async () => (await (await jetStreamReady(nc)).streams.info(stream)).state.last_seq >= next,
      name: `shard ${shard}: ${this.#o.route.what} events read again`,
      log: this.#o.log,
    });
    this.#readers.push(reader);
    try {
      await reader.done;
    } finally {
      this.#readers.splice(this.#readers.indexOf(reader), 1);
    }
  }
}
