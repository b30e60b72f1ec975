/**
 * What every ledger does with a batch around its own transaction, once: one batch at a time,
 * instructions it cannot even send answered at once with the reason, and the outcomes returned
 * in batch order, each instruction with exactly one.
 */
import type { SettlementInstruction, SettlementOutcome } from './ledger.ts';

/** Runs one task at a time, in call order (a ledger keeps one transaction in flight). */
export class OneAtATime {
  #turn: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const done = this.#turn.then(task);
    this.#turn = done.catch(() => undefined);
    return done;
  }

  /** Resolves once the tasks given so far have ended (however they ended). */
  async idle(): Promise<void> {
    await this.#turn;
  }
}

/**
 * Turns each instruction into the ledger's trade, or answers it at once: `convert` returns the
 * trade, or a string saying why the instruction cannot go to this ledger.
 */
export function sortOut<T>(
  batch: readonly SettlementInstruction[],
  convert: (i: SettlementInstruction) => T | string,
): { trades: T[]; outcomes: Map<number, SettlementOutcome> } {
  const trades: T[] = [];
  const outcomes = new Map<number, SettlementOutcome>();
  for (const i of batch) {
    const t = convert(i);
    if (typeof t === 'string') outcomes.set(i.tradeId, { tradeId: i.tradeId, ok: false, reason: t });
    else trades.push(t);
  }
  return { trades, outcomes };
}

/** The outcomes in batch order; throws if the ledger left an instruction without one. */
export function inBatchOrder(
  batch: readonly SettlementInstruction[],
  outcomes: ReadonlyMap<number, SettlementOutcome>,
): SettlementOutcome[] {
  return batch.map((i) => {
    const o = outcomes.get(i.tradeId);
    if (o === undefined) throw new Error(`trade ${i.tradeId}: the batch transaction reported no verdict`);
    return o;
  });
}
