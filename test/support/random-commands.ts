/**
 * A seeded generator of random engine commands for the differential and property suites. From
 * one seed (xorshift32, bench/prng.ts) it draws every kind of order, time in force, post-only
 * and self-trade mode on three instruments (one with a price band, one with a minimum size,
 * fees including a maker rebate), cancels and replaces of live orders by order id and by client
 * order id, cancel-alls, ticks that make GTD orders expire, halts and resumes, and a small share
 * of invalid commands. Prices stay within a few ticks of a mid, so orders cross often.
 *
 * With `moving`, each instrument's mid moves as in bench:engine's W4 (bench/WORKLOADS.md): a
 * random walk (one command in 100 steps a random instrument's mid by up to twice the spread, one
 * in 500 jumps it by two to six spreads, the walk held within 20% of the mid), on top of W4's six
 * regimes (calm; +25% and back; calm; -40% and back; a crash of -30% recovering; calm) repeated
 * every MOVING_PERIOD commands. Prices then gather around the mid, at most 10 ticks from the last
 * trade, so that the band of a banded instrument follows; price levels open and close all the
 * time across a wide range instead of at the same few prices.
 *
 * To name live orders it follows the events it is shown (`observe`): the same seed and the same
 * events always give the same commands. It cancels more when many orders are live, so that the
 * books stay small and the reference book fast.
 */
import { MID_W4, trendW4 } from '../../bench/engine/workloads.ts';
import { XorShift32 } from '../../bench/prng.ts';
import type {
  CancelCommand,
  Command,
  EngineEvent,
  InstrumentSpec,
  NewOrderCommand,
  ReplaceCommand,
  Side,
  StpMode,
  TimeInForce,
} from '../../engine/index.ts';
import { spec } from './engine.ts';

/** The instruments every generated stream lists first (ts 0). */
export const LISTINGS: readonly InstrumentSpec[] = [
  // A band of 2% around the reference (then the last trade) and a maker rebate.
  spec({
    id: 'ACME@evm:31337',
    maxQty: 500,
    maxPrice: 100_000,
    referencePrice: 1000,
    bandBps: 200,
    makerFeeBps: -2,
    takerFeeBps: 5,
  }),
  // A minimum size of 5 lots and fees on both sides.
  spec({
    id: 'BOND@fabric:bank-net',
    minQty: 5,
    maxQty: 400,
    maxPrice: 100_000,
    makerFeeBps: 3,
    takerFeeBps: 7,
  }),
  // No maker fee and a taker fee that rarely divides evenly.
  spec({ id: 'GILT@evm:31337', maxQty: 300, maxPrice: 100_000, makerFeeBps: 0, takerFeeBps: 11 }),
];

/** Where each instrument's prices gather, in ticks (its starting mid with `moving`). */
const MIDS = [1000, 500, 2003];
/** With `moving`: commands per cycle of W4's regimes. */
export const MOVING_PERIOD = 50_000;
const STP: readonly (StpMode | undefined)[] = [
  undefined,
  'cancel-newest',
  'cancel-oldest',
  'cancel-both',
  'decrement-and-cancel',
];
const PRICED_TIF: readonly (TimeInForce | undefined)[] = [
  undefined,
  'GTC',
  'GTC',
  'GTD',
  'GTD',
  'IOC',
  'FOK',
];
const MARKET_TIF: readonly (TimeInForce | undefined)[] = [undefined, 'IOC', 'FOK'];

export interface GeneratorOptions {
  /** Accounts that trade (1 to 26, default 4): fewer accounts, more self-trades. */
  accounts?: number;
  /** Ticks around the mid that prices spread over (default 8). */
  spread?: number;
  /** Live orders above which the generator mostly cancels (default 120). */
  maxLive?: number;
  /**
   * For an engine with pre-trade risk on: the listings name their cash asset, every account is
   * made eligible and funded first, and about one command in eight is a settlement (ok or
   * failed) of an observed trade, a deposit, a withdrawal (requested, settled, or as a ledger
   * reports it), or a change of standing.
   */
  risk?: boolean;
  /** Mids that walk, jump and follow W4's regimes (see the module comment); off by default. */
  moving?: boolean;
}

/** Venues of the listings, for eligibility. */
const VENUES = [...new Set(LISTINGS.map((s) => s.id.slice(s.id.indexOf('@') + 1)))];

/** What the generator knows of a live order, from the events. */
export interface LiveOrder {
  orderId: number;
  account: string;
  clientOrderId: string;
  instrument: number;
  side: Side;
  price: number;
  leaves: number;
  /** A stop that has not triggered (cannot be amended). */
  waiting: boolean;
}

/** Live orders by id, with a dense array for uniform picks and O(1) removal. */
class LiveOrders {
  #byId = new Map<number, LiveOrder>();
  #list: LiveOrder[] = [];
  #at = new Map<number, number>();

  get size(): number {
    return this.#list.length;
  }

  get(id: number): LiveOrder | undefined {
    return this.#byId.get(id);
  }

  add(o: LiveOrder): void {
    this.#byId.set(o.orderId, o);
    this.#at.set(o.orderId, this.#list.length);
    this.#list.push(o);
  }

  /** Sets an order's open quantity, forgetting it at 0. */
  leaves(id: number, leaves: number): void {
    const o = this.#byId.get(id);
    if (o === undefined) return;
    o.leaves = leaves;
    if (leaves > 0) return;
    const i = this.#at.get(id)!;
    const last = this.#list.pop()!;
    if (last !== o) {
      this.#list[i] = last;
      this.#at.set(last.orderId, i);
    }
    this.#byId.delete(id);
    this.#at.delete(id);
  }

  pick(r: XorShift32): LiveOrder | undefined {
    return this.#list.length === 0 ? undefined : this.#list[r.int(0, this.#list.length - 1)];
  }
}

export class RandomCommands {
  readonly seed: number;
  #r: XorShift32;
  #accounts: string[];
  #spread: number;
  #maxLive: number;
  #ts = 0;
  #clientSeq = 0;
  #live = new LiveOrders();
  #index = new Map<string, number>(LISTINGS.map((s, i) => [s.id, i]));
  #last: number[] = LISTINGS.map(() => 0);
  #halted: boolean[] = LISTINGS.map(() => false);
  #risk: boolean;
  #moving: boolean;
  /** With `moving`: commands drawn, and each instrument's walk away from its trend, in ticks. */
  #step = 0;
  #walk: number[] = LISTINGS.map(() => 0);
  /** Trades not yet settled, as observed. */
  #unsettled: number[] = [];
  /** Withdrawals waiting for their ledger, as observed. */
  #withdrawing: number[] = [];

  constructor(seed: number, options: GeneratorOptions = {}) {
    this.seed = seed;
    this.#r = new XorShift32(seed);
    const n = Math.min(26, Math.max(1, options.accounts ?? 4));
    this.#accounts = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i));
    this.#spread = Math.max(1, options.spread ?? 8);
    this.#maxLive = options.maxLive ?? 120;
    this.#risk = options.risk === true;
    this.#moving = options.moving === true;
  }

  /** The commands that open every stream: listings, and with risk eligibility and funds. */
  listings(): Command[] {
    const list: Command[] = LISTINGS.map((s) => ({
      type: 'list-instrument',
      ts: 0,
      spec: this.#risk ? { ...s, quote: 'USD' } : s,
    }));
    if (!this.#risk) return list;
    for (const account of this.#accounts) {
      for (const venue of VENUES) {
        list.push({ type: 'set-account', ts: 0, account, venue, eligible: true });
        list.push({ type: 'deposit', ts: 0, account, asset: `USD@${venue}`, amount: 50_000_000 });
      }
      for (const s of LISTINGS) list.push({ type: 'deposit', ts: 0, account, asset: s.id, amount: 20_000 });
    }
    return list;
  }

  /** The accounts that trade, `a`, `b`, ... */
  get accounts(): readonly string[] {
    return this.#accounts;
  }

  /** Live orders as far as the observed events tell. */
  get live(): number {
    return this.#live.size;
  }

  /** Follows one event of the engine the commands go to (every event, in order). */
  observe(e: EngineEvent): void {
    switch (e.kind) {
      case 'accepted':
        this.#live.add({
          orderId: e.orderId,
          account: e.account,
          clientOrderId: e.clientOrderId,
          instrument: this.#index.get(e.instrument)!,
          side: e.side,
          price: e.price,
          leaves: e.leaves,
          waiting: e.orderType === 'stop' || e.orderType === 'stop-limit',
        });
        return;
      case 'triggered': {
        const o = this.#live.get(e.orderId);
        if (o !== undefined) {
          o.waiting = false;
          o.price = e.price;
        }
        return;
      }
      case 'trade':
        if (this.#risk) this.#unsettled.push(e.tradeId);
        this.#last[this.#index.get(e.instrument)!] = e.price;
        this.#live.leaves(e.orderId, e.leaves);
        this.#live.leaves(e.makerOrderId, e.makerLeaves);
        return;
      case 'canceled':
        this.#live.leaves(e.orderId, e.leaves);
        return;
      case 'replaced': {
        const o = this.#live.get(e.orderId);
        if (o !== undefined) o.price = e.price;
        this.#live.leaves(e.orderId, e.leaves);
        return;
      }
      case 'instrument':
        this.#halted[this.#index.get(e.instrument)!] = e.status === 'halted';
        return;
      case 'settlement':
        this.#unsettled.splice(this.#unsettled.indexOf(e.tradeId), 1);
        return;
      case 'withdrawal':
        if (e.status === 'pending') this.#withdrawing.push(e.withdrawalId);
        else this.#withdrawing.splice(this.#withdrawing.indexOf(e.withdrawalId), 1);
        return;
      default:
    }
  }

  /** The next command. */
  next(): Command {
    const r = this.#r;
    if (this.#moving) this.#move();
    if (r.int(0, 9) >= 7) this.#ts += r.int(1, 3);
    const ts = this.#ts;
    if (this.#risk && r.int(0, 7) === 0) return this.#riskCommand(ts);
    const roll = r.int(0, 999);
    if (this.#live.size > this.#maxLive) {
      if (roll < 450) return this.#cancel(ts);
      if (roll < 500) return this.#cancelAll(ts);
    }
    const halted = this.#halted.indexOf(true);
    if (halted >= 0 && r.int(0, 99) < 8) {
      return { type: 'set-status', ts, instrument: LISTINGS[halted]!.id, status: 'open' };
    }
    if (roll < 30) return this.#invalid(ts);
    if (roll < 33) return { type: 'set-status', ts, instrument: this.#instrument().id, status: 'halted' };
    if (roll < 83) {
      this.#ts += r.int(1, 60);
      return { type: 'tick', ts: this.#ts };
    }
    // Cancels grow likelier as more orders live, so that books fill up to about half of maxLive.
    const prune = roll < 240 && r.int(0, this.#maxLive - 1) < this.#live.size + 5;
    if (roll < 100) return prune ? this.#cancelAll(ts) : this.#newOrder(ts);
    if (roll < 240) return prune ? this.#cancel(ts) : this.#newOrder(ts);
    if (roll < 370) return this.#replace(ts) ?? this.#newOrder(ts);
    return this.#newOrder(ts);
  }

  // ---- valid commands -----------------------------------------------------------------------

  /** A settlement, a transfer or a change of standing (risk on). */
  #riskCommand(ts: number): Command {
    const r = this.#r;
    const roll = r.int(0, 99);
    const account = this.#account();
    const venue = VENUES[r.int(0, VENUES.length - 1)]!;
    if (roll < 60 && this.#unsettled.length > 0) {
      const tradeId = this.#unsettled[r.int(0, this.#unsettled.length - 1)]!;
      return r.int(0, 3) === 0
        ? { type: 'settle', ts, tradeId, ok: false, reason: 'rejected by the ledger' }
        : { type: 'settle', ts, tradeId, ok: true };
    }
    if (roll < 72)
      return { type: 'deposit', ts, account, asset: `USD@${venue}`, amount: r.int(1, 5_000_000) };
    if (roll < 75)
      return { type: 'request-withdrawal', ts, account, asset: `USD@${venue}`, amount: r.int(1, 60_000_000) };
    if (roll < 78) {
      const amount = r.int(1, 25_000);
      return { type: 'request-withdrawal', ts, account, asset: this.#instrument().id, amount };
    }
    if (roll < 82 && this.#withdrawing.length > 0) {
      const withdrawalId = this.#withdrawing[r.int(0, this.#withdrawing.length - 1)]!;
      return r.int(0, 3) === 0
        ? { type: 'settle-withdrawal', ts, withdrawalId, ok: false, reason: 'TO_FROZEN' }
        : { type: 'settle-withdrawal', ts, withdrawalId, ok: true, ref: `0x${withdrawalId}` };
    }
    if (roll < 83)
      return { type: 'withdraw', ts, account, asset: `USD@${venue}`, amount: r.int(1, 60_000_000) };
    if (roll < 85)
      return { type: 'withdraw', ts, account, asset: this.#instrument().id, amount: r.int(1, 25_000) };
    if (roll < 90) return { type: 'settle', ts, tradeId: r.int(1, 1_000_000), ok: true }; // mostly unknown
    // Standing: mostly restore, sometimes freeze or make ineligible.
    const standing = r.int(0, 7);
    if (standing === 0) return { type: 'set-account', ts, account, venue, frozen: true };
    if (standing === 1) return { type: 'set-account', ts, account, venue, eligible: false };
    return { type: 'set-account', ts, account, venue, eligible: true, frozen: false };
  }

  #newOrder(ts: number): NewOrderCommand {
    const r = this.#r;
    const inst = r.int(0, LISTINGS.length - 1);
    const s = LISTINGS[inst]!;
    const side: Side = r.int(0, 1) === 0 ? 'buy' : 'sell';
    const account = this.#account();
    const c: NewOrderCommand = {
      type: 'new',
      ts,
      instrument: s.id,
      account,
      clientOrderId: this.#clientId(account),
      side,
      orderType: 'limit',
      quantity: r.int(s.minQty, s.minQty + (r.int(0, 9) === 0 ? 80 : 29)),
    };
    const kind = r.int(0, 99);
    if (kind < 76) {
      c.price = this.#price(inst, side);
      this.#tif(c, ts, PRICED_TIF);
      if ((c.tif === undefined || c.tif === 'GTC' || c.tif === 'GTD') && r.int(0, 9) === 0) c.postOnly = true;
    } else if (kind < 86) {
      c.orderType = 'market';
      this.#tif(c, ts, MARKET_TIF);
    } else {
      const up = side === 'buy' ? 1 : -1;
      c.stopPrice = Math.max(1, this.#center(inst) + up * r.int(-2, 4));
      if (kind < 93) {
        c.orderType = 'stop';
        this.#tif(c, ts, MARKET_TIF);
      } else {
        c.orderType = 'stop-limit';
        c.price = Math.max(1, c.stopPrice + up * r.int(-2, 3));
        this.#tif(c, ts, PRICED_TIF);
      }
    }
    const stp = STP[r.int(0, STP.length - 1)];
    if (stp !== undefined) c.stp = stp;
    return c;
  }

  #tif(c: NewOrderCommand, ts: number, choices: readonly (TimeInForce | undefined)[]): void {
    const tif = choices[this.#r.int(0, choices.length - 1)];
    if (tif === undefined) return;
    c.tif = tif;
    if (tif === 'GTD') c.expireAt = ts + this.#r.int(1, 400);
  }

  #cancel(ts: number): CancelCommand {
    const o = this.#live.pick(this.#r);
    if (o === undefined) return { type: 'cancel', ts, account: this.#account(), orderId: 999_999_999 };
    return this.#r.int(0, 9) < 4
      ? { type: 'cancel', ts, account: o.account, clientOrderId: o.clientOrderId }
      : { type: 'cancel', ts, account: o.account, orderId: o.orderId };
  }

  #cancelAll(ts: number): Command {
    const account = this.#account();
    return this.#r.int(0, 1) === 0
      ? { type: 'cancel-all', ts, account }
      : { type: 'cancel-all', ts, account, instrument: this.#instrument().id };
  }

  /** A replace of a live order: size down, size up, new price, or new price and size. */
  #replace(ts: number): ReplaceCommand | undefined {
    const r = this.#r;
    const o = this.#live.pick(r);
    if (o === undefined) return undefined;
    const c: ReplaceCommand =
      r.int(0, 9) < 4
        ? { type: 'replace', ts, account: o.account, clientOrderId: o.clientOrderId }
        : { type: 'replace', ts, account: o.account, orderId: o.orderId };
    const mode = r.int(0, 99);
    const move = () =>
      Math.max(1, o.price + (r.int(0, 1) === 0 ? 1 : -1) * r.int(1, 1 + (this.#spread >> 1)));
    if (mode < 35) c.quantity = o.leaves > 1 ? r.int(1, o.leaves - 1) : 1;
    else if (mode < 55) c.quantity = o.leaves + r.int(1, 20);
    else if (mode < 85) c.price = move();
    else {
      c.price = move();
      c.quantity = r.int(1, o.leaves + 10);
    }
    return c;
  }

  // ---- invalid commands ---------------------------------------------------------------------

  /** A command the engine must reject (or, for a few, one that is valid but odd). */
  #invalid(ts: number): Command {
    const r = this.#r;
    const c = this.#newOrder(ts) as unknown as Record<string, unknown>;
    const s = LISTINGS[this.#index.get(c.instrument as string)!]!;
    const o = this.#live.pick(r);
    switch (r.int(0, 19)) {
      case 0:
        return { ...c, orderType: 'limit', price: [0, -5, 10.5, s.maxPrice + 1][r.int(0, 3)] } as Command;
      case 1:
        return { ...c, quantity: [0, -1, 1.5, s.maxQty + 1][r.int(0, 3)] } as Command;
      case 2:
        return { ...c, instrument: LISTINGS[1]!.id, quantity: r.int(1, 4) } as Command;
      case 3:
        // Far outside ACME's band.
        return {
          ...c,
          instrument: LISTINGS[0]!.id,
          orderType: 'limit',
          price: this.#center(0) + (r.int(0, 1) === 0 ? 60 : -60),
          tif: 'GTC',
          stopPrice: undefined,
          expireAt: undefined,
          postOnly: undefined,
        } as Command;
      case 4:
        return { ...c, instrument: 'NOPE@evm:1' } as Command;
      case 5:
        return { ...c, orderType: 'market', price: 1000, stopPrice: undefined } as Command;
      case 6:
        return { ...c, orderType: 'stop', stopPrice: undefined, price: undefined } as Command;
      case 7:
        return { ...c, tif: 'GTD', expireAt: ts - r.int(0, 1) } as Command;
      case 8:
        return { ...c, tif: 'IOC', postOnly: true, expireAt: undefined } as Command;
      case 9:
        return { ...c, tif: 'DAY' } as unknown as Command;
      case 10:
        return { ...c, side: 'hold', stp: 'never' } as unknown as Command;
      case 11:
        return o === undefined
          ? { type: 'cancel', ts, account: 'a', clientOrderId: 'nope' }
          : ({ ...c, account: o.account, clientOrderId: o.clientOrderId } as Command); // duplicate client id
      case 12:
        return { type: 'cancel', ts, account: this.#account(), orderId: 888_888_888 };
      case 13: {
        // Someone else's order.
        if (o === undefined) return { type: 'cancel', ts, account: 'z', orderId: 1 };
        return { type: 'cancel', ts, account: o.account === 'a' ? 'b' : 'a', orderId: o.orderId };
      }
      case 14:
        return o === undefined
          ? { type: 'replace', ts, account: 'a', orderId: 1, price: 1000 }
          : { type: 'replace', ts, account: o.account, orderId: o.orderId, clientOrderId: o.clientOrderId };
      case 15:
        return o === undefined
          ? { type: 'replace', ts, account: 'a', clientOrderId: 'nope', quantity: 3 }
          : {
              type: 'replace',
              ts,
              account: o.account,
              orderId: o.orderId,
              ...(r.int(0, 1) === 0 ? { price: 0 } : { quantity: 0 }),
            };
      case 16:
        return o === undefined
          ? { type: 'tick', ts }
          : {
              type: 'replace',
              ts,
              account: o.account,
              orderId: o.orderId,
              price: o.price,
              quantity: o.leaves,
            };
      case 17:
        return { type: 'cancel-all', ts, account: this.#account(), instrument: 'NOPE@evm:1' };
      case 18:
        return r.int(0, 1) === 0
          ? { type: 'set-status', ts, instrument: 'NOPE@evm:1', status: 'halted' }
          : { type: 'list-instrument', ts, spec: LISTINGS[r.int(0, LISTINGS.length - 1)]! };
      default:
        return { type: 'bogus', ts } as unknown as Command;
    }
  }

  // ---- draws --------------------------------------------------------------------------------

  /** With `moving`: one command's walk and jumps (drawn before anything else of the command). */
  #move(): void {
    const r = this.#r;
    this.#step++;
    const roll = r.int(0, 499);
    if (roll >= 6) return;
    const inst = r.int(0, LISTINGS.length - 1);
    const bound = Math.floor(MIDS[inst]! * 0.2);
    const s = this.#spread;
    const by = roll < 5 ? r.int(-2 * s, 2 * s) : (r.int(0, 1) === 0 ? 1 : -1) * r.int(2 * s, 6 * s);
    this.#walk[inst] = Math.max(-bound, Math.min(bound, this.#walk[inst]! + by));
  }

  /** The instrument's mid now: its starting mid along W4's regimes, plus its walk. */
  #mid(inst: number): number {
    if (!this.#moving) return MIDS[inst]!;
    const trend = trendW4(this.#step % MOVING_PERIOD, MOVING_PERIOD) / MID_W4;
    return Math.max(1, Math.round(MIDS[inst]! * trend) + this.#walk[inst]!);
  }

  #account(): string {
    return this.#accounts[this.#r.int(0, this.#accounts.length - 1)]!;
  }

  #instrument(): InstrumentSpec {
    return LISTINGS[this.#r.int(0, LISTINGS.length - 1)]!;
  }

  /** A fresh client order id, unique in the stream (a reused one is drawn on purpose elsewhere). */
  #clientId(account: string): string {
    return `${account}-${(++this.#clientSeq).toString(36)}`;
  }

  /**
   * The last trade price, held within a few ticks of the mid so that prices stay in the band;
   * with `moving`, the mid held within 10 ticks of the last trade, so that prices follow the mid
   * as fast as trades let the band move.
   */
  #center(inst: number): number {
    const mid = this.#mid(inst);
    const last = this.#last[inst]!;
    if (last === 0) return mid;
    if (this.#moving) return Math.min(last + 10, Math.max(last - 10, mid));
    return Math.min(mid + 10, Math.max(mid - 10, last));
  }

  /** A limit price: mostly passive, about a third of the time through the other side's prices. */
  #price(inst: number, side: Side): number {
    const offset = this.#r.int(-(this.#spread >> 1), this.#spread);
    return Math.max(1, side === 'buy' ? this.#center(inst) - offset : this.#center(inst) + offset);
  }
}
