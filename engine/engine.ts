/**
 * The matching engine: one writer over every instrument's book. `execute` runs one command
 * through named stages (sequence -> expire -> check -> match -> trigger -> publish) and hands
 * its events to the listeners only after the state change is complete. Synchronous, no I/O, no
 * clock: the same commands always give the same events and the same state hash.
 */
import { type Account, NOBODY } from './account.ts';
import type { BookKind, MatchHost } from './book.ts';
import { Code } from './codes.ts';
import type { EngineEvent, EngineListener, EventKind, WithdrawalStatus } from './events.ts';
import { buyCap } from './band.ts';
import { feeFor } from './fees.ts';
import {
  applyChange,
  type ChangeTarget,
  changeAccount,
  isRefusal,
  link,
  ownerName,
  partyOf,
  unlink,
  venueOfId,
} from './identities.ts';
import { checkSpec, Instrument } from './instrument.ts';
import { type Order, OrderState } from './order.ts';
import { type EventRecords, Outbox } from './outbox.ts';
import { ELIGIBLE, FROZEN, type PendingTrade, type PendingWithdrawal, type RiskBook } from './risk.ts';
import { type EngineSnapshot, exportState, importState } from './snapshot.ts';
import { EngineState } from './state.ts';
import type { TouchedLevels } from './touched.ts';
import type {
  CancelAllCommand,
  CancelCommand,
  CancelReason,
  Command,
  DepositCommand,
  InstrumentSpec,
  LinkCommand,
  ListInstrumentCommand,
  NewOrderCommand,
  ReplaceCommand,
  RequestWithdrawalCommand,
  SetAccountCommand,
  SetStatusCommand,
  SettleCommand,
  SettleLegCommand,
  SettleWithdrawalCommand,
  UnlinkCommand,
  UpdateInstrumentCommand,
  Side,
  WithdrawCommand,
} from './types.ts';
import {
  checkNewOrder,
  checkPrice,
  checkQuantity,
  defaultTif,
  isName,
  legProblem,
  settleProblem,
  Verdict,
} from './validate.ts';
import {
  type BalanceView,
  type OrderView,
  type PendingSettlementView,
  type PendingWithdrawalView,
  stateHash,
  viewOrder,
  viewPending,
  viewWithdrawal,
} from './views.ts';

export type { BalanceView, OrderView, PendingSettlementView, PendingWithdrawalView };

export interface EngineOptions {
  /** Book implementation (default `fast`). */
  book?: BookKind;
  /**
   * Pre-trade risk (default off): eligibility, frozen accounts and balance reservations before
   * matching, settlement afterwards (see `risk.ts`).
   */
  risk?: boolean;
  /**
   * Live orders to preallocate for (default 1024): order records and tables are made up front,
   * so that matching does not allocate or pause to grow them until this many orders live.
   */
  capacity?: number;
  /**
   * Order and trade ids start after this (default 0): engines that share a feed (shards of one
   * exchange) number from disjoint ranges, so an id names one order or trade across all of them.
   */
  idBase?: number;
  /**
   * Client order ids remembered after their orders end (default `CLIENT_ID_MEMORY`): an
   * account's new order may not reuse the id of any of the engine's last this many accepted
   * orders, nor of a live order.
   */
  clientIdMemory?: number;
  /** Told about a listener's exception; the engine goes on either way. */
  onListenerError?: (err: unknown, event: EngineEvent) => void;
}

export class Engine {
  #s: EngineState;
  #outbox: Outbox;
  #verdict = new Verdict();
  #host: MatchHost;
  /** Instruments whose levels the current command changed: the first `#touchedCount`. */
  #touched: Instrument[] = [];
  #touchedCount = 0;
  /** Whether a command is executing (a listener's `execute` is queued, not nested). */
  #running = false;
  #queue: Command[] = [];
  /** The instrument being matched, for the host callbacks. */
  #current: Instrument | null = null;

  constructor(options: EngineOptions = {}) {
    this.#s = new EngineState(
      options.book ?? 'fast',
      options.risk === true,
      options.capacity,
      options.clientIdMemory,
    );
    const idBase = options.idBase ?? 0;
    if (!Number.isSafeInteger(idBase) || idBase < 0 || idBase > 2 ** 52)
      throw new RangeError(`idBase must be a whole number from 0 to 2^52, not ${idBase}`);
    this.#s.orderSeq = idBase;
    this.#s.tradeSeq = idBase;
    if (this.#s.risk !== null) this.#s.risk.withdrawalSeq = idBase;
    this.#outbox = new Outbox(options.onListenerError ?? (() => {}));
    this.#host = {
      onFill: (maker, taker, price, qty) => this.#onFill(maker, taker, price, qty),
      onSelfTrade: (maker, taker, makerQty, takerQty) => this.#onSelfTrade(maker, taker, makerQty, takerQty),
    };
  }

  /** Adds a listener; returns a function that removes it. */
  addListener(listener: EngineListener): () => void {
    return this.#outbox.add(listener);
  }

  /**
   * Writes the events of the commands from now on into records `source` hands out (null: into
   * its own, reused at each command), so that a caller keeping them past the command (the
   * durable engine, until the journal holds it) need not copy them.
   */
  recordEventsIn(source: EventRecords | null): void {
    this.#outbox.recordIn(source);
  }

  /** Listener exceptions caught so far. */
  get listenerErrors(): number {
    return this.#outbox.errors;
  }

  /** Sequence number of the last command executed. */
  get commandSeq(): number {
    return this.#s.commandSeq;
  }

  /** Timestamp of the last command (ms since the epoch); the next one may not be earlier. */
  get lastTs(): number {
    return this.#s.ts;
  }

  /** Sequence number of the last event emitted. */
  get eventSeq(): number {
    return this.#s.eventSeq;
  }

  /** Live orders: resting and waiting stops. */
  get liveOrders(): number {
    return this.#s.orders.size;
  }

  /**
   * Executes one command and delivers its events to the listeners before returning.
   * Returns the number of events it produced. Never throws for bad input: that is a rejection.
   */
  execute(cmd: Command): number {
    if (this.#running) {
      // Called from a listener: runs once the current command is complete and delivered.
      this.#queue.push(cmd);
      return 0;
    }
    this.#running = true;
    try {
      const n = this.#run(cmd);
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) this.#run(next);
      return n;
    } finally {
      this.#running = false;
      if (this.#queue.length > 0) this.#queue.length = 0;
    }
  }

  /** One command through every stage, its events delivered. */
  #run(cmd: Command): number {
    const seq = ++this.#s.commandSeq;
    const risk = this.#s.risk;
    if (risk !== null) risk.stamp = seq;
    const c = cmd as Command | null;
    if (c === null || typeof c !== 'object') {
      this.#reject(Code.INVALID_COMMAND, 'a command must be an object');
    } else if (typeof c.ts !== 'number' || !Number.isSafeInteger(c.ts) || c.ts < this.#s.ts) {
      this.#reject(
        Code.INVALID_TIMESTAMP,
        `ts must be a whole number >= ${this.#s.ts}, the previous command's`,
      );
    } else {
      this.#s.ts = c.ts;
      if (risk !== null) risk.now = c.ts;
      this.#expire(c.ts);
      this.#dispatch(c);
    }
    this.#publishDepth();
    if (risk !== null && risk.touchedCount > 0) this.#publishBalances(risk);
    const n = this.#outbox.count;
    this.#outbox.flush();
    return n;
  }

  /** Instrument ids in listing order. */
  instruments(): string[] {
    return this.#s.instruments.map((i) => i.id);
  }

  /** An instrument's spec and state, or undefined. */
  instrument(id: string): { spec: Readonly<InstrumentSpec>; status: string; lastPrice: number } | undefined {
    const inst = this.#s.byId.get(id);
    return inst && { spec: inst.spec, status: inst.status, lastPrice: inst.lastPrice };
  }

  /** Up to `n` best levels per side as [price, qty, count]. */
  depth(
    id: string,
    n: number,
  ): { bids: Array<[number, number, number]>; asks: Array<[number, number, number]> } {
    const inst = this.#s.byId.get(id);
    if (!inst) return { bids: [], asks: [] };
    return { bids: inst.book.depth('buy', n), asks: inst.book.depth('sell', n) };
  }

  /** A live order, or undefined once it is done. */
  order(orderId: number): OrderView | undefined {
    const o = this.#s.orders.get(orderId);
    return o && viewOrder(this.#s, o);
  }

  /** An account's live order with this client order id, or undefined. */
  orderOf(account: string, clientOrderId: string): OrderView | undefined {
    const o = this.#clientOrder(account, clientOrderId);
    return o && viewOrder(this.#s, o);
  }

  /**
   * Whether a new order of the account may not use this client order id: a live order holds it,
   * or an accepted order held it within the engine's memory of ids.
   */
  clientOrderIdUsed(account: string, clientOrderId: string): boolean {
    const acc = this.#s.accountById.get(account);
    return acc !== undefined && this.#usedBy(acc.index, clientOrderId);
  }

  /** An account's live orders, by order id. */
  openOrders(account: string): OrderView[] {
    const acc = this.#s.accountById.get(account);
    if (!acc) return [];
    return acc.orders().map((o) => viewOrder(this.#s, o));
  }

  /** Resting orders of one instrument's side, in priority order. */
  restingOrders(id: string, side: Side): OrderView[] {
    const out: OrderView[] = [];
    this.#s.byId.get(id)?.book.forEach(side, (o) => out.push(viewOrder(this.#s, o)));
    return out;
  }

  /** Whether pre-trade risk (balances, eligibility, settlement) is on. */
  get risk(): boolean {
    return this.#s.risk !== null;
  }

  /** An account's balances (pre-trade risk; empty when risk is off), in asset units. */
  balances(account: string): BalanceView[] {
    const risk = this.#s.risk;
    const acc = this.#s.accountById.get(account);
    if (risk === null || acc === undefined) return [];
    const out: BalanceView[] = [];
    acc.balances.forEach((b, i) => {
      if (b === undefined) return;
      const { available, reserved, pendingIn, pendingOut } = b;
      out.push({ asset: risk.assets[i]!, unit: risk.units[i]!, available, reserved, pendingIn, pendingOut });
    });
    return out;
  }

  /** An account's standing on each venue it was told about (pre-trade risk). */
  standing(account: string): Array<{ venue: string; eligible: boolean; frozen: boolean }> {
    const acc = this.#s.accountById.get(account);
    if (acc === undefined) return [];
    return [...acc.venues].map(([venue, flags]) => ({
      venue,
      eligible: (flags & ELIGIBLE) !== 0,
      frozen: (flags & FROZEN) !== 0,
    }));
  }

  /** The account an identity logs in to: the one it is linked to, else its own (`identities.ts`). */
  ownerOf(identity: string): string {
    return ownerName(this.#s, identity);
  }

  /** The identities linked to an account, in link order. */
  identities(account: string): string[] {
    return [...(this.#s.accountById.get(account)?.identities ?? [])];
  }

  /** The identity an account settles as on a venue: its own name, or a linked identity. */
  partyOf(account: string, venue: string): string {
    const acc = this.#s.accountById.get(account);
    return acc === undefined ? account : partyOf(acc, venue);
  }

  /** A trade matched and waiting for its ledger's verdict (pre-trade risk), or undefined. */
  pendingSettlement(tradeId: number): PendingSettlementView | undefined {
    const t = this.#s.risk?.pending.get(tradeId);
    return t && viewPending(this.#s, t);
  }

  /**
   * Every trade waiting for its ledger's verdict, in trade-id order: what a settlement daemon
   * reconciles with after a restart (the journal replays commands, not their events).
   */
  pendingSettlements(): PendingSettlementView[] {
    const risk = this.#s.risk;
    if (risk === null) return [];
    return [...risk.pending.values()]
      .sort((a, b) => a.tradeId - b.tradeId)
      .map((t) => viewPending(this.#s, t));
  }

  /** A withdrawal waiting for its ledger's release (pre-trade risk), or undefined. */
  pendingWithdrawal(withdrawalId: number): PendingWithdrawalView | undefined {
    const w = this.#s.risk?.withdrawals.get(withdrawalId);
    return w && viewWithdrawal(this.#s, w);
  }

  /**
   * Every withdrawal waiting for its ledger's release, in withdrawal-id order: what a settlement
   * daemon releases after a restart, as it settles `pendingSettlements`.
   */
  pendingWithdrawals(): PendingWithdrawalView[] {
    const risk = this.#s.risk;
    if (risk === null) return [];
    return [...risk.withdrawals.values()]
      .sort((a, b) => a.withdrawalId - b.withdrawalId)
      .map((w) => viewWithdrawal(this.#s, w));
  }

  /** The size of one unit of an asset (`SYMBOL@venue`, `QUOTE@venue`), or undefined if it is unknown. */
  assetUnit(asset: string): string | undefined {
    const risk = this.#s.risk;
    const i = risk?.assetIndex.get(asset);
    return i === undefined ? undefined : risk!.units[i];
  }

  /** Every asset balances are kept in (pre-trade risk), with its unit, in listing order. */
  assets(): Array<[asset: string, unit: string]> {
    const risk = this.#s.risk;
    return risk === null ? [] : risk.assets.map((a, i) => [a, risk.units[i]!]);
  }

  /**
   * A hash of the whole state: every instrument (status, last price, resting orders in priority
   * order, waiting stops) and the sequences. Equal states give equal hashes.
   */
  stateHash(): string {
    return stateHash(this.#s);
  }

  /** The whole state as plain, JSON-safe data (see `snapshot.ts`). */
  snapshot(): EngineSnapshot {
    return exportState(this.#s);
  }

  /**
   * An engine in the state a snapshot recorded. Throws a RangeError if the snapshot is not
   * self-consistent; compare `stateHash()` with the hash recorded beside it.
   */
  static fromSnapshot(snapshot: EngineSnapshot, options: EngineOptions = {}): Engine {
    const engine = new Engine(options);
    engine.#s = importState(snapshot, options.book ?? 'fast', options.clientIdMemory);
    return engine;
  }

  // ---- stage: dispatch by command type ------------------------------------------------------

  #dispatch(c: Command): void {
    switch (c.type) {
      case 'new':
        this.#newOrder(c);
        return;
      case 'cancel':
        this.#cancel(c);
        return;
      case 'cancel-all':
        this.#cancelAll(c);
        return;
      case 'replace':
        this.#replace(c);
        return;
      case 'list-instrument':
        this.#list(c);
        return;
      case 'set-status':
        this.#setStatus(c);
        return;
      case 'update-instrument':
        this.#update(c);
        return;
      case 'tick':
        return;
      case 'link':
      case 'unlink':
        this.#link(c);
        return;
      case 'deposit':
      case 'withdraw':
      case 'request-withdrawal':
      case 'set-account':
      case 'settle':
      case 'settle-leg':
      case 'settle-withdrawal':
        if (this.#s.risk === null) {
          this.#reject(Code.RISK_OFF, `${c.type} needs pre-trade risk, which is off in this engine`);
        } else if (c.type === 'settle') {
          this.#settle(c, this.#s.risk);
        } else if (c.type === 'settle-leg') {
          this.#settleLeg(c, this.#s.risk);
        } else if (c.type === 'settle-withdrawal') {
          this.#settleWithdrawal(c, this.#s.risk);
        } else if (c.type === 'set-account') {
          this.#setAccount(c);
        } else {
          this.#transfer(c, this.#s.risk);
        }
        return;
      default:
        this.#reject(
          Code.INVALID_COMMAND,
          'type must be new, cancel, cancel-all, replace, list-instrument, set-status, update-instrument, tick, deposit, withdraw, request-withdrawal, set-account, settle, settle-leg, settle-withdrawal, link or unlink',
        );
    }
  }

  // ---- new orders ------------------------------------------------------------------------

  #newOrder(c: NewOrderCommand): void {
    const inst = typeof c.instrument === 'string' ? this.#s.byId.get(c.instrument) : undefined;
    if (inst === undefined) {
      this.#rejectOrder(c, Code.UNKNOWN_INSTRUMENT, `unknown instrument ${String(c.instrument)}`);
      return;
    }
    const v = this.#verdict;
    if (checkNewOrder(c, inst, v) !== 0) {
      this.#rejectOrder(c, v.code, v.reason, inst.id);
      return;
    }
    // The account is created only once its first order is accepted.
    const known = this.#s.accountById.get(c.account);
    if (known !== undefined && this.#usedBy(known.index, c.clientOrderId)) {
      this.#rejectOrder(
        c,
        Code.DUPLICATE_CLIENT_ORDER_ID,
        'clientOrderId was used before by this account',
        inst.id,
      );
      return;
    }
    const tif = c.tif ?? defaultTif(c.orderType);
    if (c.postOnly === true && this.#wouldTake(inst, c.side, c.price!)) {
      this.#rejectOrder(c, Code.POST_ONLY_WOULD_TAKE, 'a post-only order would take liquidity', inst.id);
      return;
    }

    const risk = this.#s.risk;
    let cap = 0;
    let need = 0;
    if (risk !== null) {
      const buy = c.side === 'buy';
      if (buy) {
        cap = buyCap(c.orderType, c.price, c.stopPrice, inst);
        need = risk.buyReserve(inst, c.quantity, cap);
      } else {
        need = c.quantity;
      }
      const asset = buy ? risk.byInstrument[inst.index]!.cash : risk.byInstrument[inst.index]!.security;
      if (risk.check(known ?? NOBODY, inst, asset, need, v) !== 0) {
        this.#rejectOrder(c, v.code, v.reason, inst.id);
        return;
      }
    }
    const acc = known ?? this.#s.account(c.account);

    const o = this.#s.pool.take();
    o.id = ++this.#s.orderSeq;
    o.instrument = inst.index;
    o.account = acc.index;
    o.clientOrderId = c.clientOrderId;
    o.side = c.side;
    o.type = c.orderType;
    o.tif = tif;
    o.stp = c.stp ?? 'cancel-newest';
    o.postOnly = c.postOnly === true;
    o.price = c.price ?? 0;
    o.setTerms(c.stopPrice ?? 0, c.expireAt ?? 0);
    o.leaves = c.quantity;
    o.filled = 0;
    o.cap = cap;
    if (risk !== null) risk.reserve(acc, o, need);
    this.#s.orders.set(o);
    this.#s.clientIds.add(o);
    this.#s.usedClientIds.add(acc.index, o.clientOrderId);
    acc.link(o);
    if (tif === 'GTD') this.#s.expiries.push(o.expireAt, o.id);

    const e = this.#orderEvent('accepted', o, inst);
    e.quantity = c.quantity;

    if (o.type === 'stop' || o.type === 'stop-limit') {
      o.state = OrderState.Waiting;
      inst.stops.add(o);
    } else {
      this.#take(inst, o);
    }
    this.#trigger(inst);
  }

  /** Whether a limit order on `side` at `price` would meet the other side. */
  #wouldTake(inst: Instrument, side: Side, price: number): boolean {
    const best = inst.book.best(side === 'buy' ? 'sell' : 'buy');
    return best !== 0 && (side === 'buy' ? best <= price : best >= price);
  }

  /** Matches an order as taker, then rests or cancels what is left, by its time in force. */
  #take(inst: Instrument, o: Order): void {
    const market = o.type === 'market' || o.type === 'stop';
    let limit = market ? (o.side === 'buy' ? inst.bandHigh() : inst.bandLow()) : o.price;
    if (o.cap !== 0 && o.cap < limit) limit = o.cap;
    o.state = OrderState.Working;
    if (o.tif === 'FOK' && inst.book.fillable(o, limit, o.leaves) < o.leaves) {
      this.#cancelOrder(inst, o, 'fok-unfilled');
      return;
    }
    if (o.leaves > 0) {
      this.#current = inst;
      inst.book.match(o, limit, this.#host);
      this.#current = null;
    }
    if (o.leaves === 0) {
      this.#retire(o);
    } else if (market || o.tif === 'IOC' || o.tif === 'FOK') {
      this.#cancelOrder(inst, o, 'ioc-remainder');
    } else {
      o.state = OrderState.Resting;
      this.#touch(inst, o.side, o.price, inst.book.add(o));
    }
  }

  /** Fires stops the last trade price has reached, one at a time, until none is left. */
  #trigger(inst: Instrument): void {
    for (let o = inst.stops.next(inst.lastPrice); o !== null; o = inst.stops.next(inst.lastPrice)) {
      o.type = o.type === 'stop' ? 'market' : 'limit';
      o.state = OrderState.Working;
      const e = this.#orderEvent('triggered', o, inst);
      e.quantity = o.leaves;
      this.#take(inst, o);
    }
  }

  // ---- matching callbacks -------------------------------------------------------------------

  #onFill(maker: Order, taker: Order, price: number, qty: number): void {
    const inst = this.#current!;
    const notional = price * qty;
    const e = this.#event('trade', inst.id);
    e.tradeId = ++this.#s.tradeSeq;
    e.price = price;
    e.quantity = qty;
    e.side = taker.side;
    e.orderId = taker.id;
    e.account = this.#s.accountName(taker.account);
    e.clientOrderId = taker.clientOrderId;
    e.leaves = taker.leaves;
    e.filled = taker.filled;
    e.takerFee = feeFor(notional, inst.spec.takerFeeBps);
    e.makerOrderId = maker.id;
    e.makerAccount = this.#s.accountName(maker.account);
    e.makerClientOrderId = maker.clientOrderId;
    e.makerLeaves = maker.leaves;
    e.makerFilled = maker.filled;
    e.makerFee = feeFor(notional, inst.spec.makerFeeBps);
    inst.lastPrice = price;
    this.#touch(inst, maker.side, price);
    const risk = this.#s.risk;
    if (risk !== null) {
      const [buy, sell] = taker.side === 'buy' ? [taker, maker] : [maker, taker];
      const [buyerFee, sellerFee] =
        taker.side === 'buy' ? [e.takerFee, e.makerFee] : [e.makerFee, e.takerFee];
      const accounts = this.#s.accounts;
      risk.fill(
        e.tradeId,
        inst,
        buy,
        accounts[buy.account]!,
        sell,
        accounts[sell.account]!,
        price,
        qty,
        buyerFee,
        sellerFee,
      );
    }
    if (maker.leaves === 0) this.#retire(maker);
  }

  #onSelfTrade(maker: Order, taker: Order, makerQty: number, takerQty: number): void {
    const inst = this.#current!;
    if (makerQty > 0) {
      this.#touch(inst, maker.side, maker.price);
      const e = this.#orderEvent('canceled', maker, inst);
      e.quantity = makerQty;
      e.reason = 'stp';
      if (maker.leaves === 0) this.#retire(maker);
    }
    if (takerQty > 0) {
      const e = this.#orderEvent('canceled', taker, inst);
      e.quantity = takerQty;
      e.reason = 'stp';
    }
  }

  // ---- cancel, replace --------------------------------------------------------------------

  /** Finds the caller's live order named by id or client order id, or rejects and returns null. */
  #find(c: CancelCommand | ReplaceCommand): Order | null {
    if (!isName(c.account)) {
      this.#reject(Code.INVALID_ACCOUNT, 'account must be a string of 1 to 64 characters');
      return null;
    }
    const byId = c.orderId !== undefined;
    if (byId === (c.clientOrderId !== undefined)) {
      this.#reject(Code.INVALID_COMMAND, 'name the order by exactly one of orderId and clientOrderId', c);
      return null;
    }
    if (byId ? !Number.isSafeInteger(c.orderId) : !isName(c.clientOrderId)) {
      this.#reject(
        byId ? Code.INVALID_COMMAND : Code.INVALID_CLIENT_ORDER_ID,
        byId ? 'orderId must be a whole number' : 'clientOrderId must be a string of 1 to 64 characters',
        c,
      );
      return null;
    }
    const o = byId ? this.#s.orders.get(c.orderId!) : this.#clientOrder(c.account, c.clientOrderId!);
    if (o === undefined) {
      this.#reject(Code.UNKNOWN_ORDER, 'no live order by that id (unknown, filled or canceled)', c);
      return null;
    }
    if (this.#s.accountName(o.account) !== c.account) {
      this.#reject(Code.NOT_ORDER_OWNER, 'the order belongs to another account', c);
      return null;
    }
    return o;
  }

  #cancel(c: CancelCommand): void {
    const o = this.#find(c);
    if (o !== null) this.#cancelOrder(this.#s.instruments[o.instrument]!, o, 'user');
  }

  #cancelAll(c: CancelAllCommand): void {
    if (!isName(c.account)) {
      this.#reject(Code.INVALID_ACCOUNT, 'account must be a string of 1 to 64 characters');
      return;
    }
    let only: Instrument | undefined;
    if (c.instrument !== undefined) {
      only = typeof c.instrument === 'string' ? this.#s.byId.get(c.instrument) : undefined;
      if (only === undefined) {
        this.#reject(Code.UNKNOWN_INSTRUMENT, `unknown instrument ${String(c.instrument)}`);
        return;
      }
    }
    const acc = this.#s.accountById.get(c.account);
    if (acc === undefined) return;
    const victims = acc.orders().filter((o) => only === undefined || o.instrument === only.index);
    for (const o of victims) this.#cancelOrder(this.#s.instruments[o.instrument]!, o, 'cancel-all');
  }

  #replace(c: ReplaceCommand): void {
    const o = this.#find(c);
    if (o === null) return;
    const inst = this.#s.instruments[o.instrument]!;
    const v = this.#verdict;
    if (o.state !== OrderState.Resting) {
      this.#reject(
        Code.NOT_AMENDABLE,
        'a stop order cannot be amended before it triggers; cancel it instead',
        c,
        inst,
      );
      return;
    }
    if (inst.status !== 'open') {
      this.#reject(Code.INSTRUMENT_HALTED, `${inst.id} is halted`, c, inst);
      return;
    }
    const price = c.price ?? o.price;
    const qty = c.quantity ?? o.leaves;
    // A price is checked only when it changes: an order may keep a price the band has moved past.
    if ((price !== o.price && checkPrice(price, inst, v) !== 0) || checkQuantity(qty, inst, v, 1) !== 0) {
      this.#reject(v.code, v.reason, c, inst);
      return;
    }
    if (price === o.price && qty === o.leaves) {
      this.#reject(Code.NOTHING_TO_CHANGE, 'the new price and quantity equal the current ones', c, inst);
      return;
    }
    if (price !== o.price && o.postOnly && this.#wouldTake(inst, o.side, price)) {
      this.#reject(Code.POST_ONLY_WOULD_TAKE, 'a post-only order would take liquidity', c, inst);
      return;
    }
    const risk = this.#s.risk;
    const acc = this.#s.accounts[o.account]!;
    const need = risk === null ? 0 : o.side === 'buy' ? risk.buyReserve(inst, qty, price) : qty;
    if (risk !== null && need > o.reserved) {
      if (risk.check(acc, inst, risk.orderAsset(o), need - o.reserved, v) !== 0) {
        this.#reject(v.code, v.reason, c, inst);
        return;
      }
    }
    if (risk !== null) {
      risk.reserve(acc, o, need);
      if (o.side === 'buy') o.cap = price;
    }
    this.#touch(inst, o.side, o.price);
    const keep = price === o.price && qty < o.leaves;
    if (keep) {
      inst.book.reduce(o, qty);
    } else {
      inst.book.remove(o);
      o.price = price;
      o.leaves = qty;
    }
    const e = this.#orderEvent('replaced', o, inst);
    e.quantity = qty;
    e.keptPriority = keep;
    if (!keep) {
      this.#take(inst, o);
      this.#trigger(inst);
    }
  }

  /** Ends a live order: out of its book or stop list, a `canceled` event, record released. */
  #cancelOrder(inst: Instrument, o: Order, reason: CancelReason): void {
    if (o.state === OrderState.Resting) {
      inst.book.remove(o);
      this.#touch(inst, o.side, o.price);
    } else if (o.state === OrderState.Waiting) {
      inst.stops.remove(o);
    }
    const qty = o.leaves;
    o.leaves = 0;
    const e = this.#orderEvent('canceled', o, inst);
    e.quantity = qty;
    e.reason = reason;
    this.#retire(o);
  }

  /** Forgets a done order, releases what it still holds, and returns its record to the pool. */
  #retire(o: Order): void {
    if (o.reserved !== 0) this.#s.risk!.reserve(this.#s.accounts[o.account]!, o, 0);
    this.#s.orders.delete(o.id);
    this.#s.clientIds.remove(o);
    this.#s.accounts[o.account]!.unlink(o);
    this.#s.pool.give(o);
  }

  /** Cancels GTD orders whose expiry is at or before `now`. */
  #expire(now: number): void {
    for (let id = this.#s.expiries.pop(now); id !== 0; id = this.#s.expiries.pop(now)) {
      const o = this.#s.orders.get(id);
      if (o !== undefined) this.#cancelOrder(this.#s.instruments[o.instrument]!, o, 'expired');
    }
  }

  // ---- instruments ------------------------------------------------------------------------

  #list(c: ListInstrumentCommand): void {
    const problem = checkSpec(c.spec);
    if (problem !== null) {
      this.#reject(Code.INVALID_INSTRUMENT, problem);
      return;
    }
    if (this.#s.byId.has(c.spec.id)) {
      this.#reject(Code.DUPLICATE_INSTRUMENT, `${c.spec.id} is already listed`);
      return;
    }
    const inst = new Instrument(this.#s.instruments.length, c.spec, this.#s.kind);
    const assetProblem = this.#s.risk?.register(inst) ?? null;
    if (assetProblem !== null) {
      this.#reject(Code.INVALID_INSTRUMENT, assetProblem);
      return;
    }
    this.#s.instruments.push(inst);
    this.#s.byId.set(inst.id, inst);
    this.#event('instrument', inst.id).status = inst.status;
  }

  #setStatus(c: SetStatusCommand): void {
    const inst = typeof c.instrument === 'string' ? this.#s.byId.get(c.instrument) : undefined;
    if (inst === undefined) {
      this.#reject(Code.UNKNOWN_INSTRUMENT, `unknown instrument ${String(c.instrument)}`);
      return;
    }
    if (c.status !== 'open' && c.status !== 'halted') {
      this.#reject(Code.INVALID_COMMAND, 'status must be "open" or "halted"');
      return;
    }
    inst.status = c.status;
    this.#event('instrument', inst.id).status = inst.status;
  }

  #update(c: UpdateInstrumentCommand): void {
    const inst = typeof c.instrument === 'string' ? this.#s.byId.get(c.instrument) : undefined;
    if (inst === undefined) {
      this.#reject(Code.UNKNOWN_INSTRUMENT, `unknown instrument ${String(c.instrument)}`);
      return;
    }
    const fields = ['makerFeeBps', 'takerFeeBps', 'bandBps', 'referencePrice'] as const;
    if (!fields.some((f) => c[f] !== undefined)) {
      this.#reject(Code.INVALID_COMMAND, `name at least one of ${fields.join(', ')} to change`);
      return;
    }
    const next: InstrumentSpec = { ...inst.spec };
    for (const f of fields) if (c[f] !== undefined) next[f] = c[f];
    const problem = checkSpec(next);
    if (problem !== null) {
      this.#reject(Code.INVALID_INSTRUMENT, problem, undefined, inst);
      return;
    }
    inst.spec = Object.freeze(next);
    this.#event('instrument', inst.id).status = inst.status;
  }

  // ---- accounts, balances and settlement (pre-trade risk) ---------------------------------

  /** A deposit, a withdrawal the ledger reports, or a withdrawal an account requests. */
  #transfer(c: DepositCommand | WithdrawCommand | RequestWithdrawalCommand, risk: RiskBook): void {
    // A refused request goes back to the account that made it.
    const refuse = (code: number, reason: string) => {
      const e = this.#reject(code, reason);
      if (c.type === 'request-withdrawal' && isName(c.account)) e.account = c.account;
    };
    if (!isName(c.account)) {
      refuse(Code.INVALID_ACCOUNT, 'account must be a string of 1 to 64 characters');
      return;
    }
    const asset = typeof c.asset === 'string' ? risk.assetIndex.get(c.asset) : undefined;
    if (asset === undefined) {
      refuse(
        Code.RISK_UNKNOWN_ASSET,
        `unknown asset ${String(c.asset)}: name one as SYMBOL@venue of a listing`,
      );
      return;
    }
    if (typeof c.amount !== 'number' || !Number.isSafeInteger(c.amount) || c.amount < 1) {
      refuse(
        Code.RISK_INVALID_AMOUNT,
        `amount must be a positive whole number of ${risk.units[asset]} units`,
      );
      return;
    }
    // A ledger's change names the identity that made it there: its account's, if it is linked.
    let known = this.#s.accountById.get(c.account);
    let target: ChangeTarget | null = null;
    if (c.type !== 'request-withdrawal') {
      const to = changeAccount(this.#s, c.account, venueOfId(c.asset));
      if (isRefusal(to)) {
        this.#reject(to[0], to[1]);
        return;
      }
      target = to;
      known = to.acc;
    }
    const have = known?.balances[asset]?.available ?? 0;
    if (c.type === 'withdraw' && have < c.amount) {
      this.#reject(Code.RISK_INSUFFICIENT_BALANCE, `withdraw ${c.amount} exceeds the available ${have}`);
    } else if (c.type === 'request-withdrawal' && have < c.amount) {
      const reserved = known?.balances[asset]?.reserved ?? 0;
      refuse(
        Code.RISK_INSUFFICIENT_BALANCE,
        `a withdrawal of ${c.amount} exceeds the available ${have}` +
          (reserved > 0 ? ` (open orders reserve ${reserved} more)` : ''),
      );
    } else if (c.type === 'deposit' && !Number.isSafeInteger(have + c.amount)) {
      this.#reject(Code.RISK_INVALID_AMOUNT, 'the balance would exceed a safe integer');
    } else if (c.type === 'request-withdrawal') {
      const w = { withdrawalId: ++risk.withdrawalSeq, account: known!.index, asset, amount: c.amount };
      risk.withdraw(known!, w);
      this.#withdrawalEvent(w, 'pending');
    } else {
      const acc = applyChange(target!, c.account, venueOfId(c.asset));
      risk.credit(acc, asset, c.type === 'withdraw' ? -c.amount : c.amount);
    }
  }

  #setAccount(c: SetAccountCommand): void {
    if (!isName(c.account)) {
      this.#reject(Code.INVALID_ACCOUNT, 'account must be a string of 1 to 64 characters');
      return;
    }
    if (
      !isName(c.venue) ||
      !this.#s.instruments.some((i) => i.venue === c.venue || i.cashVenue === c.venue)
    ) {
      this.#reject(Code.INVALID_COMMAND, `venue ${String(c.venue)} has no listing`);
      return;
    }
    const flag = (v: unknown) => v === undefined || typeof v === 'boolean';
    if (!flag(c.eligible) || !flag(c.frozen) || (c.eligible === undefined && c.frozen === undefined)) {
      this.#reject(Code.INVALID_COMMAND, 'set eligible and/or frozen, each true or false');
      return;
    }
    // The ledger names the identity it knows: its account's, if it is linked.
    const target = changeAccount(this.#s, c.account, c.venue);
    if (isRefusal(target)) {
      this.#reject(target[0], target[1]);
      return;
    }
    const acc = applyChange(target, c.account, c.venue);
    let flags = acc.venues.get(c.venue) ?? 0;
    if (c.eligible !== undefined) flags = c.eligible ? flags | ELIGIBLE : flags & ~ELIGIBLE;
    if (c.frozen !== undefined) flags = c.frozen ? flags | FROZEN : flags & ~FROZEN;
    acc.venues.set(c.venue, flags);
    this.#standingEvent(acc, c.venue);
  }

  /** An account's standing on a venue as an event (none there: neither eligible nor frozen). */
  #standingEvent(acc: Account, venue: string): void {
    const flags = acc.venues.get(venue) ?? 0;
    const e = this.#event('account', '');
    e.account = acc.id;
    e.venue = venue;
    e.eligible = (flags & ELIGIBLE) !== 0;
    e.frozen = (flags & FROZEN) !== 0;
  }

  /**
   * Links or unlinks an identity (`identities.ts`); the identity event goes to the account, and
   * a standing that moved is told to both accounts (balances that moved are, like any).
   */
  #link(c: LinkCommand | UnlinkCommand): void {
    if (!isName(c.account) || !isName(c.identity)) {
      this.#reject(Code.INVALID_ACCOUNT, 'account and identity must each be a string of 1 to 64 characters');
      return;
    }
    const acc = this.#s.account(c.account);
    const moved = c.type === 'link' ? link(this.#s, acc, c.identity) : unlink(this.#s, acc, c.identity);
    if (isRefusal(moved)) {
      this.#reject(moved[0], moved[1]).account = acc.id;
      return;
    }
    const e = this.#event('identity', '');
    e.account = acc.id;
    e.identity = c.identity;
    e.linked = c.type === 'link';
    // Holdings moved only between the account and the identity's own one, which exists then.
    const own = this.#s.accountById.get(c.identity)!;
    const [to, from] = c.type === 'link' ? [acc, own] : [own, acc];
    for (const venue of moved) {
      if (!to.venues.has(venue)) continue;
      this.#standingEvent(to, venue);
      this.#standingEvent(from, venue);
    }
  }

  #settle(c: SettleCommand, risk: RiskBook): void {
    const t = typeof c.tradeId === 'number' ? risk.pending.get(c.tradeId) : undefined;
    if (t === undefined) {
      this.#reject(Code.RISK_UNKNOWN_TRADE, `trade ${String(c.tradeId)} is unknown or already settled`);
      return;
    }
    const problem = settleProblem(c);
    if (problem !== null) {
      this.#reject(Code.INVALID_COMMAND, problem);
      return;
    }
    if (t.legs !== undefined) {
      this.#reject(
        Code.INVALID_COMMAND,
        `trade ${t.tradeId} is cross-ledger: each of its legs is settled by settle-leg`,
      );
      return;
    }
    const e = this.#finish(t, c.ok, c.ok, c.reason ?? '', risk);
    e.ref = c.ref ?? '';
    e.gas = c.gas ?? 0;
    e.gasFee = c.gasFee ?? '';
  }

  /** Applies a trade's final verdict, per leg, and writes its settlement event (the caller fills in its reference and costs). */
  #finish(
    t: PendingTrade,
    securityOk: boolean,
    cashOk: boolean,
    reason: string,
    risk: RiskBook,
  ): EngineEvent {
    const accounts = this.#s.accounts;
    risk.settle(t, securityOk, cashOk, accounts[t.buyer]!, accounts[t.seller]!);
    const e = this.#event('settlement', this.#s.instruments[t.instrument]!.id);
    e.tradeId = t.tradeId;
    e.ok = securityOk && cashOk;
    e.reason = reason;
    e.ref = '';
    e.gas = 0;
    e.gasFee = '';
    return e;
  }

  /**
   * One ledger's step on a leg of a cross-ledger trade (`SettleLegCommand`): a leg moves from
   * nowhere to locked or refused, and from locked to claimed or refunded. Once both legs are
   * final the trade is: settled if both were claimed, reversed if neither was, and otherwise
   * (the hash time-locks' margins broken: docs/settlement.md) each leg as its ledger did it.
   */
  #settleLeg(c: SettleLegCommand, risk: RiskBook): void {
    const t = typeof c.tradeId === 'number' ? risk.pending.get(c.tradeId) : undefined;
    if (t === undefined) {
      this.#reject(Code.RISK_UNKNOWN_TRADE, `trade ${String(c.tradeId)} is unknown or already settled`);
      return;
    }
    const problem = legProblem(c, t);
    if (problem !== null) {
      this.#reject(Code.INVALID_COMMAND, problem);
      return;
    }
    const legs = t.legs!;
    const i = c.leg === 'security' ? 0 : 1;
    legs[i] = c.state;
    const inst = this.#s.instruments[t.instrument]!;
    const e = this.#event('leg', inst.id);
    e.tradeId = t.tradeId;
    e.leg = c.leg;
    e.venue = i === 0 ? inst.venue : inst.cashVenue;
    e.status = c.state;
    e.reason = c.reason ?? '';
    e.ref = c.ref ?? '';
    e.gas = c.gas ?? 0;
    e.gasFee = c.gasFee ?? '';
    const final = (l: string) => l === 'claimed' || l === 'refunded' || l === 'refused';
    if (!final(legs[0]) || !final(legs[1])) return;
    const [securityOk, cashOk] = [legs[0] === 'claimed', legs[1] === 'claimed'];
    const reason =
      securityOk && cashOk
        ? ''
        : securityOk || cashOk
          ? `split: the security leg was ${legs[0]}, the cash leg ${legs[1]}`
          : `reversed: the security leg was ${legs[0]}, the cash leg ${legs[1]}`;
    this.#finish(t, securityOk, cashOk, reason, risk);
  }

  #settleWithdrawal(c: SettleWithdrawalCommand, risk: RiskBook): void {
    const w = typeof c.withdrawalId === 'number' ? risk.withdrawals.get(c.withdrawalId) : undefined;
    if (w === undefined) {
      this.#reject(
        Code.RISK_UNKNOWN_WITHDRAWAL,
        `withdrawal ${String(c.withdrawalId)} is unknown or already settled`,
      );
      return;
    }
    const problem = settleProblem(c);
    if (problem !== null) {
      this.#reject(Code.INVALID_COMMAND, problem);
      return;
    }
    risk.release(w, c.ok, this.#s.accounts[w.account]!);
    const e = this.#withdrawalEvent(w, c.ok ? 'released' : 'refused');
    e.reason = c.reason ?? '';
    e.ref = c.ref ?? '';
    e.gas = c.gas ?? 0;
    e.gasFee = c.gasFee ?? '';
  }

  /** A withdrawal's event, its verdict's fields empty. */
  #withdrawalEvent(w: PendingWithdrawal, status: WithdrawalStatus): EngineEvent {
    const e = this.#event('withdrawal', '');
    e.withdrawalId = w.withdrawalId;
    e.status = status;
    e.account = this.#s.accountName(w.account);
    e.asset = this.#s.risk!.assets[w.asset]!;
    e.amount = w.amount;
    e.reason = '';
    e.ref = '';
    e.gas = 0;
    e.gasFee = '';
    return e;
  }

  /** One balance event per balance the command changed, in order of first change. */
  #publishBalances(risk: RiskBook): void {
    for (let i = 0; i < risk.touchedCount; i++) {
      const acc = risk.touchedAccounts[i]!;
      const asset = risk.touchedAssets[i]!;
      const b = acc.balances[asset]!;
      const e = this.#event('balance', '');
      e.account = acc.id;
      e.asset = risk.assets[asset]!;
      e.available = b.available;
      e.reserved = b.reserved;
      e.pendingIn = b.pendingIn;
      e.pendingOut = b.pendingOut;
    }
    risk.touchedCount = 0;
  }

  // ---- accounts -----------------------------------------------------------------------------

  /** Whether an account's live order holds the id, or one of its remembered accepted orders did. */
  #usedBy(account: number, clientOrderId: string): boolean {
    return (
      this.#s.clientIds.get(account, clientOrderId) !== undefined ||
      this.#s.usedClientIds.has(account, clientOrderId)
    );
  }

  #clientOrder(account: string, clientOrderId: string): Order | undefined {
    const acc = this.#s.accountById.get(account);
    return acc && this.#s.clientIds.get(acc.index, clientOrderId);
  }

  // ---- stage: publish -----------------------------------------------------------------------

  /** Marks a price level as changed by the current command. */
  #touch(inst: Instrument, side: Side, price: number, opened = false): void {
    if (inst.touchedAt !== this.#s.commandSeq) {
      inst.touchedAt = this.#s.commandSeq;
      this.#touched[this.#touchedCount++] = inst;
    }
    (side === 'buy' ? inst.touchedBids : inst.touchedAsks).add(price, opened);
  }

  /**
   * One depth event per changed level (bids, then asks, in order of first touch; not a level
   * this command both opened and emptied), then BBO.
   */
  #publishDepth(): void {
    const touched = this.#touched;
    for (let i = 0; i < this.#touchedCount; i++) {
      const inst = touched[i]!;
      this.#levels(inst, 'buy', inst.touchedBids);
      this.#levels(inst, 'sell', inst.touchedAsks);
      const book = inst.book;
      const bid = book.best('buy');
      const ask = book.best('sell');
      const bidQty = book.bestQty('buy');
      const askQty = book.bestQty('sell');
      if (
        bid !== inst.bidPrice ||
        bidQty !== inst.bidQty ||
        ask !== inst.askPrice ||
        askQty !== inst.askQty
      ) {
        inst.bidPrice = bid;
        inst.bidQty = bidQty;
        inst.askPrice = ask;
        inst.askQty = askQty;
        const e = this.#event('bbo', inst.id);
        e.bidPrice = bid;
        e.bidQty = bidQty;
        e.askPrice = ask;
        e.askQty = askQty;
      }
    }
    this.#touchedCount = 0;
  }

  #levels(inst: Instrument, side: Side, touched: TouchedLevels): void {
    const prices = touched.prices;
    for (let i = 0; i < touched.n; i++) {
      const price = prices[i]!;
      const level = inst.book.level(side, price);
      if (level === undefined && touched.opened[i]) continue; // opened and emptied within the command: unseen
      const e = this.#event('depth', inst.id);
      e.side = side;
      e.price = price;
      e.quantity = level === undefined ? 0 : level.qty;
      e.count = level === undefined ? 0 : level.count;
    }
    touched.clear();
  }

  // ---- events -------------------------------------------------------------------------------

  #event(kind: EventKind, instrument: string): EngineEvent {
    const e = this.#outbox.next();
    e.kind = kind;
    e.seq = ++this.#s.eventSeq;
    e.commandSeq = this.#s.commandSeq;
    e.ts = this.#s.ts;
    e.instrument = instrument;
    return e;
  }

  /** An order event with the order's current state; the caller sets `quantity` and `reason`. */
  #orderEvent(kind: EventKind, o: Order, inst: Instrument): EngineEvent {
    const e = this.#event(kind, inst.id);
    e.orderId = o.id;
    e.account = this.#s.accountName(o.account);
    e.clientOrderId = o.clientOrderId;
    e.side = o.side;
    e.orderType = o.type;
    e.tif = o.tif;
    e.price = o.price;
    e.stopPrice = o.stopPrice;
    e.expireAt = o.expireAt;
    e.leaves = o.leaves;
    e.filled = o.filled;
    e.quantity = 0;
    e.reason = '';
    e.keptPriority = false;
    return e;
  }

  /** A rejection; `c` and `inst` name the order and instrument it concerned, where known. */
  #reject(code: number, reason: string, c?: CancelCommand | ReplaceCommand, inst?: Instrument): EngineEvent {
    const e = this.#event('rejected', inst?.id ?? '');
    e.code = code;
    e.reason = reason;
    e.orderId = typeof c?.orderId === 'number' ? c.orderId : 0;
    e.account = typeof c?.account === 'string' ? c.account : '';
    e.clientOrderId = typeof c?.clientOrderId === 'string' ? c.clientOrderId : '';
    e.newOrder = false;
    return e;
  }

  #rejectOrder(c: NewOrderCommand, code: number, reason: string, instrument = ''): void {
    const e = this.#event('rejected', instrument);
    e.code = code;
    e.reason = reason;
    e.orderId = 0;
    e.account = typeof c.account === 'string' ? c.account : '';
    e.clientOrderId = typeof c.clientOrderId === 'string' ? c.clientOrderId : '';
    e.newOrder = true;
  }
}
