/**
 * cluster/: the exchange spread over processes on NATS JetStream. Each engine shard owns the
 * venues configured for it; its command stream is its journal (senders' ids are JetStream
 * message ids, so a message sent twice is applied once; a gateway sends the commands of a turn
 * together) and its event stream carries each command message's events, and each account's events go on a subject of their own. Gateways hold
 * no engine: they follow their sessions' accounts (AccountFeed) and ask the shards for reads
 * (ShardReads). Daemons follow the command stream into an engine of their own: the engine is
 * deterministic, so every follower agrees.
 */
export { AccountFeed, type AccountBatch } from './account-feed.ts';
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
export { type AccountState, type InstrumentState, type ShardOverview, ShardReads } from './reads.ts';
export { Shard } from './shard.ts';
export { ID_SPAN, Topology, venueOfId } from './topology.ts';
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
