/**
 * Each account's events, on a subject of its own: a shard publishes the events that concern an
 * account (its orders, its fills, its balances, standing and withdrawals) on
 * `<name>.acct.<shard>.<account token>`, so that a gateway subscribes for the accounts of its
 * own sessions and receives nothing of the others'. The commands a shard takes in one go (one
 * read from its socket) make one message per account they concern, laid out as event messages
 * are (wire-format.ts: the commands' ids, then their events, each command under the sequence of
 * the command message it came in, which the commands sent together share), format
 * ACCOUNT_FORMAT in the `Mosaic-Format` header.
 * The messages are plain NATS messages, sent as the commands execute (before their events are
 * stored): they are the fast path. A gateway that may have missed some (it reconnected, or it
 * was a slow consumer) reads them again from the event stream, which holds every command
 * message's events at its sequence (see AccountFeed). A heartbeat per shard (`<name>.beat.<shard>`:
 * the last command message whose account messages went out, and the shard's live orders) tells a
 * gateway how far it has heard everything.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { headers } from '@nats-io/transport-node';
import { eachAccount } from '../engine/index.ts';
import type { PublishedEvent } from '../journal/index.ts';
import type { Topology } from './topology.ts';
import { type CommandEvents, encodeCommandEvents, FORMAT_HEADER } from './wire-format.ts';

/**
 * The format version of account messages: 2 since the commands of one message share its
 * sequence (version 1 had one command per sequence: the layout is the same, read either way; a
 * release that reads version 1 only would take the second command of a message for a repeat).
 */
export const ACCOUNT_FORMAT = 2;

/** An account as one subject token: its UTF-8 bytes in base64url (no '.', '*', '>' or space). */
export function accountToken(account: string): string {
  return Buffer.from(account, 'utf8').toString('base64url');
}

/** How often a shard says how far it has published, in ms. */
const BEAT_MS = 100;

/** A shard's side: publishes each command's events per account, and its heartbeat. */
export class AccountPublisher {
  #nc: NatsConnection;
  #topology: Topology;
  #shard: number;
  #subjects = new Map<string, string>();
  #last = 0;
  #timer: NodeJS.Timeout;
  /** Per account, the commands taken since the last flush. */
  #pending = new Map<string, CommandEvents[]>();
  #liveOrders: () => number;

  /** `liveOrders`: the shard's live orders now, said in each heartbeat. */
  constructor(nc: NatsConnection, topology: Topology, shard: number, liveOrders: () => number) {
    this.#nc = nc;
    this.#topology = topology;
    this.#shard = shard;
    this.#liveOrders = liveOrders;
    this.#timer = setInterval(() => this.#beat(), BEAT_MS);
    this.#timer.unref();
  }

  /**
   * Takes the events of a command of message `seq` (sent under command id `ref`) for each
   * account they concern; called for every command executed, so that the heartbeat names its
   * message even when it concerned none. The commands taken in one go leave as one message per account, once the current
   * task is done (before the client's own flush of what the shard published for them).
   */
  publish(seq: number, ref: string | undefined, events: readonly PublishedEvent[]): void {
    eachAccount(events, (account, list) => {
      if (this.#pending.size === 0) queueMicrotask(this.#flush);
      let commands = this.#pending.get(account);
      if (commands === undefined) this.#pending.set(account, (commands = []));
      commands.push({ seq, ref, events: list });
    });
    this.#last = seq;
  }

  readonly #flush = (): void => {
    for (const [account, commands] of this.#pending) {
      const h = headers();
      h.set(FORMAT_HEADER, String(ACCOUNT_FORMAT));
      this.#nc.publish(this.#subject(account), encodeCommandEvents(commands).data, { headers: h });
    }
    this.#pending.clear();
  };

  /** Commands up to `seq` had their account messages sent before (by an earlier instance of the shard). */
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

  #subject(account: string): string {
    let s = this.#subjects.get(account);
    if (s === undefined) {
      s = this.#topology.accountSubject(this.#shard, accountToken(account));
      // One per account that ever traded here: a few bytes each, as the engine's own account records.
      this.#subjects.set(account, s);
    }
    return s;
  }
}
