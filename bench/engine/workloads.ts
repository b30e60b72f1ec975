/**
 * The seeded workloads of bench/WORKLOADS.md (W1, W2, W3, W4), generated into flat typed arrays before
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
 * - W4 (moving market): W1's warm-up and mix around MID_W4 = 100,000. Per timed op the draws are:
 *   step = int(0..99), and when it is 0 the mid walks by int(-20..20); then the op as in W1. The
 *   mid is round(trend) + walk, the trend following the six regimes (see `trendW4`); each swing
 *   goes linearly to its target over the first half of its regime and back over the second. A
 *   passive order's generated price is mid -/+ offset; an aggressive order keeps its offset in
 *   `cross`, its generated price (mid +/- cross) being used only when the other side is empty.
 *   Whether a price crosses depends on the book at that moment, so the driver prices these two
 *   kinds at run time from the engine's own best prices (untimed, `priceAgainstBest`): each engine
 *   gets the same rule, and since the engines' books can differ slightly (the peer's modify loses
 *   priority), their prices can too.
 */
import { XorShift32 } from '../prng.ts';

export const MID = 10000;
/** W4's starting mid. */
export const MID_W4 = 100_000;

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
  /** W4 aggressive orders: ticks beyond the opposite best. */
  readonly cross: Uint8Array;
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
  /**
   * W4: the mid moves, so timed passive and aggressive orders are priced against the engine's
   * best prices at run time (`priceAgainstBest`), and the adapters count price levels opened and
   * closed.
   */
  readonly moving: boolean;
}

export type WorkloadName = 'W1' | 'W2' | 'W3' | 'W4';
export const WORKLOAD_NAMES: readonly WorkloadName[] = ['W1', 'W2', 'W3', 'W4'];

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
    cross: new Uint8Array(n),
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
  return {
    name,
    seed,
    instruments: ids,
    accounts: ACCOUNTS,
    ops,
    warmup,
    targets: true,
    sweepBook: null,
    moving: false,
  };
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
    moving: false,
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

const W4_WARMUP = 100_000;
const W4_TIMED = 1_000_000;

/**
 * W4's trend at timed op `t` of `timed`: six regimes of floor(timed / 6) ops (166,666; the last
 * takes the rest): calm; +25% and back; calm; -40% and back; a flash crash of -30% within 2,000
 * ops recovering linearly over 50,000; calm. A shorter `timed` (tests) scales every span alike.
 * Not rounded.
 */
export function trendW4(t: number, timed = W4_TIMED): number {
  const span = Math.floor(timed / 6);
  const regime = Math.min(5, Math.floor(t / span));
  const p = t - regime * span;
  const length = regime === 5 ? timed - 5 * span : span;
  const crash = Math.max(1, Math.round(timed * 0.002));
  const recovery = Math.max(1, Math.round(timed * 0.05));
  const swing = (to: number) => {
    const half = length / 2;
    const f = p < half ? p / half : (length - p) / (length - half);
    return MID_W4 * (1 + to * f);
  };
  switch (regime) {
    case 1:
      return swing(0.25);
    case 3:
      return swing(-0.4);
    case 4:
      if (p < crash) return MID_W4 * (1 - (0.3 * p) / crash);
      if (p < crash + recovery) return MID_W4 * (1 - 0.3 * (1 - (p - crash) / recovery));
      return MID_W4;
    default:
      return MID_W4;
  }
}

/** W4: W1's warm-up and mix around a mid that walks and follows the regimes of `trendW4`. */
function moving(seed: number, timed = W4_TIMED): Workload {
  const rng = new XorShift32(seed);
  const ops = allocOps(W4_WARMUP + timed);
  const w = new OpWriter(ops);
  for (let i = 0; i < W4_WARMUP; i++) {
    const side = i & 1;
    const offset = rng.int(1, 50);
    const qty = rng.int(1, 100);
    w.order(i, Kind.Rest, 0, side, side === 0 ? MID_W4 - offset : MID_W4 + offset, qty);
  }
  let walk = 0;
  for (let t = 0; t < timed; t++) {
    const i = W4_WARMUP + t;
    if (rng.int(0, 99) === 0) walk += rng.int(-20, 20);
    const mid = Math.round(trendW4(t, timed)) + walk;
    const type = rng.int(0, 99);
    if (type < 50) {
      const side = rng.int(0, 1);
      const offset = rng.int(1, 50);
      const qty = rng.int(1, 100);
      w.order(i, Kind.Passive, 0, side, side === 0 ? mid - offset : mid + offset, qty);
    } else if (type < 60) {
      const side = rng.int(0, 1);
      const cross = rng.int(0, 10);
      const qty = rng.int(1, 100);
      w.order(i, Kind.Aggressive, 0, side, side === 0 ? mid + cross : mid - cross, qty);
      ops.cross[i] = cross;
    } else if (type < 65) {
      const side = rng.int(0, 1);
      const qty = rng.int(1, 100);
      w.order(i, Kind.Market, 0, side, 0, qty);
    } else if (type < 95) {
      w.target(i, Kind.Cancel, 0, rng.next());
    } else {
      w.target(i, Kind.Modify, 0, rng.next());
    }
  }
  return {
    name: 'W4',
    seed,
    instruments: ['W4@bench:mosaic'],
    accounts: ACCOUNTS,
    ops,
    warmup: W4_WARMUP,
    targets: true,
    sweepBook: null,
    moving: true,
  };
}

/**
 * W4: the price of timed op `i` given the engine's best bid and ask now (0: that side is empty).
 * A passive order never crosses: a buy at or above the ask goes one tick below it, a sell at or
 * below the bid one tick above it. An aggressive order crosses `cross` ticks beyond the opposite
 * best (its generated price when that side is empty). Other kinds keep their generated price.
 */
export function priceAgainstBest(ops: Ops, i: number, bid: number, ask: number): number {
  const kind = ops.kind[i]!;
  const price = ops.price[i]!;
  const buy = ops.side[i] === 0;
  if (kind === Kind.Passive) {
    if (buy) return ask > 0 && price >= ask ? ask - 1 : price;
    return bid > 0 && price <= bid ? bid + 1 : price;
  }
  if (kind === Kind.Aggressive) {
    const cross = ops.cross[i]!;
    if (buy) return ask > 0 ? ask + cross : price;
    return bid > 0 ? bid - cross : price;
  }
  return price;
}

/** The workload by name, generated from `seed`; `timed` shortens W4 (tests), regimes and all. */
export function generate(name: WorkloadName, seed = 42, timed?: number): Workload {
  switch (name) {
    case 'W1':
      return mixed('W1', seed, 1, 100_000, 1_000_000);
    case 'W2':
      return mixed('W2', seed, 1_000, 100, 1_000_000);
    case 'W3':
      return sweep(seed);
    case 'W4':
      return moving(seed, timed);
  }
}
