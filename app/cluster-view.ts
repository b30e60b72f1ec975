/**
 * What a cluster's gateway reads of the exchange's state, without an engine: each shard's
 * overview (its listings, assets, trades and withdrawals pending) as of one of its commands,
 * kept current from the shard's event stream after it. It keeps what REST shows and nothing of
 * any account nor any book (market data follows an instrument's own subject, from its first
 * use): listings, statuses, last prices, trades waiting for their ledger, withdrawals pending. A
 * listing's event does not carry its terms: the exchange asks the shard for them before it goes
 * on (`needs`, `list`).
 */
import type { InstrumentListing, ShardOverview } from '../cluster/index.ts';
import type { PendingWithdrawalView } from '../engine/index.ts';
import type { ExchangeView } from '../gateway/index.ts';
import type { PublishedEvent } from '../journal/index.ts';

export class ClusterView implements ExchangeView {
  #listings = new Map<string, InstrumentListing>();
  #units = new Map<string, string>();
  #withdrawals = new Map<number, PendingWithdrawalView>();
  #settlements = new Map<number, { tradeId: number; instrument: string }>();
  /** Per shard, the last command applied. */
  #seqs: number[];
  #risk: boolean;
  #liveOrders: () => number;
  #heard: (shard: number) => number;

  /**
   * `beats`: the shards' live orders as they last said, and the last command message of a shard
   * the gateway heard of (their heartbeats: the view's own event messages are those with events
   * it keeps only).
   */
  constructor(
    overviews: readonly ShardOverview[],
    risk: boolean,
    beats: { liveOrders: () => number; heard: (shard: number) => number },
  ) {
    this.#risk = risk;
    this.#liveOrders = beats.liveOrders;
    this.#heard = beats.heard;
    this.#seqs = overviews.map((o) => o.seq);
    for (const o of overviews) {
      for (const inst of o.instruments) this.list(inst, o.assets);
      for (const t of o.pendingSettlements) this.#settlements.set(t.tradeId, t);
      for (const w of o.pendingWithdrawals) this.#withdrawals.set(w.withdrawalId, w);
    }
  }

  /** The last command message of `shard` whose events the view applied. */
  seqOf(shard: number): number {
    return this.#seqs[shard] ?? 0;
  }

  /** Over every shard, the last command message heard of. */
  get commandSeq(): number {
    return this.#seqs.reduce((n, s, shard) => n + Math.max(s, this.#heard(shard)), 0);
  }

  get liveOrders(): number {
    return this.#liveOrders();
  }

  /** An instrument a command's events list that this view does not know yet (its terms are to be read), if any. */
  needs(events: readonly PublishedEvent[]): string | undefined {
    for (const e of events)
      if (e.kind === 'instrument' && !this.#listings.has(e.instrument)) return e.instrument;
    return undefined;
  }

  /** Adds a listing as its shard holds it, and the shard's assets. */
  list(inst: InstrumentListing, assets: ReadonlyArray<[string, string]>): void {
    const { spec, status, lastPrice } = inst;
    this.#listings.set(spec.id, { spec, status, lastPrice });
    for (const [asset, unit] of assets) this.#units.set(asset, unit);
  }

  /** Applies command `seq` of `shard`'s events. */
  apply(shard: number, seq: number, events: readonly PublishedEvent[]): void {
    for (const e of events) {
      switch (e.kind) {
        case 'instrument': {
          const l = this.#listings.get(e.instrument);
          if (l !== undefined) l.status = e.status;
          break;
        }
        case 'trade': {
          const l = this.#listings.get(e.instrument);
          if (l !== undefined) l.lastPrice = e.price;
          if (this.#risk) this.#settlements.set(e.tradeId, { tradeId: e.tradeId, instrument: e.instrument });
          break;
        }
        case 'settlement':
          this.#settlements.delete(e.tradeId);
          break;
        case 'withdrawal':
          if (e.status === 'pending') {
            const { withdrawalId, account, asset, amount } = e;
            this.#withdrawals.set(withdrawalId, { withdrawalId, account, asset, amount });
          } else {
            this.#withdrawals.delete(e.withdrawalId);
          }
          break;
        default:
          break;
      }
    }
    this.#seqs[shard] = seq;
  }

  instruments(): string[] {
    return [...this.#listings.keys()];
  }

  instrument(id: string): InstrumentListing | undefined {
    return this.#listings.get(id);
  }

  assetUnit(asset: string): string | undefined {
    return this.#units.get(asset);
  }

  pendingWithdrawals(): PendingWithdrawalView[] {
    return [...this.#withdrawals.values()];
  }

  /** Trades waiting for their ledger's verdict, oldest first. */
  pendingSettlements(): Array<{ tradeId: number; instrument: string }> {
    return [...this.#settlements.values()].sort((a, b) => a.tradeId - b.tradeId);
  }
}
