/**
 * common/: what every folder outside the engine shares and nothing else: coded errors that say
 * whether trying again helps, the one retry loop (capped, jittered backoff), and the logger
 * interface subsystems take (pino's shape). It imports nothing of this project's; the only door.
 */
export {
  CodedError,
  errorMaker,
  type ErrorInfo,
  isCodedError,
  isRetryable,
  permanentCause,
  type Retry,
} from './errors.ts';
export { makeRoom } from './bounded.ts';
export { makeOnce } from './files.ts';
export { type ChildLogger, type LogFn, lineLogger, type Logger, silentLogger, stdoutLogger } from './log.ts';
export { Backoff, type BackoffOptions, retry, type RetryOptions, sleep } from './retry.ts';
