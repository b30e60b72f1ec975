/**
 * Events as published: what the durable engine hands its subscribers and read models, what a
 * shard writes (as JSON) on its event stream and what gateways, connectors and the history read.
 * One interface per kind, with exactly the fields meaningful for that kind, joined in one union
 * discriminated by `kind`: a reader narrows with `switch (e.kind)` or `e.kind === 'trade'`, and a
 * field renamed or read from the wrong kind is a compile error in every folder that reads it,
 * not a silent `undefined`. Prices in ticks, sizes in lots, fees in notional units (one tick times
 * one lot), as in the engine. Type aliases rather than interfaces: an event stays plain data that
 * any `Record<string, unknown>` (a log line, a test's expectation) accepts.
 */
import { EngineEvent, type EventKind, type WithdrawalStatus } from './events.ts';
import type { CancelReason, InstrumentStatus, LegState, OrderType, Side, TimeInForce } from './types.ts';

/** What every event carries. */
type Head<K extends EventKind> = {
  readonly kind: K;
  /** Gap-free sequence number of the event, starting at 1. */
  readonly seq: number;
  /** Sequence number of the command that caused it, starting at 1. */
  readonly commandSeq: number;
  /** The command's timestamp. */
  readonly ts: number;
  /** Instrument id, or '' where the command named none. */
  readonly instrument: string;
};

/** Which order an order event is about. */
type OrderRef<K extends EventKind> = Head<K> & {
  readonly orderId: number;
  readonly account: string;
  readonly clientOrderId: string;
};

/** An order entered: resting, matching or waiting as a stop. */
export type AcceptedEvent = OrderRef<'accepted'> & {
  readonly side: Side;
  readonly orderType: OrderType;
  readonly tif: TimeInForce;
  /** 0 for a market order. */
  readonly price: number;
  /** 0 unless a stop. */
  readonly stopPrice: number;
  /** 0 unless GTD. */
  readonly expireAt: number;
  /** The order's size. */
  readonly quantity: number;
  /** Open quantity after entry (matching follows as trade events). */
  readonly leaves: number;
};

/**
 * A command was refused. `orderId` is 0 for a refused new order (it got no id) and `account` ''
 * where the command named none.
 */
export type RejectedEvent = OrderRef<'rejected'> & {
  /** A result code from `codes.ts`. */
  readonly code: number;
  /** What was wrong, in words. */
  readonly reason: string;
  /** Whether the command refused was a new order. */
  readonly newOrder: boolean;
};

/** Quantity left an order; `leaves` > 0 means the order lives on, smaller. */
export type CanceledEvent = OrderRef<'canceled'> & {
  readonly side: Side;
  /** The size canceled now. */
  readonly quantity: number;
  readonly leaves: number;
  readonly filled: number;
  readonly reason: CancelReason;
};

/** An amendment took effect. */
export type ReplacedEvent = OrderRef<'replaced'> & {
  readonly side: Side;
  readonly price: number;
  /** The new open quantity. */
  readonly quantity: number;
  readonly leaves: number;
  readonly filled: number;
  /** Whether the order kept its place in the queue. */
  readonly keptPriority: boolean;
};

/** A stop order triggered and now enters the book. */
export type TriggeredEvent = OrderRef<'triggered'> & {
  readonly side: Side;
  readonly orderType: OrderType;
  readonly tif: TimeInForce;
  /** 0 for a stop that enters as a market order. */
  readonly price: number;
  readonly stopPrice: number;
  readonly quantity: number;
  readonly leaves: number;
  readonly filled: number;
};

/** A match between a resting maker and a taker; leaves and filled are each order's after it. */
export type TradeEvent = Head<'trade'> & {
  readonly tradeId: number;
  readonly price: number;
  readonly quantity: number;
  /** The taker's side. */
  readonly aggressor: Side;
  readonly takerOrderId: number;
  readonly takerAccount: string;
  readonly takerClientOrderId: string;
  readonly takerLeaves: number;
  readonly takerFilled: number;
  /** Negative is a rebate. See `fees.ts`. */
  readonly takerFee: number;
  readonly makerOrderId: number;
  readonly makerAccount: string;
  readonly makerClientOrderId: string;
  readonly makerLeaves: number;
  readonly makerFilled: number;
  readonly makerFee: number;
};

/** A price level's new total (0 when the level is gone), once per level per command. */
export type DepthEvent = Head<'depth'> & {
  readonly side: Side;
  readonly price: number;
  readonly quantity: number;
  /** Orders resting at the level. */
  readonly count: number;
};

/** The best bid or offer changed; 0 where a side is empty. */
export type BboEvent = Head<'bbo'> & {
  readonly bidPrice: number;
  readonly bidQty: number;
  readonly askPrice: number;
  readonly askQty: number;
};

/** An instrument was listed or its status changed. */
export type InstrumentEvent = Head<'instrument'> & {
  readonly status: InstrumentStatus;
};

/** Risk: an account's balance of an asset changed (once per balance per command), in the asset's units. */
export type BalanceEvent = Head<'balance'> & {
  readonly account: string;
  readonly asset: string;
  readonly available: number;
  readonly reserved: number;
  readonly pendingIn: number;
  readonly pendingOut: number;
};

/** Risk: a ledger's verdict on a trade was applied. */
export type SettlementEvent = Head<'settlement'> & {
  readonly tradeId: number;
  readonly ok: boolean;
  readonly reason: string;
  /** The ledger's reference, the trade's share of gas and of the fee (base units); '' and 0 where none. */
  readonly ref: string;
  readonly gas: number;
  readonly gasFee: string;
};

/** Risk: an account's standing on a venue changed. */
export type AccountEvent = Head<'account'> & {
  readonly account: string;
  readonly venue: string;
  readonly eligible: boolean;
  readonly frozen: boolean;
};

/** Risk: a withdrawal was requested (pending), released or refused by its ledger. */
export type WithdrawalEvent = Head<'withdrawal'> & {
  readonly withdrawalId: number;
  readonly status: WithdrawalStatus;
  readonly account: string;
  readonly asset: string;
  /** In the asset's units. */
  readonly amount: number;
  /** A verdict's reason, ref, gas and gas fee, as a settlement's. */
  readonly reason: string;
  readonly ref: string;
  readonly gas: number;
  readonly gasFee: string;
};

/** An identity was linked to an account (`linked`) or unlinked from it. */
export type IdentityEvent = Head<'identity'> & {
  readonly account: string;
  readonly identity: string;
  readonly linked: boolean;
};

/** Risk: a ledger's step on a leg of a cross-ledger trade; the trade's settlement event follows once both legs are final. */
export type LegEvent = Head<'leg'> & {
  readonly tradeId: number;
  readonly leg: 'security' | 'cash';
  /** The leg's ledger: the instrument's venue for the security, its quote venue for the cash. */
  readonly venue: string;
  readonly status: LegState;
  /** A refusal's reason; the step's ledger reference, share of gas and of the fee (base units); '' and 0 where none. */
  readonly reason: string;
  readonly ref: string;
  readonly gas: number;
  readonly gasFee: string;
};

/** One published event, of any kind. */
export type PublishedEvent =
  | AcceptedEvent
  | RejectedEvent
  | TradeEvent
  | CanceledEvent
  | ReplacedEvent
  | TriggeredEvent
  | DepthEvent
  | BboEvent
  | InstrumentEvent
  | BalanceEvent
  | SettlementEvent
  | AccountEvent
  | WithdrawalEvent
  | IdentityEvent
  | LegEvent;

/** The published event of one kind: `EventOf<'trade'>` is `TradeEvent`. */
export type EventOf<K extends EventKind> = Extract<PublishedEvent, { kind: K }>;

/**
 * A pooled record read as the published event of its kind, without a copy: it has every field of
 * every kind under the published names (a trade's taker fields are getters). Such a view is
 * valid only until its record is reused; whoever keeps an event past the call that handed it
 * over keeps `keepEvent(e)`.
 */
export function eventView(e: EngineEvent): PublishedEvent {
  return e as unknown as PublishedEvent;
}

/** An event safe to keep: a view copied into a plain object, or the plain object it already is. */
export function keepEvent(e: PublishedEvent): PublishedEvent {
  return e instanceof EngineEvent ? eventToObject(e) : e;
}

/**
 * A plain object with the fields of the event's kind, safe to keep, compare and serialize.
 * One object literal per kind, written out: spreading a shared head made dictionary-mode
 * objects and cost nine times as much on the durable path, which copies every event. The order
 * of the fields is the order of the JSON on a shard's event stream: keep it.
 */
export function eventToObject(e: EngineEvent): PublishedEvent {
  const { seq, commandSeq, ts, kind, instrument } = e;
  switch (kind) {
    case 'accepted':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        orderId: e.orderId,
        account: e.account,
        clientOrderId: e.clientOrderId,
        side: e.side,
        orderType: e.orderType,
        tif: e.tif,
        price: e.price,
        stopPrice: e.stopPrice,
        expireAt: e.expireAt,
        quantity: e.quantity,
        leaves: e.leaves,
      };
    case 'rejected':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        orderId: e.orderId,
        account: e.account,
        clientOrderId: e.clientOrderId,
        code: e.code,
        reason: e.reason,
        newOrder: e.newOrder,
      };
    case 'canceled':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        orderId: e.orderId,
        account: e.account,
        clientOrderId: e.clientOrderId,
        side: e.side,
        quantity: e.quantity,
        leaves: e.leaves,
        filled: e.filled,
        // The engine writes a CancelReason into the pooled record's `reason` of a canceled event.
        reason: e.reason as CancelReason,
      };
    case 'replaced':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        orderId: e.orderId,
        account: e.account,
        clientOrderId: e.clientOrderId,
        side: e.side,
        price: e.price,
        quantity: e.quantity,
        leaves: e.leaves,
        filled: e.filled,
        keptPriority: e.keptPriority,
      };
    case 'triggered':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        orderId: e.orderId,
        account: e.account,
        clientOrderId: e.clientOrderId,
        side: e.side,
        orderType: e.orderType,
        tif: e.tif,
        price: e.price,
        stopPrice: e.stopPrice,
        quantity: e.quantity,
        leaves: e.leaves,
        filled: e.filled,
      };
    case 'trade':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        tradeId: e.tradeId,
        price: e.price,
        quantity: e.quantity,
        aggressor: e.side,
        takerOrderId: e.orderId,
        takerAccount: e.account,
        takerClientOrderId: e.clientOrderId,
        takerLeaves: e.leaves,
        takerFilled: e.filled,
        takerFee: e.takerFee,
        makerOrderId: e.makerOrderId,
        makerAccount: e.makerAccount,
        makerClientOrderId: e.makerClientOrderId,
        makerLeaves: e.makerLeaves,
        makerFilled: e.makerFilled,
        makerFee: e.makerFee,
      };
    case 'depth':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        side: e.side,
        price: e.price,
        quantity: e.quantity,
        count: e.count,
      };
    case 'bbo':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        bidPrice: e.bidPrice,
        bidQty: e.bidQty,
        askPrice: e.askPrice,
        askQty: e.askQty,
      };
    case 'instrument':
      return { seq, commandSeq, ts, kind, instrument, status: e.status as InstrumentStatus };
    case 'balance':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        account: e.account,
        asset: e.asset,
        available: e.available,
        reserved: e.reserved,
        pendingIn: e.pendingIn,
        pendingOut: e.pendingOut,
      };
    case 'settlement':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        tradeId: e.tradeId,
        ok: e.ok,
        reason: e.reason,
        ref: e.ref,
        gas: e.gas,
        gasFee: e.gasFee,
      };
    case 'account':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        account: e.account,
        venue: e.venue,
        eligible: e.eligible,
        frozen: e.frozen,
      };
    case 'withdrawal':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        withdrawalId: e.withdrawalId,
        status: e.status as WithdrawalStatus,
        account: e.account,
        asset: e.asset,
        amount: e.amount,
        reason: e.reason,
        ref: e.ref,
        gas: e.gas,
        gasFee: e.gasFee,
      };
    case 'identity':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        account: e.account,
        identity: e.identity,
        linked: e.linked,
      };
    case 'leg':
      return {
        seq,
        commandSeq,
        ts,
        kind,
        instrument,
        tradeId: e.tradeId,
        leg: e.leg,
        venue: e.venue,
        status: e.status as LegState,
        reason: e.reason,
        ref: e.ref,
        gas: e.gas,
        gasFee: e.gasFee,
      };
  }
}

/**
 * Calls `take` with each account a command's events concern and those events, in order (a trade
 * in both its accounts' lists; market data in none); `wanted` picks the accounts (all by default).
 */
export function eachAccount(
  events: readonly PublishedEvent[],
  take: (account: string, events: PublishedEvent[]) => void,
  wanted: (account: string) => boolean = () => true,
): void {
  eachKey(events, take, wanted, (e, add) => {
    if (e.kind !== 'trade') add((e as { account?: string }).account);
    else {
      add(e.takerAccount);
      if (e.makerAccount !== e.takerAccount) add(e.makerAccount);
    }
  });
}

/**
 * Calls `take` with each instrument whose market data a command's events change (its book's
 * levels, its best prices, its trades) and those events, in order; `wanted` picks the instruments.
 */
export function eachInstrument(
  events: readonly PublishedEvent[],
  take: (instrument: string, events: PublishedEvent[]) => void,
  wanted: (instrument: string) => boolean = () => true,
): void {
  eachKey(events, take, wanted, (e, add) => {
    if (e.kind === 'depth' || e.kind === 'bbo' || e.kind === 'trade') add(e.instrument);
  });
}

/** Groups events by the keys `keysOf` gives each (none, one or more), each group in order. */
function eachKey(
  events: readonly PublishedEvent[],
  take: (key: string, events: PublishedEvent[]) => void,
  wanted: (key: string) => boolean,
  keysOf: (e: PublishedEvent, add: (key: string | undefined) => void) => void,
): void {
  const byKey = new Map<string, PublishedEvent[]>();
  let e: PublishedEvent;
  const add = (key: string | undefined) => {
    if (key === undefined || key === '' || !wanted(key)) return;
    let list = byKey.get(key);
    if (list === undefined) byKey.set(key, (list = []));
    list.push(e);
  };
  for (e of events) keysOf(e, add);
  for (const [key, list] of byKey) take(key, list);
}
