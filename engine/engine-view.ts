/**
 * What is read of an engine: the gateway's view. `Engine` itself is one (the embedded exchange);
 * a cluster's gateway reads its shards' followers through one (`ShardedView` of cluster/).
 */
import type { Engine } from './engine.ts';

export type EngineView = Pick<
  Engine,
  | 'instruments'
  | 'instrument'
  | 'depth'
  | 'order'
  | 'orderOf'
  | 'clientOrderIdUsed'
  | 'openOrders'
  | 'restingOrders'
  | 'balances'
  | 'standing'
  | 'pendingSettlement'
  | 'pendingSettlements'
  | 'pendingWithdrawals'
  | 'assetUnit'
  | 'risk'
  | 'liveOrders'
  | 'commandSeq'
>;
