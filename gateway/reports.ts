/**
 * Execution reports: the lifecycle of each order as its owner sees it, built from the engine's
 * events. The engine tells what happened to an order (accepted, traded, canceled, replaced);
 * this adds what a trader wants in every report: the order's terms, cumulative and open
 * quantity, and average fill price. It keeps one small record per live order of the accounts
 * followed (those with sessions here) and forgets it when the order is done.
 */
import BigNumber from 'bignumber.js';
import {
  type AcceptedEvent,
  type CanceledEvent,
  codeName,
  type OrderView,
  type PublishedEvent,
  type RejectedEvent,
  type ReplacedEvent,
  type TradeEvent,
  type TriggeredEvent,
} from '../engine/index.ts';
import { acceptedOrder, type LiveOrder } from '../history/index.ts';
import type { InstrumentCodec } from './instrument-codec.ts';

export type ExecStatus =
  'pending-new' | 'new' | 'partially-filled' | 'filled' | 'canceled' | 'rejected' | 'replaced';

/** A report as sent (see docs/ws-protocol.md). */
export interface ExecReport {
  type: 'exec';
  status: ExecStatus;
  orderId?: number;
  clientOrderId: string;
  instrument: string;
  side?: string;
  orderType?: string;
  price?: string | null;
  stopPrice?: string;
  quantity?: string;
  cumQty?: string;
  leavesQty?: string;
  avgPrice?: string | null;
  lastQty?: string;
  lastPrice?: string;
  tradeId?: number;
  liquidity?: 'maker' | 'taker';
  fee?: string;
  reason?: string;
  code?: number;
  codeName?: string;
  triggered?: boolean;
  ts: number;
}

/** A command's refusal that concerns no new order (cancel, replace, cancel-all). */
export interface RejectReport {
  type: 'reject';
  op: string;
  orderId?: number;
  clientOrderId?: string;
  code: number;
  codeName: string;
  reason: string;
  ts: number;
}

/** The trade event's fields of each side (built once, not per fill). */
const ROLE_KEYS = {
  taker: { orderId: 'takerOrderId', leaves: 'takerLeaves', filled: 'takerFilled', fee: 'takerFee' },
  maker: { orderId: 'makerOrderId', leaves: 'makerLeaves', filled: 'makerFilled', fee: 'makerFee' },
} as const;

export class ExecReports {
  #live = new Map<number, LiveOrder>();
  /** Live order ids by account and client order id (account NUL id). */
  #byClientId = new Map<string, number>();
  #codec: (instrument: string) => InstrumentCodec | undefined;

  constructor(codec: (instrument: string) => InstrumentCodec | undefined) {
    this.#codec = codec;
  }

  /** Tracks an account's live orders (as the engine holds them when the gateway starts following it). */
  track(orders: readonly OrderView[]): void {
    for (const o of orders) {
      this.#add(o.orderId, {
        account: o.account,
        instrument: o.instrument,
        clientOrderId: o.clientOrderId,
        side: o.side,
        orderType: o.orderType,
        tif: o.tif,
        price: o.price,
        stopPrice: o.stopPrice,
        size: o.filled + o.leaves,
        filled: o.filled,
        notional: 0,
        createdAt: null,
      });
    }
  }

  /** Forgets an account's orders (the gateway stopped following it). */
  forget(account: string): void {
    for (const [id, o] of this.#live) if (o.account === account) this.#delete(id, o);
  }

  /** A live order of the account, by order id or client order id, or undefined. */
  liveOrder(account: string, ref: { orderId?: number; clientOrderId?: string }): LiveOrder | undefined {
    const id = ref.orderId ?? this.#byClientId.get(`${account}\u0000${ref.clientOrderId}`);
    const o = id === undefined ? undefined : this.#live.get(id);
    return o?.account === account ? o : undefined;
  }

  /** Whether the account has a live order with this client order id. */
  hasClientOrderId(account: string, clientOrderId: string): boolean {
    return this.#byClientId.has(`${account}\u0000${clientOrderId}`);
  }

  #add(orderId: number, o: LiveOrder): void {
    this.#live.set(orderId, o);
    this.#byClientId.set(`${o.account}\u0000${o.clientOrderId}`, orderId);
  }

  #delete(orderId: number, o: LiveOrder): void {
    this.#live.delete(orderId);
    this.#byClientId.delete(`${o.account}\u0000${o.clientOrderId}`);
  }

  /** Live orders tracked. */
  get size(): number {
    return this.#live.size;
  }

  /**
   * The reports one event makes for `account` (a trade makes one per side, both when the two
   * sides are the same account). `op` is the operation that sent the command, when known, so
   * that a refusal reads right.
   */
  reportsOf(
    e: PublishedEvent,
    op: string | undefined,
    out: Array<[string, ExecReport | RejectReport]>,
    account: string,
  ): void {
    switch (e.kind) {
      case 'accepted':
        return this.#accepted(e, out);
      case 'trade':
        if (e.takerAccount === account) this.#fill(e, 'taker', out);
        if (e.makerAccount === account) this.#fill(e, 'maker', out);
        return;
      case 'canceled':
        return this.#canceled(e, out);
      case 'replaced':
        return this.#replaced(e, out);
      case 'triggered':
        return this.#triggered(e, out);
      case 'rejected':
        return this.#rejected(e, op, out);
      default:
        return;
    }
  }

  /** The report a `new` gets before the engine has seen it. */
  pendingNew(
    msg: {
      instrument: string;
      clientOrderId: string;
      side: string;
      orderType: string;
      quantity: string;
      price?: string;
    },
    ts: number,
  ): ExecReport {
    return {
      type: 'exec',
      status: 'pending-new',
      clientOrderId: msg.clientOrderId,
      instrument: msg.instrument,
      side: msg.side,
      orderType: msg.orderType,
      price: msg.price ?? null,
      quantity: msg.quantity,
      cumQty: '0',
      leavesQty: msg.quantity,
      avgPrice: null,
      ts,
    };
  }

  #accepted(e: AcceptedEvent, out: Array<[string, ExecReport | RejectReport]>): void {
    const o = acceptedOrder(e);
    this.#add(e.orderId, o);
    out.push([o.account, this.#report(e.orderId, o, 'new', e.ts, e.leaves)]);
  }

  #fill(e: TradeEvent, role: 'taker' | 'maker', out: Array<[string, ExecReport | RejectReport]>): void {
    const keys = ROLE_KEYS[role];
    const orderId = e[keys.orderId];
    const o = this.#live.get(orderId);
    if (o === undefined) return;
    const qty = e.quantity;
    const price = e.price;
    const leaves = e[keys.leaves];
    o.filled = e[keys.filled];
    if (o.notional !== null) o.notional += qty * price;
    const r = this.#report(orderId, o, leaves === 0 ? 'filled' : 'partially-filled', e.ts, leaves);
    const codec = this.#codec(o.instrument);
    r.lastQty = codec?.quantity(qty);
    r.lastPrice = codec?.price(price);
    r.tradeId = e.tradeId;
    r.liquidity = role;
    r.fee = codec?.notional(e[keys.fee]);
    out.push([o.account, r]);
    if (leaves === 0) this.#delete(orderId, o);
  }

  #canceled(e: CanceledEvent, out: Array<[string, ExecReport | RejectReport]>): void {
    const orderId = e.orderId;
    const o = this.#live.get(orderId);
    if (o === undefined) return;
    const leaves = e.leaves;
    if (leaves > 0) o.size = o.filled + leaves; // decremented, lives on smaller
    const status: ExecStatus = leaves === 0 ? 'canceled' : o.filled > 0 ? 'partially-filled' : 'new';
    const r = this.#report(orderId, o, status, e.ts, leaves);
    r.reason = e.reason;
    out.push([o.account, r]);
    if (leaves === 0) this.#delete(orderId, o);
  }

  #replaced(e: ReplacedEvent, out: Array<[string, ExecReport | RejectReport]>): void {
    const orderId = e.orderId;
    const o = this.#live.get(orderId);
    if (o === undefined) return;
    o.price = e.price;
    o.size = e.filled + e.leaves;
    out.push([o.account, this.#report(orderId, o, 'replaced', e.ts, e.leaves)]);
  }

  #triggered(e: TriggeredEvent, out: Array<[string, ExecReport | RejectReport]>): void {
    const orderId = e.orderId;
    const o = this.#live.get(orderId);
    if (o === undefined) return;
    o.price = e.price;
    const r = this.#report(orderId, o, o.filled > 0 ? 'partially-filled' : 'new', e.ts, e.leaves);
    r.triggered = true;
    out.push([o.account, r]);
  }

  #rejected(e: RejectedEvent, op: string | undefined, out: Array<[string, ExecReport | RejectReport]>): void {
    const account = e.account;
    if (account === '') return;
    const code = e.code;
    if (op === undefined || op === 'new') {
      out.push([
        account,
        {
          type: 'exec',
          status: 'rejected',
          clientOrderId: e.clientOrderId,
          instrument: e.instrument,
          code,
          codeName: codeName(code),
          reason: e.reason,
          ts: e.ts,
        },
      ]);
      return;
    }
    const r: RejectReport = {
      type: 'reject',
      op,
      code,
      codeName: codeName(code),
      reason: e.reason,
      ts: e.ts,
    };
    if (e.orderId) r.orderId = e.orderId;
    if (e.clientOrderId) r.clientOrderId = e.clientOrderId;
    out.push([account, r]);
  }

  #report(orderId: number, o: LiveOrder, status: ExecStatus, ts: number, leaves: number): ExecReport {
    const codec = this.#codec(o.instrument);
    const r: ExecReport = {
      type: 'exec',
      status,
      orderId,
      clientOrderId: o.clientOrderId,
      instrument: o.instrument,
      side: o.side,
      orderType: o.orderType ?? undefined,
      price: o.price > 0 ? (codec?.price(o.price) ?? null) : null,
      quantity: codec?.quantity(o.size),
      cumQty: codec?.quantity(o.filled),
      leavesQty: codec?.quantity(leaves),
      avgPrice: null,
      ts,
    };
    if (o.stopPrice > 0) r.stopPrice = codec?.price(o.stopPrice);
    if (o.filled > 0 && codec !== undefined && o.notional !== null && o.notional > 0) {
      r.avgPrice = averagePrice(o.notional, o.filled, codec);
    }
    return r;
  }
}

/** notional / filled in ticks, as a price; two more decimals than the instrument's when not on a tick. */
export function averagePrice(notional: number, filled: number, codec: InstrumentCodec): string {
  const ticks = notional / filled;
  if (Number.isInteger(ticks)) return codec.price(ticks);
  return new BigNumber(notional)
    .dividedBy(filled)
    .times(codec.spec.tickSize)
    .toFixed(codec.spec.priceDecimals + 2, BigNumber.ROUND_HALF_EVEN);
}
