/**
 * The fast book's level index over thousands of levels per side, where its blocks split, empty
 * and merge: levels opened and closed at random prices across a wide range, best levels taken
 * and new ones made, each step checked against the reference book through the `OrderBook`
 * interface (best prices and quantities, every level in priority order, every order, and what a
 * taker could fill).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createBook } from '../../engine/book-factory.ts';
import type { BookKind, MatchHost, OrderBook } from '../../engine/book.ts';
import { LevelTable } from '../../engine/level-table.ts';
import { Order } from '../../engine/order.ts';
import type { Side } from '../../engine/types.ts';
import { XorShift32 } from '../../bench/prng.ts';

const SIDES: Side[] = ['buy', 'sell'];
const NO_HOST: MatchHost = { onFill() {}, onSelfTrade() {} };

/** One book and its resting orders, in the order they were added. */
class Driven {
  readonly book: OrderBook;
  readonly live: Order[] = [];

  constructor(kind: BookKind) {
    this.book = createBook(kind);
  }

  add(id: number, side: Side, price: number, qty: number): void {
    const o = new Order();
    o.id = id;
    o.account = id % 7;
    o.side = side;
    o.price = price;
    o.leaves = qty;
    this.book.add(o);
    this.live.push(o);
  }

  /** Removes the resting order at `k` of `live`. */
  remove(k: number): void {
    const o = this.live[k]!;
    this.book.remove(o);
    this.live[k] = this.live[this.live.length - 1]!;
    this.live.pop();
  }

  /** Everything the interface tells about the book. */
  view(): unknown {
    const taker = new Order();
    taker.account = 99;
    return SIDES.map((side) => {
      const ids: number[] = [];
      this.book.forEach(side, (o) => ids.push(o.id));
      taker.side = side === 'buy' ? 'sell' : 'buy';
      const deep = side === 'buy' ? 1 : 1_000_000_000;
      return {
        best: this.book.best(side),
        bestQty: this.book.bestQty(side),
        depth: this.book.depth(side, Number.MAX_SAFE_INTEGER),
        ids,
        fillable: this.book.fillable(taker, deep, 5_000),
      };
    });
  }
}

describe('the fast book over thousands of levels per side', () => {
  it('keeps every level in priority order through opens, closes, splits and merges', () => {
    const rng = new XorShift32(7);
    const fast = new Driven('fast');
    const reference = new Driven('reference');
    let id = 0;
    let maxLevels = 0;
    for (let step = 0; step < 60_000; step++) {
      const r = rng.int(0, 99);
      const live = fast.live.length;
      if (live > 0 && (r < 40 || live > 6_000)) {
        // A cancel anywhere (the same order in both: both lists change alike)
        const k = rng.int(0, live - 1);
        fast.remove(k);
        reference.remove(k);
      } else if (live > 0 && r < 45) {
        // The best level of a side is taken (a sweep of one level)
        const side = SIDES[rng.int(0, 1)]!;
        const best = fast.book.best(side);
        for (let k = fast.live.length - 1; k >= 0; k--) {
          const o = fast.live[k]!;
          if (o.side === side && o.price === best) {
            fast.remove(k);
            reference.remove(k);
          }
        }
      } else {
        // Bids below 50,000 and asks above it, at prices spread over 40,000 ticks; a new best now and then
        const side = SIDES[rng.int(0, 1)]!;
        const away = r < 55 ? 0 : rng.int(1, 20_000);
        const best = fast.book.best(side);
        const edge = side === 'buy' ? Math.max(best, 30_000) : best === 0 ? 70_000 : best;
        const price = side === 'buy' ? Math.min(49_999, edge + 1 - away) : Math.max(50_001, edge - 1 + away);
        id++;
        const qty = rng.int(1, 100);
        fast.add(id, side, price, qty);
        reference.add(id, side, price, qty);
      }
      if (step % 1_000 === 999) {
        assert.deepEqual(fast.view(), reference.view(), `after step ${step}`);
        const levels = fast.book.depth('buy', Number.MAX_SAFE_INTEGER).length;
        maxLevels = Math.max(maxLevels, levels);
      }
    }
    assert.equal(fast.book.size, reference.book.size);
    assert.ok(maxLevels > 1_000, `only ${maxLevels} bid levels at once: blocks never split much`);
    // Empty both sides from the best down: the index gives back every level and ends empty
    while (fast.live.length > 0) {
      fast.remove(0);
      reference.remove(0);
    }
    assert.deepEqual(fast.view(), reference.view());
    assert.equal(fast.book.best('buy'), 0);
    assert.equal(fast.book.best('sell'), 0);
    // It matches like the reference afterwards too
    const a = new Driven('fast');
    const b = new Driven('reference');
    for (let k = 1; k <= 500; k++) {
      a.add(k, 'sell', 100 + k * 3, 10);
      b.add(k, 'sell', 100 + k * 3, 10);
    }
    for (const d of [a, b]) {
      const taker = new Order();
      taker.id = 1_000;
      taker.account = 99;
      taker.side = 'buy';
      taker.leaves = 2_505;
      d.book.match(taker, 100 + 400 * 3, NO_HOST);
    }
    assert.deepEqual(a.view(), b.view());
  });
});

describe('the level table by price', () => {
  it('answers as a Map through sets, deletes (backward shifts), growth and misses', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 300 }), fc.nat({ max: 2 ** 20 })), {
          maxLength: 2_000,
          size: 'max',
        }),
        (steps) => {
          const table = new LevelTable<number>();
          const map = new Map<number, number>();
          for (const [put, small, big] of steps) {
            // Nearby prices and far ones, a safe integer past 2^32 among them
            const price = big % 5 === 0 ? 2 ** 40 + small : small;
            if (put) {
              table.set(price, big);
              map.set(price, big);
            } else {
              assert.equal(table.delete(price), map.delete(price));
            }
            assert.equal(table.size, map.size);
            assert.equal(table.get(small), map.get(small));
          }
          for (const [price, v] of map) assert.equal(table.get(price), v);
        },
      ),
      { numRuns: 100 },
    );
  });
});
