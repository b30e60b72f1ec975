/**
 * The engine's record of a live order. Records are pooled: the engine takes one when an order
 * enters and gives it back when the order is done, so the hot path allocates nothing.
 */
import type { OrderType, Side, StpMode, TimeInForce } from './types.ts';

/** Where a live order is. */
export const OrderState = {
  Free: 0,
  /** Matching or being placed: not yet in a book. */
  Working: 1,
  /** Resting in its instrument's book. */
  Resting: 2,
  /** A stop waiting for its trigger price. */
  Waiting: 3,
} as const;
export type OrderState = (typeof OrderState)[keyof typeof OrderState];

export class Order {
  id = 0;
  /** Index of the instrument in the engine. */
  instrument = 0;
  /** Index of the account in the engine. */
  account = 0;
  clientOrderId = '';
  side: Side = 'buy';
  type: OrderType = 'limit';
  tif: TimeInForce = 'GTC';
  stp: StpMode = 'cancel-newest';
  postOnly = false;
  /** Ticks; 0 for a market order. */
  price = 0;
  stopPrice = 0;
  expireAt = 0;
  /** Open quantity in lots. */
  leaves = 0;
  /** Filled quantity in lots. */
  filled = 0;
  /** Risk: amount held for the order (cash units for a buy, lots for a sell). */
  reserved = 0;
  /** Risk: the highest price a buy may pay (0: none). */
  cap = 0;
  /** Hash of (account, clientOrderId), cached for the client id table. */
  clientHash = 0;
  /** Sequence of arrival in the book: stamped by the engine, used for FIFO checks and stops. */
  time = 0;
  state: OrderState = OrderState.Free;
  // Links of the account's list of live orders, owned by the engine.
  accountPrev: Order | null = null;
  accountNext: Order | null = null;
  // Links owned by the fast book; other books leave them alone.
  prev: Order | null = null;
  next: Order | null = null;
  level: object | null = null;
}

/** A free list of order records. */
export class OrderPool {
  #free: Order[] = [];

  /** Fills the pool with `n` records up front, so that the hot path never allocates them. */
  constructor(n = 0) {
    for (let i = 0; i < n; i++) this.#free.push(new Order());
  }

  /** Takes a record (allocates only when the pool is empty). */
  take(): Order {
    return this.#free.pop() ?? new Order();
  }

  give(o: Order): void {
    o.state = OrderState.Free;
    o.reserved = 0;
    o.cap = 0;
    o.prev = null;
    o.next = null;
    o.level = null;
    o.accountPrev = null;
    o.accountNext = null;
    o.clientOrderId = '';
    this.#free.push(o);
  }
}
