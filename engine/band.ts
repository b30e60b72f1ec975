/**
 * The price band and what a buy may pay, as pure functions of an instrument's numbers (ticks,
 * basis points), so that a client computes them exactly as the engine does: the dashboard loads
 * this module (and `fees.ts`, `validate.ts`, `codes.ts`), compiled, to check its order ticket and
 * estimate what an order reserves. No imports beyond `fees.ts`.
 */
import { bpsFloor, feeFor } from './fees.ts';

/** Lowest price admitted (ticks) around reference `ref` (0: none yet) with a band of `bps` (0: no band). */
export function bandLow(ref: number, bps: number): number {
  if (bps === 0 || ref === 0) return 1;
  return Math.max(1, ref - bpsFloor(ref, bps));
}

/** Highest price admitted (ticks) around reference `ref` with a band of `bps`, at most `maxPrice`. */
export function bandHigh(ref: number, bps: number, maxPrice: number): number {
  if (bps === 0 || ref === 0) return maxPrice;
  return Math.min(maxPrice, ref + bpsFloor(ref, bps));
}

/**
 * The most a buy may pay per lot (ticks), which its reservation covers: a limit or stop-limit
 * order's limit price; a market buy the band's high now; a stop buy the band's high around its
 * stop price (it becomes a market order there). `inst.bandHigh(ref?)` is the instrument's.
 */
export function buyCap(
  orderType: string,
  price: number | undefined,
  stopPrice: number | undefined,
  inst: { bandHigh(ref?: number): number },
): number {
  if (orderType === 'market') return inst.bandHigh();
  if (orderType === 'stop') return inst.bandHigh(stopPrice);
  return price!;
}

/**
 * Notional units (tick x lot) a buy of `qty` lots at price cap `cap` reserves: the notional, the
 * taker fee on it, and one unit a lot for the rounding of each fill's fee (a fill charges at
 * most its notional's fee rounded up). The risk stage multiplies it by the cash units in a
 * notional unit.
 */
export function buyReserveNotional(qty: number, cap: number, takerFeeBps: number): number {
  const notional = qty * cap;
  return notional + feeFor(notional, takerFeeBps) + qty;
}
