/**
 * Events out of the engine. Each command yields one or more events, in order, numbered by a
 * gap-free sequence. Events are written into pooled records while a command runs and handed to
 * the listeners after the state change is complete (never mid-match); a listener that throws
 * cannot break the book or the other listeners.
 *
 * Records are reused for the next command: a listener that keeps an event copies it first
 * (`eventToObject` in published.ts, which gives the fields of its kind as a typed object). Only
 * the fields of an event's kind are meaningful.
 */
import type { InstrumentStatus, LegState, OrderType, Side, TimeInForce } from './types.ts';

export type EventKind =
  | 'accepted' // an order entered (resting, matching or waiting as a stop)
  | 'rejected' // a command was refused: `code` and `reason`
  | 'trade' // a match between a resting maker and a taker
  | 'canceled' // quantity left an order for `reason`; `leaves` > 0 means the order lives on, smaller
  | 'replaced' // an amendment took effect
  | 'triggered' // a stop order triggered and now enters the book
  | 'depth' // a price level's new total (0 when the level is gone), once per level per command
  | 'bbo' // the best bid or offer of an instrument changed
  | 'instrument' // an instrument was listed or its status changed
  | 'balance' // risk: an account's balance of an asset changed (once per balance per command)
  | 'settlement' // risk: a ledger's verdict on a trade was applied
  | 'account' // risk: an account's standing on a venue changed
  | 'withdrawal' // risk: a withdrawal was requested (pending), released or refused by its ledger
  | 'identity' // an identity was linked to an account or unlinked from it
  | 'leg'; // risk: a ledger's step on a leg of a cross-ledger trade (locked, claimed, refunded, refused)

/** Where a withdrawal stands: waiting for its ledger, or its ledger's verdict. */
export type WithdrawalStatus = 'pending' | 'released' | 'refused';

/** One event; a flat record so that all events share one shape. Prices in ticks, sizes in lots. */
export class EngineEvent {
  kind: EventKind = 'accepted';
  /** Gap-free sequence number of the event, starting at 1. */
  seq = 0;
  /** Sequence number of the command that caused it, starting at 1. */
  commandSeq = 0;
  /** The command's timestamp. */
  ts = 0;
  /** Instrument id, or '' where the command named none. */
  instrument = '';

  // Orders (accepted, rejected, canceled, replaced, triggered) and the taker of a trade.
  orderId = 0;
  account = '';
  clientOrderId = '';
  side: Side = 'buy';
  orderType: OrderType = 'limit';
  tif: TimeInForce = 'GTC';
  /** accepted/replaced/triggered: the order's price (0 for market); trade: the trade price; depth: the level. */
  price = 0;
  stopPrice = 0;
  expireAt = 0;
  /** accepted: order size; canceled: size canceled now; replaced: new leaves; trade: traded; depth: level total. */
  quantity = 0;
  /** Open quantity after the event (the taker's, for a trade). */
  leaves = 0;
  /** Cumulative filled quantity after the event (the taker's, for a trade). */
  filled = 0;
  /** canceled: a `CancelReason`; rejected: what was wrong, in words. */
  reason = '';
  /** rejected: a result code from `codes.ts`. */
  code = 0;
  /** rejected: whether the command refused was a new order (which got no order id). */
  newOrder = false;
  /** replaced: whether the order kept its place in the queue. */
  keptPriority = false;

  // Trades.
  tradeId = 0;
  makerOrderId = 0;
  makerAccount = '';
  makerClientOrderId = '';
  makerLeaves = 0;
  makerFilled = 0;
  /** Fees in notional units (one tick times one lot); negative is a rebate. See `fees.ts`. */
  makerFee = 0;
  takerFee = 0;

  // Depth.
  /** Orders resting at the level. */
  count = 0;

  // BBO: 0 where the side is empty.
  bidPrice = 0;
  bidQty = 0;
  askPrice = 0;
  askQty = 0;

  /** Instrument: its status; withdrawal and leg: where it stands. */
  status: InstrumentStatus | WithdrawalStatus | LegState = 'open';
  /** Leg: which of a cross-ledger trade's (its venue is `venue`). */
  leg: 'security' | 'cash' = 'security';

  // Risk: balance (account, asset and its four amounts), settlement (tradeId, ok, reason, ref,
  // gas, gasFee),
  // account (account, venue, eligible, frozen).
  asset = '';
  available = 0;
  reserved = 0;
  pendingIn = 0;
  pendingOut = 0;
  ok = false;
  /** Settlement: the ledger's reference, the trade's share of gas and of the fee (base units). */
  ref = '';
  gas = 0;
  gasFee = '';
  venue = '';
  eligible = false;
  frozen = false;

  // Identity (account, identity, linked).
  identity = '';
  linked = false;

  // Withdrawal (account, asset, status, and for a verdict reason, ref, gas, gasFee as a settlement's).
  withdrawalId = 0;
  /** In the asset's units. */
  amount = 0;

  // A trade's taker under the names of the published trade event (`published.ts`), so that a
  // record reads as the published event of its kind without being copied.
  get aggressor(): Side {
    return this.side;
  }
  get takerOrderId(): number {
    return this.orderId;
  }
  get takerAccount(): string {
    return this.account;
  }
  get takerClientOrderId(): string {
    return this.clientOrderId;
  }
  get takerLeaves(): number {
    return this.leaves;
  }
  get takerFilled(): number {
    return this.filled;
  }
}

/** Receives events by audience. All methods are optional; `onEvent` sees every event in order. */
export interface EngineListener {
  onEvent?(e: EngineEvent): void;
  /** accepted, rejected, canceled, replaced, triggered. */
  onOrder?(e: EngineEvent): void;
  onTrade?(e: EngineEvent): void;
  onDepth?(e: EngineEvent): void;
  onBbo?(e: EngineEvent): void;
  onInstrument?(e: EngineEvent): void;
  /** balance, settlement, account, withdrawal (pre-trade risk). */
  onAccount?(e: EngineEvent): void;
}
