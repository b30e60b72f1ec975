// Decimal strings from the wire: exact (BigInt) for what is shown as money; floats are only ever
// used for drawing, never here.

/** Decimal places of a plain decimal string (`0.01` -> 2). */
export const placesOf = (text) => (text.includes('.') ? text.length - text.indexOf('.') - 1 : 0);

/** A decimal string as a BigInt count of 10^-decimals. */
function units(text, decimals) {
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole + frac.padEnd(decimals, '0').slice(0, decimals));
}

/**
 * `n` units of size `unit` (a decimal string), with `decimals` places: exact when the amount has
 * no more places than that (a notional in cash units), else cut (only ever zeros here).
 */
export function times(n, unit, decimals = placesOf(unit)) {
  const places = Math.max(placesOf(unit), decimals);
  const text = formatUnits(BigInt(n) * units(unit, places), places);
  return decimals < places
    ? text.slice(0, text.length - (places - decimals) - (decimals === 0 ? 1 : 0))
    : text;
}

/** -1, 0 or 1 as decimal string `a` is less than, equal to or greater than `b`, exactly. */
export function compare(a, b) {
  const places = Math.max(placesOf(a), placesOf(b));
  const d = units(a, places) - units(b, places);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** The product of two decimal strings, exactly (`0.05` x `0.5` is `0.025`). */
export function product(a, b) {
  const pa = placesOf(a);
  const pb = placesOf(b);
  return formatUnits(units(a, pa) * units(b, pb), pa + pb);
}

function formatUnits(n, decimals) {
  const neg = n < 0n;
  const digits = (neg ? -n : n).toString().padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  const text = decimals > 0 ? `${digits.slice(0, cut)}.${digits.slice(cut)}` : digits;
  return neg ? `-${text}` : text;
}

/** Whether a decimal string is zero (`0`, `0.000`, `.0`...). */
export const isZero = (q) => /^0*(\.0*)?$/.test(q);

/** Best ask minus best bid, exactly, to `decimals` places, or null when a side is empty. */
export function spreadOf(bid, ask, decimals) {
  if (bid === undefined || bid === null || ask === undefined || ask === null) return null;
  return formatUnits(units(ask[0], decimals) - units(bid[0], decimals), decimals);
}
