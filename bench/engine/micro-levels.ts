/**
 * The fast book's level index (a hash table by price, level-table.ts, and the levels in sorted
 * blocks of at most 64, best last) against a Map and one sorted array best first, kept with binary
 * search and splice (see
 * micro-case.ts). One side of 50 levels of one order each (W1's book) and of 12,500 (a W4 book
 * late in its run holds about 25,000 levels over both sides). An iteration is a pair, so the book
 * keeps its shape: open and close a level 1..50 ticks behind the best (a passive order canceled),
 * close and reopen the best level (a fill, then a new best), close and reopen a random level (a
 * cancel anywhere); and a lookup by price. The fast book is driven through its `OrderBook`
 * interface, so these follow whatever index it uses.
 */
import type { OrderBook } from '../../engine/book.ts';
import { createBook } from '../../engine/book-factory.ts';
import { Order } from '../../engine/order.ts';
import { StructureBase, type StructureCase } from './micro-case.ts';

/** Levels of the book side: W1's and a late W4's. */
const SIZES = [50, 12_500];
const CYCLE = 2_000;

const LevelOp = { Near: 0, Best: 1, Random: 2, Lookup: 3 } as const;
type LevelOp = (typeof LevelOp)[keyof typeof LevelOp];
const LEVEL_OP_NAMES = [
  'open+close 1..50 behind the best',
  'close+reopen the best',
  'close+reopen a random level',
  'lookup by price',
];
const BASE_PRICE = 1_000_000;

/** The level operations both indexes offer (the fast book's through its OrderBook interface). */
interface LevelIndex {
  add(order: Order): void;
  remove(order: Order): void;
  level(side: 'buy', price: number): unknown;
  best(side: 'buy'): number;
}

/** A plain level index: a Map by price and a sorted array of prices, best first, kept with splice. */
class SortedLevels implements LevelIndex {
  readonly #byPrice = new Map<number, { qty: number; orders: Order[] }>();
  /** Bids: highest first. */
  readonly #prices: number[] = [];

  add(order: Order): void {
    let level = this.#byPrice.get(order.price);
    if (level === undefined) {
      level = { qty: 0, orders: [] };
      this.#byPrice.set(order.price, level);
      this.#prices.splice(this.#search(order.price), 0, order.price);
    }
    level.orders.push(order);
    level.qty += order.leaves;
  }

  remove(order: Order): void {
    const level = this.#byPrice.get(order.price)!;
    level.orders.splice(level.orders.indexOf(order), 1);
    level.qty -= order.leaves;
    if (level.orders.length > 0) return;
    this.#byPrice.delete(order.price);
    this.#prices.splice(this.#search(order.price), 1);
  }

  level(_side: 'buy', price: number): unknown {
    return this.#byPrice.get(price);
  }

  best(): number {
    return this.#prices[0] ?? 0;
  }

  /** Index of the first price not above `price` (descending order). */
  #search(price: number): number {
    const prices = this.#prices;
    let lo = 0;
    let hi = prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (prices[mid]! > price) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

abstract class LevelCase extends StructureBase implements StructureCase {
  /** Bids at BASE_PRICE + 2k, one order each: a gap of one tick between levels. */
  protected readonly orders: Order[] = [];
  protected readonly spare = new Order();
  /** Near and lookup: prices; random: order indices. */
  protected keys = new Float64Array(CYCLE);
  protected misses = 0;

  constructor(
    readonly title: string,
    handMade: boolean,
    protected readonly op: LevelOp,
    protected readonly levels: number,
  ) {
    super(`levels (${levels}) ${LEVEL_OP_NAMES[op]}`, handMade, CYCLE);
    this.spare.side = 'buy';
    this.spare.leaves = 10;
  }

  protected abstract get index(): LevelIndex;

  protected fill(): void {
    for (let k = 0; k < this.levels; k++) {
      const o = new Order();
      o.id = k + 1;
      o.side = 'buy';
      o.price = BASE_PRICE + 2 * k;
      o.leaves = 10;
      this.orders.push(o);
      this.index.add(o);
    }
  }

  begin(count: number): void {
    if (this.keys.length < count) this.keys = new Float64Array(count);
    this.i = 0;
    this.misses = 0;
    const best = BASE_PRICE + 2 * (this.levels - 1);
    const behind = Math.min(50, this.levels - 1);
    for (let k = 0; k < count; k++) {
      if (this.op === LevelOp.Near) this.keys[k] = best - (2 * this.rng.int(1, behind) - 1);
      else if (this.op === LevelOp.Random) this.keys[k] = this.rng.int(0, this.levels - 1);
      else this.keys[k] = BASE_PRICE + 2 * this.rng.int(0, this.levels - 1);
    }
  }

  end(): void {
    const best = BASE_PRICE + 2 * (this.levels - 1);
    this.expect(this.misses === 0, `${this.misses} lookups missed`);
    this.expect(this.index.best('buy') === best, `best bid ${this.index.best('buy')}, not ${best}`);
  }
}

class FastLevelsCase extends LevelCase {
  readonly #book: OrderBook = createBook('fast');

  constructor(op: LevelOp, levels: number) {
    super(`fast book (${levels} levels) ${LEVEL_OP_NAMES[op]}`, true, op, levels);
    this.fill();
  }

  protected get index(): LevelIndex {
    return this.#book;
  }

  run(): void {
    const book = this.#book;
    const k = this.i++;
    if (this.op === LevelOp.Near) {
      const o = this.spare;
      o.price = this.keys[k]!;
      book.add(o);
      book.remove(o);
    } else if (this.op === LevelOp.Lookup) {
      if (book.level('buy', this.keys[k]!) === undefined) this.misses++;
    } else {
      const o = this.orders[this.op === LevelOp.Best ? this.levels - 1 : this.keys[k]!]!;
      book.remove(o);
      book.add(o);
    }
  }
}

class SortedLevelsCase extends LevelCase {
  readonly #index = new SortedLevels();

  constructor(op: LevelOp, levels: number) {
    super(`Map + sorted array (${levels} levels) ${LEVEL_OP_NAMES[op]}`, false, op, levels);
    this.fill();
  }

  protected get index(): LevelIndex {
    return this.#index;
  }

  run(): void {
    const index = this.#index;
    const k = this.i++;
    if (this.op === LevelOp.Near) {
      const o = this.spare;
      o.price = this.keys[k]!;
      index.add(o);
      index.remove(o);
    } else if (this.op === LevelOp.Lookup) {
      if (index.level('buy', this.keys[k]!) === undefined) this.misses++;
    } else {
      const o = this.orders[this.op === LevelOp.Best ? this.levels - 1 : this.keys[k]!]!;
      index.remove(o);
      index.add(o);
    }
  }
}

/** Every structure case, hand-made then plain for each comparison. Builds their base states. */

/** The level cases, hand-made then plain for each comparison. Builds their books. */
export function levelCases(): StructureCase[] {
  const cases: StructureCase[] = [];
  for (const levels of SIZES) {
    for (const op of [LevelOp.Near, LevelOp.Best, LevelOp.Random, LevelOp.Lookup])
      cases.push(new FastLevelsCase(op, levels), new SortedLevelsCase(op, levels));
  }
  return cases;
}
