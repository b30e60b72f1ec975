/**
 * The decimal edge of one instrument: wire decimals to integer ticks and lots, refusing what is
 * not exactly on the grid, and back to wire decimals (through the cached `Decimals`).
 */
import BigNumber from 'bignumber.js';
import {
  Code,
  type Converted,
  type InstrumentSpec,
  priceToTicks,
  quantityToLots,
  quoteUnitOf,
} from '../engine/index.ts';
import { Decimals } from './decimals.ts';
import { makeError } from './errors.ts';

export class InstrumentCodec {
  readonly spec: Readonly<InstrumentSpec>;
  #prices: Decimals;
  #sizes: Decimals;
  /** Notional amounts: units of a tick times a lot, with the decimals of the quote's cash unit. */
  #notional: Decimals;

  constructor(spec: Readonly<InstrumentSpec>) {
    this.spec = spec;
    this.#prices = new Decimals(spec.tickSize, spec.priceDecimals);
    this.#sizes = new Decimals(spec.lotSize, spec.quantityDecimals);
    this.#notional = new Decimals(
      new BigNumber(spec.tickSize).times(spec.lotSize).toFixed(),
      new BigNumber(quoteUnitOf(spec)).decimalPlaces() ?? 0,
    );
  }

  /** Venue part of the id: `evm:31337` of `ACME@evm:31337`. */
  get venue(): string {
    return this.spec.id.slice(this.spec.id.indexOf('@') + 1);
  }

  /** Symbol part of the id: `ACME` of `ACME@evm:31337`. */
  get symbol(): string {
    return this.spec.id.slice(0, this.spec.id.indexOf('@'));
  }

  /** A wire price in ticks; throws BAD_DECIMAL naming the field and the problem. */
  ticks(text: string, field = 'price'): number {
    const fast = this.#prices.units(text);
    if (fast > 0) return fast;
    return this.#units(priceToTicks(text, this.spec.tickSize), text, field, Code.PRICE_NOT_ON_TICK, 'tick');
  }

  /** A wire quantity in lots; throws BAD_DECIMAL naming the field and the problem. */
  lots(text: string, field = 'quantity'): number {
    const fast = this.#sizes.units(text);
    if (fast > 0) return fast;
    return this.#units(quantityToLots(text, this.spec.lotSize), text, field, Code.QUANTITY_NOT_ON_LOT, 'lot');
  }

  /** Ticks as a wire price. */
  price(ticks: number): string {
    return this.#prices.format(ticks);
  }

  /** Lots as a wire quantity. */
  quantity(lots: number): string {
    return this.#sizes.format(lots);
  }

  /**
   * A notional amount (ticks x lots, e.g. a fee) in the quote currency, with the decimals of its
   * cash unit (`quoteUnit`), as the cash balance shows it: `0.10` and `0.21`, not `0.1` and `0.21`.
   * Exact: a notional unit is a whole number of cash units.
   */
  notional(units: number): string {
    return this.#notional.format(units);
  }

  #units(r: Converted, text: string, field: string, offGrid: number, unit: 'tick' | 'lot'): number {
    if (!r.ok) {
      const size = unit === 'tick' ? this.spec.tickSize : this.spec.lotSize;
      const grid = r.code === offGrid ? `; ${field} must be a multiple of the ${unit} ${size}` : '';
      throw makeError(`${field} "${text}" is not valid: ${r.reason}${grid}`, 'BAD_DECIMAL', { field });
    }
    if (r.value <= 0)
      throw makeError(`${field} must be greater than 0, got "${text}"`, 'BAD_DECIMAL', { field });
    return r.value;
  }
}
