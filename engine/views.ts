/** Read-only views of engine state: order copies and the state hash. Not hot paths. */
import { StateHasher } from './hash.ts';
import { type Order, OrderState } from './order.ts';
import type { LegProgress, PendingTrade, PendingWithdrawal } from './risk.ts';
import type { EngineState } from './state.ts';
import type { Side } from './types.ts';

/** A copy of a live order's state. */
/** One balance of an account, in the asset's units (lots of a security, `unit`s of cash). */
export interface BalanceView {
  asset: string;
  /** Size of one unit of the asset, a decimal string. */
  unit: string;
  available: number;
  reserved: number;
  pendingIn: number;
  pendingOut: number;
}

/** A trade waiting for its ledger's verdict, with the amounts the risk stage holds for it. */
export interface PendingSettlementView {
  tradeId: number;
  instrument: string;
  buyer: string;
  seller: string;
  /** Lots. */
  quantity: number;
  /** Cash units (see `settlement.ts`). */
  buyerCash: number;
  sellerCash: number;
  fee: number;
  /**
   * A cross-ledger trade's legs, [security, cash], as their ledgers last reported them ('none':
   * not yet), and when it matched (its hash time-locks' expiries count from then).
   */
  legs?: [LegProgress, LegProgress];
  matchedAt?: number;
}

export function viewPending(s: EngineState, t: PendingTrade): PendingSettlementView {
  return {
    tradeId: t.tradeId,
    instrument: s.instruments[t.instrument]!.id,
    buyer: s.accountName(t.buyer),
    seller: s.accountName(t.seller),
    quantity: t.qty,
    buyerCash: t.buyerCash,
    sellerCash: t.sellerCash,
    fee: t.fee,
    ...(t.legs === undefined ? {} : { legs: [t.legs[0], t.legs[1]], matchedAt: t.matchedAt! }),
  };
}

/** A withdrawal waiting for its ledger's release. */
export interface PendingWithdrawalView {
  withdrawalId: number;
  account: string;
  /** `SYMBOL@venue` or `QUOTE@venue`. */
  asset: string;
  /** In the asset's units (lots of a security, cash units). */
  amount: number;
}

export function viewWithdrawal(s: EngineState, w: PendingWithdrawal): PendingWithdrawalView {
  return {
    withdrawalId: w.withdrawalId,
    account: s.accountName(w.account),
    asset: s.risk!.assets[w.asset]!,
    amount: w.amount,
  };
}

export interface OrderView {
  orderId: number;
  instrument: string;
  account: string;
  clientOrderId: string;
  side: Side;
  orderType: Order['type'];
  tif: Order['tif'];
  price: number;
  stopPrice: number;
  expireAt: number;
  leaves: number;
  filled: number;
  /** `resting` in the book, or `waiting` for a stop trigger. */
  state: 'resting' | 'waiting';
}

export function viewOrder(s: EngineState, o: Order): OrderView {
  return {
    orderId: o.id,
    instrument: s.instruments[o.instrument]!.id,
    account: s.accountName(o.account),
    clientOrderId: o.clientOrderId,
    side: o.side,
    orderType: o.type,
    tif: o.tif,
    price: o.price,
    stopPrice: o.stopPrice,
    expireAt: o.expireAt,
    leaves: o.leaves,
    filled: o.filled,
    state: o.state === OrderState.Waiting ? 'waiting' : 'resting',
  };
}

/**
 * A hash of the whole state: the sequences, and per instrument its status, last price, resting
 * orders in priority order and waiting stops in trigger order. Equal states give equal hashes.
 */
export function stateHash(s: EngineState): string {
  const h = new StateHasher();
  h.num(s.commandSeq).num(s.eventSeq).num(s.orderSeq).num(s.tradeSeq).num(s.ts);
  const add = (o: Order) => {
    h.num(o.id).str(s.accountName(o.account)).num(o.price).num(o.stopPrice).num(o.leaves).num(o.filled);
    h.num(o.expireAt).num(o.reserved).num(o.cap);
  };
  for (const inst of s.instruments) {
    const { makerFeeBps, takerFeeBps, bandBps, referencePrice } = inst.spec;
    h.str(inst.id).str(inst.status).num(inst.lastPrice);
    h.num(makerFeeBps + 1000)
      .num(takerFeeBps)
      .num(bandBps)
      .num(referencePrice);
    h.num(inst.book.size);
    inst.book.forEach('buy', add);
    h.num(0);
    inst.book.forEach('sell', add);
    h.num(0);
    for (const o of inst.stops.all()) add(o);
  }
  const risk = s.risk;
  if (risk !== null) {
    for (const acc of s.accounts) {
      acc.balances.forEach((b, asset) => {
        h.num(acc.index).num(asset).num(b.available).num(b.reserved).num(b.pendingIn).num(b.pendingOut);
      });
      for (const [venue, flags] of acc.venues) h.str(venue).num(flags);
    }
    for (const t of risk.pending.values()) {
      h.num(t.tradeId).num(t.buyerCash).num(t.sellerCash).num(t.fee);
      // Folded only for a cross-ledger trade, so that states without one hash as they did.
      if (t.legs !== undefined) h.str(t.legs[0]).str(t.legs[1]).num(t.matchedAt!);
    }
    for (let i = 0; i < risk.assets.length; i++) h.num(risk.feesPending[i]!).num(risk.feesFinal[i]!);
    h.num(risk.withdrawalSeq);
    for (const w of risk.withdrawals.values())
      h.num(w.withdrawalId).num(w.account).num(w.asset).num(w.amount);
  }
  // Folded only when there are any, so that states without links hash as they did.
  if (s.owners.size > 0) {
    for (const acc of s.accounts) {
      if (acc.identities === null) continue;
      h.num(acc.index);
      for (const identity of acc.identities) h.str(identity);
      for (const [venue, party] of acc.parties ?? []) h.str(venue).str(party);
    }
  }
  // Folded only when there are any, so that states from before ids were remembered hash as they did.
  if (s.usedClientIds.size > 0) {
    h.num(s.usedClientIds.size);
    s.usedClientIds.forEach((hi, lo) => h.num(hi >>> 0).num(lo >>> 0));
  }
  return h.digest();
}
