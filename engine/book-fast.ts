/**
 * The fast book. Each price level is an intrusive doubly linked FIFO of orders (the links live
 * on the pooled `Order` records), so a cancel unlinks in O(1). Levels are found by price in a
 * hash table (level-table.ts) and kept in order per side in blocks of at most `BLOCK` levels (a sorted array cut in
 * pieces), with the best level last in the last block, where most activity is: taking or dropping
 * the best level is O(1), and a level opened or closed anywhere else costs two binary searches and
 * a shift within its block, not across the whole side (a moving market keeps thousands of levels
 * per side and opens and closes them everywhere: bench:micro "levels"). Levels are pooled; only
 * a block's split allocates once the pools are warm.
 */
import type { LevelInfo, MatchHost, OrderBook } from './book.ts';
import { LevelTable } from './level-table.ts';
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

/** Levels a block holds at most; a fuller block splits in two. */
const BLOCK = 64;

/**
 * One side of the book: its levels in blocks, never empty, so that the levels read block after
 * block are sorted with the best last.
 */
class BookSide {
  readonly blocks: Level[][] = [];
  readonly byPrice = new LevelTable<Level>();
  /** The best level (last of the last block), or null when the side is empty. */
  best: Level | null = null;
  /** Bids: prices ascend towards the best; asks: they descend. */
  constructor(readonly bids: boolean) {}

  /** Whether `a` ranks before `b` on this side. */
  better(a: number, b: number): boolean {
    return this.bids ? a > b : a < b;
  }

  /** Puts a new level (no level has its price) in its place and under its price. */
  insert(level: Level): void {
    const blocks = this.blocks;
    const price = level.price;
    this.byPrice.set(price, level);
    const best = this.best;
    if (best === null) {
      blocks.push([level]);
      this.best = level;
      return;
    }
    let b: number;
    let at: number;
    if (this.better(price, best.price)) {
      // A new best goes last
      b = blocks.length - 1;
      at = blocks[b]!.length;
      this.best = level;
    } else {
      // Any other level goes into the first block that holds a better one
      b = this.#block(price, false);
      at = this.#search(blocks[b]!, price);
    }
    const block = blocks[b]!;
    block.push(level);
    for (let i = block.length - 1; i > at; i--) block[i] = block[i - 1]!;
    block[at] = level;
    if (block.length > BLOCK) blocks.splice(b + 1, 0, block.splice(BLOCK >> 1));
  }

  /** Takes a level out of its place and from under its price. */
  delete(level: Level): void {
    const blocks = this.blocks;
    this.byPrice.delete(level.price);
    if (level === this.best) {
      const last = blocks[blocks.length - 1]!;
      last.pop();
      if (last.length === 0) blocks.pop();
      const next = blocks.length === 0 ? null : blocks[blocks.length - 1]!;
      this.best = next === null ? null : next[next.length - 1]!;
      return;
    }
    const b = this.#block(level.price, true);
    const block = blocks[b]!;
    for (let i = this.#search(block, level.price) - 1; i < block.length - 1; i++) block[i] = block[i + 1]!;
    block.pop();
    if (block.length === 0) {
      blocks.splice(b, 1);
    } else if (b > 0 && block.length < BLOCK >> 2 && blocks[b - 1]!.length + block.length <= BLOCK) {
      // Two thin neighbours become one, so that churn does not leave many small blocks.
      const before = blocks[b - 1]!;
      for (const l of block) before.push(l);
      blocks.splice(b, 1);
    }
  }

  /** Visits the levels best first until `visit` returns false. */
  each(visit: (level: Level) => boolean): void {
    const blocks = this.blocks;
    for (let b = blocks.length - 1; b >= 0; b--) {
      const block = blocks[b]!;
      for (let i = block.length - 1; i >= 0; i--) if (!visit(block[i]!)) return;
    }
  }

  /**
   * The first block whose best level ranks before `price` (or, with `holding`, is at it): where a
   * level at `price` goes or is.
   */
  #block(price: number, holding: boolean): number {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const block = blocks[mid]!;
      const top = block[block.length - 1]!.price;
      if (this.better(top, price) || (holding && top === price)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Index in `block` of the first level that ranks before `price`. */
  #search(block: Level[], price: number): number {
    let lo = 0;
    let hi = block.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(block[mid]!.price, price)) hi = mid;
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
    const level = (side === 'buy' ? this.#bids : this.#asks).best;
    return level === null ? 0 : level.price;
  }

  bestQty(side: Side): number {
    const level = (side === 'buy' ? this.#bids : this.#asks).best;
    return level === null ? 0 : level.qty;
  }

  level(side: Side, price: number): LevelInfo | undefined {
    return (side === 'buy' ? this.#bids : this.#asks).byPrice.get(price);
  }

  match(taker: Order, limit: number, host: MatchHost): void {
    const buy = taker.side === 'buy';
    const side = buy ? this.#asks : this.#bids;
    while (taker.leaves > 0) {
      const level = side.best;
      if (level === null) return;
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
    side.each((level) => {
      if (got >= want || (buy ? level.price > limit : level.price < limit)) return false;
      for (let o = level.head; o !== null && got < want; o = o.next) {
        if (o.account !== taker.account) got += Math.min(want - got, o.leaves);
        else if (stpTakerCancel(taker.stp, want - got, o.leaves) > 0) return false;
      }
      return true;
    });
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
    (side === 'buy' ? this.#bids : this.#asks).each((level) => {
      for (let o = level.head; o !== null; o = o.next) visit(o);
      return true;
    });
  }

  depth(side: Side, n: number): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    (side === 'buy' ? this.#bids : this.#asks).each((l) => {
      if (out.length === n) return false;
      out.push([l.price, l.qty, l.count]);
      return true;
    });
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
    side.insert(level);
    return level;
  }

  #closeLevel(side: BookSide, level: Level): void {
    side.delete(level);
    level.head = null;
    level.tail = null;
    this.#freeLevels.push(level);
  }
}
