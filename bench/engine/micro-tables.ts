/**
 * The engine's hand-made hash tables against the standard structures they replace (see
 * micro-case.ts):
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
 */
import { ClientIdTable } from '../../engine/client-ids.ts';
import { IdTable } from '../../engine/id-table.ts';
import { Order } from '../../engine/order.ts';
import { UsedClientIds } from '../../engine/used-client-ids.ts';
import type { XorShift32 } from '../prng.ts';
import { StructureBase, type StructureCase } from './micro-case.ts';

const LIVE = 100_000;
const ACCOUNTS = 8;
const CYCLE = 20_000;
const REMEMBERED = 1_000_000;

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

// ---- orders by id ---------------------------------------------------------------------------

/** An order record with this id, as the engine keeps one per live order. */
function record(id: number): Order {
  const o = new Order();
  o.id = id;
  return o;
}

abstract class IdCase extends StructureBase implements StructureCase {
  protected keys = new Float64Array(CYCLE);
  /** Insert: the records of `keys`, made before the timing. */
  protected records: Order[] = [];
  protected misses = 0;
  #live = new Live<number>();
  #next = 1;

  constructor(
    readonly title: string,
    handMade: boolean,
    protected readonly op: Op,
  ) {
    super(`IdTable ${OP_NAMES[op]}`, handMade, CYCLE);
  }

  protected fill(): void {
    for (let k = 0; k < LIVE; k++) this.#put(this.#next++);
  }

  protected abstract put(o: Order): void;
  protected abstract drop(id: number): void;
  protected abstract get size(): number;

  #put(id: number): void {
    this.put(record(id));
    this.#live.items.push(id);
  }

  begin(count: number): void {
    if (this.keys.length < count) this.keys = new Float64Array(count);
    this.i = 0;
    this.misses = 0;
    const keys = this.keys;
    if (this.op === Op.Insert) {
      this.records.length = 0;
      for (let k = 0; k < count; k++) this.records.push(record((keys[k] = this.#next++)));
    } else if (this.op === Op.Lookup) for (let k = 0; k < count; k++) keys[k] = this.#live.pick(this.rng);
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

  protected put(o: Order): void {
    this.#t.set(o);
  }

  protected drop(id: number): void {
    this.#t.delete(id);
  }

  protected get size(): number {
    return this.#t.size;
  }

  run(): void {
    const k = this.i++;
    const id = this.keys[k]!;
    if (this.op === Op.Insert) this.#t.set(this.records[k]!);
    else if (this.op === Op.Lookup) {
      if (this.#t.get(id) === undefined) this.misses++;
    } else this.#t.delete(id);
  }
}

/**
 * The same as `IdTableCase` over a `Map`, written out apart on purpose: a class per table keeps
 * each `run` monomorphic, so that the case times the table and not a call through either.
 */
class IdMapCase extends IdCase {
  readonly #t = new Map<number, Order>();

  constructor(op: Op) {
    super(`Map<number, Order> ${OP_NAMES[op]}`, false, op);
    this.fill();
  }

  protected put(o: Order): void {
    this.#t.set(o.id, o);
  }

  protected drop(id: number): void {
    this.#t.delete(id);
  }

  protected get size(): number {
    return this.#t.size;
  }

  run(): void {
    const k = this.i++;
    const id = this.keys[k]!;
    if (this.op === Op.Insert) this.#t.set(id, this.records[k]!);
    else if (this.op === Op.Lookup) {
      if (this.#t.get(id) === undefined) this.misses++;
    } else this.#t.delete(id);
  }
}

// ---- orders by client order id --------------------------------------------------------------

abstract class ClientCase extends StructureBase implements StructureCase {
  /** Insert and delete: the orders; lookups: account and a fresh id string. */
  protected orders: Order[] = [];
  protected accounts = new Int32Array(CYCLE);
  protected ids: string[] = [];
  protected found = 0;
  #live = new Live<Order>();
  #next = 1;

  constructor(
    readonly title: string,
    handMade: boolean,
    protected readonly op: Op,
  ) {
    super(`ClientIdTable ${OP_NAMES[op]}`, handMade, CYCLE);
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
abstract class UsedCase extends StructureBase implements StructureCase {
  protected accounts = new Int32Array(CYCLE);
  protected ids: string[] = [];
  protected found = 0;
  #next = 0;

  constructor(
    readonly title: string,
    handMade: boolean,
    protected readonly op: Op,
  ) {
    super(`UsedClientIds ${op === Op.Insert ? 'remember a new id' : 'lookup'}`, handMade, CYCLE);
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

/** The table cases, hand-made then plain for each comparison. Builds their base states. */
export function tableCases(): StructureCase[] {
  const cases: StructureCase[] = [];
  for (const op of [Op.Insert, Op.Lookup, Op.Delete]) cases.push(new IdTableCase(op), new IdMapCase(op));
  for (const op of [Op.Insert, Op.Lookup, Op.Miss, Op.Delete])
    cases.push(new ClientIdTableCase(op), new ClientMapCase(op));
  for (const op of [Op.Insert, Op.Lookup]) cases.push(new UsedClientIdsCase(op), new UsedSetCase(op));
  return cases;
}
