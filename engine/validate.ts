/**
 * Field checks of incoming commands. Each check returns 0 when the field is sound, else writes
 * a result code and a reason into a `Verdict` the caller owns (no allocation when all is well).
 */
import { Code } from './codes.ts';
import type { Instrument } from './instrument.ts';
import type { PendingTrade } from './risk.ts';
import type {
  NewOrderCommand,
  OrderType,
  SettleCommand,
  SettleLegCommand,
  SettleWithdrawalCommand,
  Side,
  StpMode,
  TimeInForce,
} from './types.ts';

/** A reusable place for a rejection's code and reason. */
export class Verdict {
  code = 0;
  reason = '';

  fail(code: number, reason: string): number {
    this.code = code;
    this.reason = reason;
    return code;
  }
}

// Membership by comparison: interned string literals compare by pointer, faster than a Set.
const isSide = (v: unknown): v is Side => v === 'buy' || v === 'sell';
const isType = (v: unknown): v is OrderType =>
  v === 'limit' || v === 'market' || v === 'stop' || v === 'stop-limit';
const isTif = (v: unknown): v is TimeInForce => v === 'GTC' || v === 'IOC' || v === 'GTD' || v === 'FOK';
const isStp = (v: unknown): v is StpMode =>
  v === 'cancel-newest' || v === 'cancel-oldest' || v === 'cancel-both' || v === 'decrement-and-cancel';

/** An identifier field: a non-empty string of at most 64 characters. */
export function isName(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= 64;
}

/** The time in force an order gets when none is given. */
export function defaultTif(type: OrderType): TimeInForce {
  return type === 'market' || type === 'stop' ? 'IOC' : 'GTC';
}

/** Checks a limit price (ticks) against the instrument's range and band. */
export function checkPrice(price: unknown, inst: Instrument, v: Verdict): number {
  if (typeof price !== 'number' || !Number.isSafeInteger(price) || price < 1) {
    return v.fail(Code.INVALID_PRICE, 'price must be a positive whole number of ticks');
  }
  if (price > inst.spec.maxPrice)
    return v.fail(Code.PRICE_ABOVE_MAX, `price is above the maximum ${inst.spec.maxPrice}`);
  const low = inst.bandLow();
  const high = inst.bandHigh();
  if (price < low || price > high) {
    return v.fail(Code.PRICE_OUTSIDE_BAND, `price is outside the band ${low}..${high} ticks`);
  }
  return 0;
}

/** Checks an order quantity (lots) against the instrument's size limits. */
export function checkQuantity(qty: unknown, inst: Instrument, v: Verdict, min = inst.spec.minQty): number {
  if (typeof qty !== 'number' || !Number.isSafeInteger(qty) || qty < 1) {
    return v.fail(Code.INVALID_QUANTITY, 'quantity must be a positive whole number of lots');
  }
  if (qty < min) return v.fail(Code.QUANTITY_BELOW_MIN, `quantity is below the minimum ${min} lots`);
  if (qty > inst.spec.maxQty)
    return v.fail(Code.QUANTITY_ABOVE_MAX, `quantity is above the maximum ${inst.spec.maxQty} lots`);
  return 0;
}

/** Checks a new order's fields against each other and its instrument (not the book). */
export function checkNewOrder(c: NewOrderCommand, inst: Instrument, v: Verdict): number {
  if (!isName(c.account))
    return v.fail(Code.INVALID_ACCOUNT, 'account must be a string of 1 to 64 characters');
  if (!isName(c.clientOrderId)) {
    return v.fail(Code.INVALID_CLIENT_ORDER_ID, 'clientOrderId must be a string of 1 to 64 characters');
  }
  if (!isSide(c.side)) return v.fail(Code.INVALID_SIDE, 'side must be "buy" or "sell"');
  if (!isType(c.orderType)) {
    return v.fail(Code.INVALID_ORDER_TYPE, 'orderType must be "limit", "market", "stop" or "stop-limit"');
  }
  if (c.tif !== undefined && !isTif(c.tif))
    return v.fail(Code.INVALID_TIF, 'tif must be GTC, GTD, IOC or FOK');
  if (c.stp !== undefined && !isStp(c.stp)) {
    return v.fail(
      Code.INVALID_STP,
      'stp must be "cancel-newest", "cancel-oldest", "cancel-both" or "decrement-and-cancel"',
    );
  }
  if (inst.status !== 'open') return v.fail(Code.INSTRUMENT_HALTED, `${inst.id} is halted`);
  if (checkQuantity(c.quantity, inst, v) !== 0) return v.code;

  const type = c.orderType;
  const tif = c.tif ?? defaultTif(type);
  const priced = type === 'limit' || type === 'stop-limit';
  const stopped = type === 'stop' || type === 'stop-limit';
  if (priced) {
    if (checkPrice(c.price, inst, v) !== 0) return v.code;
  } else if (c.price !== undefined) {
    return v.fail(Code.INVALID_COMBINATION, `a ${type} order takes no price`);
  }
  if (stopped) {
    const sp = c.stopPrice;
    if (typeof sp !== 'number' || !Number.isSafeInteger(sp) || sp < 1 || sp > inst.spec.maxPrice) {
      return v.fail(
        Code.INVALID_STOP_PRICE,
        `stopPrice must be a whole number of ticks from 1 to ${inst.spec.maxPrice}`,
      );
    }
  } else if (c.stopPrice !== undefined) {
    return v.fail(Code.INVALID_COMBINATION, `a ${type} order takes no stopPrice`);
  }
  if (!priced && (tif === 'GTC' || tif === 'GTD')) {
    return v.fail(Code.INVALID_COMBINATION, `a ${type} order takes tif IOC or FOK`);
  }
  if (tif === 'GTD') {
    if (typeof c.expireAt !== 'number' || !Number.isSafeInteger(c.expireAt) || c.expireAt <= c.ts) {
      return v.fail(Code.INVALID_EXPIRY, 'expireAt must be a whole timestamp later than the command');
    }
  } else if (c.expireAt !== undefined) {
    return v.fail(Code.INVALID_COMBINATION, 'expireAt goes only with tif GTD');
  }
  if (c.postOnly !== undefined && typeof c.postOnly !== 'boolean') {
    return v.fail(Code.INVALID_COMBINATION, 'postOnly must be true or false');
  }
  if (c.postOnly === true && (type !== 'limit' || tif === 'IOC' || tif === 'FOK')) {
    return v.fail(Code.INVALID_COMBINATION, 'postOnly goes only with GTC or GTD limit orders');
  }
  return 0;
}

/**
 * What is wrong with a ledger's verdict (`settle`, `settle-withdrawal`), or null: ok a boolean,
 * reason and ref text (ref at most 256 characters), gas a non-negative number (a share of a
 * batch's gas may be fractional), gasFee a decimal integer.
 */
export function settleProblem(c: SettleCommand | SettleWithdrawalCommand): string | null {
  if (typeof c.ok !== 'boolean') return 'ok must be true or false';
  return verdictProblem(c);
}

/** What is wrong with a leg's step on a pending trade, or null (`SettleLegCommand`). */
export function legProblem(c: SettleLegCommand, t: PendingTrade): string | null {
  if (t.legs === undefined) return `trade ${t.tradeId} settles on one ledger: send it a settle`;
  if (c.leg !== 'security' && c.leg !== 'cash') return 'leg must be "security" or "cash"';
  const now = t.legs[c.leg === 'security' ? 0 : 1];
  const next: Record<string, readonly string[]> = {
    none: ['locked', 'refused'],
    locked: ['claimed', 'refunded'],
  };
  if (!(next[now] ?? []).includes(c.state as string)) {
    return `the ${c.leg} leg of trade ${t.tradeId} is ${now === 'none' ? 'not locked' : now}: it cannot become ${String(c.state)}`;
  }
  return verdictProblem(c);
}

/** What is wrong with a verdict's reason, reference and costs, or null. */
function verdictProblem(c: {
  reason?: unknown;
  ref?: unknown;
  gas?: unknown;
  gasFee?: unknown;
}): string | null {
  if (c.reason !== undefined && typeof c.reason !== 'string') return 'reason must be a string';
  if (c.ref !== undefined && (typeof c.ref !== 'string' || c.ref.length > 256))
    return 'ref must be a string of at most 256 characters';
  if (c.gas !== undefined && !(typeof c.gas === 'number' && Number.isFinite(c.gas) && c.gas >= 0))
    return 'gas must be a non-negative number';
  if (c.gasFee !== undefined && !(typeof c.gasFee === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(c.gasFee)))
    return 'gasFee must be a non-negative decimal integer (base units)';
  return null;
}
