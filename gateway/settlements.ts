/**
 * Where each recent trade stands in settlement, and per ledger how the pipeline is doing. With
 * pre-trade risk on, a matched trade waits for its ledger's verdict (a `settle` command from the
 * venue's connector); with risk off there is nothing to wait for. The last `keep` trades are
 * remembered (older ones are forgotten first), so memory stays bounded.
 */
import type { Exchange } from './exchange.ts';

export type SettlementState = 'pending' | 'settled' | 'failed' | 'not-required';

export interface TradeSettlement {
  tradeId: number;
  instrument: string;
  venue: string;
  status: SettlementState;
  reason?: string;
  /** When the trade matched, and when its verdict came (ms since the epoch). */
  matchedAt: number;
  settledAt?: number;
}

export interface VenuePipeline {
  venue: string;
  pending: number;
  settled: number;
  failed: number;
}

export class Settlements {
  #trades = new Map<number, TradeSettlement>();
  #venues = new Map<string, VenuePipeline>();
  #keep: number;

  constructor(exchange: Exchange, keep = 100_000) {
    this.#keep = keep;
    const risk = exchange.engine.risk;
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
    return [...this.#venues.values()].map((v) => ({ ...v }));
  }

  #matched(e: Record<string, unknown>, risk: boolean): void {
    const instrument = e.instrument as string;
    const venue = instrument.slice(instrument.indexOf('@') + 1);
    const status: SettlementState = risk ? 'pending' : 'not-required';
    const t: TradeSettlement = {
      tradeId: e.tradeId as number,
      instrument,
      venue,
      status,
      matchedAt: e.ts as number,
    };
    if (this.#trades.size >= this.#keep) this.#trades.delete(this.#trades.keys().next().value!);
    this.#trades.set(t.tradeId, t);
    if (risk) this.#pipeline(venue).pending++;
  }

  #verdict(e: Record<string, unknown>): void {
    const t = this.#trades.get(e.tradeId as number);
    if (t === undefined || t.status !== 'pending') return;
    const p = this.#pipeline(t.venue);
    p.pending--;
    t.settledAt = e.ts as number;
    if (e.ok === true) {
      t.status = 'settled';
      p.settled++;
    } else {
      t.status = 'failed';
      t.reason = (e.reason as string) || 'refused by the ledger';
      p.failed++;
    }
  }

  #pipeline(venue: string): VenuePipeline {
    let p = this.#venues.get(venue);
    if (p === undefined) {
      p = { venue, pending: 0, settled: 0, failed: 0 };
      this.#venues.set(venue, p);
    }
    return p;
  }
}
