/**
 * Each account's events, and each instrument's market data, on subjects of their own: a shard
 * publishes the events that concern an account (its orders, its fills, its balances, standing
 * and withdrawals) on `<name>.acct.<shard>.<account token>`, and those that change an
 * instrument's market data (its book's levels, best prices, trades) on
 * `<name>.md.<shard>.<instrument token>`, so that a gateway subscribes for the accounts of its
 * own sessions and the instruments its clients watch, and receives nothing of the others'. The
 * commands a shard takes in one go (one read from its socket) make one message per account and
 * per instrument they concern, laid out as event messages are (wire-format.ts: the commands'
 * ids, then their events, each command under the sequence of the command message it came in,
 * which the commands sent together share), format KEYED_FORMAT in the `Mosaic-Format` header.
 * The messages are plain NATS messages, sent as the commands execute (before their events are
 * stored): they are the fast path. A gateway that may have missed some (it reconnected, or it
 * was a slow consumer) reads them again from the event stream, which holds every command
 * message's events at its sequence (see KeyedFeed). A heartbeat per shard (`<name>.beat.<shard>`:
 * the last command message whose messages went out, and the shard's live orders) tells a
 * gateway how far it has heard everything.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { headers } from '@nats-io/transport-node';
import { eachAccount, eachInstrument } from '../engine/index.ts';
import type { PublishedEvent } from '../journal/index.ts';
import { TOO_LARGE_HEADER } from './large-events.ts';
import type { Topology } from './topology.ts';
import { type CommandEvents, encodeCommandEvents, FORMAT_HEADER } from './wire-format.ts';

/**
 * The format version of account and market-data messages: 2 since the commands of one message
 * share its sequence (version 1, of account messages only, had one command per sequence: the
 * layout is the same, read either way; a release that reads version 1 only would take the second
 * command of a message for a repeat).
 */
export const KEYED_FORMAT = 2;

/** An account or instrument as one subject token: its UTF-8 bytes in base64url (no '.', '*', '>' or space). */
export function keyToken(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** A kind of key that has subjects of its own: where its messages go, and which events are whose. */
export interface Route {
  /** What a key names, for messages and logs. */
  what: string;
  subject(topology: Topology, shard: number, key: string): string;
  split(
    events: readonly PublishedEvent[],
    take: (key: string, events: PublishedEvent[]) => void,
    wanted?: (key: string) => boolean,
  ): void;
}

export const ACCOUNTS: Route = {
  what: 'account',
  subject: (topology, shard, account) => topology.accountSubject(shard, keyToken(account)),
  split: eachAccount,
};

export const INSTRUMENTS: Route = {
  what: 'instrument',
  subject: (topology, shard, instrument) => topology.marketSubject(shard, keyToken(instrument)),
  split: eachInstrument,
};

const ROUTES = [ACCOUNTS, INSTRUMENTS];

/** How often a shard says how far it has published, in ms. */
const BEAT_MS = 100;

/** A shard's side: publishes each command's events per account and per instrument, and its heartbeat. */
export class KeyedPublisher {
  #nc: NatsConnection;
  #topology: Topology;
  #shard: number;
  /** Per route, each key's subject. */
  #subjects: Array<Map<string, string>>;
  #last = 0;
  #timer: NodeJS.Timeout;
  /** Per subject, the commands taken since the last flush. */
  #pending = new Map<string, CommandEvents[]>();
  /** The command `publish` is taking. */
  #taking: { seq: number; ref: string | undefined } = { seq: 0, ref: undefined };
  #liveOrders: () => number;

  /** `liveOrders`: the shard's live orders now, said in each heartbeat. */
  constructor(nc: NatsConnection, topology: Topology, shard: number, liveOrders: () => number) {
    this.#nc = nc;
    this.#topology = topology;
    this.#shard = shard;
    this.#liveOrders = liveOrders;
    this.#subjects = ROUTES.map(() => new Map());
    this.#timer = setInterval(() => this.#beat(), BEAT_MS);
    this.#timer.unref();
  }

  /**
   * Takes the events of a command of message `seq` (sent under command id `ref`) for each
   * account and instrument they concern; called for every command executed, so that the
   * heartbeat names its message even when it concerned none. The commands taken in one go leave
   * as one message per subject, once the current task is done (before the client's own flush of
   * what the shard published for them).
   */
  publish(seq: number, ref: string | undefined, events: readonly PublishedEvent[]): void {
    this.#taking = { seq, ref };
    for (let r = 0; r < ROUTES.length; r++) ROUTES[r]!.split(events, this.#takers[r]!);
    this.#last = seq;
  }

  /** Per route, what takes a key's events of the command being published (made once, not per command). */
  readonly #takers = ROUTES.map((_, r) => (key: string, events: PublishedEvent[]) => {
    if (this.#pending.size === 0) queueMicrotask(this.#flush);
    const subject = this.#subject(r, key);
    let commands = this.#pending.get(subject);
    if (commands === undefined) this.#pending.set(subject, (commands = []));
    commands.push({ seq: this.#taking.seq, ref: this.#taking.ref, events });
  });

  readonly #flush = (): void => {
    // Room for the headers within the largest message the server takes.
    const max = (this.#nc.info?.max_payload ?? 1024 * 1024) - 64 * 1024;
    for (const [subject, commands] of this.#pending) {
      const { data } = encodeCommandEvents(commands);
      if (data.length <= max) {
        this.#send(subject, data);
        continue;
      }
      // Too large: each command message's commands on their own, and one still too large named
      // (large-events.ts), for its reader to read from the event stream.
      for (let i = 0; i < commands.length;) {
        let j = i;
        while (j < commands.length && commands[j]!.seq === commands[i]!.seq) j++;
        const part = encodeCommandEvents(commands.slice(i, j)).data;
        if (part.length <= max) this.#send(subject, part);
        else this.#send(subject, new Uint8Array(0), commands[i]!.seq);
        i = j;
      }
    }
    this.#pending.clear();
  };

  #send(subject: string, data: Uint8Array, tooLarge?: number): void {
    const h = headers();
    h.set(FORMAT_HEADER, String(KEYED_FORMAT));
    if (tooLarge !== undefined) h.set(TOO_LARGE_HEADER, String(tooLarge));
    this.#nc.publish(subject, data, { headers: h });
  }

  /** Commands up to `seq` had their messages sent before (by an earlier instance of the shard). */
  sentBefore(seq: number): void {
    if (seq > this.#last) this.#last = seq;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
    // Heartbeats say what is out: the commands held for the flush go first.
    if (this.#pending.size > 0) this.#flush();
    if (this.#nc.isClosed()) return;
    this.#nc.publish(this.#topology.beatSubject(this.#shard), `${this.#last} ${this.#liveOrders()}`);
  }

  #subject(route: number, key: string): string {
    const subjects = this.#subjects[route]!;
    let s = subjects.get(key);
    if (s === undefined) {
      s = ROUTES[route]!.subject(this.#topology, this.#shard, key);
      // One per account that ever traded here (and per instrument): a few bytes each, as the engine's own account records.
      subjects.set(key, s);
    }
    return s;
  }
}
