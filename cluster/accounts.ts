/**
 * Each account's events, on a subject of its own: after executing a command, a shard publishes
 * the events that concern an account (its orders, its fills, its balances, standing and
 * withdrawals) as one message on `<name>.acct.<shard>.<account token>`, so that a gateway
 * subscribes for the accounts of its own sessions and receives nothing of the others'. The
 * messages are plain NATS messages, sent as the command executes (before its events are
 * stored): they are the fast path. A gateway that may have missed some (it reconnected, or it
 * was a slow consumer) reads them again from the event stream, which holds every command's
 * events under the command's sequence and reference (see AccountFeed). A heartbeat per shard
 * (`<name>.beat.<shard>`: the last command whose account messages went out, and the shard's live
 * orders) tells a gateway how far it has heard everything.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { headers } from '@nats-io/transport-node';
import { eachAccount } from '../engine/index.ts';
import type { PublishedEvent } from '../journal/index.ts';
import type { Topology } from './topology.ts';
import { EVENTS_FORMAT, eventPayload, FORMAT_HEADER } from './wire-format.ts';

/** The header naming the command an event message came from (its command id). */
export const REF_HEADER = 'Mosaic-Ref';

/** An account as one subject token: its UTF-8 bytes in base64url (no '.', '*', '>' or space). */
export function accountToken(account: string): string {
  return Buffer.from(account, 'utf8').toString('base64url');
}

/** How often a shard says how far it has published, in ms. */
export const BEAT_MS = 100;

/** A shard's side: publishes each command's events per account, and its heartbeat. */
export class AccountPublisher {
  #nc: NatsConnection;
  #topology: Topology;
  #shard: number;
  #subjects = new Map<string, string>();
  #last = 0;
  #timer: NodeJS.Timeout;
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
   * Publishes command `seq`'s events (sent under command id `ref`) to each account they concern;
   * called for every command executed, so that the heartbeat names it even when it concerned none.
   */
  publish(seq: number, ref: string | undefined, events: readonly PublishedEvent[]): void {
    eachAccount(events, (account, list) => {
      const h = headers();
      h.set(FORMAT_HEADER, String(EVENTS_FORMAT));
      if (ref !== undefined) h.set(REF_HEADER, ref);
      this.#nc.publish(this.#subject(account), eventPayload(seq, list), { headers: h });
    });
    this.#last = seq;
  }

  /** Commands up to `seq` had their account messages sent before (by an earlier instance of the shard). */
  sentBefore(seq: number): void {
    if (seq > this.#last) this.#last = seq;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
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
