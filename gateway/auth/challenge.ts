/**
 * Login challenges: single-use random nonces with an expiry, and the two renderings a client
 * signs (a text for eip191 and x509, typed data for eip712). The table keeps only what it needs
 * to rebuild both at verify time (nonce and expiry), so a client cannot smuggle in its own text.
 */
import { randomBytes } from 'node:crypto';
import { makeError } from '../errors.ts';

/** The EIP-712 rendering of a challenge, in the shape ethers' `signTypedData` takes. */
export interface LoginTypedData {
  /**
   * No `chainId` or `verifyingContract`: a login binds a key to a session, not to a chain or a
   * contract, and a chain id would make wallets insist on switching networks. Replay across
   * servers is stopped by the single-use nonce instead.
   */
  domain: { name: string; version: '1' };
  /** Without `EIP712Domain`, as ethers wants; `eth_signTypedData_v4` callers add it. */
  types: { Login: Array<{ name: string; type: string }> };
  primaryType: 'Login';
  /** `expires` is the expiry in Unix milliseconds (a uint256). */
  message: { nonce: string; expires: number };
}

/** What the server sends in answer to `{"op":"challenge"}`. */
export interface Challenge {
  /** 32 random bytes, hex. */
  nonce: string;
  /** The text to sign for eip191 and x509. */
  message: string;
  /** The typed data to sign for eip712. */
  typedData: LoginTypedData;
  /** Unix milliseconds after which the nonce is refused. */
  expiresAt: number;
}

/** The text signed by eip191 and x509: readable in a wallet prompt, and naming nonce and expiry. */
export function loginMessage(domainName: string, nonce: string, expiresAt: number): string {
  return (
    `${domainName} login\n` +
    'Sign to prove you hold this key. It moves no assets and costs nothing.\n' +
    `nonce: ${nonce}\n` +
    `expires: ${new Date(expiresAt).toISOString()}`
  );
}

/** The typed data signed by eip712; built afresh each time so that callers cannot alter a shared copy. */
export function loginTypedData(domainName: string, nonce: string, expiresAt: number): LoginTypedData {
  return {
    domain: { name: domainName, version: '1' },
    types: {
      Login: [
        { name: 'nonce', type: 'string' },
        { name: 'expires', type: 'uint256' },
      ],
    },
    primaryType: 'Login',
    message: { nonce, expires: expiresAt },
  };
}

/**
 * Outstanding nonces and their expiry. Memory stays bounded: expired entries are swept on every
 * call (oldest first, so a sweep stops at the first live one), and past `capacity` the oldest
 * outstanding nonce is dropped to make room.
 */
export class ChallengeTable {
  /** nonce -> expiry; a Map iterates in insertion order, which is age order. */
  readonly #expiries = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #capacity: number;

  constructor(ttlMs: number, capacity: number) {
    this.#ttlMs = ttlMs;
    this.#capacity = capacity;
  }

  /** Outstanding nonces (for tests and metrics). */
  get size(): number {
    return this.#expiries.size;
  }

  /** A fresh nonce good until `now + ttl`. */
  issue(now: number): { nonce: string; expiresAt: number } {
    this.#sweep(now);
    while (this.#expiries.size >= this.#capacity) {
      const oldest = this.#expiries.keys().next();
      if (oldest.done === true) break;
      this.#expiries.delete(oldest.value);
    }
    const nonce = randomBytes(32).toString('hex');
    const expiresAt = now + this.#ttlMs;
    this.#expiries.set(nonce, expiresAt);
    return { nonce, expiresAt };
  }

  /**
   * Consumes `nonce` and returns its expiry. Throws CHALLENGE_EXPIRED when it is unknown, used
   * or expired; either way it cannot be tried again.
   */
  take(nonce: unknown, now: number): number {
    const expiresAt = typeof nonce === 'string' ? this.#expiries.get(nonce) : undefined;
    if (expiresAt !== undefined) this.#expiries.delete(nonce as string);
    this.#sweep(now);
    if (expiresAt === undefined) {
      throw makeError(
        `login nonce ${describe(nonce)} is unknown, already used or expired: ask for a new challenge`,
        'CHALLENGE_EXPIRED',
      );
    }
    if (now > expiresAt) {
      throw makeError(
        `the login challenge expired at ${new Date(expiresAt).toISOString()}: ask for a new challenge`,
        'CHALLENGE_EXPIRED',
        { expiresAt },
      );
    }
    return expiresAt;
  }

  #sweep(now: number): void {
    for (const [nonce, expiresAt] of this.#expiries) {
      if (expiresAt >= now) break;
      this.#expiries.delete(nonce);
    }
  }
}

/** A short, safe rendering of a client-supplied nonce for an error message. */
function describe(nonce: unknown): string {
  if (typeof nonce !== 'string') return `(a ${typeof nonce}, not a string)`;
  return JSON.stringify(nonce.length > 16 ? `${nonce.slice(0, 16)}…` : nonce);
}
