/**
 * A settlement daemon for one ledger, assembled from the shared parts in the order a restart
 * needs: the progress store, the recovered engine's view (changes recorded beyond what the engine
 * recovered are forgotten before any new command), then the `Settler` on the engine's events and
 * the `ChangeWatcher` on the ledger's changes. The engine is reached through `EnginePort`, which
 * the embedded exchange provides in-process and a transport can provide across processes.
 */
import type { InstrumentSpec, PendingSettlementView, SettleCommand } from '../engine/index.ts';
import { type ChangeCommand, type ChangeSource, ChangeWatcher, reconcileChanges } from './changes.ts';
import type { Ledger } from './ledger.ts';
import type { Progress } from './progress.ts';
import { Settler, type SettlerStats } from './settler.ts';

/** What a daemon needs of the engine. */
export interface EnginePort {
  /** Ids of the listed instruments. */
  instruments(): readonly string[];
  /** An instrument's listing, or undefined if it is not listed. */
  specOf(instrument: string): Readonly<InstrumentSpec> | undefined;
  /** Trades waiting for a verdict, in trade-id order. */
  pendingSettlements(): readonly PendingSettlementView[];
  /** The engine's last command sequence. */
  lastSeq(): number;
  /** Stamps, journals and executes a command; returns its sequence (throws if refused). */
  submit(command: ChangeCommand | Omit<SettleCommand, 'ts'>): number;
  /** Calls `subscriber` with each durable command's events, in order. */
  onEvents(subscriber: (seq: number, events: ReadonlyArray<Record<string, unknown>>) => void): void;
}

export interface DaemonOptions {
  ledger: Ledger;
  /** Where the ledger's changes come from (deposits, withdrawals, standing); none if omitted. */
  changes?: ChangeSource;
  progress: Progress;
  engine: EnginePort;
  batchSize?: number;
  batchMs?: number;
  /** How often to look for ledger changes, ms (default 500). */
  pollMs?: number;
  log: (line: string) => void;
}

export interface Daemon {
  readonly venue: string;
  stats(): SettlerStats & { changes: number };
  /** Stops watching and settling (after the batch in flight), then closes the ledger and store. */
  close(): Promise<void>;
}

/** Starts a daemon on a recovered engine, before the engine takes any new command. */
export function startDaemon(o: DaemonOptions): Daemon {
  const forgotten = reconcileChanges(o.progress, o.engine.lastSeq());
  if (forgotten > 0)
    o.log(`${o.ledger.venue}: ${forgotten} ledger changes the engine lost will be read again`);
  const settler = new Settler({
    ledger: o.ledger,
    progress: o.progress,
    specOf: (id) => o.engine.specOf(id),
    send: (command) => o.engine.submit(command),
    ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
    ...(o.batchMs === undefined ? {} : { batchMs: o.batchMs }),
    log: o.log,
  });
  o.engine.onEvents(settler.onEvents);
  settler.start(o.engine.pendingSettlements());
  const watcher =
    o.changes === undefined
      ? null
      : new ChangeWatcher({
          source: o.changes,
          progress: o.progress,
          engine: { lastSeq: () => o.engine.lastSeq(), send: (c) => o.engine.submit(c) },
          ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
          log: o.log,
        });
  watcher?.start();
  return {
    venue: o.ledger.venue,
    stats: () => ({ ...settler.stats, changes: watcher?.applied ?? 0 }),
    async close() {
      await watcher?.stop();
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
