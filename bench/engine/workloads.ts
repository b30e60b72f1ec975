/**
 * The seeded workloads of bench/WORKLOADS.md (W1, W2, W3), generated into flat typed arrays before
 * anything is timed, so that neither the PRNG nor object creation lands inside a measurement.
 * The ops are engine-neutral; each adapter turns them into its own order objects up front.
 *
 * Choices where WORKLOADS.md leaves one (applied identically to every engine):
 *
 * - Draws. One xorshift32 stream (`seed`, default 42) in this order, per op:
 *   W1/W2 timed op: type = int(0..99); then (W2 only) instrument = int(0..999), drawn for every op;
 *   then by type:
 *     0-49  passive limit GTC    side = int(0..1) (0 = buy), offset = int(1..50), qty = int(1..100);
 *                                buy at mid - offset, sell at mid + offset
 *     50-59 aggressive limit GTC side, offset = int(0..10), qty; buy at mid + offset, sell at mid - offset
 *     60-64 market               side, qty = int(1..100)
 *     65-94 cancel               pick = next() (one raw draw u in [0, 1))
 *     95-99 modify               pick = next()
 *   Warm-up orders take no side draw: they alternate buy, sell, buy, ... ("half bids, half asks"),
 *   and draw offset = int(1..50) then qty = int(1..100). W2 warms up instrument by instrument,
 *   100 orders each.
 * - Cancel and modify targets. Which orders are live depends on matching, so the target cannot be
 *   fixed at generation time. The generator draws the raw `u` at the op's place in the stream; at
 *   run time the driver keeps the set of live orders from the engine's own reports (an array plus
 *   an index map, swap-remove; see live-orders.ts) and takes the one at index floor(u * size), in
 *   W2 among the live orders of the op's instrument. "Redraw if none is live": never happens in
 *   W1 (the book holds ~100,000 orders); if it does the op is skipped and counted in `skipped`.
 *   In W2, an instrument without live orders is redrawn uniformly from a second xorshift32 stream
 *   (seed ^ 0x5bd1e995), counted in `redraws`, identically for every engine.
 * - Modify reduces the order's current open quantity q to max(1, floor(q / 2)) at the same price
 *   (a size-down). When q = 1 the modify is still sent (an engine may reject it as a no-op).
 * - Accounts (Mosaic needs one per order): 8 fixed accounts, 4 for buys and 4 for sells, assigned
 *   round-robin per side. Buys and sells never share an account, so self-trade prevention never
 *   fires and every engine matches the same way. Client order ids `o<op index>` are created here.
 * - W3: 200,000 resting orders alternate buy/sell over 2,000 levels: 1,000 bid levels at
 *   mid - int(1..1000) and 1,000 ask levels at mid + int(1..1000), qty int(1..100) (~100 orders a
 *   level). Each of the 10,000 timed market orders draws side = int(0..1) then levels = int(50..500)
 *   and its size is the total quantity of that many best levels of the other side, so it sweeps
 *   exactly that many levels. After each sweep the driver (untimed) places the swept orders again
 *   with their original price, size and queue order, so every sweep meets the warm-up book.
 */
import { XorShift32 } from '../prng.ts';

export const MID = 10000;

/** Op kinds; also the per-type buckets of the results. */
export const Kind = {
  /** Warm-up resting limit order (untimed). */
  Rest: 0,
  Passive: 1,
  Aggressive: 2,
  Market: 3,
  Cancel: 4,
  Modify: 5,
  /** W3: a market order sized to sweep a number of levels. */
  Sweep: 6,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const KIND_NAMES = ['rest', 'passive', 'aggressive', 'market', 'cancel', 'modify', 'sweep'] as const;

/** Whether ops of this kind enter a new order (and so carry side, price, qty and a client order id). */
export function isNewOrder(kind: number): boolean {
  return kind !== Kind.Cancel && kind !== Kind.Modify;
}

/** Whether the new order is a limit order (else a market order). */
export function isLimit(kind: number): boolean {
  return kind === Kind.Rest || kind === Kind.Passive || kind === Kind.Aggressive;
}

/**
 * All ops of a workload, warm-up first (`warmup` of them) then timed, as parallel arrays indexed
 * by op index. An op's index is also the handle of the order it enters.
 */
export interface Ops {
  readonly n: number;
  readonly kind: Uint8Array;
  readonly instrument: Uint16Array;
  /** 0 = buy, 1 = sell. */
  readonly side: Uint8Array;
  /** Ticks; 0 for market orders. */
  readonly price: Int32Array;
  /** Lots. */
  readonly qty: Int32Array;
  /** Cancel/modify: the raw draw u in [0, 1) that picks the target among live orders. */
  readonly pick: Float64Array;
  /** Sweep: how many levels the order is sized to take. */
  readonly levels: Int32Array;
  /** Index into `Workload.accounts`. */
  readonly account: Uint8Array;
  /** New orders: the client order id (`o<op index>`); '' otherwise. */
  readonly clientOrderId: string[];
}

/** W3: the warm-up orders of each level of one side, best level first, each level in queue order. */
export interface SideLevels {
  /** Orders of level j are `orders[start[j] .. start[j + 1])`, as warm-up op indices. */
  readonly start: Int32Array;
  readonly orders: Int32Array;
  /** `prefixQty[k]`: total lots of the k best levels. */
  readonly prefixQty: Float64Array;
}

export interface Workload {
  readonly name: WorkloadName;
  readonly seed: number;
  /** Instrument ids, `SYMBOL@venue`, index = `Ops.instrument`. */
  readonly instruments: readonly string[];
  readonly accounts: readonly string[];
  readonly ops: Ops;
  /** Ops `0 .. warmup - 1` are the untimed warm-up. */
  readonly warmup: number;
  /** Whether timed ops cancel or modify (then the driver tracks live orders). */
  readonly targets: boolean;
  /** W3: levels of each side, [bids, asks]. */
  readonly sweepBook: readonly [SideLevels, SideLevels] | null;
}

export type WorkloadName = 'W1' | 'W2' | 'W3';

const BUY_ACCOUNTS = 4;
const ACCOUNTS = ['buyer-0', 'buyer-1', 'buyer-2', 'buyer-3', 'seller-0', 'seller-1', 'seller-2', 'seller-3'];

function allocOps(n: number): Ops {
  return {
    n,
    kind: new Uint8Array(n),
    instrument: new Uint16Array(n),
    side: new Uint8Array(n),
    price: new Int32Array(n),
    qty: new Int32Array(n),
    pick: new Float64Array(n),
    levels: new Int32Array(n),
    account: new Uint8Array(n),
    clientOrderId: new Array<string>(n).fill(''),
  };
}

/** Hands out accounts round-robin per side and names client orders by op index. */
class OpWriter {
  #buys = 0;
  #sells = 0;
  constructor(readonly ops: Ops) {}

  order(i: number, kind: Kind, instrument: number, side: number, price: number, qty: number): void {
    const ops = this.ops;
    ops.kind[i] = kind;
    ops.instrument[i] = instrument;
    ops.side[i] = side;
    ops.price[i] = price;
    ops.qty[i] = qty;
    ops.account[i] = side === 0 ? this.#buys++ % BUY_ACCOUNTS : BUY_ACCOUNTS + (this.#sells++ % BUY_ACCOUNTS);
    ops.clientOrderId[i] = `o${i}`;
  }

  target(i: number, kind: Kind, instrument: number, u: number): void {
    this.ops.kind[i] = kind;
    this.ops.instrument[i] = instrument;
    this.ops.pick[i] = u;
  }
}

/** W1 (one instrument) or W2 (`instruments` of them): deep book, mixed flow. */
function mixed(
  name: 'W1' | 'W2',
  seed: number,
  instruments: number,
  warmPerInstrument: number,
  timed: number,
): Workload {
  const rng = new XorShift32(seed);
  const warmup = instruments * warmPerInstrument;
  const ops = allocOps(warmup + timed);
  const w = new OpWriter(ops);
  let i = 0;
  for (let inst = 0; inst < instruments; inst++) {
    for (let j = 0; j < warmPerInstrument; j++, i++) {
      const side = j & 1;
      const offset = rng.int(1, 50);
      const qty = rng.int(1, 100);
      w.order(i, Kind.Rest, inst, side, side === 0 ? MID - offset : MID + offset, qty);
    }
  }
  for (; i < warmup + timed; i++) {
    const type = rng.int(0, 99);
    const inst = instruments > 1 ? rng.int(0, instruments - 1) : 0;
    if (type < 50) {
      const side = rng.int(0, 1);
      const offset = rng.int(1, 50);
      const qty = rng.int(1, 100);
      w.order(i, Kind.Passive, inst, side, side === 0 ? MID - offset : MID + offset, qty);
    } else if (type < 60) {
      const side = rng.int(0, 1);
      const offset = rng.int(0, 10);
      const qty = rng.int(1, 100);
      w.order(i, Kind.Aggressive, inst, side, side === 0 ? MID + offset : MID - offset, qty);
    } else if (type < 65) {
      const side = rng.int(0, 1);
      const qty = rng.int(1, 100);
      w.order(i, Kind.Market, inst, side, 0, qty);
    } else if (type < 95) {
      w.target(i, Kind.Cancel, inst, rng.next());
    } else {
      w.target(i, Kind.Modify, inst, rng.next());
    }
  }
  const ids =
    instruments === 1
      ? ['W1@bench:mosaic']
      : Array.from({ length: instruments }, (_, k) => `I${k}@bench:mosaic`);
  return { name, seed, instruments: ids, accounts: ACCOUNTS, ops, warmup, targets: true, sweepBook: null };
}

const W3_ORDERS = 200_000;
const W3_LEVELS_PER_SIDE = 1_000;
const W3_SWEEPS = 10_000;

/** W3: a book of 2,000 levels swept by market orders of 50 to 500 levels. */
function sweep(seed: number): Workload {
  const rng = new XorShift32(seed);
  const ops = allocOps(W3_ORDERS + W3_SWEEPS);
  const w = new OpWriter(ops);
  for (let i = 0; i < W3_ORDERS; i++) {
    const side = i & 1;
    const offset = rng.int(1, W3_LEVELS_PER_SIDE);
    const qty = rng.int(1, 100);
    w.order(i, Kind.Rest, 0, side, side === 0 ? MID - offset : MID + offset, qty);
  }
  const book: [SideLevels, SideLevels] = [levelsOf(ops, 0), levelsOf(ops, 1)];
  for (let s = 0; s < 2; s++) {
    if (book[s]!.start.length - 1 < 500) throw new Error('W3: a side has fewer than 500 levels');
  }
  for (let i = W3_ORDERS; i < W3_ORDERS + W3_SWEEPS; i++) {
    const side = rng.int(0, 1);
    const levels = rng.int(50, 500);
    // A buy sweeps the asks, a sell the bids.
    const qty = book[side === 0 ? 1 : 0].prefixQty[levels]!;
    w.order(i, Kind.Sweep, 0, side, 0, qty);
    ops.levels[i] = levels;
  }
  return {
    name: 'W3',
    seed,
    instruments: ['W3@bench:mosaic'],
    accounts: ACCOUNTS,
    ops,
    warmup: W3_ORDERS,
    targets: false,
    sweepBook: book,
  };
}

/** The warm-up orders of one side grouped by level, best first (bids: high to low). */
function levelsOf(ops: Ops, side: number): SideLevels {
  const byPrice = new Map<number, number[]>();
  for (let i = 0; i < ops.n; i++) {
    if (ops.kind[i] !== Kind.Rest || ops.side[i] !== side) continue;
    const p = ops.price[i]!;
    let list = byPrice.get(p);
    if (list === undefined) byPrice.set(p, (list = []));
    list.push(i);
  }
  const prices = [...byPrice.keys()].sort((a, b) => (side === 0 ? b - a : a - b));
  const start = new Int32Array(prices.length + 1);
  const prefixQty = new Float64Array(prices.length + 1);
  const orders: number[] = [];
  prices.forEach((p, j) => {
    start[j] = orders.length;
    let q = 0;
    for (const i of byPrice.get(p)!) {
      orders.push(i);
      q += ops.qty[i]!;
    }
    prefixQty[j + 1] = prefixQty[j]! + q;
  });
  start[prices.length] = orders.length;
  return { start, orders: Int32Array.from(orders), prefixQty };
}

/** The workload by name, generated from `seed`. */
export function generate(name: WorkloadName, seed = 42): Workload {
  switch (name) {
    case 'W1':
      return mixed('W1', seed, 1, 100_000, 1_000_000);
    case 'W2':
      return mixed('W2', seed, 1_000, 100, 1_000_000);
    case 'W3':
      return sweep(seed);
  }
}
