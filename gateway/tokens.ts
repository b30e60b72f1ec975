/**
 * Bearer tokens: a login (over WebSocket or REST) yields a token that stands for the identity for
 * `ttlMs`, for REST and for a WebSocket login with it (scheme `token`). A token is signed, not
 * stored: its holder (account, member names, expiry) in base64url JSON, a dot, and an HMAC-SHA256
 * of that under the exchange's key. Any gateway holding the key takes it (a cluster's gateways
 * share one: `Exchange.tokenKey`), and memory does not grow with the tokens issued.
 */
import crypto from 'node:crypto';
import { makeError } from './errors.ts';

export interface Holder {
  account: string;
  memberNames: string[];
  expiresAt: number;
  /** The identity that logged in (named as accounts are): the account's own, or one linked to it. */
  identity: string;
}

/** `<holder>.<signature>`: the holder's JSON in base64url (bounded), 43 characters of signature. */
const TOKEN = /^([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/;
/** `Bearer <token>`. */
const BEARER = /^bearer +([A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{43})$/i;

export class Tokens {
  #key: Uint8Array;
  #ttlMs: number;

  constructor(key: Uint8Array, ttlMs = 3_600_000) {
    this.#key = key;
    this.#ttlMs = ttlMs;
  }

  /** A new token for this account, its member names, and the identity that logged in. */
  issue(
    account: string,
    memberNames: string[],
    identity: string,
    now = Date.now(),
  ): { token: string; expiresAt: number } {
    const expiresAt = now + this.#ttlMs;
    const holder = Buffer.from(JSON.stringify([account, memberNames, expiresAt, identity])).toString(
      'base64url',
    );
    return { token: `${holder}.${this.#sign(holder)}`, expiresAt };
  }

  /**
   * The holder of an `Authorization: Bearer <token>` header; throws AUTH_REQUIRED otherwise. The
   * scheme is case-insensitive and parted from the token by one or more spaces (RFC 7235), so
   * `bearer <token>` from a client library counts too.
   */
  holder(header: string | undefined, now = Date.now()): Holder {
    const match = BEARER.exec(header ?? '');
    if (match === null) {
      throw makeError(
        'this needs "Authorization: Bearer <token>"; get a token from POST /api/login or the WebSocket login',
        'AUTH_REQUIRED',
      );
    }
    return this.verify(match[1]!, now);
  }

  /** The holder a token names, if this key signed it and it has not expired; throws AUTH_REQUIRED otherwise. */
  verify(token: string, now = Date.now()): Holder {
    const match = TOKEN.exec(token);
    const h = match === null ? undefined : this.#verified(match[1]!, match[2]!);
    if (h === undefined || h.expiresAt <= now) {
      throw makeError('the bearer token is unknown or expired; log in again', 'AUTH_REQUIRED');
    }
    return h;
  }

  /** The holder if a header is given, else undefined (anonymous); a bad header still throws. */
  optional(header: string | undefined, now = Date.now()): Holder | undefined {
    return header === undefined ? undefined : this.holder(header, now);
  }

  #sign(holder: string): string {
    return crypto.createHmac('sha256', this.#key).update(holder).digest('base64url');
  }

  /** The holder a token names if the signature is this key's, else undefined. */
  #verified(holder: string, signature: string): Holder | undefined {
    const expected = Buffer.from(this.#sign(holder));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(holder, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    // Tokens from before links name no identity: the account's own.
    if (!Array.isArray(parsed) || parsed.length < 3 || parsed.length > 4) return undefined;
    const [account, memberNames, expiresAt, identity = account] = parsed as [
      unknown,
      unknown,
      unknown,
      unknown,
    ];
    if (typeof account !== 'string' || typeof expiresAt !== 'number' || typeof identity !== 'string')
      return undefined;
    if (!Array.isArray(memberNames) || !memberNames.every((n) => typeof n === 'string')) return undefined;
    return { account, memberNames, expiresAt, identity };
  }
}
