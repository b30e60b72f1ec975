/**
 * From the engine's events to the daemon's instructions. A trade event becomes a settlement
 * instruction: who delivers, who pays, and how much, computed with the engine's own `tradeCash`
 * so the ledger moves exactly what the risk stage reserved. A granted withdrawal's event carries
 * its instruction's fields as they are.
 */
import {
  cashPerNotional,
  type InstrumentSpec,
  type PublishedEvent,
  type TradeEvent,
  tradeCash,
  type WithdrawalEvent,
} from '../engine/index.ts';
import type { SettlementInstruction } from './ledger.ts';
import { makeError } from './errors.ts';

/** Whether a published event is a trade. */
export function isTrade(e: PublishedEvent): e is TradeEvent {
  return e.kind === 'trade';
}

/** A withdrawal event as the engine grants it (status `pending`): the request a ledger is to release. */
type WithdrawalRequestEvent = WithdrawalEvent & { readonly status: 'pending' };

/** Whether a published event is a withdrawal the engine has just granted (its request). */
export function isWithdrawalRequest(e: PublishedEvent): e is WithdrawalRequestEvent {
  return e.kind === 'withdrawal' && e.status === 'pending';
}

/** The instruction that settles a trade of an instrument listed with `spec`. */
export function instructionOf(e: TradeEvent, spec: Readonly<InstrumentSpec>): SettlementInstruction {
  const k = cashPerNotional(spec);
  if (typeof k === 'string') throw makeError(`${spec.id}: ${k}`, 'BAD_SETUP', { instrument: spec.id });
  const takerBuys = e.aggressor === 'buy';
  const buyer = takerBuys ? e.takerAccount : e.makerAccount;
  const seller = takerBuys ? e.makerAccount : e.takerAccount;
  const [buyerFee, sellerFee] = takerBuys ? [e.takerFee, e.makerFee] : [e.makerFee, e.takerFee];
  const cash = tradeCash(k, e.price, e.quantity, buyerFee, sellerFee);
  return {
    tradeId: e.tradeId,
    instrument: e.instrument,
    venue: e.instrument.slice(e.instrument.indexOf('@') + 1),
    buyer,
    seller,
    quantity: e.quantity,
    ...cash,
    matchedAt: e.ts,
  };
}
