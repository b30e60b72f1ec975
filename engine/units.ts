/**
 * The decimal edge. Outside the engine prices and quantities are decimal strings; inside they
 * are integer ticks and lots. Conversion happens here, once, with bignumber.js, and refuses
 * anything that is not exactly representable: off the tick, off the lot, too precise, not a
 * plain decimal, or beyond a safe integer. Each refusal has its own result code.
 */
import BigNumber from 'bignumber.js';
import { Code } from './codes.ts';

/** A conversion: the integer on success, else a result code and what was wrong. */
export type Converted = { ok: true; value: number } | { ok: false; code: number; reason: string };

const DECIMAL = /^(?:0|[1-9]\d*)(?:\.\d+)?$/;

/** Parses a positive plain decimal string (`'12.5'`; no sign, exponent or spaces) or returns null. */
export function parseDecimal(text: unknown): BigNumber | null {
  if (typeof text !== 'string' || text.length > 64 || !DECIMAL.test(text)) return null;
  return new BigNumber(text);
}

function toUnits(text: unknown, unit: BigNumber, what: string, offGrid: number): Converted {
  const value = parseDecimal(text);
  if (value === null) {
    return {
      ok: false,
      code: Code.INVALID_DECIMAL,
      reason: `${what} must be a plain decimal string such as "12.5"`,
    };
  }
  // Exact: dividedBy rounds to 20 decimal places, which took 1.000000000000000000001 for 1 lot.
  if (!value.modulo(unit).isZero()) {
    return { ok: false, code: offGrid, reason: `${what} ${text} is not a multiple of ${unit.toFixed()}` };
  }
  const units = value.dividedToIntegerBy(unit);
  if (units.isGreaterThan(Number.MAX_SAFE_INTEGER)) {
    return { ok: false, code: Code.NOT_SAFE_INTEGER, reason: `${what} ${text} is too large` };
  }
  return { ok: true, value: units.toNumber() };
}

/** Decimal price to ticks of `tickSize`. */
export function priceToTicks(text: unknown, tickSize: string): Converted {
  return toUnits(text, new BigNumber(tickSize), 'price', Code.PRICE_NOT_ON_TICK);
}

/** Decimal quantity to lots of `lotSize`. */
export function quantityToLots(text: unknown, lotSize: string): Converted {
  return toUnits(text, new BigNumber(lotSize), 'quantity', Code.QUANTITY_NOT_ON_LOT);
}

/** Decimal amount of an asset (a withdrawal) to units of size `unit`: lots of a security, cash units. */
export function amountToUnits(text: unknown, unit: string): Converted {
  return toUnits(text, new BigNumber(unit), 'amount', Code.RISK_INVALID_AMOUNT);
}

/** Ticks to a decimal price string with `decimals` places. */
export function ticksToPrice(ticks: number, tickSize: string, decimals: number): string {
  return new BigNumber(ticks).times(tickSize).toFixed(decimals);
}

/** Lots to a decimal quantity string with `decimals` places. */
export function lotsToQuantity(lots: number, lotSize: string, decimals: number): string {
  return new BigNumber(lots).times(lotSize).toFixed(decimals);
}

/** Number of decimals a positive decimal string carries ('0.01' -> 2), or -1 if it is not one. */
export function decimalsOf(text: unknown): number {
  const value = parseDecimal(text);
  return value === null || !value.isGreaterThan(0) ? -1 : (value.decimalPlaces() ?? 0);
}
