/**
 * The engine's public vocabulary: instruments, commands in, and the meaning of each field.
 *
 * Inside the engine every price is an integer number of ticks and every quantity an integer
 * number of lots (see `units.ts` for the decimal edge). Timestamps are integers chosen by the
 * sequencer (Mosaic uses milliseconds since the epoch) and arrive inside commands: the engine
 * never reads a clock.
 */

export type Side = 'buy' | 'sell';

/**
 * `limit` and `market` enter the book at once. `stop` (becomes a market order) and `stop-limit`
 * (becomes a limit order at `price`) wait until the last trade price reaches `stopPrice`:
 * a buy stop triggers when last >= stopPrice, a sell stop when last <= stopPrice.
 */
export type OrderType = 'limit' | 'market' | 'stop' | 'stop-limit';

/**
 * GTC rests until canceled; GTD rests until `expireAt` (expired by the first command whose `ts`
 * reaches it); IOC fills what it can now and cancels the rest; FOK fills completely at once or
 * not at all. Market and stop orders take IOC or FOK (default IOC).
 */
export type TimeInForce = 'GTC' | 'GTD' | 'IOC' | 'FOK';

/**
 * Self-trade prevention, applied when a taker meets a resting order of its own account. The
 * taker's mode decides (default `cancel-newest`; a security token venue never lets an account
 * trade with itself):
 * - `cancel-newest`: the taker's remaining quantity is canceled, the resting order stays;
 * - `cancel-oldest`: the resting order is canceled and the taker goes on matching;
 * - `cancel-both`: both are canceled;
 * - `decrement-and-cancel`: the smaller of the two is canceled and the larger is decremented by
 *   the same quantity (both canceled when equal); a decremented resting order keeps its place.
 */
export type StpMode = 'cancel-newest' | 'cancel-oldest' | 'cancel-both' | 'decrement-and-cancel';

export type InstrumentStatus = 'open' | 'halted';

/** Why an order (or part of it) left the book. */
export type CancelReason =
  | 'user' // a cancel command
  | 'cancel-all' // a cancel-all command
  | 'ioc-remainder' // what an IOC or market order could not fill at once
  | 'fok-unfilled' // a FOK order that could not fill completely
  | 'stp' // self-trade prevention
  | 'expired'; // a GTD order whose expiry passed

/**
 * An instrument as listed. Decimal strings are parsed once when listed; every other number is
 * an integer in ticks, lots or basis points.
 */
export interface InstrumentSpec {
  /** `SYMBOL@venue`, where the venue names a ledger: `ACME@evm:31337`, `ACME@fabric:bank-net`. */
  id: string;
  /** Price of one tick in the quote currency, a positive decimal string such as `'0.01'`. */
  tickSize: string;
  /** Size of one lot in units of the security, a positive decimal string such as `'1'`. */
  lotSize: string;
  /** Decimals shown for prices; at least the decimals of `tickSize`. */
  priceDecimals: number;
  /** Decimals shown for quantities; at least the decimals of `lotSize`. */
  quantityDecimals: number;
  /** Smallest order, in lots (>= 1). */
  minQty: number;
  /** Largest order, in lots. */
  maxQty: number;
  /** Highest admissible price in ticks; `maxPrice * maxQty` must be a safe integer. */
  maxPrice: number;
  /** Reference price in ticks for the price band until the first trade (0: none). */
  referencePrice: number;
  /**
   * Price band in basis points around the reference (the last trade price once there is one):
   * limit and stop-limit prices must lie within `ref ± floor(ref * bandBps / 10000)` ticks, and
   * market orders match no further than that. 0 disables the band.
   */
  bandBps: number;
  /** Maker fee in basis points of the notional; negative is a rebate (|maker| <= taker). */
  makerFeeBps: number;
  /** Taker fee in basis points of the notional, >= 0. */
  takerFeeBps: number;
  /** Defaults to `open`. */
  status?: InstrumentStatus;
  /**
   * The cash asset (default `USD`): its balances are `QUOTE@venue` (the `quoteVenue`'s, if one is
   * named), counted in whole `quoteUnit`s. Used by the pre-trade risk stage.
   */
  quote?: string;
  /**
   * Size of one cash unit, a positive decimal string; `tickSize * lotSize` must be a whole
   * number of them, and every instrument sharing the cash asset must name the same unit.
   * Default: `tickSize * lotSize`.
   */
  quoteUnit?: string;
  /**
   * The venue whose ledger holds the cash, when it is not the instrument's own: a cross-ledger
   * instrument, whose security settles on the instrument's venue and whose cash on this one,
   * both legs of each trade under one hash time-lock (docs/settlement.md). Its balances are
   * `QUOTE@quoteVenue`. Left out: the instrument's own venue.
   */
  quoteVenue?: string;
}

/** Fields every command carries. */
interface CommandBase {
  /** Timestamp from the sequencer: a non-negative safe integer, never less than the previous. */
  ts: number;
}

/** Enter a new order. */
export interface NewOrderCommand extends CommandBase {
  type: 'new';
  instrument: string;
  account: string;
  /** The client's id for the order, unique among the account's live orders (1 to 64 characters). */
  clientOrderId: string;
  side: Side;
  orderType: OrderType;
  /** Lots. */
  quantity: number;
  /** Ticks: required for `limit` and `stop-limit`, absent otherwise. */
  price?: number;
  /** Ticks: required for `stop` and `stop-limit`, absent otherwise. */
  stopPrice?: number;
  /** Defaults to GTC for limit and stop-limit orders, IOC for market and stop orders. */
  tif?: TimeInForce;
  /** Required with GTD and only then; must be later than `ts`. */
  expireAt?: number;
  /** Rejected instead of taking liquidity. Limit GTC/GTD orders only. */
  postOnly?: boolean;
  /** Defaults to `cancel-newest`. */
  stp?: StpMode;
}

/** Cancel one live order, named by `orderId` or by `clientOrderId` (exactly one of them). */
export interface CancelCommand extends CommandBase {
  type: 'cancel';
  account: string;
  orderId?: number;
  clientOrderId?: string;
}

/** Cancel every live order of an account, or only those on one instrument. */
export interface CancelAllCommand extends CommandBase {
  type: 'cancel-all';
  account: string;
  instrument?: string;
}

/**
 * Amend a resting limit order, named by `orderId` or `clientOrderId`. `quantity` is the new
 * open (leaves) quantity in lots. Reducing the quantity at the same price keeps the order's
 * place in the queue; a price change or a larger quantity moves it to the back of its (new)
 * level, and a new price that crosses the book trades at once. Stop orders that have not
 * triggered cannot be amended (cancel and enter anew).
 */
export interface ReplaceCommand extends CommandBase {
  type: 'replace';
  account: string;
  orderId?: number;
  clientOrderId?: string;
  price?: number;
  quantity?: number;
}

/** List a new instrument. */
export interface ListInstrumentCommand extends CommandBase {
  type: 'list-instrument';
  spec: InstrumentSpec;
}

/** Halt an instrument (new orders and amendments are rejected; cancels still work) or resume it. */
export interface SetStatusCommand extends CommandBase {
  type: 'set-status';
  instrument: string;
  status: InstrumentStatus;
}

/**
 * Change an instrument's fees, price band or reference price. Fields left out stay; the result
 * must still pass the listing checks. Resting orders are left as they are.
 */
export interface UpdateInstrumentCommand extends CommandBase {
  type: 'update-instrument';
  instrument: string;
  makerFeeBps?: number;
  takerFeeBps?: number;
  bandBps?: number;
  referencePrice?: number;
}

/** Let time pass: expires GTD orders due at `ts`. The sequencer sends one when otherwise idle. */
export interface TickCommand extends CommandBase {
  type: 'tick';
}

/**
 * Credit an account's available balance of an asset (`SYMBOL@venue` in lots of that symbol's
 * instrument, or `QUOTE@venue` in cash units). Sent by a settlement connector that saw the
 * deposit on its ledger.
 */
export interface DepositCommand extends CommandBase {
  type: 'deposit';
  account: string;
  asset: string;
  amount: number;
}

/**
 * Debit an account's available balance (rejected if it is not there): funds a ledger reports as
 * gone outside the exchange. No connector sends it any more, since withdrawals go through the
 * exchange (`request-withdrawal`); it stays so that journals written before replay as they were.
 */
export interface WithdrawCommand extends CommandBase {
  type: 'withdraw';
  account: string;
  asset: string;
  amount: number;
}

/**
 * An account asks to take an amount of an asset off the exchange, to its own wallet on the
 * asset's ledger. Refused unless the account's available balance (what open orders do not
 * reserve) holds it; otherwise the amount moves from available to pending-out at once, under a
 * withdrawal id the engine gives (numbered like trades, from `idBase`), and waits there until the
 * venue's settlement connector has released it on the ledger (`settle-withdrawal`).
 */
export interface RequestWithdrawalCommand extends CommandBase {
  type: 'request-withdrawal';
  account: string;
  /** `SYMBOL@venue` (lots) or `QUOTE@venue` (cash units). */
  asset: string;
  amount: number;
}

/**
 * The ledger's verdict on a withdrawal: released (the pending amount has left the exchange) or
 * refused (it returns to available). Sent by the settlement connector, once per withdrawal.
 */
export interface SettleWithdrawalCommand extends CommandBase {
  type: 'settle-withdrawal';
  withdrawalId: number;
  ok: boolean;
  /** Why the ledger refused it, for the record. */
  reason?: string;
  /** The ledger's reference of the release (a transaction hash or id). */
  ref?: string;
  /** What releasing cost on a ledger that charges for it: the withdrawal's share of the gas used... */
  gas?: number;
  /** ...and of the fee paid, in the ledger's native base units (wei), as a decimal string. */
  gasFee?: string;
}

/**
 * Set what the ledger says about an account on a venue: eligible (an investor whitelist such as
 * an ERC-3643 identity registry or Fabric MSP membership) and frozen. Fields left out stay.
 */
export interface SetAccountCommand extends CommandBase {
  type: 'set-account';
  account: string;
  venue: string;
  eligible?: boolean;
  frozen?: boolean;
}

/**
 * The ledger's verdict on a trade: settled (pending amounts become final) or failed (they
 * return where they came from). Sent by the settlement connector, once per trade.
 */
export interface SettleCommand extends CommandBase {
  type: 'settle';
  tradeId: number;
  ok: boolean;
  /** Why it failed, for the record. */
  reason?: string;
  /** The ledger's reference of the settlement (a transaction hash or id), for the record. */
  ref?: string;
  /** What settling cost on a ledger that charges for it: the trade's share of the gas used... */
  gas?: number;
  /** ...and of the fee paid, in the ledger's native base units (wei), as a decimal string. */
  gasFee?: string;
}

/**
 * Link a ledger identity (an Ethereum address, a Fabric `MSPID:name`) to an account, whose
 * control the gateway has checked (`identities.ts`): the identity's ledger changes become the
 * account's, and what it held as an account of its own moves into it. Refused while it has open
 * orders, trades or withdrawals of its own, or where the account already settles on one of its
 * venues as another identity.
 */
export interface LinkCommand extends CommandBase {
  type: 'link';
  account: string;
  identity: string;
}

/**
 * Unlink an identity from an account: what the account holds on the venues it settles on as that
 * identity moves back to the identity's own account. Refused while the account has open orders,
 * trades waiting for settlement or withdrawals waiting on those venues.
 */
export interface UnlinkCommand extends CommandBase {
  type: 'unlink';
  account: string;
  identity: string;
}

/** Where a leg of a cross-ledger trade stands on its ledger, once it is anywhere. */
export type LegState = 'locked' | 'claimed' | 'refunded' | 'refused';

/**
 * What a ledger did to one leg of a cross-ledger trade (its security's on the instrument's
 * venue, its cash's on the `quoteVenue`): locked under the trade's hash, claimed with the
 * secret, refunded after the expiry, or refused (the lock, or not locked at all because the
 * other leg was refused). Sent by the settlement connector of the leg's ledger, once per step.
 * The trade is final when both legs are: settled if both were claimed, reversed if neither was.
 */
export interface SettleLegCommand extends CommandBase {
  type: 'settle-leg';
  tradeId: number;
  leg: 'security' | 'cash';
  state: LegState;
  /** Why it was refused, for the record. */
  reason?: string;
  /** The ledger's reference of the step (a transaction hash or id). */
  ref?: string;
  /** The step's share of the gas, and of the fee (base units, a decimal string), on a ledger that charges. */
  gas?: number;
  gasFee?: string;
}

export type Command =
  | NewOrderCommand
  | CancelCommand
  | CancelAllCommand
  | ReplaceCommand
  | ListInstrumentCommand
  | SetStatusCommand
  | UpdateInstrumentCommand
  | TickCommand
  | DepositCommand
  | WithdrawCommand
  | SetAccountCommand
  | SettleCommand
  | RequestWithdrawalCommand
  | SettleWithdrawalCommand
  | LinkCommand
  | UnlinkCommand
  | SettleLegCommand;

/** A command as a sender hands it over: the sequencer stamps the time. */
export type Unstamped = Command extends infer C ? (C extends Command ? Omit<C, 'ts'> : never) : never;
