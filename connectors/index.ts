/**
 * connectors/: settlement, one daemon per ledger behind one small interface (`Ledger`). What is
 * shared lives here, once: the instruction each matched trade becomes (the engine's own cash
 * arithmetic), the daemon's durable progress (LMDB), so that a trade settles exactly once, and
 * the daemon itself (`startDaemon`: settler and change watcher on an `EnginePort`). The only
 * door other folders use.
 */
export {
  type ChangeCommand,
  changeCommand,
  type ChangeSink,
  type ChangeSource,
  ChangeWatcher,
  localChanges,
} from './changes.ts';
export {
  type Connector,
  type Daemon,
  type DaemonOptions,
  type EnginePort,
  type LocalEngine,
  localPort,
  startDaemon,
} from './daemon.ts';
export { instructionOf, isTrade, type TradeEvent } from './instructions.ts';
export type { Ledger, LedgerChange, SettlementInstruction, SettlementOutcome } from './ledger.ts';
export { type Batch, Progress, type TradeState } from './progress.ts';
export { Settler, type SettlerOptions, type SettlerStats } from './settler.ts';
export { spawnSupervised, type Supervised } from './supervised.ts';
