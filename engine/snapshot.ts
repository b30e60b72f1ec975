/**
 * Engine snapshots: the whole state as plain data (instruments, accounts, live orders in book
 * priority and stop trigger order, sequences), and back. Restoring adds resting orders to fresh
 * books in priority order, so the restored engine behaves, event for event, as the original.
 */

import type { BookKind } from './book.ts';
import { Instrument } from './instrument.ts';
import type { Order } from './order.ts';
import { OrderState } from './order.ts';
import type { PendingTrade, PendingWithdrawal, RiskBook } from './risk.ts';
import { EngineState } from './state.ts';
import type { InstrumentSpec, InstrumentStatus, OrderType, Side, StpMode, TimeInForce } from './types.ts';

/**
 * One live order: [id, account index, clientOrderId, side, type, tif, stp, postOnly, price,
 * stopPrice, expireAt, leaves, filled, 0, reserved, cap]. The 0 stands where an arrival stamp was,
 * which nothing reads any more (order ids give the same order), so that earlier snapshots read.
 */
export type OrderTuple = [
  number,
  number,
  string,
  Side,
  OrderType,
  TimeInForce,
  StpMode,
  boolean,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

/** The risk stage's books. Balances: [account, asset, available, reserved, pendingIn, pendingOut]. */
export interface RiskSnapshot {
  assets: string[];
  units: string[];
  /** Per instrument: [security asset, cash asset, cash units per notional unit]. */
  byInstrument: Array<[number, number, number]>;
  feesPending: number[];
  feesFinal: number[];
  pending: PendingTrade[];
  balances: Array<[number, number, number, number, number, number]>;
  /** [account, venue, flags]. */
  venues: Array<[number, string, number]>;
  /** Withdrawals waiting for their ledger, and the last withdrawal id given (absent before withdrawals existed). */
  withdrawals?: PendingWithdrawal[];
  withdrawalSeq?: number;
}

export interface EngineSnapshot {
  version: 1;
  seqs: { command: number; event: number; order: number; trade: number; time: number; ts: number };
  /** Present when pre-trade risk is on. */
  risk: RiskSnapshot | null;
  /** Account ids by index. */
  accounts: string[];
  /** Fingerprints of remembered client order ids, oldest first, in base64 (absent: none). */
  usedClientIds?: string;
  /**
   * Linked identities (absent: none): [account, its identities in link order, [venue, the
   * identity it settles as there] where that is not its own name].
   */
  links?: Array<[number, string[], Array<[string, string]>]>;
  instruments: Array<{
    spec: InstrumentSpec;
    status: InstrumentStatus;
    lastPrice: number;
    /** Last published best bid and offer: [bidPrice, bidQty, askPrice, askQty]. */
    bbo: [number, number, number, number];
    /** Resting bids in priority order. */
    bids: OrderTuple[];
    /** Resting asks in priority order. */
    asks: OrderTuple[];
    /** Waiting stops in trigger order. */
    stops: OrderTuple[];
  }>;
}

function tuple(o: Order): OrderTuple {
  return [
    o.id,
    o.account,
    o.clientOrderId,
    o.side,
    o.type,
    o.tif,
    o.stp,
    o.postOnly,
    o.price,
    o.stopPrice,
    o.expireAt,
    o.leaves,
    o.filled,
    0,
    o.reserved,
    o.cap,
  ];
}

function exportRisk(s: EngineState, risk: RiskBook): RiskSnapshot {
  const balances: RiskSnapshot['balances'] = [];
  const venues: RiskSnapshot['venues'] = [];
  for (const acc of s.accounts) {
    acc.balances.forEach((b, asset) => {
      balances.push([acc.index, asset, b.available, b.reserved, b.pendingIn, b.pendingOut]);
    });
    for (const [venue, flags] of acc.venues) venues.push([acc.index, venue, flags]);
  }
  return {
    assets: [...risk.assets],
    units: [...risk.units],
    byInstrument: risk.byInstrument.map((a) => [a.security, a.cash, a.k]),
    feesPending: [...risk.feesPending],
    feesFinal: [...risk.feesFinal],
    pending: [...risk.pending.values()].map(copyTrade),
    balances,
    venues,
    withdrawals: [...risk.withdrawals.values()].map((w) => ({ ...w })),
    withdrawalSeq: risk.withdrawalSeq,
  };
}

function importRisk(s: EngineState, r: RiskSnapshot): void {
  const risk = s.risk!;
  r.assets.forEach((key, i) => {
    risk.assets.push(key);
    risk.units.push(r.units[i]!);
    risk.assetIndex.set(key, i);
  });
  for (const [security, cash, k] of r.byInstrument) risk.byInstrument.push({ security, cash, k });
  risk.feesPending.push(...r.feesPending);
  risk.feesFinal.push(...r.feesFinal);
  for (const t of r.pending) risk.pending.set(t.tradeId, copyTrade(t));
  for (const [acc, asset, available, reserved, pendingIn, pendingOut] of r.balances) {
    const b = risk.balance(s.accounts[acc]!, asset);
    b.available = available;
    b.reserved = reserved;
    b.pendingIn = pendingIn;
    b.pendingOut = pendingOut;
  }
  for (const [acc, venue, flags] of r.venues) s.accounts[acc]!.venues.set(venue, flags);
  for (const w of r.withdrawals ?? []) risk.withdrawals.set(w.withdrawalId, { ...w });
  // A snapshot from before withdrawals: number them after the trades, within this engine's id range.
  risk.withdrawalSeq = r.withdrawalSeq ?? s.tradeSeq;
}

/** The state as plain, JSON-safe data. Allocates in proportion to the live orders. */
export function exportState(s: EngineState): EngineSnapshot {
  return {
    version: 1,
    seqs: {
      command: s.commandSeq,
      event: s.eventSeq,
      order: s.orderSeq,
      trade: s.tradeSeq,
      time: 0,
      ts: s.ts,
    },
    risk: s.risk === null ? null : exportRisk(s, s.risk),
    accounts: s.accounts.map((a) => a.id),
    usedClientIds: Buffer.from(s.usedClientIds.export()).toString('base64'),
    ...(s.owners.size === 0 ? {} : { links: exportLinks(s) }),
    instruments: s.instruments.map((inst) => {
      const bids: OrderTuple[] = [];
      const asks: OrderTuple[] = [];
      inst.book.forEach('buy', (o) => bids.push(tuple(o)));
      inst.book.forEach('sell', (o) => asks.push(tuple(o)));
      return {
        spec: { ...inst.spec },
        status: inst.status,
        lastPrice: inst.lastPrice,
        bbo: [inst.bidPrice, inst.bidQty, inst.askPrice, inst.askQty],
        bids,
        asks,
        stops: inst.stops.all().map(tuple),
      };
    }),
  };
}

/** A pending trade, its legs' array not shared. */
function copyTrade(t: PendingTrade): PendingTrade {
  return t.legs === undefined ? { ...t } : { ...t, legs: [...t.legs] };
}

function exportLinks(s: EngineState): NonNullable<EngineSnapshot['links']> {
  const links: NonNullable<EngineSnapshot['links']> = [];
  for (const acc of s.accounts) {
    if (acc.identities !== null) links.push([acc.index, [...acc.identities], [...(acc.parties ?? [])]]);
  }
  return links;
}

/**
 * Rebuilds a state from a snapshot. Throws a RangeError naming what is inconsistent; the caller
 * also compares the state hash recorded with the snapshot.
 */
export function importState(snap: EngineSnapshot, kind: BookKind, clientIdMemory?: number): EngineState {
  if (snap?.version !== 1) throw new RangeError('unsupported snapshot version');
  const s = new EngineState(kind, snap.risk !== null && snap.risk !== undefined, undefined, clientIdMemory);
  s.commandSeq = snap.seqs.command;
  s.eventSeq = snap.seqs.event;
  s.orderSeq = snap.seqs.order;
  s.tradeSeq = snap.seqs.trade;
  s.ts = snap.seqs.ts;
  for (const id of snap.accounts) s.account(id);
  if (snap.usedClientIds !== undefined) s.usedClientIds.import(Buffer.from(snap.usedClientIds, 'base64'));
  for (const [index, identities, parties] of snap.links ?? []) {
    const acc = s.accounts[index];
    if (acc === undefined) throw new RangeError(`links name unknown account ${index}`);
    acc.identities = [...identities];
    for (const identity of identities) s.owners.set(identity, acc);
    if (parties.length > 0) acc.parties = new Map(parties);
  }
  if (snap.risk) importRisk(s, snap.risk);
  const all: Order[] = [];
  snap.instruments.forEach((data, index) => {
    const inst = new Instrument(index, data.spec, kind);
    inst.status = data.status;
    inst.lastPrice = data.lastPrice;
    [inst.bidPrice, inst.bidQty, inst.askPrice, inst.askQty] = data.bbo;
    s.instruments.push(inst);
    s.byId.set(inst.id, inst);
    for (const t of [...data.bids, ...data.asks]) {
      const o = order(s, index, t);
      o.state = OrderState.Resting;
      inst.book.add(o);
      all.push(o);
    }
    for (const t of data.stops) {
      const o = order(s, index, t);
      o.state = OrderState.Waiting;
      inst.stops.add(o);
      all.push(o);
    }
  });
  // Accounts list their orders in id order; expiries are rebuilt from the live GTD orders.
  all.sort((a, b) => a.id - b.id);
  for (const o of all) {
    if (s.orders.get(o.id) !== undefined) throw new RangeError(`order ${o.id} appears twice`);
    if (s.clientIds.get(o.account, o.clientOrderId) !== undefined) {
      throw new RangeError(`client order id ${o.clientOrderId} appears twice`);
    }
    s.orders.set(o);
    s.clientIds.add(o);
    s.accounts[o.account]!.link(o);
    if (o.tif === 'GTD') s.expiries.push(o.expireAt, o.id);
  }
  return s;
}

function order(s: EngineState, instrument: number, t: OrderTuple): Order {
  const o = s.pool.take();
  [o.id, o.account, o.clientOrderId, o.side, o.type, o.tif, o.stp, o.postOnly] = t;
  [, , , , , , , , o.price, , , o.leaves, o.filled, , o.reserved, o.cap] = t;
  o.setTerms(t[9], t[10]);
  o.instrument = instrument;
  if (s.accounts[o.account] === undefined)
    throw new RangeError(`order ${o.id} names unknown account ${o.account}`);
  return o;
}
