/**
 * gateway/feed/: market data channels of the WebSocket protocol (docs/ws-protocol.md, from
 * "Channels and market data" to "Slow consumers"): L2 books of depth N with checksums, trades,
 * ticker and consolidated books across venues, each with its own gap-free sequence, a retention
 * ring for `fromSeq`, heartbeats and slow-consumer conflation. Fed by the durable engine's
 * published events; knows nothing of `ws` (a connection is a `FeedClient`). The only door.
 */
export type { FeedClient, FeedOptions } from './client.ts';
export { bookChecksum, crc32 } from './checksum.ts';
export { type BookSeed, MarketData, type MarketSource } from './market-data.ts';
export { DEPTHS } from './names.ts';
