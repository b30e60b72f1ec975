/**
 * The one small interface every ledger implements, and the ledger-neutral terms the settlement
 * daemon speaks: an instruction per matched trade (integer amounts in the engine's units: lots
 * of the security, cash units of its quote) and an outcome per instruction. Everything
 * chain-specific (addresses, base units, transactions, confirmations) lives behind `Ledger`.
 */
import type { PendingSettlementView } from '../engine/index.ts';

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

/**
 * What the ledger made of one instruction, final (confirmed). `gas` and `fee` are the trade's
 * share of what its batch cost on the ledger (whole gas units, and the fee in the smallest unit of
 * the ledger's native currency, as a decimal string), where the ledger charges for settlement;
 * the shares of a batch add up to its cost.
 */
export type SettlementOutcome = { tradeId: number; gas?: number; fee?: string } & (
  { ok: true; ref: string } | { ok: false; reason: string; ref?: string }
);

/**
 * A change on the ledger the engine must hear of, once: `ref` names it uniquely on the ledger
 * (for an EVM log, its transaction hash and log index).
 */
export type LedgerChange = { ref: string } & (
  | { kind: 'deposit' | 'withdraw'; account: string; asset: string; amount: number }
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
  close(): Promise<void>;
}
