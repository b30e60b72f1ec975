/**
 * connectors/: settlement, one daemon per ledger behind one small interface (`Ledger`). What is
 * shared lives here, once: the instruction each matched trade becomes (the engine's own cash
 * arithmetic), the daemon's durable progress (LMDB), so that a trade settles and a withdrawal is
 * released exactly once, and
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
export {
  instructionOf,
  isTrade,
  isWithdrawalRequest,
  type TradeEvent,
  type WithdrawalRequestEvent,
} from './instructions.ts';
export {
  type InstructionKind,
  type Ledger,
  type LedgerChange,
  type SettlementInstruction,
  type SettlementOutcome,
  TRADES,
  type WithdrawalInstruction,
  type WithdrawalOutcome,
  WITHDRAWALS,
} from './ledger.ts';
export { type Batch, type ItemState, Progress, Queue } from './progress.ts';
export { Settler, type SettlerOptions, type SettlerStats, type VerdictCommand } from './settler.ts';
export { spawnSupervised, type Supervised } from './supervised.ts';
