/**
 * The exchange behind the gateway: what it reads of the engine, where it sends commands, and the
 * fan-out of each durable command's events to whoever listens (market data, execution reports,
 * metrics). The gateway never reads book state except through here, and never sends the engine
 * a command that did not pass its own checks first. `LocalExchange` is the embedded one (the
 * durable engine in this process, its journal, the sequencer's clock); a cluster's gateway reads
 * followers of the engine shards and sends commands over NATS (`ClusterExchange`).
 */
import path from 'node:path';
import type { EngineView } from '../cluster/index.ts';
import type {
  Command,
  InstrumentSpec,
  PendingSettlementView,
  PendingWithdrawalView,
  Unstamped,
} from '../engine/index.ts';
import { type HistoryReader, HistoryStore } from '../history/index.ts';
import { CodecError, DurableEngine, type PublishedEvent } from '../journal/index.ts';
import { type Config } from './config.ts';
import { makeError } from './errors.ts';
import { InstrumentCodec } from './instrument-codec.ts';

/** Names a command sent, in the events it produced: its sequence (embedded) or its command id (cluster). */
export type CommandRef = number | string;

/** A command sent: its reference, and its sequence once the engine's log holds it. */
export interface Submitted {
  ref: CommandRef;
  /** The sequence now, or once the log has confirmed it (rejects when it could not confirm it). */
  seq: number | Promise<number>;
}

/** Receives every durable command's events in order, with the command's reference. */
export type ExchangeSubscriber = (seq: number, events: PublishedEvent[], ref: CommandRef) => void;

export interface Exchange {
  /** What the gateway reads of the engine. */
  readonly engine: EngineView;
  readonly venues: Config['venues'];
  /** Why the exchange stopped accepting commands, or null while it is healthy. */
  readonly error: Error | null;
  /** Told when the exchange fails and accepts nothing more. */
  onFailure(handler: (err: Error) => void): void;
  /** Sends a command; throws, sending nothing, a `GatewayError` for one it cannot take. */
  send(command: Unstamped): Submitted;
  /** Receives every durable command's events, in order. */
  onEvents(subscriber: ExchangeSubscriber): void;
  /**
   * Receives the events as published for market data, in order, from the engine's state now on
   * (a cluster's event streams; the embedded engine's events).
   */
  onPublished(subscriber: (seq: number, events: PublishedEvent[]) => void): void;
  /** Decimal conversion for an instrument, or undefined if it is not listed. */
  codec(instrument: string): InstrumentCodec | undefined;
  /** Whether an identity's member names (MSP id or address) give it sight of a venue. */
  canSee(venue: string, memberNames: readonly string[]): boolean;
  /** Trades waiting for their ledger's verdict. */
  pendingSettlements(): readonly PendingSettlementView[];
  /** Every account's fills and finished orders, kept across restarts. */
  readonly history: HistoryReader;
  /** How it stands, for `/health` (durability, shards). */
  health(): Record<string, unknown>;
  close(): Promise<void>;
}

/** Decimal conversion per listed instrument, made on first use. */
export class Codecs {
  #codecs = new Map<string, InstrumentCodec>();
  #engine: EngineView;

  constructor(engine: EngineView) {
    this.#engine = engine;
  }

  get(instrument: string): InstrumentCodec | undefined {
    let codec = this.#codecs.get(instrument);
    if (codec === undefined) {
      const inst = this.#engine.instrument(instrument);
      if (inst === undefined) return undefined;
      codec = new InstrumentCodec(inst.spec);
      this.#codecs.set(instrument, codec);
    }
    return codec;
  }
}

/** Whether member names see a venue: anyone a public one, members a permissioned one. */
export function canSeeVenue(
  venues: Config['venues'],
  venue: string,
  memberNames: readonly string[],
): boolean {
  const v = venues[venue];
  if (v === undefined || !v.permissioned) return true;
  return memberNames.some((name) => v.members.some((m) => m.toLowerCase() === name.toLowerCase()));
}

export interface ExchangeOptions {
  dataDir: string;
  risk: boolean;
  /** Recovery and snapshot notes. */
  log?: (line: string) => void;
  /** The sequencer's clock (ms since the epoch); timestamps never go backwards. */
  now?: () => number;
  /** Let GTD orders expire: a tick command after this long without any command (0: never). */
  tickMs?: number;
  venues?: Config['venues'];
}

export class LocalExchange implements Exchange {
  readonly durable: DurableEngine;
  readonly venues: Config['venues'];
  /** In `history/` of the data folder: fed by the durable engine, caught up from its journal at start. */
  readonly history: HistoryStore;
  #now: () => number;
  #lastTs = 0;
  #codecs: Codecs;
  #subscribers: ExchangeSubscriber[] = [];
  #ticker: NodeJS.Timeout | null = null;
  #lastCommandAt = 0;
  #closed = false;
  #failure: ((err: Error) => void) | null = null;
  #error: Error | null = null;

  constructor(options: ExchangeOptions) {
    this.#now = options.now ?? Date.now;
    this.venues = options.venues ?? {};
    this.history = HistoryStore.open({ dir: path.join(options.dataDir, 'history'), log: options.log });
    try {
      this.durable = DurableEngine.open({
        dir: options.dataDir,
        risk: options.risk,
        log: options.log,
        readers: [this.history],
      });
    } catch (err) {
      void this.history.close();
      throw err;
    }
    // After recovery the sequencer goes on from the journal's last time, even if the clock is behind it.
    this.#lastTs = this.durable.engine.lastTs;
    this.#codecs = new Codecs(this.durable.engine);
    this.durable.onEvents((seq, events) => {
      for (const sub of this.#subscribers) sub(seq, events, seq);
    });
    const tickMs = options.tickMs ?? 1000;
    if (tickMs > 0) {
      this.#ticker = setInterval(() => {
        if (this.#now() - this.#lastCommandAt < tickMs || this.#error !== null || this.#closed) return;
        this.submit({ type: 'tick' });
      }, tickMs);
      this.#ticker.unref();
    }
  }

  get engine() {
    return this.durable.engine;
  }

  /** Receives every durable command's events, in order (after the journal holds the command). */
  onEvents(subscriber: ExchangeSubscriber): void {
    this.#subscribers.push(subscriber);
  }

  /** Why the exchange stopped accepting commands, or null while it is healthy. */
  get error(): Error | null {
    return this.#error;
  }

  /** Told when the journal fails: the exchange accepts nothing more. */
  onFailure(handler: (err: Error) => void): void {
    this.#failure = handler;
  }

  /**
   * Stamps, journals and executes a command; returns its sequence number at once. Its events
   * reach the subscribers once it is durable.
   */
  submit(command: Unstamped): number {
    if (this.#closed) throw makeError('the exchange is shutting down', 'UNAVAILABLE');
    if (this.#error !== null)
      throw makeError(`the exchange has stopped: ${this.#error.message}`, 'UNAVAILABLE');
    const now = this.#now();
    this.#lastTs = Math.max(this.#lastTs, now);
    this.#lastCommandAt = now;
    const stamped = { ...command, ts: this.#lastTs } as Command;
    let done: Promise<unknown>;
    try {
      done = this.durable.submitNow(stamped);
    } catch (err) {
      // The codec refusing a command changes nothing; anything else is the journal failing.
      if (err instanceof CodecError) {
        throw makeError(`the command cannot be journaled: ${err.message}`, 'BAD_MESSAGE', {}, err);
      }
      this.#stop(err as Error);
      throw makeError(`the exchange has stopped: ${(err as Error).message}`, 'UNAVAILABLE', {}, err);
    }
    done.catch((err: Error) => this.#stop(err));
    return this.engine.commandSeq;
  }

  onPublished(subscriber: (seq: number, events: PublishedEvent[]) => void): void {
    this.onEvents(subscriber);
  }

  send(command: Unstamped): Submitted {
    const seq = this.submit(command);
    return { ref: seq, seq };
  }

  health(): Record<string, unknown> {
    return {
      commandSeq: this.engine.commandSeq,
      durableSeq: this.durable.journal.durableSeq,
      historySeq: this.history.durableSeq,
    };
  }

  #stop(err: Error): void {
    if (this.#error !== null) return;
    this.#error = err;
    this.#failure?.(err);
  }

  codec(instrument: string): InstrumentCodec | undefined {
    return this.#codecs.get(instrument);
  }

  canSee(venue: string, memberNames: readonly string[]): boolean {
    return canSeeVenue(this.venues, venue, memberNames);
  }

  // What a settlement connector reads of the engine (it is an `EnginePort` of connectors/).

  /** Ids of the listed instruments. */
  instruments(): string[] {
    return this.engine.instruments();
  }

  /** An instrument's listing, or undefined if it is not listed. */
  specOf(instrument: string): Readonly<InstrumentSpec> | undefined {
    return this.engine.instrument(instrument)?.spec;
  }

  /** Trades waiting for their ledger's verdict. */
  pendingSettlements(): PendingSettlementView[] {
    return this.engine.pendingSettlements();
  }

  /** Withdrawals waiting for their ledger's release. */
  pendingWithdrawals(): PendingWithdrawalView[] {
    return this.engine.pendingWithdrawals();
  }

  /** The last command's sequence. */
  lastSeq(): number {
    return this.engine.commandSeq;
  }

  /** Lists instruments that are not listed yet. */
  list(specs: readonly InstrumentSpec[]): void {
    for (const spec of specs) {
      if (this.engine.instrument(spec.id) === undefined) this.submit({ type: 'list-instrument', spec });
    }
  }

  /** Stops ticking, flushes the journal and closes it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ticker) clearInterval(this.#ticker);
    await this.durable.close();
    await this.history.close();
  }
}
