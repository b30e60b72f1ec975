/**
 * Integer ticks and lots to and from the wire's decimal strings, per instrument, fast.
 * bignumber.js (`engine/units.ts`) is exact but slow for a path that formats every changed
 * level of every command and parses every order: here `n * unit` is computed as an integer of the
 * unit's last decimal place and the point placed by hand (cached), and a plain decimal is read
 * digit by digit into the same integers. Whatever is not plainly exact within safe integers (and
 * every refusal) goes to bignumber.js, so the results are those of `ticksToPrice`,
 * `lotsToQuantity`, `priceToTicks` and `quantityToLots`.
 */
import BigNumber from 'bignumber.js';
import { lotsToQuantity } from '../engine/index.ts';

/** Powers of ten that doubles hold exactly. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Strings kept per formatter; the cache is cleared when full, so memory stays bounded. */
const CACHE_LIMIT = 4096;

/** Formats multiples of one decimal unit (a tick or a lot) with a fixed number of decimals. */
export class Decimals {
  readonly unit: string;
  readonly decimals: number;
  /** The unit as an integer of its own last decimal place (0.05 -> 5) and that place (2). */
  #mantissa: number;
  #scale: number;
  #cache = new Map<number, string>();

  constructor(unit: string, decimals: number) {
    this.unit = unit;
    this.decimals = decimals;
    const dot = unit.indexOf('.');
    this.#scale = dot < 0 ? 0 : unit.length - dot - 1;
    this.#mantissa = Number(dot < 0 ? unit : unit.slice(0, dot) + unit.slice(dot + 1));
  }

  /**
   * `text` as a whole number of units when it plainly is one: a plain decimal string (no sign,
   * exponent, spaces or leading zeros) exactly on the grid, within safe integers. -1 when the
   * exact reference must decide (refusals included).
   */
  units(text: unknown): number {
    if (typeof text !== 'string') return -1;
    const len = text.length;
    if (len === 0 || len > 32 || (len > 1 && text.charCodeAt(0) === 48 && text.charCodeAt(1) !== 46))
      return -1;
    let value = 0;
    let fraction = -1;
    for (let i = 0; i < len; i++) {
      const c = text.charCodeAt(i);
      if (c === 46) {
        if (fraction >= 0 || i === 0 || i === len - 1) return -1;
        fraction = 0;
      } else if (c >= 48 && c <= 57) {
        value = value * 10 + (c - 48);
        if (fraction >= 0) fraction++;
      } else return -1;
    }
    // Every step was exact if the end is within safe integers (each step only grows).
    if (value > Number.MAX_SAFE_INTEGER || this.#mantissa <= 0) return -1;
    const places = fraction < 0 ? 0 : fraction;
    let scaled: number;
    if (places <= this.#scale) {
      scaled = value * POW10[this.#scale - places]!;
      if (!Number.isSafeInteger(scaled)) return -1;
    } else {
      const p = POW10[places - this.#scale];
      if (p === undefined || value % p !== 0) return -1;
      scaled = value / p;
    }
    return scaled % this.#mantissa === 0 ? scaled / this.#mantissa : -1;
  }

  /** `n` units as a decimal string with `decimals` places. */
  format(n: number): string {
    let s = this.#cache.get(n);
    if (s !== undefined) return s;
    s = this.#compute(n);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(n, s);
    return s;
  }

  #compute(n: number): string {
    const product = n * this.#mantissa;
    // Same arithmetic as the engine's (lots and ticks share it): bignumber.js beyond safe integers.
    if (!Number.isSafeInteger(product) || product < 0 || this.decimals < this.#scale)
      return lotsToQuantity(n, this.unit, this.decimals);
    const scale = this.#scale;
    let digits = String(product);
    if (scale > 0) {
      if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
      const cut = digits.length - scale;
      digits = `${digits.slice(0, cut)}.${digits.slice(cut)}`;
    }
    const extra = this.decimals - scale;
    if (extra > 0) return scale > 0 ? digits + '0'.repeat(extra) : `${digits}.${'0'.repeat(extra)}`;
    return digits;
  }
}

/**
 * `n` units of size `unit`, exactly, with `decimals` places: by default the unit's own, so every
 * amount counted in that unit shows alike (`10 x 0.01` is `0.10`, not `0.1`).
 */
export function times(n: number, unit: string, decimals = new BigNumber(unit).decimalPlaces() ?? 0): string {
  return new BigNumber(n).times(unit).toFixed(decimals);
}
