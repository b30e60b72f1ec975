/**
 * The decimal edge of one instrument: wire decimals to integer ticks and lots, refusing what is
 * not exactly on the grid, and back to wire decimals (through the cached `Decimals`).
 */
import BigNumber from 'bignumber.js';
import { type InstrumentSpec, priceToTicks, quantityToLots } from '../engine/index.ts';
import { Decimals } from './decimals.ts';
import { makeError } from './errors.ts';

export class InstrumentCodec {
  readonly spec: Readonly<InstrumentSpec>;
  #prices: Decimals;
  #sizes: Decimals;

  constructor(spec: Readonly<InstrumentSpec>) {
    this.spec = spec;
    this.#prices = new Decimals(spec.tickSize, spec.priceDecimals);
    this.#sizes = new Decimals(spec.lotSize, spec.quantityDecimals);
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
    const r = priceToTicks(text, this.spec.tickSize);
    if (!r.ok) throw this.#bad(field, text, r.reason, 'tick', this.spec.tickSize);
    if (r.value <= 0)
      throw makeError(`${field} must be greater than 0, got "${text}"`, 'BAD_DECIMAL', { field });
    return r.value;
  }

  /** A wire quantity in lots; throws BAD_DECIMAL naming the field and the problem. */
  lots(text: string, field = 'quantity'): number {
    const r = quantityToLots(text, this.spec.lotSize);
    if (!r.ok) throw this.#bad(field, text, r.reason, 'lot', this.spec.lotSize);
    if (r.value <= 0)
      throw makeError(`${field} must be greater than 0, got "${text}"`, 'BAD_DECIMAL', { field });
    return r.value;
  }

  /** Ticks as a wire price. */
  price(ticks: number): string {
    return this.#prices.format(ticks);
  }

  /** Lots as a wire quantity. */
  quantity(lots: number): string {
    return this.#sizes.format(lots);
  }

  /** A notional amount (ticks x lots, e.g. a fee) in the quote currency. */
  notional(units: number): string {
    return new BigNumber(units).times(this.spec.tickSize).times(this.spec.lotSize).toFixed();
  }

  #bad(field: string, text: string, reason: string, unit: string, size: string) {
    const grid = reason.includes('multiple') ? `; ${field} must be a multiple of the ${unit} ${size}` : '';
    return makeError(`${field} "${text}" is not valid: ${reason}${grid}`, 'BAD_DECIMAL', { field });
  }
}
