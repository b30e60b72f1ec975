/**
 * The reference book: a list of levels per side, best first, each a FIFO array of orders.
 * Linear scans and array splices everywhere: slow, and small enough to check by eye. It is the
 * oracle the fast book is tested against.
 */
import type { LevelInfo, MatchHost, OrderBook } from './book.ts';
import type { Order } from './order.ts';
import { stpMakerCancel, stpTakerCancel } from './stp.ts';
import type { Side } from './types.ts';

interface Level {
  price: number;
  orders: Order[];
}

export class ReferenceBook implements OrderBook {
  #bids: Level[] = []; // highest price first
  #asks: Level[] = []; // lowest price first

  get size(): number {
    let n = 0;
    for (const l of this.#bids) n += l.orders.length;
    for (const l of this.#asks) n += l.orders.length;
    return n;
  }

  best(side: Side): number {
    return this.#levels(side)[0]?.price ?? 0;
  }

  bestQty(side: Side): number {
    const best = this.#levels(side)[0];
    return best ? this.level(side, best.price)!.qty : 0;
  }

  level(side: Side, price: number): LevelInfo | undefined {
    const level = this.#levels(side).find((l) => l.price === price);
    return level && { qty: level.orders.reduce((sum, o) => sum + o.leaves, 0), count: level.orders.length };
  }

  match(taker: Order, limit: number, host: MatchHost): void {
    const levels = this.#levels(opposite(taker.side));
    while (taker.leaves > 0 && levels.length > 0) {
      const level = levels[0]!;
      if (!crosses(taker.side, limit, level.price)) return;
      const maker = level.orders[0]!;
      if (maker.account === taker.account) {
        const makerQty = stpMakerCancel(taker.stp, taker.leaves, maker.leaves);
        const takerQty = stpTakerCancel(taker.stp, taker.leaves, maker.leaves);
        maker.leaves -= makerQty;
        taker.leaves -= takerQty;
        if (maker.leaves === 0) this.#shift(levels);
        host.onSelfTrade(maker, taker, makerQty, takerQty);
        continue;
      }
      const qty = Math.min(taker.leaves, maker.leaves);
      maker.leaves -= qty;
      maker.filled += qty;
      taker.leaves -= qty;
      taker.filled += qty;
      if (maker.leaves === 0) this.#shift(levels);
      host.onFill(maker, taker, level.price, qty);
    }
  }

  fillable(taker: Order, limit: number, want: number): number {
    let got = 0;
    for (const level of this.#levels(opposite(taker.side))) {
      if (!crosses(taker.side, limit, level.price)) break;
      for (const maker of level.orders) {
        if (got >= want) return want;
        if (maker.account === taker.account) {
          if (stpTakerCancel(taker.stp, want - got, maker.leaves) > 0) return got;
        } else {
          got += Math.min(want - got, maker.leaves);
        }
      }
    }
    return Math.min(got, want);
  }

  add(order: Order): boolean {
    const levels = this.#levels(order.side);
    let i = levels.findIndex((l) => l.price === order.price);
    const opened = i < 0;
    if (opened) {
      i = levels.findIndex((l) => better(order.side, order.price, l.price));
      if (i < 0) i = levels.length;
      levels.splice(i, 0, { price: order.price, orders: [] });
    }
    levels[i]!.orders.push(order);
    return opened;
  }

  remove(order: Order): void {
    const levels = this.#levels(order.side);
    const i = levels.findIndex((l) => l.price === order.price);
    const level = levels[i]!;
    level.orders.splice(level.orders.indexOf(order), 1);
    if (level.orders.length === 0) levels.splice(i, 1);
  }

  reduce(order: Order, leaves: number): void {
    order.leaves = leaves;
  }

  forEach(side: Side, visit: (order: Order) => void): void {
    for (const level of this.#levels(side)) for (const o of level.orders) visit(o);
  }

  depth(side: Side, n: number): Array<[number, number, number]> {
    return this.#levels(side)
      .slice(0, n)
      .map((l) => [l.price, l.orders.reduce((sum, o) => sum + o.leaves, 0), l.orders.length]);
  }

  #levels(side: Side): Level[] {
    return side === 'buy' ? this.#bids : this.#asks;
  }

  /** Drops the best level's first order, and the level when it empties. */
  #shift(levels: Level[]): void {
    const level = levels[0]!;
    level.orders.shift();
    if (level.orders.length === 0) levels.shift();
  }
}

function opposite(side: Side): Side {
  return side === 'buy' ? 'sell' : 'buy';
}

/** Whether a taker on `side` with `limit` may trade at a resting `price`. */
function crosses(side: Side, limit: number, price: number): boolean {
  return side === 'buy' ? price <= limit : price >= limit;
}

/** Whether `a` ranks before `b` on `side`. */
function better(side: Side, a: number, b: number): boolean {
  return side === 'buy' ? a > b : a < b;
}
