/**
 * What every ledger does with a batch around its own transaction, once: one batch at a time,
 * instructions it cannot even send answered at once with the reason, and the outcomes returned
 * in batch order, each instruction with exactly one.
 */
import type { InstructionKind } from './ledger.ts';
import { makeError } from './errors.ts';

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
 * Turns each instruction into the ledger's own form, or answers it at once: `convert` returns
 * the ledger's item, or a string saying why the instruction cannot go to this ledger.
 */
export function sortOut<I, O, T>(
  kind: InstructionKind<I, O>,
  batch: readonly I[],
  convert: (i: I) => T | string,
): { items: T[]; outcomes: Map<number, O> } {
  const items: T[] = [];
  const outcomes = new Map<number, O>();
  for (const i of batch) {
    const t = convert(i);
    if (typeof t === 'string') outcomes.set(kind.idOf(i), kind.refused(i, t));
    else items.push(t);
  }
  return { items, outcomes };
}

/** The outcomes in batch order; throws if the ledger left an instruction without one. */
export function inBatchOrder<I, O>(
  kind: InstructionKind<I, O>,
  batch: readonly I[],
  outcomes: ReadonlyMap<number, O>,
): O[] {
  return batch.map((i) => {
    const o = outcomes.get(kind.idOf(i));
    if (o === undefined)
      throw makeError(`${kind.noun} ${kind.idOf(i)}: the batch transaction reported no verdict`, 'NOT_FINAL');
    return o;
  });
}
