/**
 * What the settlement benches share: seeded trades between funded investors (sizes that fit
 * their holdings, so all settle), and timing batches of them through a ledger, one after another.
 */
import type { Ledger, SettlementInstruction } from '../../connectors/index.ts';
import { XorShift32 } from '../prng.ts';

/** A source of trades of `instrument` between two different `investors` each, seeded. */
export function seededTrades(investors: readonly string[], instrument: string): () => SettlementInstruction {
  const rng = new XorShift32(2026);
  const venue = instrument.slice(instrument.indexOf('@') + 1);
  let tradeId = 0;
  return () => {
    const s = rng.int(0, investors.length - 1);
    const b = (s + rng.int(1, investors.length - 1)) % investors.length;
    const quantity = rng.int(1, 100);
    const cash = quantity * rng.int(100, 200);
    return {
      tradeId: ++tradeId,
      instrument,
      venue,
      buyer: investors[b]!,
      seller: investors[s]!,
      quantity,
      buyerCash: cash + 1,
      sellerCash: cash,
      fee: 1,
      matchedAt: 0,
    };
  };
}

/**
 * Settles at least `perRun` trades (whole batches of `batch`) through `ledger`, each batch waited
 * for; throws if one fails. `afterBatch` runs after each (untimed work belongs elsewhere).
 */
export async function timeBatches(
  ledger: Ledger,
  batch: number,
  perRun: number,
  next: () => SettlementInstruction,
  afterBatch: () => void = () => {},
): Promise<{ trades: number; ms: number }> {
  const trades = Math.max(batch, Math.floor(perRun / batch) * batch);
  const started = performance.now();
  for (let done = 0; done < trades; done += batch) {
    const outcomes = await ledger.settle(Array.from({ length: batch }, next));
    if (!outcomes.every((o) => o.ok))
      throw new Error(`a trade failed: ${JSON.stringify(outcomes.find((o) => !o.ok))}`);
    afterBatch();
  }
  return { trades, ms: performance.now() - started };
}
