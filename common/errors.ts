/**
 * A coded error that says whether trying again can help. Each folder keeps its own list of codes
 * (connectors/errors.ts, cluster/errors.ts, journal/errors.ts) and one `makeError` over this
 * class; what is shared is the shape: a string-literal code, a message that names what was wrong
 * and what to do, details in `info`, the `cause` chain kept, and `retryable` for whoever decides
 * whether to try again (a ledger that timed out: yes; a contract refusing the caller: never).
 */

/** `retryable`: the same call may succeed later; `permanent`: it never will until someone fixes something. */
export type Retry = 'retryable' | 'permanent';

export interface ErrorInfo {
  [key: string]: unknown;
}

/** An error with a code, whether to try again, and optional details. */
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly retry: Retry;
  readonly info: ErrorInfo;

  constructor(message: string, code: Code, retry: Retry, info: ErrorInfo = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CodedError';
    this.code = code;
    this.retry = retry;
    this.info = info;
  }

  get retryable(): boolean {
    return this.retry === 'retryable';
  }
}

/**
 * Makes a folder's `makeError`: `retryOf` tells, per code, whether an error of that code is worth
 * trying again, so that a call site names only the code.
 */
export function errorMaker<Code extends string>(
  retryOf: Readonly<Record<Code, Retry>>,
): (message: string, code: Code, info?: ErrorInfo, cause?: unknown) => CodedError<Code> {
  return (message, code, info = {}, cause) => new CodedError(message, code, retryOf[code], info, cause);
}

/** Whether `err` is a `CodedError` (of the code given, if one is). */
export function isCodedError<Code extends string>(err: unknown, code?: Code): err is CodedError<Code> {
  return err instanceof CodedError && (code === undefined || err.code === code);
}

/**
 * Whether trying again may help: no for a `CodedError` marked permanent (anywhere on the cause
 * chain, so that a wrapper does not hide it), yes for anything else, since an error nobody
 * classified (a socket reset, a timeout) is the kind that goes away.
 */
export function isRetryable(err: unknown): boolean {
  return permanentCause(err) === null;
}

/** The first `CodedError` marked permanent on `err`'s cause chain, or null. */
export function permanentCause(err: unknown): CodedError | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof CodedError && e.retry === 'permanent') return e;
  }
  return null;
}
