/**
 * Pre-trade risk: a stage before matching that makes every match settleable. An account holds,
 * per asset per ledger, an available, a reserved, a pending-out and a pending-in balance.
 *
 * - Assets: an instrument `SYMBOL@venue` brings its security `SYMBOL@venue` (counted in its
 *   lots) and its cash `QUOTE@venue` (counted in whole `quoteUnit`s, shared by the venue's
 *   instruments; a cross-ledger instrument's is `QUOTE@quoteVenue`). One notional unit (tick x
 *   lot) is `k` cash units.
 * - Entry: the account must be eligible on the venue (and a cross-ledger instrument's cash
 *   venue) and not frozen. A sell reserves its lots.
 *   A buy reserves `(q * cap + fee(q * cap) + q) * k` cash: `cap` is the most it may pay per lot
 *   (its limit; for a market buy the band's high price at entry; for a stop buy the band's high
 *   around the stop price) and the `+ q` covers per-fill fee rounding. Matching never exceeds
 *   `cap`, so fills always fit in the reservation.
 * - A fill moves what it costs from reserved to pending-out and credits pending-in on the other
 *   side; fees go to the venue's fee balance. When an order is done its leftover is released.
 * - Settlement finalizes (pending-in becomes available) or reverses (pending-out returns); a
 *   cross-ledger trade, once both legs are final, each leg as its ledger did it.
 * - A withdrawal takes its amount from available (never from what orders reserve) into
 *   pending-out until its ledger's verdict: released, the amount is gone; refused, it returns.
 */

import type { Account } from './account.ts';
import { Code } from './codes.ts';
import { buyReserveNotional } from './band.ts';
import type { Instrument } from './instrument.ts';
import type { Order } from './order.ts';
import { cashPerNotional, quoteUnitOf, tradeCash } from './settlement.ts';
import { parseDecimal } from './units.ts';
import type { LegState } from './types.ts';
import type { Verdict } from './validate.ts';

export class Balance {
  available = 0;
  reserved = 0;
  pendingIn = 0;
  pendingOut = 0;
  /** Command that last changed it, to report each changed balance once per command. */
  touchedAt = 0;
}

/** A matched trade waiting for its ledger's verdict. Amounts in the assets' units. */
export interface PendingTrade {
  tradeId: number;
  instrument: number;
  buyer: number;
  seller: number;
  qty: number;
  /** Cash the buyer pays, fee included. */
  buyerCash: number;
  /** Cash the seller receives, fee deducted. */
  sellerCash: number;
  /** Fees the venue keeps (taker + maker). */
  fee: number;
  /**
   * A cross-ledger trade's legs, [security, cash], each as its ledger last reported it ('none'
   * before it did), and when it matched (the hash time-locks' expiries count from then).
   */
  legs?: [LegProgress, LegProgress];
  matchedAt?: number;
}

/** Where a leg stands: nowhere yet, or as its ledger reported. */
export type LegProgress = 'none' | LegState;

/** A withdrawal waiting for its ledger's release. The amount in the asset's units. */
export interface PendingWithdrawal {
  withdrawalId: number;
  account: number;
  asset: number;
  amount: number;
}

export const ELIGIBLE = 1;
export const FROZEN = 2;

/** What listing an instrument adds to the risk stage's books. */
export interface InstrumentAssets {
  security: number;
  cash: number;
  /** Cash units per notional unit. */
  k: number;
}

export class RiskBook {
  /** Asset keys by index, with the unit of each. */
  readonly assets: string[] = [];
  readonly units: string[] = [];
  readonly assetIndex = new Map<string, number>();
  /** Per instrument index. */
  readonly byInstrument: InstrumentAssets[] = [];
  /** Fees the venue has earned per cash asset: pending until settled, then final. */
  readonly feesPending: number[] = [];
  readonly feesFinal: number[] = [];
  readonly pending = new Map<number, PendingTrade>();
  readonly withdrawals = new Map<number, PendingWithdrawal>();
  /** The last withdrawal id given. */
  withdrawalSeq = 0;

  /** Registers an instrument's assets; returns what is wrong, or null. */
  register(inst: Instrument): string | null {
    const [symbol, venue] = inst.id.split('@') as [string, string];
    const quote = inst.spec.quote ?? 'USD';
    if (!/^[A-Z0-9][A-Z0-9._-]{0,31}$/.test(quote)) return 'quote must be an asset symbol such as USDC';
    if (quote === symbol) return 'quote must differ from the security symbol';
    const k = cashPerNotional(inst.spec);
    if (typeof k === 'string') return k;
    const unitText = quoteUnitOf(inst.spec);
    const unit = parseDecimal(unitText)!;
    const cashKey = `${quote}@${inst.spec.quoteVenue ?? venue}`;
    const known = this.assetIndex.get(cashKey);
    if (known !== undefined && !parseDecimal(this.units[known])!.isEqualTo(unit)) {
      return `${cashKey} is counted in units of ${this.units[known]}; quoteUnit must be the same`;
    }
    if (!Number.isSafeInteger(inst.spec.maxPrice * inst.spec.maxQty * k * 2)) {
      return 'maxPrice * maxQty in cash units must stay a safe integer';
    }
    if (this.assetIndex.has(inst.id)) return `${inst.id} is already an asset on ${venue}`;
    const security = this.#asset(inst.id, inst.spec.lotSize);
    const cash = known ?? this.#asset(cashKey, unitText);
    this.byInstrument[inst.index] = { security, cash, k };
    return null;
  }

  #asset(key: string, unit: string): number {
    const i = this.assets.length;
    this.assets.push(key);
    this.units.push(unit);
    this.assetIndex.set(key, i);
    this.feesPending.push(0);
    this.feesFinal.push(0);
    return i;
  }

  /** Cash a buy of `qty` lots with price cap `cap` reserves (see the module comment). */
  buyReserve(inst: Instrument, qty: number, cap: number): number {
    return buyReserveNotional(qty, cap, inst.spec.takerFeeBps) * this.byInstrument[inst.index]!.k;
  }

  /**
   * Checks that `acc` may place an order needing `need` of asset `asset` on the instrument's
   * venue; returns 0 or a code (written into `v`).
   */
  check(acc: Account, inst: Instrument, asset: number, need: number, v: Verdict): number {
    if (this.#standing(acc, inst.venue, v) !== 0) return v.code;
    // A cross-ledger instrument's cash moves on another ledger: the account must stand there too.
    if (inst.spec.quoteVenue !== undefined && this.#standing(acc, inst.spec.quoteVenue, v) !== 0)
      return v.code;
    const bal = acc.balances[asset];
    const have = bal === undefined ? 0 : bal.available;
    if (have < need) {
      return v.fail(
        Code.RISK_INSUFFICIENT_BALANCE,
        `needs ${need} of ${this.assets[asset]} available, has ${have}`,
      );
    }
    return 0;
  }

  /** 0 if the account is eligible and not frozen on a venue, else the code (written into `v`). */
  #standing(acc: Account, venue: string, v: Verdict): number {
    const flags = acc.venues.get(venue) ?? 0;
    if ((flags & ELIGIBLE) === 0)
      return v.fail(Code.RISK_NOT_ELIGIBLE, `account is not eligible on ${venue}`);
    if ((flags & FROZEN) !== 0) return v.fail(Code.RISK_FROZEN, `account is frozen on ${venue}`);
    return 0;
  }

  /** The balance of an account in an asset, created empty on first use. */
  balance(acc: Account, asset: number): Balance {
    let b = acc.balances[asset];
    if (b === undefined) {
      b = new Balance();
      acc.balances[asset] = b;
    }
    return b;
  }

  /** The asset an order reserves: cash for a buy, the security for a sell. */
  orderAsset(o: Order): number {
    const a = this.byInstrument[o.instrument]!;
    return o.side === 'buy' ? a.cash : a.security;
  }

  // ---- movements: each marks the balances it changes --------------------------------------

  /**
   * Balances changed by the current command, once each: the first `touchedCount` entries of
   * `touchedAccounts` and `touchedAssets` (kept across commands: no allocation per change).
   */
  readonly touchedAccounts: Account[] = [];
  readonly touchedAssets: number[] = [];
  touchedCount = 0;
  /** The current command's sequence and time, stamped by the engine. */
  stamp = 0;
  now = 0;

  #touch(acc: Account, asset: number): Balance {
    const b = this.balance(acc, asset);
    if (b.touchedAt !== this.stamp) {
      b.touchedAt = this.stamp;
      const n = this.touchedCount++;
      this.touchedAccounts[n] = acc;
      this.touchedAssets[n] = asset;
    }
    return b;
  }

  /** Sets an order's reservation to `amount`, moving the difference from or to available. */
  reserve(acc: Account, o: Order, amount: number): void {
    const b = this.#touch(acc, this.orderAsset(o));
    const delta = amount - o.reserved;
    b.available -= delta;
    b.reserved += delta;
    o.reserved = amount;
  }

  /** Whether `acc` can raise an order's reservation to `amount`. */
  canReserve(acc: Account, o: Order, amount: number): boolean {
    const b = acc.balances[this.orderAsset(o)];
    return amount - o.reserved <= (b === undefined ? 0 : b.available);
  }

  /**
   * A fill between `buy` and `sell` orders: the buyer's cash and the seller's lots go from
   * reserved to pending-out, the other sides to pending-in, the fees to the venue.
   */
  fill(
    tradeId: number,
    inst: Instrument,
    buy: Order,
    buyer: Account,
    sell: Order,
    seller: Account,
    price: number,
    qty: number,
    buyerFee: number,
    sellerFee: number,
  ): void {
    const { security, cash, k } = this.byInstrument[inst.index]!;
    const { buyerCash, sellerCash, fee } = tradeCash(k, price, qty, buyerFee, sellerFee);
    if (buyerCash > buy.reserved || qty > sell.reserved)
      throw new Error(`risk: trade ${tradeId} exceeds a reservation`);
    const bc = this.#touch(buyer, cash);
    bc.reserved -= buyerCash;
    bc.pendingOut += buyerCash;
    buy.reserved -= buyerCash;
    this.#touch(buyer, security).pendingIn += qty;
    const ss = this.#touch(seller, security);
    ss.reserved -= qty;
    ss.pendingOut += qty;
    sell.reserved -= qty;
    this.#touch(seller, cash).pendingIn += sellerCash;
    this.feesPending[cash]! += fee;
    const t: PendingTrade = {
      tradeId,
      instrument: inst.index,
      buyer: buyer.index,
      seller: seller.index,
      qty,
      buyerCash,
      sellerCash,
      fee,
    };
    if (inst.spec.quoteVenue !== undefined) {
      t.legs = ['none', 'none'];
      t.matchedAt = this.now;
    }
    this.pending.set(tradeId, t);
  }

  /**
   * Applies the ledgers' verdict on a pending trade: on the delivery of its security (`securityOk`)
   * and on its payment (`cashOk`). One ledger's verdict is the same for both; a cross-ledger
   * trade's legs are each their ledger's.
   */
  settle(t: PendingTrade, securityOk: boolean, cashOk: boolean, buyer: Account, seller: Account): void {
    const { security, cash } = this.byInstrument[t.instrument]!;
    const bc = this.#touch(buyer, cash);
    const bs = this.#touch(buyer, security);
    const ss = this.#touch(seller, security);
    const sc = this.#touch(seller, cash);
    bc.pendingOut -= t.buyerCash;
    bs.pendingIn -= t.qty;
    ss.pendingOut -= t.qty;
    sc.pendingIn -= t.sellerCash;
    this.feesPending[cash]! -= t.fee;
    if (securityOk) bs.available += t.qty;
    else ss.available += t.qty;
    if (cashOk) {
      sc.available += t.sellerCash;
      this.feesFinal[cash]! += t.fee;
    } else {
      bc.available += t.buyerCash;
    }
    this.pending.delete(t.tradeId);
  }

  /** Takes a requested withdrawal's amount from available into pending-out, and keeps it pending. */
  withdraw(acc: Account, w: PendingWithdrawal): void {
    const b = this.#touch(acc, w.asset);
    b.available -= w.amount;
    b.pendingOut += w.amount;
    this.withdrawals.set(w.withdrawalId, w);
  }

  /** Applies a ledger's verdict on a pending withdrawal: released, the amount is gone; refused, it returns. */
  release(w: PendingWithdrawal, ok: boolean, acc: Account): void {
    const b = this.#touch(acc, w.asset);
    b.pendingOut -= w.amount;
    if (!ok) b.available += w.amount;
    this.withdrawals.delete(w.withdrawalId);
  }

  /** Adds `amount` (negative: takes) to an account's available balance of an asset. */
  credit(acc: Account, asset: number, amount: number): void {
    this.#touch(acc, asset).available += amount;
  }
}
