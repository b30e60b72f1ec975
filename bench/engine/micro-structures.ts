/**
 * Micro-benchmarks of the engine's hand-made structures against the standard ones they replace,
 * run by micro.ts in the same suite as its engine cases. Each pair does the same operations in
 * the engine's access patterns, so that every choice stays justified by a ratio measured in the
 * same run:
 *
 *   IdTable (live orders by id) vs Map<number, Order>. 100,000 live orders (W1's book); new ids
 *     ascend, as the engine hands them out; lookups and deletes take random live ids.
 *   ClientIdTable (live orders by account and client order id) vs a Map per account, which it
 *     replaced. 100,000 live orders over 8 accounts; lookups use a fresh copy of the id string,
 *     as a command carries one: a hit (cancel by client id) and a miss (the duplicate check of
 *     every new order).
 *   UsedClientIds (ids remembered beyond their orders) vs a Set per account plus a FIFO of the
 *     ids, full at 1,000,000 ids: remembering a new id (a miss, then add, forgetting the oldest)
 *     and a hit.
 *   The fast book's level index (a Map by price and a sorted array with the best level last,
 *     moved by hand) vs a Map and a sorted array best first, kept with binary search and splice.
 *     One side of 50 levels of one order each (W1's book) and of 12,500 (a W4 book late in its
 *     run holds about 25,000 levels over both sides). An iteration is a pair, so the book keeps
 *     its shape: open and
 *     close a level 1..50 ticks behind the best (a passive order canceled), close and reopen the
 *     best level (a fill, then a new best), close and reopen a random level (a cancel anywhere);
 *     and a lookup by price.
 *
 * A cycle runs a fixed number of iterations (`count`, through `initCount` and a tiny `minTime`),
 * so that tables keep about their engine size; setup makes what a cycle consumes and teardown
 * (both untimed) brings the structure back to its base size. Every iteration also pays for the
 * benchmark's loop and one call through a global, alike for both sides of a pair, which pulls
 * ratios towards 1.
 */
import { createBook } from '../../engine/book-factory.ts';
import type { OrderBook } from '../../engine/book.ts';
import { ClientIdTable } from '../../engine/client-ids.ts';
import { IdTable } from '../../engine/id-table.ts';
import { Order } from '../../engine/order.ts';
import { UsedClientIds } from '../../engine/used-client-ids.ts';
import { XorShift32 } from '../prng.ts';

/** What micro.ts runs: untimed `begin(count)`, `count` timed `run()`, untimed `end()`. */
export interface MicroCase {
  readonly key: string;
  readonly title: string;
  begin(count: number): void;
  run(): void;
  end(): void;
  readonly problem: string | null;
}

/** A structure case: one side of a comparison. */
export interface StructureCase extends MicroCase {
  /** The comparison, e.g. 'IdTable insert'. */
  readonly pair: string;
  readonly handMade: boolean;
  /** Iterations per cycle. */
  readonly count: number;
}

const LIVE = 100_000;
const ACCOUNTS = 8;
const TABLE_CYCLE = 20_000;
const REMEMBERED = 1_000_000;
/** Levels of the book side in the level cases: W1's and a late W4's. */
const LEVEL_SIZES = [50, 12_500];
const LEVEL_CYCLE = 2_000;

const Op = { Insert: 0, Lookup: 1, Delete: 2, Miss: 3 } as const;
type Op = (typeof Op)[keyof typeof Op];
const OP_NAMES = ['insert', 'lookup', 'delete', 'lookup (miss)'];

/** Live entries for uniform picks and O(1) removal (swap-remove). */
class Live<T> {
  readonly items: T[] = [];

  pick(rng: XorShift32): T {
    return this.items[rng.int(0, this.items.length - 1)]!;
  }

  take(rng: XorShift32): T {
    const items = this.items;
    const k = rng.int(0, items.length - 1);
    const item = items[k]!;
    items[k] = items[items.length - 1]!;
    items.pop();
    return item;
  }
}

abstract class Base {
  protected readonly rng = new XorShift32(42);
  protected i = 0;
  #problem: string | null = null;

  constructor(
    readonly pair: string,
    readonly handMade: boolean,
    readonly count: number,
  ) {}

  get key(): string {
    return `${this.pair} ${this.handMade ? 'hand-made' : 'plain'}`.replace(/\W+/g, '_');
  }

  abstract readonly title: string;
  /** One timed iteration. */
  abstract run(): void;

  get problem(): string | null {
    return this.#problem;
  }

  protected expect(ok: boolean, what: string): void {
    if (!ok && this.#problem === null) this.#problem = what;
  }
}

// ---- orders by id ---------------------------------------------------------------------------

const VALUE = new Order();

abstract class IdCase extends Base implements StructureCase {
  protected keys = new Float64Array(TABLE_CYCLE);
  protected misses = 0;
  #live = new Live<number>();
  #next = 1;

  constructor(
    readonly title: string,
    handMade: boolean,
    protected readonly op: Op,
  ) {
    super(`IdTable ${OP_NAMES[op]}`, handMade, TABLE_CYCLE);
  }

  protected fill(): void {
    for (let k = 0; k < LIVE; k++) this.#put(this.#next++);
  }

  protected abstract put(id: number): void;
  protected abstract drop(id: number): void;
  protected abstract get size(): number;

  #put(id: number): void {
    this.put(id);
    this.#live.items.push(id);
  }

  begin(count: number): void {
    if (this.keys.length < count) this.keys = new Float64Array(count);
    this.i = 0;
    this.misses = 0;
    const keys = this.keys;
    if (this.op === Op.Insert) for (let k = 0; k < count; k++) keys[k] = this.#next++;
    else if (this.op === Op.Lookup) for (let k = 0; k < count; k++) keys[k] = this.#live.pick(this.rng);
    else {
      for (let k = 0; k < count; k++) this.#put(this.#next++);
      for (let k = 0; k < count; k++) keys[k] = this.#live.take(this.rng);
    }
  }

  end(): void {
    if (this.op === Op.Insert) {
      for (let k = 0; k < this.i; k++) this.#live.items.push(this.keys[k]!);
      while (this.#live.items.length > LIVE) this.drop(this.#live.take(this.rng));
    }
    this.expect(this.misses === 0, `${this.misses} lookups missed`);
    this.expect(this.size === LIVE, `${this.size} entries after a cycle, not ${LIVE}`);
  }
}

class IdTableCase extends IdCase {
  readonly #t = new IdTable<Order>();

  constructor(op: Op) {
    super(`IdTable ${OP_NAMES[op]}`, true, op);
    this.fill();
  }

  protected put(id: number): void {
    this.#t.set(id, VALUE);
  }

  protected drop(id: number): void {
    this.#t.delete(id);
  }

  protected get size(): number {
    return this.#t.size;
  }

  run(): void {
    const id = this.keys[this.i++]!;
    if (this.op === Op.Insert) this.#t.set(id, VALUE);
    else if (this.op === Op.Lookup) {
      if (this.#t.get(id) === undefined) this.misses++;
    } else this.#t.delete(id);
  }
}

class IdMapCase extends IdCase {
  readonly #t = new Map<number, Order>();

  constructor(op: Op) {
    super(`Map<number, Order> ${OP_NAMES[op]}`, false, op);
    this.fill();
  }

  protected put(id: number): void {
    this.#t.set(id, VALUE);
  }

  protected drop(id: number): void {
    this.#t.delete(id);
  }

  protected get size(): number {
    return this.#t.size;
  }

  run(): void {
    const id = this.keys[this.i++]!;
    if (this.op === Op.Insert) this.#t.set(id, VALUE);
    else if (this.op === Op.Lookup) {
      if (this.#t.get(id) === undefined) this.misses++;
    } else this.#t.delete(id);
  }
}

// ---- orders by client order id --------------------------------------------------------------

abstract class ClientCase extends Base implements StructureCase {
  /** Insert and delete: the orders; lookups: account and a fresh id string. */
  protected orders: Order[] = [];
  protected accounts = new Int32Array(TABLE_CYCLE);
  protected ids: string[] = [];
  protected found = 0;
  #live = new Live<Order>();
  #next = 1;

  constructor(
    readonly title: string,
    handMade: boolean,
    protected readonly op: Op,
  ) {
    super(`ClientIdTable ${OP_NAMES[op]}`, handMade, TABLE_CYCLE);
  }

  protected fill(): void {
    for (let k = 0; k < LIVE; k++) this.#put(this.#fresh());
  }

  protected abstract put(o: Order): void;
  protected abstract drop(o: Order): void;
  protected abstract get size(): number;

  /** A new order of account seq % 8 with client order id `c<seq>` (seq also in `id`). */
  #fresh(): Order {
    const o = new Order();
    o.id = this.#next++;
    o.account = o.id % ACCOUNTS;
    o.clientOrderId = `c${o.id}`;
    return o;
  }

  #put(o: Order): void {
    this.put(o);
    this.#live.items.push(o);
  }

  begin(count: number): void {
    if (this.accounts.length < count) this.accounts = new Int32Array(count);
    this.i = 0;
    this.found = 0;
    this.orders.length = 0;
    this.ids.length = 0;
    if (this.op === Op.Insert) for (let k = 0; k < count; k++) this.orders.push(this.#fresh());
    else if (this.op === Op.Delete) {
      for (let k = 0; k < count; k++) this.#put(this.#fresh());
      for (let k = 0; k < count; k++) this.orders.push(this.#live.take(this.rng));
    } else {
      for (let k = 0; k < count; k++) {
        // A hit names a live order; a miss an id not used yet. Either as a new string.
        const seq = this.op === Op.Lookup ? this.#live.pick(this.rng).id : this.#next + k;
        this.accounts[k] = seq % ACCOUNTS;
        this.ids.push(`c${seq}`);
      }
    }
  }

  end(): void {
    if (this.op === Op.Insert) {
      for (let k = 0; k < this.i; k++) this.#live.items.push(this.orders[k]!);
      while (this.#live.items.length > LIVE) this.drop(this.#live.take(this.rng));
    }
    if (this.op === Op.Lookup) this.expect(this.found === this.i, `${this.i - this.found} hits missed`);
    if (this.op === Op.Miss) this.expect(this.found === 0, `${this.found} misses found an order`);
    this.expect(this.size === LIVE, `${this.size} entries after a cycle, not ${LIVE}`);
  }
}

class ClientIdTableCase extends ClientCase {
  readonly #t = new ClientIdTable();
  #size = 0;

  constructor(op: Op) {
    super(`ClientIdTable ${OP_NAMES[op]}`, true, op);
    this.fill();
  }

  protected put(o: Order): void {
    this.#t.add(o);
    this.#size++;
  }

  protected drop(o: Order): void {
    if (this.#t.remove(o)) this.#size--;
  }

  protected get size(): number {
    return this.#size;
  }

  run(): void {
    const k = this.i++;
    if (this.op === Op.Insert) this.#t.add(this.orders[k]!);
    else if (this.op === Op.Delete) this.#t.remove(this.orders[k]!);
    else if (this.#t.get(this.accounts[k]!, this.ids[k]!) !== undefined) this.found++;
  }

  override end(): void {
    if (this.op === Op.Insert) this.#size += this.i;
    if (this.op === Op.Delete) this.#size -= this.i;
    super.end();
  }
}

class ClientMapCase extends ClientCase {
  readonly #t = Array.from({ length: ACCOUNTS }, () => new Map<string, Order>());

  constructor(op: Op) {
    super(`Map<string, Order> per account ${OP_NAMES[op]}`, false, op);
    this.fill();
  }

  protected put(o: Order): void {
    this.#t[o.account]!.set(o.clientOrderId, o);
  }

  protected drop(o: Order): void {
    this.#t[o.account]!.delete(o.clientOrderId);
  }

  protected get size(): number {
    return this.#t.reduce((n, m) => n + m.size, 0);
  }

  run(): void {
    const k = this.i++;
    if (this.op === Op.Insert) {
      const o = this.orders[k]!;
      this.#t[o.account]!.set(o.clientOrderId, o);
    } else if (this.op === Op.Delete) {
      const o = this.orders[k]!;
      this.#t[o.account]!.delete(o.clientOrderId);
    } else if (this.#t[this.accounts[k]!]!.get(this.ids[k]!) !== undefined) this.found++;
  }
}

// ---- client order ids remembered ------------------------------------------------------------

/** Remember (Op.Insert: a miss, then add) or look up (Op.Lookup: a hit) ids `u<seq>`, account seq % 8. */
abstract class UsedCase extends Base implements StructureCase {
  protected accounts = new Int32Array(TABLE_CYCLE);
  protected ids: string[] = [];
  protected found = 0;
  #next = 0;

  constructor(
    readonly title: string,
    handMade: boolean,
    protected readonly op: Op,
  ) {
    super(`UsedClientIds ${op === Op.Insert ? 'remember a new id' : 'lookup'}`, handMade, TABLE_CYCLE);
  }

  protected fill(): void {
    for (let seq = 0; seq < REMEMBERED; seq++) this.remember(seq % ACCOUNTS, `u${seq}`);
    this.#next = REMEMBERED;
  }

  protected abstract remember(account: number, id: string): void;
  protected abstract get size(): number;

  begin(count: number): void {
    if (this.accounts.length < count) this.accounts = new Int32Array(count);
    this.i = 0;
    this.found = 0;
    this.ids.length = 0;
    for (let k = 0; k < count; k++) {
      const seq = this.op === Op.Insert ? this.#next++ : this.#next - 1 - this.rng.int(0, REMEMBERED - 1);
      this.accounts[k] = seq % ACCOUNTS;
      this.ids.push(`u${seq}`);
    }
  }

  end(): void {
    if (this.op === Op.Insert) this.#next -= this.ids.length - this.i;
    const hits = this.op === Op.Insert ? 0 : this.i;
    this.expect(this.found === hits, `${this.found} of ${this.i} ids found, expected ${hits}`);
    this.expect(this.size === REMEMBERED, `${this.size} ids remembered, not ${REMEMBERED}`);
  }
}

class UsedClientIdsCase extends UsedCase {
  readonly #t = new UsedClientIds(REMEMBERED);

  constructor(op: Op) {
    super(`UsedClientIds ${op === Op.Insert ? 'remember' : 'lookup'}`, true, op);
    this.fill();
  }

  protected remember(account: number, id: string): void {
    if (!this.#t.has(account, id)) this.#t.add(account, id);
  }

  protected get size(): number {
    return this.#t.size;
  }

  run(): void {
    const k = this.i++;
    const t = this.#t;
    if (t.has(this.accounts[k]!, this.ids[k]!)) this.found++;
    else if (this.op === Op.Insert) t.add(this.accounts[k]!, this.ids[k]!);
  }
}

/** The plain way: a Set of ids per account, and a ring of (account, id) to forget the oldest. */
class UsedSetCase extends UsedCase {
  readonly #sets = Array.from({ length: ACCOUNTS }, () => new Set<string>());
  readonly #ringAccount = new Int32Array(REMEMBERED);
  readonly #ringId: string[] = new Array<string>(REMEMBERED).fill('');
  #head = 0;
  #count = 0;

  constructor(op: Op) {
    super(`Set<string> per account + FIFO ${op === Op.Insert ? 'remember' : 'lookup'}`, false, op);
    this.fill();
  }

  protected remember(account: number, id: string): void {
    const set = this.#sets[account]!;
    if (set.has(id)) return;
    if (this.#count === REMEMBERED) {
      this.#sets[this.#ringAccount[this.#head]!]!.delete(this.#ringId[this.#head]!);
      this.#head = (this.#head + 1) % REMEMBERED;
      this.#count--;
    }
    const p = (this.#head + this.#count) % REMEMBERED;
    this.#ringAccount[p] = account;
    this.#ringId[p] = id;
    this.#count++;
    set.add(id);
  }

  protected get size(): number {
    return this.#count;
  }

  run(): void {
    const k = this.i++;
    if (this.#sets[this.accounts[k]!]!.has(this.ids[k]!)) this.found++;
    else if (this.op === Op.Insert) this.remember(this.accounts[k]!, this.ids[k]!);
  }
}

// ---- price levels ---------------------------------------------------------------------------

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

abstract class LevelCase extends Base implements StructureCase {
  /** Bids at BASE_PRICE + 2k, one order each: a gap of one tick between levels. */
  protected readonly orders: Order[] = [];
  protected readonly spare = new Order();
  /** Near and lookup: prices; random: order indices. */
  protected keys = new Float64Array(LEVEL_CYCLE);
  protected misses = 0;

  constructor(
    readonly title: string,
    handMade: boolean,
    protected readonly op: LevelOp,
    protected readonly levels: number,
  ) {
    super(`levels (${levels}) ${LEVEL_OP_NAMES[op]}`, handMade, LEVEL_CYCLE);
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
export function structureCases(): StructureCase[] {
  const cases: StructureCase[] = [];
  for (const op of [Op.Insert, Op.Lookup, Op.Delete]) cases.push(new IdTableCase(op), new IdMapCase(op));
  for (const op of [Op.Insert, Op.Lookup, Op.Miss, Op.Delete])
    cases.push(new ClientIdTableCase(op), new ClientMapCase(op));
  for (const op of [Op.Insert, Op.Lookup]) cases.push(new UsedClientIdsCase(op), new UsedSetCase(op));
  for (const levels of LEVEL_SIZES) {
    for (const op of [LevelOp.Near, LevelOp.Best, LevelOp.Random, LevelOp.Lookup])
      cases.push(new FastLevelsCase(op, levels), new SortedLevelsCase(op, levels));
  }
  return cases;
}
