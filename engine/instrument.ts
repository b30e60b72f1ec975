/**
 * An instrument listed on the engine: its checked spec, its book, its waiting stops, the last
 * trade price and the price band around the reference.
 */
import type { BookKind, OrderBook } from './book.ts';
import { createBook } from './book-factory.ts';
import { bandHigh, bandLow } from './band.ts';
import { StopBook } from './stops.ts';
import { TouchedLevels } from './touched.ts';
import type { InstrumentSpec, InstrumentStatus } from './types.ts';
import { decimalsOf } from './units.ts';

const ID = /^[A-Z0-9][A-Z0-9._-]{0,31}@[a-z0-9]+:[A-Za-z0-9._-]{1,64}$/;
const VENUE = /^[a-z0-9]+:[A-Za-z0-9._-]{1,64}$/;

/** What is wrong with a spec, in words, or null when it is sound. */
export function checkSpec(spec: InstrumentSpec): string | null {
  if (spec === null || typeof spec !== 'object') return 'spec must be an object';
  if (typeof spec.id !== 'string' || !ID.test(spec.id)) {
    return 'id must be SYMBOL@venue, e.g. ACME@evm:31337 (symbol in capitals, venue kind:name)';
  }
  const tickDecimals = decimalsOf(spec.tickSize);
  if (tickDecimals < 0) return 'tickSize must be a positive decimal string such as "0.01"';
  const lotDecimals = decimalsOf(spec.lotSize);
  if (lotDecimals < 0) return 'lotSize must be a positive decimal string such as "1"';
  if (!isCount(spec.priceDecimals, 18) || spec.priceDecimals < tickDecimals) {
    return `priceDecimals must be an integer from ${tickDecimals} (the tick's decimals) to 18`;
  }
  if (!isCount(spec.quantityDecimals, 18) || spec.quantityDecimals < lotDecimals) {
    return `quantityDecimals must be an integer from ${lotDecimals} (the lot's decimals) to 18`;
  }
  if (!isCount(spec.minQty) || spec.minQty < 1) return 'minQty must be a positive integer (lots)';
  if (!isCount(spec.maxQty) || spec.maxQty < spec.minQty) return 'maxQty must be an integer >= minQty (lots)';
  if (!isCount(spec.maxPrice) || spec.maxPrice < 1) return 'maxPrice must be a positive integer (ticks)';
  if (!Number.isSafeInteger(spec.maxPrice * spec.maxQty)) {
    return 'maxPrice * maxQty must be a safe integer, so that every notional is exact';
  }
  if (!isCount(spec.referencePrice) || spec.referencePrice > spec.maxPrice) {
    return 'referencePrice must be an integer from 0 (none) to maxPrice (ticks)';
  }
  if (!isCount(spec.bandBps, 10000)) return 'bandBps must be an integer from 0 (no band) to 10000';
  if (!Number.isInteger(spec.takerFeeBps) || spec.takerFeeBps < 0 || spec.takerFeeBps > 1000) {
    return 'takerFeeBps must be an integer from 0 to 1000';
  }
  if (
    !Number.isInteger(spec.makerFeeBps) ||
    spec.makerFeeBps > 1000 ||
    -spec.makerFeeBps > spec.takerFeeBps
  ) {
    return 'makerFeeBps must be an integer up to 1000, and a rebate no larger than the taker fee';
  }
  if (spec.status !== undefined && spec.status !== 'open' && spec.status !== 'halted') {
    return 'status must be "open" or "halted"';
  }
  if (spec.quoteVenue !== undefined) {
    if (typeof spec.quoteVenue !== 'string' || !VENUE.test(spec.quoteVenue)) {
      return 'quoteVenue must be a venue, kind:name such as evm:31337';
    }
    if (spec.quoteVenue === spec.id.slice(spec.id.indexOf('@') + 1)) {
      return "quoteVenue must be another venue than the instrument's (leave it out for the same)";
    }
  }
  return null;
}

function isCount(n: unknown, max = Number.MAX_SAFE_INTEGER): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max;
}

export class Instrument {
  /** The spec in force (replaced whole by an update). */
  spec: Readonly<InstrumentSpec>;
  readonly book: OrderBook;
  readonly stops = new StopBook();
  status: InstrumentStatus;
  /** Price of the last trade in ticks, 0 before the first. */
  lastPrice = 0;
  // Last published best bid and offer.
  bidPrice = 0;
  bidQty = 0;
  askPrice = 0;
  askQty = 0;
  /** Command during which this instrument was last touched (to flush depth once). */
  touchedAt = 0;
  /** Levels touched by the current command, bids and asks, in order of first touch. */
  readonly touchedBids = new TouchedLevels();
  readonly touchedAsks = new TouchedLevels();

  constructor(
    readonly index: number,
    spec: InstrumentSpec,
    kind: BookKind,
  ) {
    this.spec = Object.freeze({ ...spec, status: spec.status ?? 'open' });
    this.status = this.spec.status ?? 'open';
    this.book = createBook(kind);
  }

  get id(): string {
    return this.spec.id;
  }

  /** Lowest price admitted now (ticks). */
  bandLow(): number {
    return bandLow(this.lastPrice || this.spec.referencePrice, this.spec.bandBps);
  }

  /** Highest price admitted now (ticks), or around another reference `ref`. */
  bandHigh(ref = this.lastPrice || this.spec.referencePrice): number {
    return bandHigh(ref, this.spec.bandBps, this.spec.maxPrice);
  }

  /** The venue part of the id (`evm:31337` of `ACME@evm:31337`): where the security settles. */
  get venue(): string {
    return this.spec.id.slice(this.spec.id.indexOf('@') + 1);
  }

  /** Where the cash settles: the `quoteVenue`, else the instrument's own venue. */
  get cashVenue(): string {
    return this.spec.quoteVenue ?? this.venue;
  }
}
