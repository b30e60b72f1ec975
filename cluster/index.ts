/**
 * cluster/: the exchange spread over processes on NATS JetStream. Each engine shard owns the
 * venues configured for it; its command stream is its journal (senders' ids are JetStream
 * message ids, so a message sent twice is applied once; a gateway sends the commands of a turn
 * together) and its event stream carries each command message's events; each account's events
 * and each instrument's market data also go on subjects of their own. Gateways hold no engine:
 * they follow their sessions' accounts and their clients' instruments (KeyedFeed) and ask the
 * shards for reads (ShardReads). Daemons follow the command stream into an engine of their own:
 * the engine is deterministic, so every follower agrees.
 */
export { ACCOUNTS, INSTRUMENTS, KEYED_FORMAT, keyToken, type Route } from './keyed.ts';
export { KeyedFeed, type KeyedBatch, type KeyState } from './keyed-feed.ts';
export {
  eventObjectsOnce,
  INLINE_EVENTS_MAX,
  OBJECT_HEADER,
  type StoredEvents,
  TOO_LARGE_HEADER,
  withEvents,
} from './large-events.ts';
export { CommandBatcher } from './batcher.ts';
export { CommandBus } from './bus.ts';
export { DaemonPort } from './daemon-port.ts';
export { consume } from './consume.ts';
export { clusterProblems, type ClusterConfig, ClusterSchema, defaultCluster } from './config.ts';
export { requestFunding, serveFaucet } from './faucet.ts';
export { type LimitReporter, shareLimits } from './limit-reports.ts';
export { ShardFollower } from './follower.ts';
export { ClusterHistory, ShardHistory, type ShardHistoryOptions } from './history.ts';
export { answered, closeNats, connectNats, ensureStreams, sharedKey } from './nats.ts';
export { type NatsNode, startNats } from './nats-server.ts';
export {
  type AccountState,
  type InstrumentListing,
  type InstrumentRead,
  type InstrumentState,
  type ShardOverview,
  ShardReads,
} from './reads.ts';
export { Shard } from './shard.ts';
export { ID_SPAN, Topology, venueOfId, WIDE_KINDS } from './topology.ts';
export {
  type CommandEvents,
  commandEventsOf,
  COMMANDS_FORMAT,
  EVENTS_FORMAT,
  type EventMessage,
  eventsOf,
  FORMAT_HEADER,
  formatHeaders,
  REF_HEADER,
} from './wire-format.ts';
