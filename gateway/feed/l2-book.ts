/**
 * One instrument's L2 book as the feed has published it, kept from the engine's `depth` events
 * (a level's new total, 0 when gone). The engine runs ahead of what is durable, so the feed
 * keeps its own copy rather than asking the engine: a snapshot must match the updates sent.
 *
 * Levels are immutable records sorted best first, each with its wire strings made once: a
 * channel's view can hold them by reference and compare them by identity.
 */
import type { Decimals } from '../decimals.ts';

/** One price level. Replaced, never changed, when its total changes. */
export interface L2Level {
  /** Price in ticks. */
  readonly ticks: number;
  /** Total in lots. */
  readonly lots: number;
  /** Sort key, ascending from the best level: -ticks for bids, ticks for asks. */
  readonly rank: number;
  /** `[price, quantity]` as sent. */
  readonly wire: readonly [string, string];
}

/** Both sides of one instrument's book. */
export class L2Book {
  readonly id: string;
  readonly prices: Decimals;
  readonly quantities: Decimals;
  /** Best (highest) first. */
  readonly bids: L2Level[] = [];
  /** Best (lowest) first. */
  readonly asks: L2Level[] = [];

  constructor(id: string, prices: Decimals, quantities: Decimals) {
    this.id = id;
    this.prices = prices;
    this.quantities = quantities;
  }

  /** Sets a level's total (0 removes it). Allocates the new level record. */
  set(side: 'buy' | 'sell', ticks: number, lots: number): void {
    const levels = side === 'buy' ? this.bids : this.asks;
    const rank = side === 'buy' ? -ticks : ticks;
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (levels[mid]!.rank < rank) lo = mid + 1;
      else hi = mid;
    }
    const found = lo < levels.length && levels[lo]!.rank === rank;
    if (lots <= 0) {
      if (found) levels.splice(lo, 1);
      return;
    }
    if (found && levels[lo]!.lots === lots) return;
    const level: L2Level = {
      ticks,
      lots,
      rank,
      wire: [this.prices.format(ticks), this.quantities.format(lots)],
    };
    if (found) levels[lo] = level;
    else levels.splice(lo, 0, level);
  }
}
