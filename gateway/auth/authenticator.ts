/**
 * The login flow: hand out a challenge, then turn one signed proof of it into an identity and
 * an account name. Scheme details live in `evm.ts` and `x509.ts`; this file owns the nonce
 * lifecycle and the options.
 */
import { getAddress } from 'ethers';
import { makeError } from '../errors.ts';
import { type Challenge, ChallengeTable, loginMessage, loginTypedData } from './challenge.ts';
import { verifyEvm } from './evm.ts';
import type { Identity, LoginProof, NamedIdentity } from './identity.ts';
import { type MspConfig, MspRegistry } from './x509.ts';

/** How the gateway authenticates. */
export interface AuthOptions {
  /** The Fabric MSPs whose members may log in; empty for an EVM-only venue. */
  msps: MspConfig[];
  /** How long a challenge stays good, in ms; default 60 000 (docs/ws-protocol.md). */
  ttlMs?: number;
  /** The clock, Unix ms; injectable so tests can expire challenges and certificates. */
  now?: () => number;
  /** The EIP-712 domain name and first word of the text challenge; default 'Mosaic'. */
  domainName?: string;
  /**
   * Most outstanding challenges kept; past it new ones are refused (RATE_LIMITED) until some
   * expire, so a flood of challenge requests costs bounded memory. Default 100 000.
   */
  maxChallenges?: number;
  /** Most outstanding challenges of one address; past it its oldest is dropped. Default 16. */
  perAddress?: number;
}

/** The longest account name; longer ones would not fit the engine's and journals' account fields. */
export const MAX_ACCOUNT_CHARS = 64;

/**
 * Login by signed challenge, for EVM keys (eip191, eip712) and Fabric member certificates
 * (x509). Synchronous and free of I/O: the gateway calls it per message. A nonce is consumed by
 * its first verify attempt, success or not, so a proof can neither be replayed nor retried.
 */
export class Authenticator {
  readonly #challenges: ChallengeTable;
  readonly #msps: MspRegistry;
  readonly #now: () => number;
  readonly #domainName: string;

  /** Throws BAD_CONFIG for a bad option or root certificate, so a misconfigured server does not start. */
  constructor(options: AuthOptions) {
    const ttlMs = options.ttlMs ?? 60_000;
    const maxChallenges = options.maxChallenges ?? 100_000;
    const perAddress = options.perAddress ?? 16;
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      throw makeError(`ttlMs must be a positive integer, not ${ttlMs}`, 'BAD_CONFIG');
    }
    if (!Number.isSafeInteger(maxChallenges) || maxChallenges <= 0) {
      throw makeError(`maxChallenges must be a positive integer, not ${maxChallenges}`, 'BAD_CONFIG');
    }
    if (!Number.isSafeInteger(perAddress) || perAddress <= 0) {
      throw makeError(`perAddress must be a positive integer, not ${perAddress}`, 'BAD_CONFIG');
    }
    this.#domainName = options.domainName ?? 'Mosaic';
    if (this.#domainName.length === 0) throw makeError('domainName must not be empty', 'BAD_CONFIG');
    this.#now = options.now ?? Date.now;
    this.#challenges = new ChallengeTable(ttlMs, maxChallenges, perAddress);
    this.#msps = new MspRegistry(options.msps);
  }

  /** Outstanding challenges; bounded by `maxChallenges`. */
  get outstandingChallenges(): number {
    return this.#challenges.size;
  }

  /**
   * A fresh single-use challenge, good for `ttlMs`, for a client at `address` (callers that do
   * not tell clients apart give none: they share one address's allowance); with `linkTo`, to
   * link the signing identity to that account rather than to log in.
   */
  challenge(address = '', linkTo?: string): Challenge {
    const { nonce, expiresAt } = this.#challenges.issue(this.#now(), address);
    return {
      nonce,
      message: loginMessage(this.#domainName, nonce, expiresAt, linkTo),
      typedData: loginTypedData(this.#domainName, nonce, expiresAt, linkTo),
      expiresAt,
    };
  }

  /**
   * The identity `proof` proves (with `linkTo`: signing the link to that account). Throws
   * CHALLENGE_EXPIRED for an unknown, used or expired nonce and AUTH_FAILED for a proof that does
   * not verify, each naming the problem.
   */
  verify(proof: LoginProof, linkTo?: string): Identity {
    const now = this.#now();
    const expiresAt = this.#challenges.take(proof.nonce, now);
    const message = loginMessage(this.#domainName, proof.nonce, expiresAt, linkTo);
    switch (proof.scheme) {
      case 'eip191':
      case 'eip712':
        return verifyEvm(proof, message, loginTypedData(this.#domainName, proof.nonce, expiresAt, linkTo));
      case 'x509':
        return this.#msps.verify(proof, message, now);
      default: {
        const scheme: unknown = (proof as { scheme: unknown }).scheme;
        throw makeError(
          `login scheme ${JSON.stringify(scheme)} is not one of eip191, eip712, x509`,
          'AUTH_FAILED',
        );
      }
    }
  }

  /**
   * The account an identity trades as: an EVM identity's checksummed address, a Fabric one's
   * `MSPID:CommonName`. Throws AUTH_FAILED when the name is not 1 to 64 characters, so an
   * identity that cannot be named cannot trade.
   */
  accountOf(identity: NamedIdentity): string {
    if (identity.kind === 'evm') {
      try {
        return getAddress(identity.address);
      } catch (err) {
        throw makeError(`address ${identity.address} is not an Ethereum address`, 'AUTH_FAILED', {}, err);
      }
    }
    const account = `${identity.mspId}:${identity.commonName}`;
    const chars = [...account].length;
    if (identity.mspId.length === 0 || identity.commonName.length === 0 || chars > MAX_ACCOUNT_CHARS) {
      throw makeError(
        `account name ${JSON.stringify(account.slice(0, 80))} is ${chars} characters;` +
          ` it must be 1 to ${MAX_ACCOUNT_CHARS} with a non-empty MSP id and common name`,
        'AUTH_FAILED',
        { chars },
      );
    }
    return account;
  }

  /** The identity an account name (as `accountOf` makes them) stands for: an address, or an MSP's member. */
  named(name: string): NamedIdentity {
    if (/^0x[0-9a-fA-F]{40}$/.test(name)) return { kind: 'evm', address: name };
    const colon = name.indexOf(':');
    return { kind: 'fabric', mspId: name.slice(0, colon), commonName: name.slice(colon + 1) };
  }
}
