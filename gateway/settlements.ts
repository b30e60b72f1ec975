/**
 * Where each recent trade stands in settlement, and per ledger how the pipeline is doing. With
 * pre-trade risk on, a matched trade waits for its ledger's verdict (a `settle` command from the
 * venue's connector, with its ledger reference and, where the ledger charges, the trade's share of
 * the gas and fee); with risk off there is nothing to wait for. Per ledger too, the exchange's
 * take: the fees of its trades (taker's and maker's, in their quote currency), collected once
 * the ledger has settled them (paid to the venue's fee account in the same settlement), beside
 * what settling cost in gas. The last `keep` trades are remembered (older ones are forgotten
 * first), so memory stays bounded.
 *
 * A cross-ledger trade (docs/settlement.md, "Cross-ledger trades") has two legs, each reported by
 * its own ledger step by step (`leg` events), then one verdict with no cost of its own: the trade
 * is counted under its instrument's venue, each leg step's cost under the venue of that leg, and
 * its fees under the cash's venue, whose fee account takes them when the cash leg is claimed.
 */
import BigNumber from 'bignumber.js';
import type {
  LegEvent,
  LegProgress,
  LegState,
  PendingSettlementView,
  SettlementEvent,
  TradeEvent,
} from '../engine/index.ts';
import type { Exchange } from './exchange.ts';
import { makeRoom } from '../common/index.ts';

export type SettlementState = 'pending' | 'settled' | 'failed' | 'not-required';

/** One leg of a cross-ledger trade, as its ledger last reported it ('pending': not yet). */
export interface LegSettlement {
  leg: 'security' | 'cash';
  /** The leg's ledger: the instrument's venue for the security, its quote venue for the cash. */
  venue: string;
  status: 'pending' | LegState;
  /** Why it was refused. */
  reason?: string;
  /** The ledger's reference of its last step that had one. */
  ref?: string;
  /** What its steps cost, over those that reported a cost: whole gas, and the fee in base units (wei). */
  gas?: number;
  gasFee?: string;
}

/** How many cross-ledger trades are remembered for `crossLedger` (their settlements as long as `get` has them). */
export const CROSS_LEDGER_KEPT = 100;

export interface TradeSettlement {
  tradeId: number;
  instrument: string;
  venue: string;
  status: SettlementState;
  reason?: string;
  /** When the trade matched (0: before the gateway started), and when its verdict came (ms since the epoch). */
  matchedAt: number;
  settledAt?: number;
  /** The ledger's reference (transaction hash or id), and the trade's share of its cost. */
  ref?: string;
  /** Whole gas units. */
  gas?: number;
  /** Fee in the ledger's native base units (wei), a decimal string. */
  gasFee?: string;
  /** The exchange's fees on the trade (taker's and maker's; negative: a rebate beyond the taker's fee), in `feeAsset`. */
  fee?: string;
  feeAsset?: string;
  /** A cross-ledger trade's legs: the security's, then the cash's. */
  legs?: LegSettlement[];
}

/** Fees of one cash asset on a venue: settled (collected) and waiting for their ledger. */
export interface FeeTotals {
  asset: string;
  collected: string;
  pending: string;
}

export interface VenuePipeline {
  venue: string;
  pending: number;
  settled: number;
  failed: number;
  /** Verdicts, and steps of cross-ledger legs on this venue, that came with a cost (ledgers that charge for settlement). */
  costed: number;
  /** Gas (whole units) and fee (native base units, a decimal string) over the costed verdicts and steps. */
  gas: number;
  gasFee: string;
  /** The exchange's fees per cash asset (with risk on): collected and pending. */
  fees: FeeTotals[];
}

/** A venue's counts as kept: the gas fee total exact, in a bigint; the trade fees as decimals, with their decimals. */
type Pipeline = Omit<VenuePipeline, 'gasFee' | 'fees'> & {
  fee: bigint;
  fees: Map<string, { collected: BigNumber; pending: BigNumber; decimals: number }>;
};

export class Settlements {
  #trades = new Map<number, TradeSettlement>();
  #venues = new Map<string, Pipeline>();
  /** The last cross-ledger trades' ids, oldest first. */
  #crossLedger: number[] = [];
  /** Leg steps per venue and state. */
  #legSteps = new Map<string, Map<LegState, number>>();
  #keep: number;
  #exchange: Exchange;

  constructor(exchange: Exchange, keep = 100_000) {
    this.#keep = keep;
    this.#exchange = exchange;
    const risk = exchange.risk;
    // Trades matched before this start that still wait for their ledger (when they matched is
    // not kept: `matchedAt` 0), with their legs where the exchange gives them (the embedded one).
    const pending: ReadonlyArray<Pick<PendingSettlementView, 'tradeId' | 'instrument' | 'legs'>> =
      exchange.pendingSettlements();
    for (const t of pending) {
      this.#matched({ tradeId: t.tradeId, instrument: t.instrument, ts: 0 }, true, t.legs);
    }
    exchange.onEvents((_seq, events) => {
      for (const e of events) {
        if (e.kind === 'trade') this.#matched(e, risk);
        else if (e.kind === 'leg') this.#leg(e);
        else if (e.kind === 'settlement') this.#verdict(e);
      }
    });
  }

  /** A trade's settlement, or undefined if it is unknown or too old to be remembered. */
  get(tradeId: number): TradeSettlement | undefined {
    return this.#trades.get(tradeId);
  }

  /** The last `limit` cross-ledger trades still remembered whose venue `visible` passes, newest first. */
  crossLedger(limit: number, visible: (venue: string) => boolean): TradeSettlement[] {
    const found: TradeSettlement[] = [];
    for (let i = this.#crossLedger.length - 1; i >= 0 && found.length < limit; i--) {
      const t = this.#trades.get(this.#crossLedger[i]!);
      if (t !== undefined && visible(t.venue)) found.push(t);
    }
    return found;
  }

  /** Leg steps of cross-ledger trades since the gateway started, per venue and state. */
  legSteps(): Array<{ venue: string; state: LegState; steps: number }> {
    return [...this.#legSteps].flatMap(([venue, states]) =>
      [...states].map(([state, steps]) => ({ venue, state, steps })),
    );
  }

  /** Counts per venue since the gateway started. */
  pipelines(): VenuePipeline[] {
    return [...this.#venues.values()].map((v) => ({
      venue: v.venue,
      pending: v.pending,
      settled: v.settled,
      failed: v.failed,
      costed: v.costed,
      gas: v.gas,
      gasFee: v.fee.toString(),
      fees: [...v.fees].map(([asset, f]) => ({
        asset,
        collected: f.collected.toFixed(f.decimals),
        pending: f.pending.toFixed(f.decimals),
      })),
    }));
  }

  #matched(
    e: Pick<TradeEvent, 'tradeId' | 'instrument' | 'ts'> & Partial<Pick<TradeEvent, 'takerFee' | 'makerFee'>>,
    risk: boolean,
    legs: readonly LegProgress[] = ['none', 'none'],
  ): void {
    const instrument = e.instrument;
    const venue = instrument.slice(instrument.indexOf('@') + 1);
    const status: SettlementState = risk ? 'pending' : 'not-required';
    const t: TradeSettlement = {
      tradeId: e.tradeId,
      instrument,
      venue,
      status,
      matchedAt: e.ts,
    };
    const codec = this.#exchange.codec(instrument);
    const cashVenue = codec?.spec.quoteVenue ?? venue;
    if (codec !== undefined && e.takerFee !== undefined && e.makerFee !== undefined) {
      t.fee = codec.notional(e.takerFee + e.makerFee);
      t.feeAsset = `${codec.spec.quote ?? 'USD'}@${cashVenue}`;
    }
    if (risk && cashVenue !== venue) {
      const status = (now: LegProgress = 'none') => (now === 'none' ? 'pending' : now);
      t.legs = [
        { leg: 'security', venue, status: status(legs[0]) },
        { leg: 'cash', venue: cashVenue, status: status(legs[1]) },
      ];
      if (this.#crossLedger.length >= CROSS_LEDGER_KEPT) this.#crossLedger.shift();
      this.#crossLedger.push(t.tradeId);
    }
    makeRoom(this.#trades, this.#keep);
    this.#trades.set(t.tradeId, t);
    if (!risk) return;
    this.#pipeline(venue).pending++;
    if (t.fee === undefined) return;
    const f = this.#fees(t);
    f.pending = f.pending.plus(t.fee);
  }

  /** The fee totals of the trade's fee asset, on the venue of that asset (where the fee account takes them). */
  #fees(t: TradeSettlement) {
    const p = this.#pipeline(t.feeAsset!.slice(t.feeAsset!.indexOf('@') + 1));
    let f = p.fees.get(t.feeAsset!);
    if (f === undefined) {
      const decimals = t.fee!.includes('.') ? t.fee!.length - t.fee!.indexOf('.') - 1 : 0;
      f = { collected: new BigNumber(0), pending: new BigNumber(0), decimals };
      p.fees.set(t.feeAsset!, f);
    }
    return f;
  }

  /** A ledger's step on a leg of a cross-ledger trade: the leg's state, and its cost on the leg's venue. */
  #leg(e: LegEvent): void {
    let states = this.#legSteps.get(e.venue);
    if (states === undefined) this.#legSteps.set(e.venue, (states = new Map()));
    states.set(e.status, (states.get(e.status) ?? 0) + 1);
    const leg = this.#trades.get(e.tradeId)?.legs?.find((l) => l.leg === e.leg);
    if (leg === undefined) return;
    leg.status = e.status;
    if (e.reason) leg.reason = e.reason;
    if (e.ref) leg.ref = e.ref;
    if (e.gasFee) {
      leg.gas = (leg.gas ?? 0) + this.#cost(e.venue, e.gas, e.gasFee);
      leg.gasFee = (BigInt(leg.gasFee ?? 0) + BigInt(e.gasFee)).toString();
    }
  }

  /** Counts a reported cost in a venue's totals: the gas as counted (whole). */
  #cost(venue: string, gas: number, gasFee: string): number {
    // Whole since ledgers split a batch's gas in whole shares; a share journaled before then
    // may be fractional, and is shown rounded.
    const whole = Math.round(gas);
    const p = this.#pipeline(venue);
    p.costed++;
    p.gas += whole;
    p.fee += BigInt(gasFee);
    return whole;
  }

  #verdict(e: SettlementEvent): void {
    const t = this.#trades.get(e.tradeId);
    if (t === undefined || t.status !== 'pending') return;
    const p = this.#pipeline(t.venue);
    p.pending--;
    if (t.fee !== undefined) {
      const f = this.#fees(t);
      f.pending = f.pending.minus(t.fee);
      // A cross-ledger trade's fees are paid in its cash leg, whatever became of the other.
      const paid = t.legs === undefined ? e.ok : t.legs[1]!.status === 'claimed';
      if (paid) f.collected = f.collected.plus(t.fee);
    }
    t.settledAt = e.ts;
    if (e.ref) t.ref = e.ref;
    if (e.gasFee) {
      t.gas = this.#cost(t.venue, e.gas, e.gasFee);
      t.gasFee = e.gasFee;
    }
    if (e.ok) {
      t.status = 'settled';
      p.settled++;
    } else {
      t.status = 'failed';
      t.reason = e.reason || 'refused by the ledger';
      p.failed++;
    }
  }

  #pipeline(venue: string): Pipeline {
    let p = this.#venues.get(venue);
    if (p === undefined) {
      p = { venue, pending: 0, settled: 0, failed: 0, costed: 0, gas: 0, fee: 0n, fees: new Map() };
      this.#venues.set(venue, p);
    }
    return p;
  }
}
