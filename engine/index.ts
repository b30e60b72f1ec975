/**
 * engine/: Mosaic's matching engine. Pure and synchronous: commands in (integer ticks and lots,
 * timestamps chosen by the sequencer), events out, price-time priority per instrument, the same
 * events and state hash on every replay. The only door other folders use.
 */
export type { BookKind } from './book.ts';
export { Code, codeName } from './codes.ts';
export type { EngineView } from './engine-view.ts';
export {
  type BalanceView,
  Engine,
  type OrderView,
  type PendingSettlementView,
  type PendingWithdrawalView,
} from './engine.ts';
export { EngineEvent, type EngineListener, type EventKind, type WithdrawalStatus } from './events.ts';
export { feeFor } from './fees.ts';
export type { LegProgress } from './risk.ts';
export type { EventRecords } from './outbox.ts';
export { StateHasher } from './hash.ts';
export { checkSpec } from './instrument.ts';
export { cashPerNotional, quoteUnitOf, tradeCash } from './settlement.ts';
export {
  type AcceptedEvent,
  type AccountEvent,
  type BalanceEvent,
  type BboEvent,
  type CanceledEvent,
  type DepthEvent,
  type EventOf,
  eventToObject,
  eachAccount,
  eachInstrument,
  eventView,
  type IdentityEvent,
  type InstrumentEvent,
  keepEvent,
  type LegEvent,
  type PublishedEvent,
  type RejectedEvent,
  type ReplacedEvent,
  type SettlementEvent,
  type TradeEvent,
  type TriggeredEvent,
  type WithdrawalEvent,
} from './published.ts';
export type { EngineSnapshot } from './snapshot.ts';
export type * from './types.ts';
export {
  amountToUnits,
  type Converted,
  lotsToQuantity,
  parseDecimal,
  priceToTicks,
  quantityToLots,
  ticksToPrice,
} from './units.ts';
