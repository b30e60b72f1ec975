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
 */
import {
  type IProcessOrder,
  type LimitOrderOptions,
  type MarketOrderOptions,
  OrderBook,
  Side,
} from 'nodejs-order-book';
import { StateHasher } from '../../engine/index.ts';
import type { AdapterCounts, EngineAdapter } from './adapter.ts';
import type { LiveOrders } from './live-orders.ts';
import { isLimit, isNewOrder, type Workload } from './workloads.ts';

export const PEER_NAME = 'nodejs-order-book';

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
}
