/**
 * Errors of the cluster: one string-literal code per kind of failure, each `retryable` (NATS or
 * a shard not answering for now: a leader election, a reconnect) or `permanent` (settings, or
 * streams that do not fit together: restarting the process will not help until someone looks).
 */
import { type CodedError, errorMaker, type Retry } from '../common/index.ts';

const RETRY = {
  UNAVAILABLE: 'retryable', // NATS, JetStream or a shard does not answer (yet)
  OUT_OF_STEP: 'retryable', // the event stream put a command's events at another sequence
  SHARD_REFUSED: 'permanent', // a shard answered a request with an error
  NO_OWNER: 'permanent', // no shard owns the venue (cluster.shards)
  BAD_SETUP: 'permanent', // a setting that does not match the running cluster, or a missing program
  STREAM_GAP: 'permanent', // commands missing from a stream, or a snapshot that does not fit it
  SNAPSHOT_DAMAGED: 'permanent', // a stored snapshot that does not read back
  MISUSE: 'permanent', // a call the code should never make (a second subscriber)
} as const satisfies Record<string, Retry>;

export type ClusterErrorCode = keyof typeof RETRY;

export type ClusterError = CodedError<ClusterErrorCode>;

/** Makes a cluster error; whether it is retryable follows from its code. */
export const makeError = errorMaker<ClusterErrorCode>(RETRY);
