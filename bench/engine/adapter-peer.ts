/**
 * The peer engine, nodejs-order-book 10.1.1: one `OrderBook` per instrument. Limit orders go
 * through `limit({ id, side, size, price })` (GTC), market orders through `market({ side, size })`,
 * cancels through `cancel(id)` and size-downs through `modify(id, { size })`. The option objects
 * are built when the adapter is made. No account is passed, so its self-trade prevention is off
 * (the workloads never cross an account with itself anyway).
 *
 * Differences that the results should be read with: its `modify` cancels and re-enters the order,
 * so a size-down loses queue priority (Mosaic's keeps it), and its cancel is linear in the depth of
 * the price level. The adapter learns fills from each call's response (`done`, `partial`,
 * `quantityLeft`). A handle is the op index; the order id is the client order id `o<op index>`.
 *
 * Price levels (W4), best effort: the peer reports no levels, so the adapter reads its book
 * sides' internals (`bids`/`asks`, each with `depth()` levels and a `_prices` map of queues;
 * private in its types, public at run time). A limit order that rests alone at its price opened
 * a level (a taker never empties a level of its own side); levels closed = opened - levels open
 * now. A modify that re-enters an order alone at its level closes and reopens it within the call;
 * that is not counted, as Mosaic's size-down, which stays in place, opens and closes nothing.
 */
import {
  type IProcessOrder,
  type LimitOrderOptions,
  type MarketOrderOptions,
  OrderBook,
  Side,
} from 'nodejs-order-book';
import { StateHasher } from '../../engine/index.ts';
import type { AdapterCounts, EngineAdapter, LevelCounts } from './adapter.ts';
import type { LiveOrders } from './live-orders.ts';
import { isLimit, isNewOrder, type Workload } from './workloads.ts';

export const PEER_NAME = 'nodejs-order-book';

/** What the adapter reads of a book side of the peer (see the module comment). */
interface PeerSide {
  depth(): number;
  maxPriceQueue(): { price(): number } | undefined;
  minPriceQueue(): { price(): number } | undefined;
  readonly _prices: Record<string, { len(): number } | undefined>;
}

/** The peer book's sides: [bids, asks]. */
function sidesOf(book: OrderBook): [PeerSide, PeerSide] {
  const b = book as unknown as { bids: PeerSide; asks: PeerSide };
  return [b.bids, b.asks];
}

/** The op index in an order id `o<op index>`. */
function handleOf(id: string): number {
  return Number(id.slice(1));
}

export class PeerAdapter implements EngineAdapter {
  readonly name = PEER_NAME;
  readonly #w: Workload;
  readonly #live: LiveOrders | null;
  readonly #books: OrderBook[];
  /** By op index: the options of the new order (undefined for cancel/modify ops). */
  readonly #opts: Array<LimitOrderOptions | MarketOrderOptions | undefined>;
  /** Handle -> open lots (only while tracking live orders). */
  readonly #leaves: Int32Array;
  #trades = 0;
  #rejects = 0;
  /** Levels opened (W4 only). */
  #opened = 0;

  constructor(w: Workload, live: LiveOrders | null) {
    this.#w = w;
    this.#live = live;
    this.#books = w.instruments.map(() => new OrderBook());
    const ops = w.ops;
    this.#opts = new Array<LimitOrderOptions | MarketOrderOptions | undefined>(ops.n);
    for (let i = 0; i < ops.n; i++) {
      const kind = ops.kind[i]!;
      if (!isNewOrder(kind)) continue;
      const side = ops.side[i] === 0 ? Side.BUY : Side.SELL;
      this.#opts[i] = isLimit(kind)
        ? { id: ops.clientOrderId[i]!, side, size: ops.qty[i]!, price: ops.price[i]! }
        : { side, size: ops.qty[i]! };
    }
    this.#leaves = new Int32Array(live === null ? 0 : ops.n);
  }

  place(i: number): void {
    const ops = this.#w.ops;
    const book = this.#books[ops.instrument[i]!]!;
    const limit = isLimit(ops.kind[i]!);
    const opt = this.#opts[i]!;
    const r = limit ? book.limit(opt as LimitOrderOptions) : book.market(opt);
    if (r.err !== null) {
      this.#rejects++;
      return;
    }
    const takerId = limit ? (opt as LimitOrderOptions).id : '';
    this.#fills(r, takerId);
    if (limit && r.quantityLeft > 0 && this.#live !== null) {
      this.#live.add(i, ops.instrument[i]!);
      this.#leaves[i] = r.quantityLeft;
    }
    if (limit && r.quantityLeft > 0 && this.#w.moving) {
      const [bids, asks] = sidesOf(book);
      const level = (ops.side[i] === 0 ? bids : asks)._prices[String((opt as LimitOrderOptions).price)];
      if (level !== undefined && level.len() === 1) this.#opened++;
    }
  }

  /** Makers ended (`done`) or partly filled (`partial`) by the order `takerId` ('' for market). */
  #fills(r: IProcessOrder, takerId: string): void {
    const done = r.done;
    const live = this.#live;
    for (let k = 0; k < done.length; k++) {
      const id = done[k]!.id;
      if (id === takerId) continue;
      this.#trades++;
      if (live !== null) live.remove(handleOf(id));
    }
    const partial = r.partial;
    if (partial !== null && partial.id !== takerId) {
      this.#trades++;
      if (live !== null) this.#leaves[handleOf(partial.id)] = partial.size;
    }
  }

  cancel(handle: number): void {
    const ops = this.#w.ops;
    const r = this.#books[ops.instrument[handle]!]!.cancel(ops.clientOrderId[handle]!);
    if (r === undefined) this.#rejects++;
    this.#live?.remove(handle);
  }

  reduce(handle: number, qty: number): void {
    const ops = this.#w.ops;
    const r = this.#books[ops.instrument[handle]!]!.modify(ops.clientOrderId[handle]!, { size: qty });
    if (r.err !== null) this.#rejects++;
    else this.#leaves[handle] = qty;
  }

  openQty(handle: number): number {
    return this.#leaves[handle]!;
  }

  liveOrders(): number {
    let n = 0;
    for (const book of this.#books) {
      const s = book.snapshot();
      for (const level of s.bids) n += level.orders.length;
      for (const level of s.asks) n += level.orders.length;
    }
    return n;
  }

  /** Per book: bids best first, then asks best first, each order as (id, price, size). */
  stateHash(): string {
    const h = new StateHasher();
    for (const book of this.#books) {
      const s = book.snapshot();
      for (const side of [s.bids, s.asks]) {
        for (const level of side) for (const o of level.orders) h.str(o.id).num(o.price).num(o.size);
        h.num(0);
      }
    }
    return h.digest();
  }

  counts(): AdapterCounts {
    return { trades: this.#trades, rejects: this.#rejects };
  }

  best(inst: number, side: number): number {
    const [bids, asks] = sidesOf(this.#books[inst]!);
    return (side === 0 ? bids.maxPriceQueue() : asks.minPriceQueue())?.price() ?? 0;
  }

  reprice(i: number, price: number): void {
    (this.#opts[i] as LimitOrderOptions).price = price;
  }

  levelCounts(): LevelCounts | null {
    if (!this.#w.moving) return null;
    let open = 0;
    for (const book of this.#books) for (const side of sidesOf(book)) open += side.depth();
    return { opened: this.#opened, closed: this.#opened - open, open };
  }
}
