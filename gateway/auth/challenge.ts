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
  types: { Login: Array<{ name: string; type: string }> } | { Link: Array<{ name: string; type: string }> };
  /** `Login`; `Link` for a challenge to link the key to an account, which then names it. */
  primaryType: 'Login' | 'Link';
  /** `expires` is the expiry in Unix milliseconds (a uint256). */
  message: { nonce: string; expires: number } | { account: string; nonce: string; expires: number };
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

/**
 * The text signed by eip191 and x509: readable in a wallet prompt, and naming nonce and expiry;
 * to link the key to an account (`linkTo`), naming the account too, so that a login's signature
 * cannot serve as a link's, nor a link's to one account as a link's to another.
 */
export function loginMessage(domainName: string, nonce: string, expiresAt: number, linkTo?: string): string {
  const head =
    linkTo === undefined
      ? `${domainName} login\nSign to prove you hold this key. It moves no assets and costs nothing.\n`
      : `${domainName} link\nSign to link this key to the account ${linkTo}, which may then trade and settle as it. It moves no assets and costs nothing.\n`;
  return `${head}nonce: ${nonce}\nexpires: ${new Date(expiresAt).toISOString()}`;
}

/** The typed data signed by eip712 (for a link, naming the account); built afresh each time so that callers cannot alter a shared copy. */
export function loginTypedData(
  domainName: string,
  nonce: string,
  expiresAt: number,
  linkTo?: string,
): LoginTypedData {
  const domain = { name: domainName, version: '1' as const };
  if (linkTo === undefined) {
    return {
      domain,
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
  return {
    domain,
    types: {
      Link: [
        { name: 'account', type: 'string' },
        { name: 'nonce', type: 'string' },
        { name: 'expires', type: 'uint256' },
      ],
    },
    primaryType: 'Link',
    message: { account: linkTo, nonce, expires: expiresAt },
  };
}

/**
 * Outstanding nonces, their expiry and the address that asked for each. Memory stays bounded
 * without one client able to push out another's challenge: each address keeps only its
 * `perAddress` most recent ones (its older ones are dropped to make room), expired entries are
 * swept on every call (oldest first, so a sweep stops at the first live one), and when the
 * table holds `capacity` a new challenge is refused (RATE_LIMITED) rather than another's dropped.
 */
export class ChallengeTable {
  /** nonce -> expiry and address; a Map iterates in insertion order, which is age order. */
  readonly #entries = new Map<string, { expiresAt: number; address: string }>();
  /** address -> its outstanding nonces, oldest first. */
  readonly #byAddress = new Map<string, string[]>();
  readonly #ttlMs: number;
  readonly #capacity: number;
  readonly #perAddress: number;

  constructor(ttlMs: number, capacity: number, perAddress: number) {
    this.#ttlMs = ttlMs;
    this.#capacity = capacity;
    this.#perAddress = perAddress;
  }

  /** Outstanding nonces (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** Addresses with outstanding nonces (for tests: none are kept for nothing). */
  get addresses(): number {
    return this.#byAddress.size;
  }

  /** A fresh nonce good until `now + ttl`, for a client at `address`. */
  issue(now: number, address: string): { nonce: string; expiresAt: number } {
    this.#sweep(now);
    const mine = this.#byAddress.get(address) ?? [];
    while (mine.length >= this.#perAddress) this.#entries.delete(mine.shift()!);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.values().next().value!;
      const retryAfterMs = Math.max(1, oldest.expiresAt - now + 1);
      throw makeError(
        `the server holds as many login challenges as it may (${this.#capacity}); retry in ${retryAfterMs} ms`,
        'RATE_LIMITED',
        { retryAfterMs },
      );
    }
    const nonce = randomBytes(32).toString('hex');
    const expiresAt = now + this.#ttlMs;
    this.#entries.set(nonce, { expiresAt, address });
    mine.push(nonce);
    this.#byAddress.set(address, mine);
    return { nonce, expiresAt };
  }

  /**
   * Consumes `nonce` and returns its expiry. Throws CHALLENGE_EXPIRED when it is unknown, used
   * or expired; either way it cannot be tried again.
   */
  take(nonce: unknown, now: number): number {
    const entry = typeof nonce === 'string' ? this.#entries.get(nonce) : undefined;
    if (entry !== undefined) this.#forget(nonce as string, entry.address);
    this.#sweep(now);
    if (entry === undefined) {
      throw makeError(
        `login nonce ${describe(nonce)} is unknown, already used or expired: ask for a new challenge`,
        'CHALLENGE_EXPIRED',
      );
    }
    if (now > entry.expiresAt) {
      throw makeError(
        `the login challenge expired at ${new Date(entry.expiresAt).toISOString()}: ask for a new challenge`,
        'CHALLENGE_EXPIRED',
        { expiresAt: entry.expiresAt },
      );
    }
    return entry.expiresAt;
  }

  #forget(nonce: string, address: string): void {
    this.#entries.delete(nonce);
    const mine = this.#byAddress.get(address);
    if (mine === undefined) return;
    const i = mine.indexOf(nonce);
    if (i >= 0) mine.splice(i, 1);
    if (mine.length === 0) this.#byAddress.delete(address);
  }

  #sweep(now: number): void {
    for (const [nonce, { expiresAt, address }] of this.#entries) {
      if (expiresAt >= now) break;
      this.#forget(nonce, address);
    }
  }
}

/** A short, safe rendering of a client-supplied nonce for an error message. */
function describe(nonce: unknown): string {
  if (typeof nonce !== 'string') return `(a ${typeof nonce}, not a string)`;
  return JSON.stringify(nonce.length > 16 ? `${nonce.slice(0, 16)}…` : nonce);
}
