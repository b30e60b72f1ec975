/**
 * Where each recent trade stands in settlement, and per ledger how the pipeline is doing. With
 * pre-trade risk on, a matched trade waits for its ledger's verdict (a `settle` command from the
 * venue's connector, with its ledger reference and, where the ledger charges, the trade's share of
 * the gas and fee); with risk off there is nothing to wait for. Per ledger too, the exchange's
 * take: the fees of its trades (taker's and maker's, in their quote currency), collected once
 * the ledger has settled them (paid to the venue's fee account in the same settlement), beside
 * what settling cost in gas. The last `keep` trades are remembered (older ones are forgotten
 * first), so memory stays bounded.
 */
import BigNumber from 'bignumber.js';
import type { SettlementEvent, TradeEvent } from '../engine/index.ts';
import type { Exchange } from './exchange.ts';
import { makeRoom } from '../common/index.ts';

export type SettlementState = 'pending' | 'settled' | 'failed' | 'not-required';

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
  /** Verdicts that came with a cost (ledgers that charge for settlement). */
  costed: number;
  /** Gas (whole units) and fee (native base units, a decimal string) over the costed verdicts. */
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
  #keep: number;
  #exchange: Exchange;

  constructor(exchange: Exchange, keep = 100_000) {
    this.#keep = keep;
    this.#exchange = exchange;
    const risk = exchange.risk;
    // Trades matched before this start that still wait for their ledger (when they matched is
    // not kept: `matchedAt` 0).
    for (const t of exchange.pendingSettlements()) {
      this.#matched({ tradeId: t.tradeId, instrument: t.instrument, ts: 0 }, true);
    }
    exchange.onEvents((_seq, events) => {
      for (const e of events) {
        if (e.kind === 'trade') this.#matched(e, risk);
        else if (e.kind === 'settlement') this.#verdict(e);
      }
    });
  }

  /** A trade's settlement, or undefined if it is unknown or too old to be remembered. */
  get(tradeId: number): TradeSettlement | undefined {
    return this.#trades.get(tradeId);
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
    if (codec !== undefined && e.takerFee !== undefined && e.makerFee !== undefined) {
      t.fee = codec.notional(e.takerFee + e.makerFee);
      t.feeAsset = `${codec.spec.quote ?? 'USD'}@${venue}`;
    }
    makeRoom(this.#trades, this.#keep);
    this.#trades.set(t.tradeId, t);
    if (!risk) return;
    const p = this.#pipeline(venue);
    p.pending++;
    if (t.fee === undefined) return;
    const f = this.#fees(p, t);
    f.pending = f.pending.plus(t.fee);
  }

  /** A venue's fee totals in the trade's fee asset. */
  #fees(p: Pipeline, t: TradeSettlement) {
    let f = p.fees.get(t.feeAsset!);
    if (f === undefined) {
      const decimals = t.fee!.includes('.') ? t.fee!.length - t.fee!.indexOf('.') - 1 : 0;
      f = { collected: new BigNumber(0), pending: new BigNumber(0), decimals };
      p.fees.set(t.feeAsset!, f);
    }
    return f;
  }

  #verdict(e: SettlementEvent): void {
    const t = this.#trades.get(e.tradeId);
    if (t === undefined || t.status !== 'pending') return;
    const p = this.#pipeline(t.venue);
    p.pending--;
    if (t.fee !== undefined) {
      const f = this.#fees(p, t);
      f.pending = f.pending.minus(t.fee);
      if (e.ok) f.collected = f.collected.plus(t.fee);
    }
    t.settledAt = e.ts;
    if (e.ref) t.ref = e.ref;
    if (e.gasFee) {
      // Whole since ledgers split a batch's gas in whole shares; a share journaled before then
      // may be fractional, and is shown rounded.
      t.gas = Math.round(e.gas);
      t.gasFee = e.gasFee;
      p.costed++;
      p.gas += t.gas;
      p.fee += BigInt(t.gasFee);
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
