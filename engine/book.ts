/**
 * One order book per instrument behind one interface, in two implementations chosen by
 * `createBook`: `reference` (small, obviously correct, slow) and `fast` (O(1) cancel, no
 * allocation per operation). The seeded differential test runs both on the same commands and
 * requires equal events and equal state hashes.
 *
 * A book stores resting orders in price-time priority and walks them when a taker matches.
 * Everything else (validation, time in force, fees, events, stops, expiry) lives once, in the
 * engine, which a book tells about each fill and self-trade through `MatchHost`.
 */
import type { Order } from './order.ts';
import type { Side } from './types.ts';

/** What a book reports while matching. Called after the book has updated both orders. */
export interface MatchHost {
  /**
   * `maker` and `taker` traded `qty` at `price` (the maker's). Both orders' `leaves` and
   * `filled` are already updated and a filled maker is already out of the book.
   */
  onFill(maker: Order, taker: Order, price: number, qty: number): void;
  /**
   * Self-trade prevention canceled `makerQty` of `maker` (out of the book when its leaves reach
   * 0) and `takerQty` of `taker`, as `stp.ts` decides. Either quantity may be 0.
   */
  onSelfTrade(maker: Order, taker: Order, makerQty: number, takerQty: number): void;
}

export interface OrderBook {
  /** Resting orders. */
  readonly size: number;
  /** Best price of a side in ticks, or 0 when the side is empty. */
  best(side: Side): number;
  /** Lots resting at the best level of a side (0 when empty). */
  bestQty(side: Side): number;
  /** A level's total lots and order count, or undefined when nothing rests there. Read-only. */
  level(side: Side, price: number): LevelInfo | undefined;
  /**
   * Matches `taker` against the other side at prices no worse than `limit` (a buy takes asks
   * <= limit, a sell takes bids >= limit), in price-time priority, applying the taker's
   * self-trade prevention, until the taker is done or nothing more crosses.
   */
  match(taker: Order, limit: number, host: MatchHost): void;
  /**
   * How much of `want` the taker could fill now at prices no worse than `limit` before
   * self-trade prevention would cancel any of it; changes nothing (for FOK).
   */
  fillable(taker: Order, limit: number, want: number): number;
  /** Rests an order at the back of its price level; true when that opened a new level. */
  add(order: Order): boolean;
  /** Takes a resting order out. */
  remove(order: Order): void;
  /** Lowers a resting order's leaves to `leaves` (> 0) in place: it keeps its priority. */
  reduce(order: Order, leaves: number): void;
  /** Visits resting orders of a side in priority order (best price first, then time). Allocates. */
  forEach(side: Side, visit: (order: Order) => void): void;
  /** Up to `n` best levels of a side as [price, qty, count]. Allocates. */
  depth(side: Side, n: number): Array<[number, number, number]>;
}

export type BookKind = 'fast' | 'reference';

/** What a book tells about one price level. */
export interface LevelInfo {
  readonly qty: number;
  readonly count: number;
}
