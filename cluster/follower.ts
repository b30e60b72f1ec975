/**
 * An engine that follows one shard's command stream: the shard's snapshot from the bucket, then
 * every command after it, in stream order. The engine is deterministic and each command's time
 * is the stream's (the later of the message's timestamp and the previous command's), so every
 * follower of a shard holds the same state at the same sequence: the shard itself, a gateway's
 * read view, a daemon's. Stream sequence and command sequence are one: a message that does not
 * decode is executed as nothing and rejected, like any bad command; a message in a format version
 * this release does not know stops the follower, which cannot know what it would do.
 */
import { type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { consume } from './consume.ts';
import { type BookKind, type Command, Engine, eventToObject } from '../engine/index.ts';
import { decodeCommand, type PublishedEvent } from '../journal/index.ts';
import { answered, jetStreamReady, loadSnapshot, snapshotStore } from './nats.ts';
import type { Topology } from './topology.ts';
import { checkMessageFormat } from './wire-format.ts';
import { makeError } from './errors.ts';
import type { Logger } from '../common/index.ts';

/**
 * Receives each command's events in sequence order, with the command's message id. A promise
 * returned holds the next command back until it settles (back-pressure).
 */
export type FollowerSubscriber = (
  seq: number,
  events: PublishedEvent[],
  msgId: string | undefined,
) => Promise<void> | void;

export interface FollowerOptions {
  nc: NatsConnection;
  topology: Topology;
  shard: number;
  /** Pre-trade risk (must match the shard's). */
  risk: boolean;
  replicas: number;
  book?: BookKind;
  log: Logger;
  /** The follower stopped on an error it cannot get past (e.g. commands missing from the stream). */
  onError: (err: Error) => void;
}

export class ShardFollower {
  readonly shard: number;
  readonly engine: Engine;
  /** The sequence the snapshot it started from covers (0: none). */
  readonly snapshotSeq: number;
  #o: FollowerOptions;
  #subscribers: FollowerSubscriber[] = [];
  #capture: PublishedEvent[] = [];
  #consuming: { done: Promise<void>; stop(): void } | null = null;
  #loop: Promise<void> | null = null;
  #target: number;
  #caughtUp: Array<() => void> = [];
  #lastAt = Date.now();

  private constructor(o: FollowerOptions, engine: Engine, snapshotSeq: number, target: number) {
    this.#o = o;
    this.shard = o.shard;
    this.engine = engine;
    this.snapshotSeq = snapshotSeq;
    this.#target = target;
    engine.addListener({ onEvent: (e) => this.#capture.push(eventToObject(e)) });
  }

  /** Loads the shard's snapshot (or starts empty) and notes where the stream ends now. */
  static async open(o: FollowerOptions): Promise<ShardFollower> {
    const store = await snapshotStore(jetstream(o.nc), o.topology, o.replicas);
    const book = o.book ?? 'fast';
    const snap = await loadSnapshot(store, o.topology, o.shard, book);
    const engine = snap?.engine ?? new Engine({ book, risk: o.risk, idBase: o.topology.idBase(o.shard) });
    if (engine.risk !== o.risk) {
      throw makeError(
        `shard ${o.shard} runs with risk ${engine.risk ? 'on' : 'off'}; the configuration says ${o.risk ? 'on' : 'off'}`,
        'BAD_SETUP',
      );
    }
    const jsm = await jetStreamReady(o.nc);
    const info = await answered(() => jsm.streams.info(o.topology.commandStream(o.shard)));
    const seq = snap?.seq ?? 0;
    if (info.state.first_seq > seq + 1 && info.state.messages > 0) {
      throw makeError(
        `shard ${o.shard}: the command stream starts at ${info.state.first_seq} but the snapshot covers only up to ${seq}`,
        'STREAM_GAP',
      );
    }
    return new ShardFollower(o, engine, seq, info.state.last_seq);
  }

  /** Calls `subscriber` with each command's events from now on. */
  onEvents(subscriber: FollowerSubscriber): void {
    this.#subscribers.push(subscriber);
  }

  /** The last command's sequence. */
  get seq(): number {
    return this.engine.commandSeq;
  }

  /** When the last command came (Date.now()). */
  get lastCommandAt(): number {
    return this.#lastAt;
  }

  /** Starts following the stream after the snapshot. */
  start(): void {
    if (this.#loop !== null) return;
    this.#loop = this.#follow().catch((err: Error) => {
      this.#o.log.error(`shard ${this.shard}: following stopped: ${err.message}`);
      this.#o.onError(err);
    });
  }

  /** Resolves once it has executed every command the stream held when it opened. */
  caughtUp(): Promise<void> {
    if (this.seq >= this.#target) return Promise.resolve();
    return new Promise((resolve) => this.#caughtUp.push(resolve));
  }

  /** Stops following (after the command in hand). */
  async close(): Promise<void> {
    this.#consuming?.stop();
    await this.#loop;
  }

  async #follow(): Promise<void> {
    const { nc, topology } = this.#o;
    const js = jetstream(nc);
    const stream = topology.commandStream(this.shard);
    this.#consuming = consume({
      // Made again from the next command each time: an ordered consumer starts where it is told.
      get: () => js.consumers.get(stream, { opt_start_seq: this.seq + 1 }),
      handle: (m) => this.#apply(m),
      batch: 2_000,
      behind: async () => {
        const jsm = await jetstreamManager(nc);
        return (await jsm.streams.info(stream)).state.last_seq > this.seq;
      },
      name: `shard ${this.shard}: command stream`,
      log: this.#o.log,
    });
    await this.#consuming.done;
  }

  #apply(m: JsMsg): Promise<void> | undefined {
    const seq = m.seq;
    if (seq !== this.engine.commandSeq + 1) {
      throw makeError(
        `shard ${this.shard}: command ${seq} came after ${this.engine.commandSeq} (commands missing from the stream)`,
        'STREAM_GAP',
      );
    }
    this.#lastAt = Date.now();
    checkMessageFormat(
      m,
      `shard ${this.shard}: command ${seq} of ${this.#o.topology.commandStream(this.shard)}`,
    );
    const command = this.#decode(m);
    this.#capture = [];
    this.engine.execute(command as Command);
    const events = this.#capture;
    const msgId = m.headers?.get('Nats-Msg-Id') || undefined;
    let hold: Promise<void> | undefined;
    for (const s of this.#subscribers) {
      const r = s(seq, events, msgId);
      if (r !== undefined) hold = hold === undefined ? r : Promise.all([hold, r]).then(() => {});
    }
    if (seq >= this.#target && this.#caughtUp.length > 0) for (const f of this.#caughtUp.splice(0)) f();
    return hold;
  }

  /** The command a message holds, stamped with the stream's time; null when it does not decode. */
  #decode(m: JsMsg): Command | null {
    const ts = Math.max(this.engine.lastTs, Math.floor(m.info.timestampNanos / 1e6));
    try {
      const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.length);
      const command = decodeCommand(data, 0, data.length);
      (command as { ts: number }).ts = ts;
      return command;
    } catch (err) {
      this.#o.log.warn(
        `shard ${this.shard}: command ${m.seq} does not decode (${(err as Error).message}); rejected`,
      );
      return null;
    }
  }
}
