/**
 * history/: the trading history that survives a restart. A read model built from the durable
 * events of each command (an `EventReader` of the journal, or a shard's event stream): every
 * account's fills and finished orders on disk (LMDB), read in pages by position, a position
 * being time, shard and event; and every instrument's price candles per interval. The engine
 * knows nothing of it. The only door other folders use.
 */
export {
  addTrade,
  type Candle,
  CANDLE_INTERVAL_NAMES,
  CANDLE_INTERVALS,
  type CandleInterval,
  type CandleQuery,
  type CandleTrade,
  firstCandle,
  openTime,
} from './candles.ts';
export {
  comparePositions,
  cursorOf,
  type Entry,
  type HistoryKind,
  type HistoryReader,
  mergePages,
  type PageQuery,
  parseCursor,
  type Position,
  tighter,
  timeBound,
} from './query.ts';
export {
  acceptedOrder,
  type FillRecord,
  type FinalStatus,
  type LiveOrder,
  type OrderRecord,
  RECORDED_KINDS,
} from './records.ts';
export { ThreadedHistory, type ThreadedHistoryOptions } from './threaded.ts';
