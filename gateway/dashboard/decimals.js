// Decimal strings from the wire: exact (BigInt) for what is shown as money; floats are only ever
// used for drawing, never here.

/** A decimal string as a BigInt count of 10^-decimals. */
function units(text, decimals) {
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole + frac.padEnd(decimals, '0').slice(0, decimals));
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
