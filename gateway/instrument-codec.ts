/**
 * The decimal edge of one instrument: wire decimals to integer ticks and lots, refusing what is
 * not exactly on the grid (the rules of `order-rules.ts`, which the dashboard's ticket runs too),
 * and back to wire decimals (through the cached `Decimals`).
 */
import BigNumber from 'bignumber.js';
import { type InstrumentSpec, quoteUnitOf } from '../engine/index.ts';
import { Decimals } from './decimals.ts';
import { makeError } from './errors.ts';
import { gridUnits, type OnGrid } from './order-rules.ts';

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
    return units(gridUnits(text, this.spec.tickSize, field, 'price'));
  }

  /** A wire quantity in lots; throws BAD_DECIMAL naming the field and the problem. */
  lots(text: string, field = 'quantity'): number {
    const fast = this.#sizes.units(text);
    if (fast > 0) return fast;
    return units(gridUnits(text, this.spec.lotSize, field, 'quantity'));
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
}

/** The units of a reading on the grid, or its refusal thrown (BAD_DECIMAL naming the field). */
function units(r: OnGrid): number {
  if (!r.ok) throw makeError(r.message, r.code, { field: r.field });
  return r.units;
}
