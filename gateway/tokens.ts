/**
 * Bearer tokens for REST: a login (over WebSocket or REST) yields a random token that stands for
 * the identity for `ttlMs`. At most `max` live tokens are kept (the oldest go first), so memory
 * stays bounded whatever clients do.
 */
import crypto from 'node:crypto';
import { makeError } from './errors.ts';
import { makeRoom } from '../common/index.ts';

export interface Holder {
  account: string;
  memberNames: string[];
  expiresAt: number;
}

export class Tokens {
  #tokens = new Map<string, Holder>();
  #ttlMs: number;
  #max: number;

  constructor(ttlMs = 3_600_000, max = 100_000) {
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  /** A new token for this account and its member names. */
  issue(account: string, memberNames: string[], now = Date.now()): { token: string; expiresAt: number } {
    const token = crypto.randomBytes(24).toString('base64url');
    const expiresAt = now + this.#ttlMs;
    makeRoom(this.#tokens, this.#max);
    this.#tokens.set(token, { account, memberNames, expiresAt });
    return { token, expiresAt };
  }

  /**
   * The holder of an `Authorization: Bearer <token>` header; throws AUTH_REQUIRED otherwise. The
   * scheme is case-insensitive and parted from the token by one or more spaces (RFC 7235), so
   * `bearer <token>` from a client library counts too.
   */
  holder(header: string | undefined, now = Date.now()): Holder {
    const match = /^bearer +([A-Za-z0-9_-]{16,64})$/i.exec(header ?? '');
    if (match === null) {
      throw makeError(
        'this needs "Authorization: Bearer <token>"; get a token from POST /api/login or the WebSocket login',
        'AUTH_REQUIRED',
      );
    }
    const h = this.#tokens.get(match[1]!);
    if (h === undefined || h.expiresAt <= now) {
      if (h !== undefined) this.#tokens.delete(match[1]!);
      throw makeError('the bearer token is unknown or expired; log in again', 'AUTH_REQUIRED');
    }
    return h;
  }

  /** The holder if a header is given, else undefined (anonymous); a bad header still throws. */
  optional(header: string | undefined, now = Date.now()): Holder | undefined {
    return header === undefined ? undefined : this.holder(header, now);
  }
}
