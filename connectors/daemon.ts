/**
 * A settlement daemon for one ledger, assembled from the shared parts in the order a restart
 * needs: the progress store, the engine's reconciliation of changes a crash left open, then the
 * `Settler` on the engine's events and the `ChangeWatcher` on the ledger's changes. The engine
 * is reached through `EnginePort`: `localPort` for the exchange in this process, the cluster's
 * for a shard across NATS.
 */
import type {
  InstrumentSpec,
  PendingSettlementView,
  PendingWithdrawalView,
  PublishedEvent,
} from '../engine/index.ts';
import type { Logger } from '../common/index.ts';
import {
  type ChangeCommand,
  type ChangeSink,
  type ChangeSource,
  ChangeWatcher,
  localChanges,
} from './changes.ts';
import type { Ledger } from './ledger.ts';
import { type Htlc, LegKeeper } from './legs.ts';

/** Leg steps of a daemon that keeps none. */
const NO_LEGS: LegKeeper['done'] = { locked: 0, claimed: 0, refunded: 0, refused: 0 };
import type { Progress } from './progress.ts';
import { Settler, type SettlerStats, type VerdictCommand } from './settler.ts';

/** What a daemon needs of the engine. */
export interface EnginePort {
  /** Ids of the listed instruments. */
  instruments(): readonly string[];
  /** An instrument's listing, or undefined if it is not listed. */
  specOf(instrument: string): Readonly<InstrumentSpec> | undefined;
  /** Trades the daemon is to look at when it starts (matched while it was down), in trade-id order. */
  pendingSettlements(): readonly PendingSettlementView[];
  /** Withdrawals the daemon is to look at when it starts (granted while it was down), in id order. */
  pendingWithdrawals(): readonly PendingWithdrawalView[];
  /** The ledger identity an account settles as on a venue: its own name, or one linked to it. */
  partyOf(account: string, venue: string): string;
  /** Sends a verdict on a trade or a withdrawal to the engine. */
  settle(command: VerdictCommand): void;
  /** How the ledger's changes reach the engine. */
  readonly changes: ChangeSink;
  /** Calls `subscriber` with each durable command's events, in order. */
  onEvents(subscriber: (seq: number, events: readonly PublishedEvent[]) => void): void;
}

/** An engine in this process, as the exchange offers it. */
export interface LocalEngine {
  instruments(): readonly string[];
  specOf(instrument: string): Readonly<InstrumentSpec> | undefined;
  pendingSettlements(): readonly PendingSettlementView[];
  pendingWithdrawals(): readonly PendingWithdrawalView[];
  partyOf(account: string, venue: string): string;
  /** The engine's last command sequence. */
  lastSeq(): number;
  /** Stamps, journals and executes a command; returns its sequence (throws if refused). */
  submit(command: ChangeCommand | VerdictCommand): number;
  onEvents(subscriber: (seq: number, events: readonly PublishedEvent[]) => void): void;
}

/** The port of an engine in this process: verdicts and changes go straight in. */
export function localPort(engine: LocalEngine): EnginePort {
  return {
    instruments: () => engine.instruments(),
    specOf: (id) => engine.specOf(id),
    pendingSettlements: () => engine.pendingSettlements(),
    pendingWithdrawals: () => engine.pendingWithdrawals(),
    partyOf: (account, venue) => engine.partyOf(account, venue),
    settle: (command) => engine.submit(command),
    changes: localChanges({ lastSeq: () => engine.lastSeq(), send: (c) => engine.submit(c) }),
    onEvents: (subscriber) => engine.onEvents(subscriber),
  };
}

export interface DaemonOptions {
  ledger: Ledger;
  /** Where the ledger's changes come from (deposits, standing); none if omitted. */
  changes?: ChangeSource;
  progress: Progress;
  engine: EnginePort;
  batchSize?: number;
  batchMs?: number;
  /** Batches handed to the ledger at once, at most (`Settler`'s `inFlight`). */
  inFlight?: number;
  /** How often to look for ledger changes, ms (default 500). */
  pollMs?: number;
  log: Logger;
  /**
   * Told once when the daemon stops on its own, on a failure no retry can get past (the ledger
   * refuses its identity as operator, say); it then settles nothing until it is started again.
   */
  onFailure?: (err: Error) => void;
  /** The hash time-locks of cross-ledger trades: with them (and a ledger that has them) it keeps their legs here. */
  htlc?: Htlc;
}

export interface Daemon {
  readonly venue: string;
  stats(): SettlerStats & { changes: number; legs: LegKeeper['done'] };
  /** The permanent failure that stopped it, or null while it runs. */
  readonly failure: Error | null;
  /** Stops watching and settling (after the batch in flight), then closes the ledger and store. */
  close(): Promise<void>;
}

/** Starts a daemon; with an engine in this process, before the engine takes any new command. */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const forgotten = await o.engine.changes.reconcile(o.progress);
  if (forgotten > 0) {
    o.log.warn(
      { venue: o.ledger.venue, count: forgotten },
      `${o.ledger.venue}: ${forgotten} ledger changes the engine lost will be read again`,
    );
  }
  let failure: Error | null = null;
  const fail = (err: Error) => {
    if (failure !== null) return;
    failure = err;
    void watcher?.stop();
    void legs?.stop();
    void settler.stop();
    o.onFailure?.(err);
  };
  const settler = new Settler({
    ledger: o.ledger,
    progress: o.progress,
    specOf: (id) => o.engine.specOf(id),
    partyOf: (account, venue) => o.engine.partyOf(account, venue),
    send: (command) => o.engine.settle(command),
    ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
    ...(o.batchMs === undefined ? {} : { batchMs: o.batchMs }),
    ...(o.inFlight === undefined ? {} : { inFlight: o.inFlight }),
    log: o.log,
    onFailure: fail,
  });
  const legs =
    o.htlc === undefined || o.ledger.legs === undefined
      ? null
      : new LegKeeper({
          venue: o.ledger.venue,
          ledger: o.ledger.legs,
          htlc: o.htlc.settings,
          key: o.htlc.key,
          specOf: (id) => o.engine.specOf(id),
          partyOf: (account, venue) => o.engine.partyOf(account, venue),
          send: (command) => o.engine.settle(command),
          log: o.log,
          onFailure: fail,
        });
  o.engine.onEvents((seq, events) => {
    settler.onEvents(seq, events);
    legs?.onEvents(seq, events);
  });
  const pending = o.engine.pendingSettlements();
  settler.start(pending, o.engine.pendingWithdrawals());
  legs?.start(pending);
  const watcher =
    o.changes === undefined
      ? null
      : new ChangeWatcher({
          source: o.changes,
          progress: o.progress,
          sink: o.engine.changes,
          ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
          log: o.log,
          onFailure: fail,
        });
  watcher?.start();
  return {
    venue: o.ledger.venue,
    stats: () => ({ ...settler.stats, changes: watcher?.applied ?? 0, legs: { ...(legs?.done ?? NO_LEGS) } }),
    get failure() {
      return failure;
    },
    async close() {
      await watcher?.stop();
      await legs?.stop();
      await settler.stop();
      await o.ledger.close();
      await o.progress.close();
    },
  };
}

/**
 * A ledger's connector as the exchange runs it: its daemon, and on a demo ledger a faucet and
 * the accounts the demo market maker trades from there.
 */
export interface Connector {
  readonly venue: string;
  /** One line for the start banner: where it settles. */
  readonly describe: string;
  readonly daemon: Daemon;
  /** Funds an account on the ledger (the engine then hears of it from the ledger); null: no faucet. */
  readonly fund: ((account: string) => void) | null;
  /** The demo market maker's and taker's accounts on the ledger, when it is a demo one. */
  readonly demoAccounts: readonly [maker: string, taker: string] | null;
  /** Stops the daemon, then what the connector started. */
  close(): Promise<void>;
}
