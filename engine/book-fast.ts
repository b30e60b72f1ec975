/**
 * The fast book. Each price level is an intrusive doubly linked FIFO of orders (the links live
 * on the pooled `Order` records), so a cancel unlinks in O(1). Levels are found by price in a
 * map and kept in a sorted array per side with the best level at the end, where most activity
 * is: taking or dropping the best level is O(1), a new level costs a binary search and a short
 * shift. Levels are pooled; no operation allocates once the pools are warm.
 */
import type { LevelInfo, MatchHost, OrderBook } from './book.ts';
import type { Order } from './order.ts';
import { stpMakerCancel, stpTakerCancel } from './stp.ts';
import type { Side } from './types.ts';

class Level {
  price = 0;
  qty = 0;
  count = 0;
  head: Order | null = null;
  tail: Order | null = null;
}

/** One side of the book. `levels[0..n)` sorted so that the best level is `levels[n - 1]`. */
class BookSide {
  levels: Level[] = [];
  n = 0;
  byPrice = new Map<number, Level>();
  /** Bids: prices ascend towards the best; asks: they descend. */
  constructor(readonly bids: boolean) {}

  /** Whether `a` ranks before `b` on this side. */
  better(a: number, b: number): boolean {
    return this.bids ? a > b : a < b;
  }

  /** Index of the level at `price`, or of where it would go (first level that ranks before it). */
  search(price: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(this.levels[mid]!.price, price)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

export class FastBook implements OrderBook {
  #bids = new BookSide(true);
  #asks = new BookSide(false);
  #freeLevels: Level[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  best(side: Side): number {
    const s = side === 'buy' ? this.#bids : this.#asks;
    return s.n === 0 ? 0 : s.levels[s.n - 1]!.price;
  }

  bestQty(side: Side): number {
    const s = side === 'buy' ? this.#bids : this.#asks;
    return s.n === 0 ? 0 : s.levels[s.n - 1]!.qty;
  }

  level(side: Side, price: number): LevelInfo | undefined {
    return (side === 'buy' ? this.#bids : this.#asks).byPrice.get(price);
  }

  match(taker: Order, limit: number, host: MatchHost): void {
    const buy = taker.side === 'buy';
    const side = buy ? this.#asks : this.#bids;
    while (taker.leaves > 0 && side.n > 0) {
      const level = side.levels[side.n - 1]!;
      const price = level.price;
      if (buy ? price > limit : price < limit) return;
      const maker = level.head!;
      if (maker.account === taker.account) {
        const makerQty = stpMakerCancel(taker.stp, taker.leaves, maker.leaves);
        const takerQty = stpTakerCancel(taker.stp, taker.leaves, maker.leaves);
        maker.leaves -= makerQty;
        level.qty -= makerQty;
        taker.leaves -= takerQty;
        if (maker.leaves === 0) this.#unlink(side, level, maker);
        host.onSelfTrade(maker, taker, makerQty, takerQty);
        continue;
      }
      const qty = Math.min(taker.leaves, maker.leaves);
      maker.leaves -= qty;
      maker.filled += qty;
      taker.leaves -= qty;
      taker.filled += qty;
      level.qty -= qty;
      if (maker.leaves === 0) this.#unlink(side, level, maker);
      host.onFill(maker, taker, price, qty);
    }
  }

  fillable(taker: Order, limit: number, want: number): number {
    const buy = taker.side === 'buy';
    const side = buy ? this.#asks : this.#bids;
    let got = 0;
    for (let i = side.n - 1; i >= 0 && got < want; i--) {
      const level = side.levels[i]!;
      if (buy ? level.price > limit : level.price < limit) break;
      for (let o = level.head; o !== null && got < want; o = o.next) {
        if (o.account !== taker.account) got += Math.min(want - got, o.leaves);
        else if (stpTakerCancel(taker.stp, want - got, o.leaves) > 0) return got;
      }
    }
    return got;
  }

  add(order: Order): boolean {
    const side = order.side === 'buy' ? this.#bids : this.#asks;
    let level = side.byPrice.get(order.price);
    const opened = level === undefined;
    if (level === undefined) level = this.#openLevel(side, order.price);
    order.prev = level.tail;
    order.next = null;
    if (level.tail === null) level.head = order;
    else level.tail.next = order;
    level.tail = order;
    level.count++;
    level.qty += order.leaves;
    order.level = level;
    this.#size++;
    return opened;
  }

  remove(order: Order): void {
    const side = order.side === 'buy' ? this.#bids : this.#asks;
    const level = order.level as Level;
    level.qty -= order.leaves;
    this.#unlink(side, level, order);
  }

  reduce(order: Order, leaves: number): void {
    (order.level as Level).qty -= order.leaves - leaves;
    order.leaves = leaves;
  }

  forEach(side: Side, visit: (order: Order) => void): void {
    const s = side === 'buy' ? this.#bids : this.#asks;
    for (let i = s.n - 1; i >= 0; i--) {
      for (let o = s.levels[i]!.head; o !== null; o = o.next) visit(o);
    }
  }

  depth(side: Side, n: number): Array<[number, number, number]> {
    const s = side === 'buy' ? this.#bids : this.#asks;
    const out: Array<[number, number, number]> = [];
    for (let i = s.n - 1; i >= 0 && out.length < n; i--) {
      const l = s.levels[i]!;
      out.push([l.price, l.qty, l.count]);
    }
    return out;
  }

  /** Takes an order out of its level's queue (its leaves already off the level's total). */
  #unlink(side: BookSide, level: Level, order: Order): void {
    if (order.prev === null) level.head = order.next;
    else order.prev.next = order.next;
    if (order.next === null) level.tail = order.prev;
    else order.next.prev = order.prev;
    order.prev = null;
    order.next = null;
    order.level = null;
    this.#size--;
    if (--level.count === 0) this.#closeLevel(side, level);
  }

  #openLevel(side: BookSide, price: number): Level {
    const level = this.#freeLevels.pop() ?? new Level();
    level.price = price;
    level.qty = 0;
    level.count = 0;
    level.head = null;
    level.tail = null;
    side.byPrice.set(price, level);
    const at = side.n > 0 && side.better(side.levels[side.n - 1]!.price, price) ? side.search(price) : side.n;
    const levels = side.levels;
    for (let i = side.n; i > at; i--) levels[i] = levels[i - 1]!;
    levels[at] = level;
    side.n++;
    return level;
  }

  #closeLevel(side: BookSide, level: Level): void {
    side.byPrice.delete(level.price);
    const levels = side.levels;
    const last = side.n - 1;
    const at = levels[last] === level ? last : side.search(level.price) - 1;
    for (let i = at; i < last; i++) levels[i] = levels[i + 1]!;
    side.n = last;
    level.head = null;
    level.tail = null;
    this.#freeLevels.push(level);
  }
}
