/**
 * What the history keeps, and how events become it. A trade gives each of its two accounts a
 * fill; an order that ends (filled, canceled, expired, or refused at entry) gives its account a
 * finished-order record with its final state. To write that record the recorder follows each
 * live order from its `accepted` event (terms, cumulative quantity, notional for the average
 * price); the store keeps those live orders too, so a restart picks them up where they were.
 * Prices are ticks, quantities lots and fees notional units, as in the engine.
 */
import type {
  AcceptedEvent,
  CanceledEvent,
  EventKind,
  OrderType,
  PublishedEvent,
  RejectedEvent,
  ReplacedEvent,
  Side,
  TimeInForce,
  TradeEvent,
  TriggeredEvent,
} from '../engine/index.ts';
import type { Logger } from '../common/index.ts';
import type { Position } from './query.ts';

/** One fill of an account's order. */
export interface FillRecord {
  tradeId: number;
  orderId: number;
  clientOrderId: string;
  instrument: string;
  side: Side;
  price: number;
  quantity: number;
  /** Notional units (one tick times one lot); negative is a rebate. */
  fee: number;
  liquidity: 'maker' | 'taker';
  ts: number;
}

export type FinalStatus = 'filled' | 'canceled' | 'expired' | 'rejected';

/** An order that ended, as it ended. */
export interface OrderRecord {
  /** null for an order refused at entry (it never got an id). */
  orderId: number | null;
  clientOrderId: string;
  instrument: string;
  /** null where the history did not see the order's terms (refused at entry, or older than the history). */
  side: Side | null;
  orderType: OrderType | null;
  tif: TimeInForce | null;
  /** 0: none (a market order, or unknown). */
  price: number;
  stopPrice: number;
  /** Its final size (filled plus what was canceled), lots. */
  quantity: number;
  filled: number;
  /** Sum of price x quantity over its fills; null when fills came before the history began. */
  notional: number | null;
  status: FinalStatus;
  /** Why it was canceled or refused ('' when filled). */
  reason: string;
  /** The engine's result code of a refusal (0 otherwise). */
  code: number;
  /** When it was accepted (null: refused, or older than the history). */
  createdAt: number | null;
  /** When it ended. */
  ts: number;
}

/** A live order as the recorder (and the gateway's execution reports) follow it. */
export interface LiveOrder {
  account: string;
  instrument: string;
  clientOrderId: string;
  side: Side;
  orderType: OrderType | null;
  tif: TimeInForce | null;
  price: number;
  stopPrice: number;
  /** Filled plus open quantity. */
  size: number;
  filled: number;
  notional: number | null;
  createdAt: number | null;
}

/** The kinds of events the recorder reads; it skips the others. */
export const RECORDED_KINDS: readonly EventKind[] = [
  'accepted',
  'trade',
  'canceled',
  'replaced',
  'triggered',
  'rejected',
];

/** Where the recorder's output goes (the store's writes). */
export interface RecordSink {
  /** One trade's fills: the taker's and the maker's. */
  fills(pos: Position, taker: [string, FillRecord], maker: [string, FillRecord]): void;
  finished(account: string, pos: Position, order: OrderRecord): void;
}

const ROLES = {
  taker: { orderId: 'takerOrderId', account: 'takerAccount', clientOrderId: 'takerClientOrderId' },
  maker: { orderId: 'makerOrderId', account: 'makerAccount', clientOrderId: 'makerClientOrderId' },
} as const;
const SIDE_OF = {
  taker: { leaves: 'takerLeaves', filled: 'takerFilled', fee: 'takerFee' },
  maker: { leaves: 'makerLeaves', filled: 'makerFilled', fee: 'makerFee' },
} as const;

/** A live order as its `accepted` event tells it: nothing filled yet. */
export function acceptedOrder(e: AcceptedEvent): LiveOrder {
  return {
    account: e.account,
    instrument: e.instrument,
    clientOrderId: e.clientOrderId,
    side: e.side,
    orderType: e.orderType,
    tif: e.tif,
    price: e.price,
    stopPrice: e.stopPrice,
    size: e.quantity,
    filled: 0,
    notional: 0,
    createdAt: e.ts,
  };
}

/**
 * Turns one shard's events into history records. The live orders it follows are written back
 * in batches (`takeChanged`): an order that comes and goes between two writes (a market order,
 * an IOC, one filled at once) costs the store nothing.
 */
export class Recorder {
  readonly #shard: number;
  readonly #live: Map<number, LiveOrder>;
  readonly #sink: RecordSink;
  readonly #log: Logger;
  #applied: number;
  /** Live orders changed, added or ended since the last `takeChanged`. */
  #changed = new Set<number>();
  /** Of those, the ones the store held before they changed. */
  #stored: Set<number>;

  /**
   * `live`: the live orders as the store kept them, as of command `applied`; `log` is told of
   * commands missing from the history.
   */
  constructor(shard: number, live: Map<number, LiveOrder>, sink: RecordSink, applied: number, log: Logger) {
    this.#shard = shard;
    this.#live = live;
    this.#sink = sink;
    this.#stored = new Set(live.keys());
    this.#applied = applied;
    this.#log = log;
  }

  /** The last command recorded. */
  get applied(): number {
    return this.#applied;
  }

  /** Records command `seq`'s events; false for a command seen before (it is skipped). */
  record(seq: number, events: readonly PublishedEvent[]): boolean {
    if (seq <= this.#applied) return false;
    if (seq > this.#applied + 1) {
      this.#log.warn(
        { from: this.#applied + 1, to: seq - 1 },
        `history: commands ${this.#applied + 1} to ${seq - 1} are not in the history (they were compacted away first)`,
      );
    }
    this.apply(events);
    this.#applied = seq;
    return true;
  }

  /** The live orders to write (undefined: to delete, it ended) since the last call. */
  takeChanged(): Array<[number, LiveOrder | undefined]> {
    const out: Array<[number, LiveOrder | undefined]> = [];
    for (const id of this.#changed) {
      const o = this.#live.get(id);
      if (o !== undefined) {
        out.push([id, o]);
        this.#stored.add(id);
      } else if (this.#stored.delete(id)) {
        out.push([id, undefined]);
      }
    }
    this.#changed.clear();
    return out;
  }

  /** Records what one command's events tell. */
  apply(events: readonly PublishedEvent[]): void {
    for (const e of events) {
      switch (e.kind) {
        case 'accepted':
          this.#accepted(e);
          break;
        case 'trade':
          this.#trade(e);
          break;
        case 'canceled':
          this.#canceled(e);
          break;
        case 'replaced':
        case 'triggered':
          this.#amended(e);
          break;
        case 'rejected':
          if (e.newOrder === true && e.account !== '') this.#refused(e);
          break;
        default:
          break;
      }
    }
  }

  #pos(e: PublishedEvent): Position {
    return [e.ts, this.#shard, e.seq];
  }

  #accepted(e: AcceptedEvent): void {
    this.#live.set(e.orderId, acceptedOrder(e));
    this.#changed.add(e.orderId);
  }

  #trade(e: TradeEvent): void {
    const taker = this.#fill(e, 'taker');
    const maker = this.#fill(e, 'maker');
    this.#sink.fills(this.#pos(e), taker, maker);
    this.#filled(e, 'taker', taker[1]);
    this.#filled(e, 'maker', maker[1]);
  }

  /** One side's fill of a trade, with its account. */
  #fill(e: TradeEvent, role: 'taker' | 'maker'): [string, FillRecord] {
    const names = ROLES[role];
    const aggressor = e.aggressor;
    return [
      e[names.account],
      {
        tradeId: e.tradeId,
        orderId: e[names.orderId],
        clientOrderId: e[names.clientOrderId],
        instrument: e.instrument,
        side: role === 'taker' ? aggressor : aggressor === 'buy' ? 'sell' : 'buy',
        price: e.price,
        quantity: e.quantity,
        fee: e[SIDE_OF[role].fee],
        liquidity: role,
        ts: e.ts,
      },
    ];
  }

  /** The order of one side of a trade: more filled, or done. */
  #filled(e: TradeEvent, role: 'taker' | 'maker', f: FillRecord): void {
    const fields = SIDE_OF[role];
    const o = this.#order(f.orderId, e, e[ROLES[role].account], f.clientOrderId, f.side);
    o.filled = e[fields.filled];
    if (o.notional !== null) o.notional += f.price * f.quantity;
    if (e[fields.leaves] === 0) this.#end(f.orderId, o, e, 'filled', '');
    else this.#changed.add(f.orderId);
  }

  #canceled(e: CanceledEvent): void {
    const orderId = e.orderId;
    const o = this.#order(orderId, e, e.account, e.clientOrderId, e.side);
    o.filled = e.filled;
    const leaves = e.leaves;
    // What is left, or (when it ends) what it was: filled plus what was canceled now.
    o.size = o.filled + (leaves > 0 ? leaves : e.quantity);
    const reason = e.reason;
    if (leaves > 0)
      this.#changed.add(orderId); // decremented, lives on smaller
    else this.#end(orderId, o, e, reason === 'expired' ? 'expired' : 'canceled', reason);
  }

  #amended(e: ReplacedEvent | TriggeredEvent): void {
    const orderId = e.orderId;
    const o = this.#order(orderId, e, e.account, e.clientOrderId, e.side);
    o.price = e.price;
    o.filled = e.filled;
    o.size = o.filled + e.leaves;
    this.#changed.add(orderId);
  }

  #refused(e: RejectedEvent): void {
    this.#sink.finished(e.account, this.#pos(e), {
      orderId: null,
      clientOrderId: e.clientOrderId,
      instrument: e.instrument,
      side: null,
      orderType: null,
      tif: null,
      price: 0,
      stopPrice: 0,
      quantity: 0,
      filled: 0,
      notional: 0,
      status: 'rejected',
      reason: e.reason,
      code: e.code,
      createdAt: null,
      ts: e.ts,
    });
  }

  /** The live order, or what the event tells of one accepted before the history began. */
  #order(orderId: number, e: PublishedEvent, account: string, clientOrderId: string, side: Side): LiveOrder {
    let o = this.#live.get(orderId);
    if (o === undefined) {
      o = {
        account,
        instrument: e.instrument,
        clientOrderId,
        side,
        orderType: null,
        tif: null,
        price: 0,
        stopPrice: 0,
        size: 0,
        filled: 0,
        notional: null,
        createdAt: null,
      };
      this.#live.set(orderId, o);
    }
    return o;
  }

  #end(orderId: number, o: LiveOrder, e: PublishedEvent, status: FinalStatus, reason: string): void {
    this.#live.delete(orderId);
    this.#changed.add(orderId);
    this.#sink.finished(o.account, this.#pos(e), {
      orderId,
      clientOrderId: o.clientOrderId,
      instrument: o.instrument,
      side: o.side,
      orderType: o.orderType,
      tif: o.tif,
      price: o.price,
      stopPrice: o.stopPrice,
      quantity: o.size,
      filled: o.filled,
      notional: o.notional,
      status,
      reason,
      code: 0,
      createdAt: o.createdAt,
      ts: e.ts,
    });
  }
}
