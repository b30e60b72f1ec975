/**
 * What one client may cost the gateway, beyond each session's own token bucket: connections per
 * address, login challenges and login attempts per address, and messages and orders per
 * account over all its sessions. Each refusal is counted by limit for `/metrics`, and each
 * table forgets a key once it costs nothing any more (no connection left, a bucket full again),
 * so the tables hold only the clients active in the last seconds.
 */
import { isIPv6 } from 'node:net';
import type { GatewayConfig } from './config.ts';
import { makeError } from './errors.ts';
import { TokenBucket } from './token-bucket.ts';

export type Limit =
  | 'session'
  | 'account'
  | 'accountOrders'
  | 'challenge'
  | 'login'
  | 'sessionsPerAccount'
  | 'connectionsPerAddress'
  | 'maxConnections';

/** Why the server closed a connection. */
export type CloseReason = 'slowConsumer' | 'loginTimeout' | 'pingTimeout' | 'rateLimited';

/**
 * The key an address is limited by: an IPv4 address as it is, an IPv6 address by its /64 (one
 * host usually holds a whole /64), an IPv4-mapped IPv6 address as the IPv4 one.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Token buckets by key, each made full at first use and forgotten once full again. */
class Buckets {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #rate: number;
  readonly #burst: number;

  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** 0 if `key` may go on, else the milliseconds until it may. */
  take(key: string, now: number): number {
    return this.#of(key, now).take(now);
  }

  /** Takes `n` tokens spent elsewhere from `key`'s bucket (see TokenBucket.charge). */
  charge(key: string, n: number, now: number): void {
    this.#of(key, now).charge(n, now);
  }

  #of(key: string, now: number): TokenBucket {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#rate, this.#burst, now);
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Forgets the buckets that are full again: they would behave as new ones. */
  sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full(now)) this.#buckets.delete(key);
  }
}

export class Limits {
  readonly settings: GatewayConfig['limits'];
  /** Refusals by limit, since start. */
  readonly refused: Record<Limit, number> = {
    session: 0,
    account: 0,
    accountOrders: 0,
    challenge: 0,
    login: 0,
    sessionsPerAccount: 0,
    connectionsPerAddress: 0,
    maxConnections: 0,
  };
  /** Connections the server closed, by why. */
  readonly closed: Record<CloseReason, number> = {
    slowConsumer: 0,
    loginTimeout: 0,
    pingTimeout: 0,
    rateLimited: 0,
  };
  /** Bytes written to connections and not yet taken, over all of them, at the last check. */
  unsentBytes = 0;
  /** The most `unsentBytes` has been since start. */
  unsentPeak = 0;
  readonly #connections = new Map<string, number>();
  #connectionCount = 0;
  readonly #challenges: Buckets;
  readonly #logins: Buckets;
  readonly #accountMessages: Buckets;
  readonly #accountOrders: Buckets;
  readonly #now: () => number;
  /** Each account's messages since `takeMessages` last asked; null until a cluster asks. */
  #counted: Map<string, number> | null = null;
  /** Sessions of `account` logged in at other gateways (a cluster's; none on its own). */
  sessionsElsewhere: (account: string) => number = () => 0;

  constructor(settings: GatewayConfig['limits'], now: () => number = Date.now) {
    this.settings = settings;
    this.#now = now;
    this.#challenges = new Buckets(settings.challengesPerSecond, settings.challengeBurst);
    this.#logins = new Buckets(settings.loginsPerSecond, settings.loginBurst);
    this.#accountMessages = new Buckets(settings.accountMessagesPerSecond, settings.accountBurst);
    this.#accountOrders = new Buckets(settings.accountOrdersPerSecond, settings.accountOrderBurst);
  }

  /** Connections open now. */
  get connections(): number {
    return this.#connectionCount;
  }

  /** Keys held in the tables (for tests: they must shrink back once clients go). */
  get tracked(): number {
    return (
      this.#connections.size +
      this.#challenges.size +
      this.#logins.size +
      this.#accountMessages.size +
      this.#accountOrders.size
    );
  }

  /**
   * Takes a connection slot for `address`: null if it may connect, else the HTTP status and
   * text that refuse it (503 when the server is full, 429 when the address has its share).
   */
  connect(address: string): { status: number; text: string } | null {
    if (this.#connectionCount >= this.settings.maxConnections) {
      this.refused.maxConnections++;
      return { status: 503, text: 'Service Unavailable' };
    }
    const held = this.#connections.get(address) ?? 0;
    if (held >= this.settings.connectionsPerAddress) {
      this.refused.connectionsPerAddress++;
      return { status: 429, text: 'Too Many Requests' };
    }
    this.#connections.set(address, held + 1);
    this.#connectionCount++;
    return null;
  }

  /** Gives back a slot `connect` took. */
  disconnect(address: string): void {
    const held = this.#connections.get(address);
    if (held === undefined) return;
    this.#connectionCount--;
    if (held <= 1) this.#connections.delete(address);
    else this.#connections.set(address, held - 1);
  }

  /** Throws RATE_LIMITED when `address` asked for too many login challenges. */
  challenge(address: string): void {
    const { challengesPerSecond: rate, challengeBurst: burst } = this.settings;
    this.#check(
      this.#challenges.take(address, this.#now()),
      'challenge',
      `${rate} login challenges/s (burst ${burst}) from one address`,
    );
  }

  /** Throws RATE_LIMITED when `address` tried too many logins (each a signature check). */
  login(address: string): void {
    const { loginsPerSecond: rate, loginBurst: burst } = this.settings;
    this.#check(
      this.#logins.take(address, this.#now()),
      'login',
      `${rate} logins/s (burst ${burst}) from one address`,
    );
  }

  /** Throws RATE_LIMITED when `account` sent too many messages over all its sessions. */
  accountMessage(account: string): void {
    const { accountMessagesPerSecond: rate, accountBurst: burst } = this.settings;
    if (this.#counted !== null) this.#counted.set(account, (this.#counted.get(account) ?? 0) + 1);
    this.#check(
      this.#accountMessages.take(account, this.#now()),
      'account',
      `${rate} messages/s (burst ${burst}) per account over all its sessions`,
    );
  }

  /** Throws RATE_LIMITED when `account` sent too many orders, cancels and replaces. */
  accountOrder(account: string): void {
    const { accountOrdersPerSecond: rate, accountOrderBurst: burst } = this.settings;
    this.#check(
      this.#accountOrders.take(account, this.#now()),
      'accountOrders',
      `${rate} orders, cancels and replaces/s (burst ${burst}) per account`,
    );
  }

  /** Counts an order of `account` sent elsewhere (another gateway): it uses the same allowance. */
  countOrder(account: string): void {
    this.#accountOrders.charge(account, 1, this.#now());
  }

  /** Counts `n` messages `account` sent elsewhere (another gateway): they use the same allowance. */
  countMessages(account: string, n: number): void {
    this.#accountMessages.charge(account, n, this.#now());
  }

  /**
   * Each account's messages since the last call (the first call starts counting), for the other
   * gateways of a cluster.
   */
  takeMessages(): Map<string, number> {
    const counted = this.#counted ?? new Map<string, number>();
    this.#counted = new Map();
    return counted;
  }

  /**
   * Throws TOO_MANY_SESSIONS when `account`, with `open` sessions here and those other gateways
   * reported, may not open one more.
   */
  session(account: string, open: number): void {
    const all = open + this.sessionsElsewhere(account);
    if (all < this.settings.sessionsPerAccount) return;
    this.refused.sessionsPerAccount++;
    throw makeError(
      `this account has ${all} sessions logged in, the most it may have: close one first`,
      'TOO_MANY_SESSIONS',
      { sessionsPerAccount: this.settings.sessionsPerAccount },
    );
  }

  /** A session's own bucket refused a message: counted with the others. */
  sessionLimited(): void {
    this.refused.session++;
  }

  /** The connections' unsent bytes now (checked a few times a second). */
  unsent(total: number): void {
    this.unsentBytes = total;
    if (total > this.unsentPeak) this.unsentPeak = total;
  }

  /** Forgets the buckets of clients that went quiet (called about once a second). */
  sweep(): void {
    const now = this.#now();
    for (const buckets of [this.#challenges, this.#logins, this.#accountMessages, this.#accountOrders]) {
      buckets.sweep(now);
    }
  }

  #check(wait: number, limit: Limit, what: string): void {
    if (wait === 0) return;
    this.refused[limit]++;
    throw makeError(`rate limit of ${what} exceeded; retry in ${wait} ms`, 'RATE_LIMITED', {
      retryAfterMs: wait,
    });
  }
}
