/**
 * What a cluster's gateway reads of the exchange's state, without an engine: each shard's
 * overview (its instruments with their books, assets, trades and withdrawals pending) as of one
 * of its commands, kept current from the shard's event stream after it. It keeps what market
 * data and REST show and nothing of any account: listings, statuses, last prices, each book's
 * levels (from `depth` events, which carry a level's new total), trades waiting for their
 * ledger, withdrawals pending. A listing's event does not carry its terms: the exchange asks the
 * shard for them before it goes on (`needs`, `list`).
 */
import type { InstrumentState, ShardOverview } from '../cluster/index.ts';
import type { InstrumentSpec, PendingWithdrawalView } from '../engine/index.ts';
import type { ExchangeView } from '../gateway/index.ts';
import type { PublishedEvent } from '../journal/index.ts';

interface Listing {
  spec: Readonly<InstrumentSpec>;
  status: string;
  lastPrice: number;
  /** Per side, price -> [qty, count]. */
  bids: Map<number, [number, number]>;
  asks: Map<number, [number, number]>;
}

export class ClusterView implements ExchangeView {
  #listings = new Map<string, Listing>();
  #units = new Map<string, string>();
  #withdrawals = new Map<number, PendingWithdrawalView>();
  #settlements = new Map<number, { tradeId: number; instrument: string }>();
  /** Per shard, the last command applied. */
  #seqs: number[];
  #risk: boolean;
  #liveOrders: () => number;

  /** `liveOrders`: the shards' live orders as they last said (their heartbeats). */
  constructor(overviews: readonly ShardOverview[], risk: boolean, liveOrders: () => number) {
    this.#risk = risk;
    this.#liveOrders = liveOrders;
    this.#seqs = overviews.map((o) => o.seq);
    for (const o of overviews) {
      for (const inst of o.instruments) this.list(inst, o.assets);
      for (const t of o.pendingSettlements) this.#settlements.set(t.tradeId, t);
      for (const w of o.pendingWithdrawals) this.#withdrawals.set(w.withdrawalId, w);
    }
  }

  /** The last command of `shard` this view reflects. */
  seqOf(shard: number): number {
    return this.#seqs[shard] ?? 0;
  }

  get commandSeq(): number {
    return this.#seqs.reduce((n, s) => n + s, 0);
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
  list(inst: InstrumentState, assets: ReadonlyArray<[string, string]>): void {
    const levels = (side: Array<[number, number, number]>) =>
      new Map(side.map(([price, qty, count]): [number, [number, number]] => [price, [qty, count]]));
    this.#listings.set(inst.spec.id, {
      spec: inst.spec,
      status: inst.status,
      lastPrice: inst.lastPrice,
      bids: levels(inst.bids),
      asks: levels(inst.asks),
    });
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
        case 'depth': {
          const l = this.#listings.get(e.instrument);
          const side = e.side === 'buy' ? l?.bids : l?.asks;
          if (e.quantity === 0) side?.delete(e.price);
          else side?.set(e.price, [e.quantity, e.count]);
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

  instrument(id: string): { spec: Readonly<InstrumentSpec>; status: string; lastPrice: number } | undefined {
    const l = this.#listings.get(id);
    return l && { spec: l.spec, status: l.status, lastPrice: l.lastPrice };
  }

  depth(
    id: string,
    n: number,
  ): { bids: Array<[number, number, number]>; asks: Array<[number, number, number]> } {
    const l = this.#listings.get(id);
    if (l === undefined) return { bids: [], asks: [] };
    const best = (side: Map<number, [number, number]>, sign: number) =>
      [...side]
        .sort((a, b) => sign * (a[0] - b[0]))
        .slice(0, n)
        .map(([price, [qty, count]]): [number, number, number] => [price, qty, count]);
    return { bids: best(l.bids, -1), asks: best(l.asks, 1) };
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
