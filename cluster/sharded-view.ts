/**
 * The shards of a cluster read as one engine: each question goes to the shard that knows (an
 * instrument's venue, an order's or trade's id range), and account-wide ones to all of them.
 * What a gateway reads through, over the engines its followers keep.
 */
import type { Engine, EngineView, OrderView, Side } from '../engine/index.ts';
import { type Topology, venueOfId } from './topology.ts';

export class ShardedView implements EngineView {
  #engines: readonly Engine[];
  #topology: Topology;

  /** `engines[n]` is shard n's. */
  constructor(engines: readonly Engine[], topology: Topology) {
    this.#engines = engines;
    this.#topology = topology;
  }

  #ofInstrument(id: string): Engine | undefined {
    const shard = this.#topology.shardOfVenue(venueOfId(id));
    return shard === undefined ? undefined : this.#engines[shard];
  }

  #ofId(id: number): Engine | undefined {
    return this.#engines[this.#topology.shardOfId(id)];
  }

  instruments(): string[] {
    return this.#engines.flatMap((e) => e.instruments());
  }

  instrument(id: string): ReturnType<Engine['instrument']> {
    return this.#ofInstrument(id)?.instrument(id);
  }

  depth(id: string, n: number): ReturnType<Engine['depth']> {
    return this.#ofInstrument(id)?.depth(id, n) ?? { bids: [], asks: [] };
  }

  order(orderId: number): OrderView | undefined {
    return this.#ofId(orderId)?.order(orderId);
  }

  orderOf(account: string, clientOrderId: string): OrderView | undefined {
    for (const e of this.#engines) {
      const o = e.orderOf(account, clientOrderId);
      if (o !== undefined) return o;
    }
    return undefined;
  }

  /** Used on any shard: an account's client order ids are its own across venues. */
  clientOrderIdUsed(account: string, clientOrderId: string): boolean {
    return this.#engines.some((e) => e.clientOrderIdUsed(account, clientOrderId));
  }

  openOrders(account: string): OrderView[] {
    return this.#engines.flatMap((e) => e.openOrders(account));
  }

  restingOrders(id: string, side: Side): OrderView[] {
    return this.#ofInstrument(id)?.restingOrders(id, side) ?? [];
  }

  balances(account: string): ReturnType<Engine['balances']> {
    return this.#engines.flatMap((e) => e.balances(account));
  }

  standing(account: string): ReturnType<Engine['standing']> {
    return this.#engines.flatMap((e) => e.standing(account));
  }

  pendingSettlement(tradeId: number): ReturnType<Engine['pendingSettlement']> {
    return this.#ofId(tradeId)?.pendingSettlement(tradeId);
  }

  pendingSettlements(): ReturnType<Engine['pendingSettlements']> {
    return this.#engines.flatMap((e) => e.pendingSettlements());
  }

  pendingWithdrawals(): ReturnType<Engine['pendingWithdrawals']> {
    return this.#engines.flatMap((e) => e.pendingWithdrawals());
  }

  assetUnit(asset: string): string | undefined {
    return this.#ofInstrument(asset)?.assetUnit(asset);
  }

  get risk(): boolean {
    return this.#engines[0]!.risk;
  }

  get liveOrders(): number {
    return this.#engines.reduce((n, e) => n + e.liveOrders, 0);
  }

  /** Commands executed over all shards. */
  get commandSeq(): number {
    return this.#engines.reduce((n, e) => n + e.commandSeq, 0);
  }
}
