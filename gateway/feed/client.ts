/**
 * What the feed needs of one connection, so that it does not depend on `ws` (the gateway adapts
 * a WebSocket to it) and tests can stand in for one.
 */

/** One WebSocket connection as the feed sees it. */
export interface FeedClient {
  /** Sends a complete JSON text message. The same Buffer goes to many clients: never modify it. */
  send(frame: Buffer): void;
  /** Bytes queued but not yet sent: how the feed tells a slow consumer. */
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

/** The feed's tunables. */
export interface FeedOptions {
  /** Update frames kept per channel to serve `fromSeq` (default 10,000). */
  retain?: number;
  /** A channel idle this long sends a heartbeat (default 1,000 ms). */
  heartbeatMs?: number;
  /** Above this many buffered bytes a client's channels are conflated (default 4 MiB). */
  slowBytes?: number;
  /** Above this many buffered bytes a client is closed with 1008 (default 64 MiB). */
  hardBytes?: number;
  /**
   * Buffered bytes allowed over all clients together (default 64 MiB): with many clients, each
   * one's slow threshold is its share, when that is below `slowBytes`.
   */
  totalBytes?: number;
  /** The clock, in ms (default `Date.now`). */
  now?: () => number;
  /** Trades kept per instrument for snapshots and REST (default 50). */
  trades?: number;
  /** Candles kept per instrument and interval, once asked for, for snapshots (default 200; at least 1). */
  candles?: number;
  /**
   * A source that follows instruments on first use stops following one that no subscription and
   * no REST read used for this long (default 60,000 ms).
   */
  lingerMs?: number;
}
