/**
 * Errors of the gateway: one string-literal code per kind of mistake, one constructor, and the
 * `cause` chain kept. Every message says what was wrong and, where it helps, what to do.
 * Engine rejections are not errors here: they travel as execution reports with the engine's
 * result code.
 */

export type ErrorCode =
  // the wire
  | 'BAD_JSON' // the frame is not valid JSON
  | 'BAD_MESSAGE' // valid JSON that does not match the message schema
  | 'UNKNOWN_OP' // an `op` the protocol does not have
  | 'FRAME_TOO_LARGE' // a frame above the size limit
  | 'BAD_DECIMAL' // a price or quantity that is not a positive decimal on the instrument's grid
  | 'RATE_LIMITED' // a rate limit (session, account, address) is reached; `retryAfterMs` says when to retry
  // identity
  | 'AUTH_REQUIRED' // the operation needs a logged-in session
  | 'AUTH_FAILED' // a login proof that does not verify
  | 'CHALLENGE_EXPIRED' // the login challenge is unknown, used or too old
  | 'ALREADY_LOGGED_IN'
  | 'TOO_MANY_SESSIONS' // the account has as many sessions logged in as it may
  | 'LINKS_UNSUPPORTED' // this exchange takes no identity links (a cluster, so far)
  // what a message names
  | 'UNKNOWN_INSTRUMENT' // no such instrument, or not visible to this session
  | 'UNKNOWN_ASSET' // no such asset, or not visible to this session
  | 'UNKNOWN_CHANNEL'
  | 'UNKNOWN_ORDER' // no such order of this session's account
  | 'DUPLICATE_CLIENT_ORDER_ID' // the account used this client order id before
  | 'NOT_FOUND'
  // the server
  | 'BAD_CONFIG'
  | 'UNAVAILABLE'; // shutting down or not yet ready

export interface GatewayErrorInfo {
  [key: string]: unknown;
}

/** An error with a code, a message that names the problem, and optional details. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly info: GatewayErrorInfo;

  constructor(message: string, code: ErrorCode, info: GatewayErrorInfo = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'GatewayError';
    this.code = code;
    this.info = info;
  }
}

/** Makes a `GatewayError`; `cause` is kept on the chain. */
export function makeError(
  message: string,
  code: ErrorCode,
  info: GatewayErrorInfo = {},
  cause?: unknown,
): GatewayError {
  return new GatewayError(message, code, info, cause);
}

/** Throws a `GatewayError` unless `condition` holds. */
export function assertThat(
  condition: unknown,
  message: string,
  code: ErrorCode,
  info: GatewayErrorInfo = {},
): asserts condition {
  if (!condition) throw makeError(message, code, info);
}

/** Whether `err` is a `GatewayError` (optionally of the given code). */
export function isGatewayError(err: unknown, code?: ErrorCode): err is GatewayError {
  return err instanceof GatewayError && (code === undefined || err.code === code);
}
