/**
 * Mosaic's fast book through `Engine.execute`, with full command objects: every new order's
 * `NewOrderCommand` (account, client order id, side, type, price, quantity) is built when the
 * adapter is made, so the timed op is one `execute`. Cancels and modifies reuse one command object
 * each, filled in with the target (the engine keeps nothing of a command). `ts` is the op index.
 * An order placed again (W3 refills what a sweep took) gets a client order id of its own: the
 * engine refuses an id an account has used before.
 *
 * The adapter learns fills and cancels from one listener (`onOrder`, `onTrade`): the order being
 * entered, and any resting order that a trade or cancel ends, with a few field reads and no
 * allocation. A handle is the engine's order id.
 *
 * When the mid moves (W4), a second listener follows BBO events for the best prices that the
 * driver prices orders against, and counts the price levels closed: a depth event whose level has
 * no order left. Levels opened are then closed + levels open now (the book starts empty); a level
 * that a command both opened and emptied is never published, so it is counted in neither.
 */
import {
  type CancelCommand,
  type Command,
  Engine,
  type EngineEvent,
  type EngineListener,
  type ListInstrumentCommand,
  type NewOrderCommand,
  type ReplaceCommand,
} from '../../engine/index.ts';
import type { AdapterCounts, EngineAdapter, LevelCounts } from './adapter.ts';
import type { LiveOrders } from './live-orders.ts';
import { isLimit, isNewOrder, type Workload } from './workloads.ts';

/** Listing of every bench instrument: integer ticks and lots, no band, a wide price range, no fees. */
export function benchListing(id: string): ListInstrumentCommand {
  return {
    type: 'list-instrument',
    ts: 0,
    spec: {
      id,
      tickSize: '1',
      lotSize: '1',
      priceDecimals: 0,
      quantityDecimals: 0,
      minQty: 1,
      maxQty: 1_000_000_000,
      maxPrice: 1_000_000,
      referencePrice: 0,
      bandBps: 0,
      makerFeeBps: 0,
      takerFeeBps: 0,
    },
  };
}

/** Follows the engine's order and trade events to keep the driver's live set. */
class Tracker implements EngineListener {
  /** Order id of the order being entered (0 during cancels and modifies). */
  taker = 0;
  takerLeaves = 0;
  trades = 0;
  rejects = 0;

  constructor(
    readonly live: LiveOrders | null,
    readonly leaves: Int32Array,
  ) {}

  onTrade(e: EngineEvent): void {
    this.trades++;
    this.takerLeaves = e.leaves;
    if (this.live === null) return;
    if (e.makerLeaves === 0) this.live.remove(e.makerOrderId);
    else this.leaves[e.makerOrderId] = e.makerLeaves;
  }

  onOrder(e: EngineEvent): void {
    const kind = e.kind;
    if (kind === 'accepted') {
      this.taker = e.orderId;
      this.takerLeaves = e.leaves;
    } else if (kind === 'canceled') {
      if (e.orderId === this.taker) {
        this.takerLeaves = e.leaves;
      } else if (this.live !== null) {
        if (e.leaves === 0) this.live.remove(e.orderId);
        else this.leaves[e.orderId] = e.leaves;
      }
    } else if (kind === 'replaced') {
      if (this.live !== null) this.leaves[e.orderId] = e.leaves;
    } else if (kind === 'rejected') {
      this.rejects++;
    }
  }
}

/** Best prices per instrument from BBO events, and levels closed from depth events (W4). */
class LevelWatch implements EngineListener {
  closed = 0;
  /** By instrument index: [bid, ask], 0 when that side is empty. */
  readonly best: Int32Array;
  readonly #index: Map<string, number>;

  constructor(instruments: readonly string[]) {
    this.best = new Int32Array(2 * instruments.length);
    this.#index = new Map(instruments.map((id, k) => [id, k]));
  }

  onDepth(e: EngineEvent): void {
    if (e.count === 0) this.closed++;
  }

  onBbo(e: EngineEvent): void {
    const k = this.#index.get(e.instrument)!;
    this.best[2 * k] = e.bidPrice;
    this.best[2 * k + 1] = e.askPrice;
  }
}

export class MosaicAdapter implements EngineAdapter {
  readonly name: string = 'mosaic';
  readonly engine: Engine;
  readonly #w: Workload;
  readonly #live: LiveOrders | null;
  /** By op index: the new order's command (undefined for cancel/modify ops). */
  readonly #cmds: Array<NewOrderCommand | undefined>;
  /** By op index: how many times the order was placed. */
  readonly #placed: Int32Array;
  /** Order id -> account index (only while tracking live orders). */
  readonly #account: Uint8Array;
  readonly #tracker: Tracker;
  readonly #watch: LevelWatch | null;
  readonly #cancel: CancelCommand = { type: 'cancel', ts: 0, account: '', orderId: 0 };
  readonly #replace: ReplaceCommand = { type: 'replace', ts: 0, account: '', orderId: 0, quantity: 1 };
  /** How a command goes in: straight to the engine, or through a durable engine's journal. */
  readonly #submit: (cmd: Command) => void;

  /**
   * `capacity`: the engine's preallocation of order records and tables (its default when
   * undefined). `through`: an engine already made and the way to submit to it (a durable engine
   * journals each command and executes it at once); by default a fresh engine, executed directly.
   */
  constructor(
    w: Workload,
    live: LiveOrders | null,
    capacity?: number,
    through?: { engine: Engine; submit: (cmd: Command) => void; name: string },
  ) {
    this.#w = w;
    this.#live = live;
    this.engine =
      through?.engine ?? new Engine(capacity === undefined ? { book: 'fast' } : { book: 'fast', capacity });
    const engine = this.engine;
    this.#submit = through?.submit ?? ((cmd) => engine.execute(cmd));
    if (through) this.name = through.name;
    for (const id of w.instruments) this.#submit(benchListing(id));
    const ops = w.ops;
    this.#cmds = new Array<NewOrderCommand | undefined>(ops.n);
    this.#placed = new Int32Array(ops.n);
    for (let i = 0; i < ops.n; i++) {
      const kind = ops.kind[i]!;
      if (!isNewOrder(kind)) continue;
      // One shape for every new order (price undefined on market orders), so the engine's
      // property reads stay monomorphic.
      this.#cmds[i] = {
        type: 'new',
        ts: i,
        instrument: w.instruments[ops.instrument[i]!]!,
        account: w.accounts[ops.account[i]!]!,
        clientOrderId: ops.clientOrderId[i]!,
        side: ops.side[i] === 0 ? 'buy' : 'sell',
        orderType: isLimit(kind) ? 'limit' : 'market',
        quantity: ops.qty[i]!,
        price: isLimit(kind) ? ops.price[i]! : undefined,
      };
    }
    // Order ids never exceed the number of new orders, so they index these arrays directly.
    const ids = live === null ? 0 : ops.n + 1;
    this.#account = new Uint8Array(ids);
    this.#tracker = new Tracker(live, new Int32Array(ids));
    this.engine.addListener(this.#tracker);
    this.#watch = w.moving ? new LevelWatch(w.instruments) : null;
    if (this.#watch !== null) this.engine.addListener(this.#watch);
  }

  place(i: number, ts: number): void {
    const cmd = this.#cmds[i]!;
    cmd.ts = ts;
    const again = this.#placed[i]!;
    this.#placed[i] = again + 1;
    if (again > 0) cmd.clientOrderId = `${this.#w.ops.clientOrderId[i]!}.${again}`;
    const t = this.#tracker;
    t.taker = 0;
    this.#submit(cmd);
    const id = t.taker;
    if (id !== 0 && t.takerLeaves > 0 && this.#live !== null && cmd.orderType === 'limit') {
      this.#live.add(id, this.#w.ops.instrument[i]!);
      t.leaves[id] = t.takerLeaves;
      this.#account[id] = this.#w.ops.account[i]!;
    }
  }

  cancel(handle: number, ts: number): void {
    const c = this.#cancel;
    c.ts = ts;
    c.account = this.#w.accounts[this.#account[handle]!]!;
    c.orderId = handle;
    this.#tracker.taker = 0;
    this.#submit(c);
  }

  reduce(handle: number, qty: number, ts: number): void {
    const c = this.#replace;
    c.ts = ts;
    c.account = this.#w.accounts[this.#account[handle]!]!;
    c.orderId = handle;
    c.quantity = qty;
    this.#tracker.taker = 0;
    this.#submit(c);
  }

  openQty(handle: number): number {
    return this.#tracker.leaves[handle]!;
  }

  liveOrders(): number {
    return this.engine.liveOrders;
  }

  stateHash(): string {
    return this.engine.stateHash();
  }

  counts(): AdapterCounts {
    return { trades: this.#tracker.trades, rejects: this.#tracker.rejects };
  }

  best(inst: number, side: number): number {
    if (this.#watch !== null) return this.#watch.best[2 * inst + side]!;
    const d = this.engine.depth(this.#w.instruments[inst]!, 1);
    return (side === 0 ? d.bids : d.asks)[0]?.[0] ?? 0;
  }

  reprice(i: number, price: number): void {
    this.#cmds[i]!.price = price;
  }

  /** Allocates (reads every level of every book). */
  levelCounts(): LevelCounts | null {
    if (this.#watch === null) return null;
    let open = 0;
    for (const id of this.#w.instruments) {
      const d = this.engine.depth(id, Number.MAX_SAFE_INTEGER);
      open += d.bids.length + d.asks.length;
    }
    return { opened: this.#watch.closed + open, closed: this.#watch.closed, open };
  }
}
