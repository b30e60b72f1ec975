/**
 * The one small interface through which the driver runs a workload on an engine. An adapter
 * builds its engine's order objects for every op when it is made (untimed), then executes ops by
 * index and reports which orders rested, filled or were canceled to the driver's `LiveOrders`.
 */
import type { LiveOrders } from './live-orders.ts';
import type { Workload } from './workloads.ts';

export interface EngineAdapter {
  readonly name: string;
  /** Enters the new order of op `i` (also used to place a W3 warm-up order again). */
  place(i: number, ts: number): void;
  /** Cancels the live order `handle`. */
  cancel(handle: number, ts: number): void;
  /** Lowers the live order `handle` to `qty` open lots at the same price. */
  reduce(handle: number, qty: number, ts: number): void;
  /** Open lots of the live order `handle`. */
  openQty(handle: number): number;
  /** Live orders in the engine (asked of the engine, not of the driver's set). */
  liveOrders(): number;
  /** A hash of the final book, in the engine's own terms (not comparable across engines). */
  stateHash(): string;
  /** What the engine reported along the way. */
  counts(): AdapterCounts;
  /** Best price of a side of instrument `inst` now (0 = buy, 1 = sell), 0 when it is empty. */
  best(inst: number, side: number): number;
  /** Sets the limit price of op `i`'s new order, before it is placed (W4, untimed). */
  reprice(i: number, price: number): void;
  /**
   * Price levels opened and closed since the adapter was made, and open now, for workloads
   * that count them (W4: `Workload.moving`); null otherwise. Called outside the timed ops.
   */
  levelCounts(): LevelCounts | null;
}

export interface LevelCounts {
  opened: number;
  closed: number;
  /** Levels in the books now, both sides. */
  open: number;
}

export interface AdapterCounts {
  /** Maker orders touched by trades. */
  trades: number;
  /** Ops the engine refused (for Mosaic, `rejected` events; for the peer, an `err`). */
  rejects: number;
}

/** Makes an adapter for a workload; `live` is null when the workload never picks a target (W3). */
export type AdapterFactory = (w: Workload, live: LiveOrders | null) => EngineAdapter;
