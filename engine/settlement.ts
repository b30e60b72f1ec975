/**
 * What a trade moves on its ledger, in one place for the risk stage (which reserves and settles
 * these amounts) and the settlement connectors (which move them on chain): the buyer pays the
 * notional plus its fee, the seller receives the notional minus its fee (plus, for a maker
 * rebate, more), the venue keeps both fees. Amounts are in whole cash units (`quoteUnit`).
 */
import { parseDecimal } from './units.ts';
import type { InstrumentSpec } from './types.ts';

/** Cash amounts of one trade, in cash units. */
export interface TradeCash {
  /** What the buyer pays, its fee included. */
  buyerCash: number;
  /** What the seller receives, its fee deducted. */
  sellerCash: number;
  /** What the venue keeps: both fees (a maker rebate makes it smaller). */
  fee: number;
}

/** The size of one cash unit of an instrument: its `quoteUnit`, by default `tickSize * lotSize`. */
export function quoteUnitOf(spec: Readonly<InstrumentSpec>): string {
  return spec.quoteUnit ?? parseDecimal(spec.tickSize)!.times(spec.lotSize).toFixed();
}

/**
 * Cash units in one notional unit (one tick times one lot) of an instrument, or an error
 * message when `tickSize * lotSize` is not a whole number of `quoteUnit`s.
 */
export function cashPerNotional(spec: Readonly<InstrumentSpec>): number | string {
  const notional = parseDecimal(spec.tickSize)!.times(spec.lotSize);
  const unitText = quoteUnitOf(spec);
  const unit = parseDecimal(unitText);
  if (unit === null || !unit.isGreaterThan(0)) return 'quoteUnit must be a positive decimal string';
  const k = notional.dividedBy(unit);
  if (!k.isInteger()) {
    return `tickSize * lotSize (${notional.toFixed()}) must be a whole number of quoteUnit ${unitText}`;
  }
  return k.toNumber();
}

/**
 * The cash a trade of `qty` lots at `price` ticks moves, with fees in notional units (as on the
 * trade event: the taker's and the maker's, assigned to buyer and seller by side).
 */
export function tradeCash(
  k: number,
  price: number,
  qty: number,
  buyerFee: number,
  sellerFee: number,
): TradeCash {
  return {
    buyerCash: (price * qty + buyerFee) * k,
    sellerCash: (price * qty - sellerFee) * k,
    fee: (buyerFee + sellerFee) * k,
  };
}
