/**
 * The one small interface every ledger implements, and the ledger-neutral terms the settlement
 * daemon speaks: an instruction per matched trade (integer amounts in the engine's units: lots
 * of the security, cash units of its quote) and per granted withdrawal, and an outcome per
 * instruction. Everything chain-specific (addresses, base units, transactions, confirmations)
 * lives behind `Ledger`.
 */
import type { PendingSettlementView, PendingWithdrawalView } from '../engine/index.ts';
import type { LegLedger } from './legs.ts';

/**
 * One matched trade to settle, delivery versus payment: the amounts the engine's risk stage holds
 * for it (`PendingSettlementView`: buyer and seller accounts, which the ledger maps to its own
 * identities; lots; cash units), its ledger, and when it matched.
 */
export interface SettlementInstruction extends PendingSettlementView {
  /** The ledger: `evm:31337`, `fabric:bank-net`. */
  venue: string;
  /** When it matched (the engine command's timestamp; 0 when recovered after a restart). */
  matchedAt: number;
}

/** What a ledger made of an instruction, final: its reference, or why it refused; and what it cost. */
type Verdict = { gas?: number; fee?: string } & (
  { ok: true; ref: string } | { ok: false; reason: string; ref?: string }
);

/**
 * What the ledger made of one instruction, final (confirmed). `gas` and `fee` are the trade's
 * share of what its batch cost on the ledger (whole gas units, and the fee in the smallest unit of
 * the ledger's native currency, as a decimal string), where the ledger charges for settlement;
 * the shares of a batch add up to its cost.
 */
export type SettlementOutcome = { tradeId: number } & Verdict;

/**
 * One withdrawal the engine has granted (taken from the account's available balance), to release
 * on its ledger: the account's funds leave the ledger's escrow for the account's own wallet.
 */
export interface WithdrawalInstruction extends PendingWithdrawalView {
  venue: string;
}

/** What the ledger made of one withdrawal, final: released (with its reference) or refused; its share of the cost. */
export type WithdrawalOutcome = { withdrawalId: number } & Verdict;

/**
 * How the daemon names one kind of instruction and its outcomes, and answers one the ledger
 * cannot even take (the same for every ledger).
 */
export interface InstructionKind<I, O> {
  /** `trade`, `withdrawal`: for logs. */
  readonly noun: string;
  idOf(x: I | O): number;
  refused(i: I, reason: string): O;
}

export const TRADES: InstructionKind<SettlementInstruction, SettlementOutcome> = {
  noun: 'trade',
  idOf: (x) => x.tradeId,
  refused: (i, reason) => ({ tradeId: i.tradeId, ok: false, reason }),
};

export const WITHDRAWALS: InstructionKind<WithdrawalInstruction, WithdrawalOutcome> = {
  noun: 'withdrawal',
  idOf: (x) => x.withdrawalId,
  refused: (i, reason) => ({ withdrawalId: i.withdrawalId, ok: false, reason }),
};

/**
 * A change on the ledger the engine must hear of, once: `ref` names it uniquely on the ledger
 * (for an EVM log, its transaction hash and log index).
 */
export type LedgerChange = { ref: string } & (
  | { kind: 'deposit'; account: string; asset: string; amount: number }
  | { kind: 'standing'; account: string; venue: string; eligible?: boolean; frozen?: boolean }
);

/** A ledger as the settlement daemon sees it. */
export interface Ledger {
  readonly venue: string;
  /**
   * Settles a batch and resolves once each instruction's outcome is final. Must be idempotent
   * per trade id: an instruction the ledger has settled before comes back settled, never twice.
   */
  settle(batch: readonly SettlementInstruction[]): Promise<SettlementOutcome[]>;
  /**
   * Releases a batch of withdrawals and resolves once each outcome is final. Must be idempotent
   * per withdrawal id: a withdrawal released (or refused) before comes back with its first
   * verdict, and nothing moves twice.
   */
  release(batch: readonly WithdrawalInstruction[]): Promise<WithdrawalOutcome[]>;
  /** Hash time-locks for the legs of cross-ledger trades, where the ledger has them. */
  readonly legs?: LegLedger;
  close(): Promise<void>;
}
