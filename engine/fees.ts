/**
 * Basis-point arithmetic in integers. A trade's notional is `price (ticks) * quantity (lots)`
 * notional units, one unit being one tick times one lot in the quote currency. A fee is
 * `notional * bps / 10000` rounded in the venue's favour: a charge rounds up, a rebate (negative
 * rate) rounds toward zero. Listing checks that `maxPrice * maxQty` is a safe integer, so every
 * notional is one, and the split below keeps every intermediate product exact.
 */

/** `floor(n * bps / 10000)` for a safe integer n >= 0 and 0 <= bps <= 10000, exactly. */
export function bpsFloor(n: number, bps: number): number {
  const whole = Math.floor(n / 10000);
  return whole * bps + Math.floor(((n - whole * 10000) * bps) / 10000);
}

/** The fee on `notional` at `bps` (negative: a rebate), rounded as stated above. */
export function feeFor(notional: number, bps: number): number {
  if (bps === 0) return 0;
  if (bps < 0) return 0 - bpsFloor(notional, -bps); // 0 - x, never -0
  const down = bpsFloor(notional, bps);
  // Exact when down * 10000 === notional * bps; compare without forming the large product.
  const whole = Math.floor(notional / 10000);
  const exact = ((notional - whole * 10000) * bps) % 10000 === 0;
  return exact ? down : down + 1;
}
