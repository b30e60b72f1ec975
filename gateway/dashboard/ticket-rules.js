// The order ticket's checks and estimate, with the server's own code: the gateway's order rules
// (a decimal's syntax and grid, which types take a price) and the engine's field checks (sizes,
// price band, time in force, post-only) and reservation, loaded compiled from /dashboard/rules/
// (see gateway/plugins/dashboard.ts). This file only feeds them the instrument's numbers (from
// GET /api/instruments and the ticker's last price) and the form's fields; it has no rule of its own.

import { bandHigh, bandLow, buyCap, buyReserveNotional } from '/dashboard/rules/band.js';
import { Code } from '/dashboard/rules/codes.js';
import { feeFor } from '/dashboard/rules/fees.js';
import {
  decimalSyntax,
  gridUnits,
  priceFieldsProblem,
  replaceFieldsProblem,
  takesPrice,
  takesStopPrice,
} from '/dashboard/rules/order-rules.js';
import { checkNewOrder, checkPrice, checkQuantity, Verdict } from '/dashboard/rules/validate.js';
import { product, times } from './decimals.js';

export { takesPrice, takesStopPrice };

const CODE_NAMES = Object.fromEntries(Object.entries(Code).map(([name, code]) => [code, name]));
/** Which field an engine refusal is about. */
const FIELD_OF = {
  STOP_PRICE: 'stopPrice',
  QUANTITY: 'quantity',
  PRICE: 'price',
  TIF: 'tif',
  EXPIRY: 'expireAt',
  COMBINATION: 'tif',
};

/** A wire decimal as units of `unit` (a tick or a lot), or the server's refusal. */
function read(op, field, text, unit, kind) {
  return decimalSyntax(op, field, text) ?? gridUnits(text, unit, field, kind);
}

/** The engine's view of a listed instrument, from its REST numbers and the last price (ticks or 0). */
function engineInstrument(inst, lastTicks) {
  const ticks = (text) => (text === null ? 0 : gridUnits(text, inst.tickSize, 'price', 'price').units);
  const lots = (text) => gridUnits(text, inst.lotSize, 'quantity', 'quantity').units;
  const spec = {
    minQty: lots(inst.minQty),
    maxQty: lots(inst.maxQty),
    maxPrice: ticks(inst.maxPrice),
    referencePrice: ticks(inst.referencePrice),
    bandBps: inst.bandBps,
    takerFeeBps: inst.takerFeeBps,
  };
  const ref = lastTicks || spec.referencePrice;
  return {
    id: inst.id,
    status: inst.status,
    spec,
    bandLow: () => bandLow(ref, spec.bandBps),
    bandHigh: (at = ref) => bandHigh(at, spec.bandBps, spec.maxPrice),
  };
}

/**
 * Checks a ticket (`t`: side, orderType, quantity, price, stopPrice, tif, postOnly, as typed) for
 * instrument `inst` (a REST instrument; `last` the last price as a decimal, or null). Returns the
 * problems per field, each `{ code, message }` as the server would answer, and, when there is
 * none, the `new` message's fields and its ticks and lots.
 */
export function checkTicket(inst, t, last) {
  const problems = {};
  const units = {};
  const fields = [['quantity', inst.lotSize, 'quantity']];
  if (takesPrice(t.orderType)) fields.push(['price', inst.tickSize, 'price']);
  if (takesStopPrice(t.orderType)) fields.push(['stopPrice', inst.tickSize, 'price']);
  for (const [field, unit, kind] of fields) {
    const r = read('new', field, t[field], unit, kind);
    if (r.ok) units[field] = r.units;
    else problems[field] = { code: r.code, message: r.message };
  }
  const order = {
    instrument: inst.id,
    side: t.side,
    orderType: t.orderType,
    quantity: t.quantity,
    ...(takesPrice(t.orderType) ? { price: t.price } : {}),
    ...(takesStopPrice(t.orderType) ? { stopPrice: t.stopPrice } : {}),
    tif: t.tif,
    ...(t.tif === 'GTD' ? { expireAt: t.expireAt } : {}),
    ...(t.postOnly ? { postOnly: true } : {}),
  };
  const presence = priceFieldsProblem(t.orderType, 'price' in order, 'stopPrice' in order);
  if (presence !== null) problems[presence.field] = { code: presence.code, message: presence.message };
  if (Object.keys(problems).length > 0) return { problems, order: null, units };
  const lastTicks = last === null ? 0 : (gridUnits(last, inst.tickSize, 'price', 'price').units ?? 0);
  const engineInst = engineInstrument(inst, lastTicks);
  const v = new Verdict();
  const command = {
    account: 'page',
    clientOrderId: 'page',
    side: t.side,
    orderType: t.orderType,
    quantity: units.quantity,
    price: units.price,
    stopPrice: units.stopPrice,
    tif: t.tif,
    expireAt: t.tif === 'GTD' ? t.expireAt : undefined,
    postOnly: t.postOnly ? true : undefined,
    ts: Date.now(),
  };
  if (checkNewOrder(command, engineInst, v) !== 0) {
    const name = CODE_NAMES[v.code] ?? String(v.code);
    const key = Object.keys(FIELD_OF).find((k) => name.includes(k));
    problems[key === undefined ? 'form' : FIELD_OF[key]] = refusal(v);
    return { problems, order: null, units };
  }
  return { problems, order, units, engineInst };
}

/**
 * What an order would cost and hold, as the engine counts it (docs/ws-protocol.md, "What an order
 * reserves"): its notional and fee at its price (at `near`, the best price on the other side, for
 * one without a price: an estimate), and what it reserves (cash up to its price cap for a buy,
 * its quantity for a sell). Amounts as decimal strings in the quote currency or the security.
 */
export function estimate(inst, t, checked, near) {
  const { units, engineInst } = checked;
  const notionalUnit = product(inst.tickSize, inst.lotSize);
  const cash = (n) => times(n, notionalUnit, Math.max(0, inst.quoteUnit.split('.')[1]?.length ?? 0));
  const atTicks =
    units.price ?? (near === null ? undefined : gridUnits(near, inst.tickSize, 'price', 'price').units);
  const bps = t.postOnly ? inst.makerFeeBps : inst.takerFeeBps;
  const notional = atTicks === undefined ? null : units.quantity * atTicks;
  const out = {
    notional: notional === null ? null : cash(notional),
    approximate: units.price === undefined,
    fee: notional === null ? null : cash(feeFor(notional, bps)),
    feeBps: bps,
  };
  if (t.side === 'sell') {
    return { ...out, reserve: t.quantity, reserveAsset: inst.id };
  }
  const cap = buyCap(t.orderType, units.price, units.stopPrice, engineInst);
  const reserve = cash(buyReserveNotional(units.quantity, cap, inst.takerFeeBps));
  return {
    ...out,
    reserve,
    reserveAsset: `${inst.quote}@${inst.quoteVenue}`,
    cap: times(cap, inst.tickSize),
  };
}

/** An engine refusal as the ticket shows it: `NAME (code)` and the reason. */
const refusal = (v) => ({ code: `${CODE_NAMES[v.code] ?? v.code} (${v.code})`, message: v.reason });

/**
 * Checks a `replace` message (`quantity` and/or `price`, as typed) of an order of instrument `inst`
 * (`last`: its last price, or null) as the gateway and then the engine would: the first problem,
 * `{ code, message }`, or null.
 */
export function checkReplace(inst, msg, last = null) {
  const presence = replaceFieldsProblem(msg.price !== undefined, msg.quantity !== undefined);
  if (presence !== null) return presence;
  const parsed = {};
  for (const [field, unit, kind] of [
    ['quantity', inst.lotSize, 'quantity'],
    ['price', inst.tickSize, 'price'],
  ]) {
    if (msg[field] === undefined) continue;
    const r = read('replace', field, msg[field], unit, kind);
    if (!r.ok) return r;
    parsed[field] = r.units;
  }
  const lastTicks = last === null ? 0 : (gridUnits(last, inst.tickSize, 'price', 'price').units ?? 0);
  const engineInst = engineInstrument(inst, lastTicks);
  const v = new Verdict();
  if (parsed.price !== undefined && checkPrice(parsed.price, engineInst, v) !== 0) return refusal(v);
  if (parsed.quantity !== undefined && checkQuantity(parsed.quantity, engineInst, v, 1) !== 0)
    return refusal(v);
  return null;
}
