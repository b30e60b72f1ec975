/**
 * Errors of the settlement connectors: one string-literal code per kind of failure, each marked
 * `retryable` (the daemon tries the batch again with backoff: a node that does not answer, a fee
 * above the cap, a transaction not committed) or `permanent` (trying again cannot help until
 * someone changes something: the ledger refuses the daemon's identity as its operator, a
 * setting names a chain or contract that is not there). A permanent failure stops the daemon
 * with the error, instead of it retrying for ever.
 */
import { type CodedError, errorMaker, type Retry } from '../common/index.ts';

const RETRY = {
  // the ledger, as the daemon sees it while it runs
  LEDGER_UNREACHABLE: 'retryable', // the node or peer does not answer
  BATCH_REFUSED: 'retryable', // the node refused the batch transaction (not for a permanent reason)
  BATCH_REVERTED: 'retryable', // the batch transaction failed on the ledger (not for a permanent reason)
  NOT_COMMITTED: 'retryable', // a Fabric transaction was ordered but not committed valid
  FEE_CAP: 'retryable', // the fee the chain asks is above the configured cap
  NONCE_LOST: 'retryable', // the operator's transactions keep losing their nonce
  NOT_FINAL: 'retryable', // a block, verdict or listing the daemon needs is not there yet
  NOT_READY: 'retryable', // a program the connector started did not say it was ready
  // the daemon's identity or setup: no retry helps
  NOT_OPERATOR: 'permanent', // the ledger refuses the daemon's key or identity as its operator
  BAD_SETUP: 'permanent', // settings, contracts or certificates that cannot work
  LEDGER_CHANGED: 'permanent', // the ledger is not the one the daemon recorded (went back, or another one)
  BAD_PROGRESS: 'permanent', // the daemon's own records disagree with what it is told
} as const satisfies Record<string, Retry>;

export type ConnectorErrorCode = keyof typeof RETRY;

export type ConnectorError = CodedError<ConnectorErrorCode>;

/** Makes a connector error; whether it is retryable follows from its code. */
export const makeError = errorMaker<ConnectorErrorCode>(RETRY);
