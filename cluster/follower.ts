/**
 * An engine that follows one shard's command stream: the shard's snapshot from the bucket, then
 * every command message after it, in stream order, each of its commands in turn. The engine is
 * deterministic and each command's time is the stream's (the later of its message's timestamp
 * and the previous command's), so every follower of a shard holds the same state at the same
 * stream sequence: the shard itself, a daemon's. The follower's sequence is the stream's (a
 * message may hold several commands; the engine counts commands). A command that does not
 * decode is executed as nothing and rejected, like any bad command; a message in a format
 * version this release does not know stops the follower, which cannot know what it would do.
 */
import { type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { consume } from './consume.ts';
import { type BookKind, type Command, Engine, eventToObject } from '../engine/index.ts';
import { decodeCommand, FormatVersionError, type PublishedEvent } from '../journal/index.ts';
import { answered, jetStreamReady, loadSnapshot, snapshotStore } from './nats.ts';
import type { Topology } from './topology.ts';
import { type CommandEntry, type CommandEvents, commandsOf } from './wire-format.ts';
import { makeError } from './errors.ts';
import type { Logger } from '../common/index.ts';

/**
 * Receives each command message's commands (their ids and events) in sequence order. A promise
 * returned holds the next message back until it settles (back-pressure).
 */
export type FollowerSubscriber = (seq: number, commands: CommandEvents[]) => Promise<void> | void;

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
  /** The last command message executed. */
  #seq: number;
  #caughtUp: Array<() => void> = [];
  #lastAt = Date.now();

  private constructor(o: FollowerOptions, engine: Engine, snapshotSeq: number, target: number) {
    this.#o = o;
    this.shard = o.shard;
    this.engine = engine;
    this.snapshotSeq = snapshotSeq;
    this.#seq = snapshotSeq;
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

  /** The last command message's sequence on the stream. */
  get seq(): number {
    return this.#seq;
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
    if (seq !== this.#seq + 1) {
      throw makeError(
        `shard ${this.shard}: command ${seq} came after ${this.#seq} (commands missing from the stream)`,
        'STREAM_GAP',
      );
    }
    this.#lastAt = Date.now();
    const what = `shard ${this.shard}: command ${seq} of ${this.#o.topology.commandStream(this.shard)}`;
    const ts = Math.max(this.engine.lastTs, Math.floor(m.info.timestampNanos / 1e6));
    const commands: CommandEvents[] = [];
    const entries = this.#entries(m, what);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      this.#capture = [];
      this.engine.execute(
        this.#decode(entry, ts, entries.length > 1 ? `${what} (its command ${i + 1})` : what) as Command,
      );
      commands.push({ seq, ref: entry.ref, events: this.#capture });
    }
    this.#seq = seq;
    let hold: Promise<void> | undefined;
    for (const s of this.#subscribers) {
      const r = s(seq, commands);
      if (r !== undefined) hold = hold === undefined ? r : Promise.all([hold, r]).then(() => {});
    }
    if (seq >= this.#target && this.#caughtUp.length > 0) for (const f of this.#caughtUp.splice(0)) f();
    return hold;
  }

  /** A message's commands; one whose commands cannot be told apart is one command that does not decode. */
  #entries(m: JsMsg, what: string): CommandEntry[] {
    try {
      return commandsOf(m, what);
    } catch (err) {
      if (err instanceof FormatVersionError) throw err;
      this.#o.log.warn(`${what}: ${(err as Error).message}; rejected`);
      return [{ ref: m.headers?.get('Nats-Msg-Id') || undefined, bytes: new Uint8Array(0) }];
    }
  }

  /** A command stamped with time `ts`; null when it does not decode. */
  #decode(entry: CommandEntry, ts: number, what: string): Command | null {
    try {
      const b = entry.bytes;
      const command = decodeCommand(Buffer.from(b.buffer, b.byteOffset, b.length), 0, b.length);
      (command as { ts: number }).ts = ts;
      return command;
    } catch (err) {
      this.#o.log.warn(`${what} does not decode (${(err as Error).message}); rejected`);
      return null;
    }
  }
}
