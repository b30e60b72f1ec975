/**
 * Stop orders waiting for their trigger, per instrument. Buy stops trigger when the last trade
 * price rises to their stop price, sell stops when it falls to theirs. Among triggered stops the
 * one nearest its trigger goes first (lowest buy stop, highest sell stop), then the earliest;
 * between a triggered buy and a triggered sell, the earlier one. Not a hot path: sorted arrays.
 */
import type { Order } from './order.ts';

export class StopBook {
  /** Buy stops by stop price ascending, then time. */
  #buys: Order[] = [];
  /** Sell stops by stop price descending, then time. */
  #sells: Order[] = [];

  add(order: Order): void {
    const list = order.side === 'buy' ? this.#buys : this.#sells;
    const up = order.side === 'buy';
    let i = list.length;
    while (i > 0) {
      const prev = list[i - 1]!;
      const before = up ? prev.stopPrice <= order.stopPrice : prev.stopPrice >= order.stopPrice;
      if (before) break;
      i--;
    }
    list.splice(i, 0, order);
  }

  remove(order: Order): void {
    const list = order.side === 'buy' ? this.#buys : this.#sells;
    const i = list.indexOf(order);
    if (i >= 0) list.splice(i, 1);
  }

  /** Takes out and returns the next stop that `last` triggers, or null. */
  next(last: number): Order | null {
    if (last === 0) return null;
    const buy = this.#buys[0];
    const sell = this.#sells[0];
    const buyHit = buy !== undefined && buy.stopPrice <= last;
    const sellHit = sell !== undefined && sell.stopPrice >= last;
    // Stops cannot be amended, so the earlier of two is the one with the lower order id.
    if (buyHit && (!sellHit || buy.id < sell!.id)) return this.#buys.shift()!;
    if (sellHit) return this.#sells.shift()!;
    return null;
  }

  /** Waiting stops, buys then sells, in trigger order. Allocates. */
  all(): Order[] {
    return [...this.#buys, ...this.#sells];
  }
}
