/**
 * connectors/: settlement, one daemon per venue's ledger behind one small interface (`Ledger`).
 * What is shared lives here, once: the instruction each matched trade becomes (the engine's own
 * cash arithmetic), the daemon's durable progress (LMDB), so that a trade settles and a withdrawal
 * is released exactly once, the check at start that a ledger still holds what the daemon saw of it
 * (`checkLedgerKept`), and the daemon itself (`startDaemon`: settler and change watcher on an
 * `EnginePort`). The only door other folders use.
 */
export {
  blockCheckpoint,
  changeCommand,
  changesCheckpoint,
  type ChangeSink,
  ChangeWatcher,
  localChanges,
  readBlockCheckpoint,
} from './changes.ts';
export { type Connector, type EnginePort, localPort } from './daemon.ts';
export { instructionOf, isTrade, isWithdrawalRequest } from './instructions.ts';
export { checkLedgerKept } from './ledger-check.ts';
export {
  type Ledger,
  type LedgerChange,
  type SettlementInstruction,
  type WithdrawalInstruction,
} from './ledger.ts';
export {
  type Htlc,
  hashlockOf,
  htlcProblem,
  type HtlcSettings,
  type LegLedger,
  type LegTerms,
  secretOf,
} from './legs.ts';
export { Progress } from './progress.ts';
export { Settler, type VerdictCommand } from './settler.ts';
export { spawnSupervised, type Supervised, whenReady } from './supervised.ts';
// What outside connectors/ configures and starts of a ledger: through its kind, never by name.
export {
  type ConnectorSettings,
  type IdentityKind,
  type LedgerKind,
  type SettingProblem,
  type StartContext,
} from './kind.ts';
export { defaultConnectors, LEDGER_KINDS, ledgerKind } from './kinds.ts';
// X.509 member identities of an MSP of one's own (the demo's investors).
export { issueMember, type KeyedCert, makeCa } from './fabric/index.ts';
