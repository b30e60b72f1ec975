/**
 * Account limits over the gateways of a cluster. Each gateway reports, a few times a second,
 * the messages each account sent through it and the sessions each account has logged in there;
 * every other gateway charges those messages to the account's bucket and counts those sessions
 * against its session limit. Reports carry sessions as counts (not changes), those that changed
 * since the previous report, and all of them every `fullEvery`-th report; a gateway's count is
 * forgotten when it has not been reported for `ttlMs` (the gateway stopped), so nothing depends
 * on a report arriving. Orders need none of this: every gateway sees every command.
 */
import { randomUUID } from 'node:crypto';
import { MAX_ACCOUNT_CHARS } from './auth/index.ts';
import { makeError } from './errors.ts';
import type { Limits } from './limits.ts';

/** What one gateway's clients did, as sent to the others (JSON). */
export interface LimitReport {
  /** The reporting gateway (an id it draws at start). */
  gateway: string;
  /** Messages each account sent since the previous report. */
  messages: Record<string, number>;
  /** Sessions each account has logged in now (0: none any more). */
  sessions: Record<string, number>;
}

export interface LimitSharingOptions {
  /** Entries (accounts) per report at most: more are sent as several reports. */
  perReport?: number;
  /** Every how many reports all sessions are reported, not only those that changed. */
  fullEvery?: number;
  /** How long a gateway's sessions count without being reported again. */
  ttlMs?: number;
  now?: () => number;
}

const MAX_COUNT = 1_000_000_000;
const MAX_ENTRIES = 10_000;

export class LimitSharing {
  /** This gateway, in its reports. */
  readonly id = randomUUID();
  /** Messages other gateways reported, since start. */
  peerMessages = 0;
  readonly #limits: Limits;
  readonly #sessions: () => Iterable<[string, number]>;
  readonly #perReport: number;
  readonly #fullEvery: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** The session counts last reported, by account. */
  #reported = new Map<string, number>();
  #reports = 0;
  /** Sessions other gateways reported: by account, by gateway, with when. */
  readonly #elsewhere = new Map<string, Map<string, { count: number; at: number }>>();

  constructor(limits: Limits, sessions: () => Iterable<[string, number]>, o: LimitSharingOptions = {}) {
    this.#limits = limits;
    this.#sessions = sessions;
    this.#perReport = o.perReport ?? 2_000;
    this.#fullEvery = o.fullEvery ?? 20;
    this.#ttlMs = o.ttlMs ?? 12_000;
    this.#now = o.now ?? Date.now;
    limits.sessionsElsewhere = (account) => this.#sessionsOf(account, this.#now());
  }

  /** Sessions logged in at other gateways, as they last reported. */
  get peerSessions(): number {
    const now = this.#now();
    let n = 0;
    for (const account of this.#elsewhere.keys()) n += this.#sessionsOf(account, now);
    return n;
  }

  /**
   * The reports to send now (none when nothing changed and no full report is due); forgets
   * the sessions of gateways that went silent.
   */
  reports(): LimitReport[] {
    const now = this.#now();
    this.#expire(now);
    const full = this.#reports++ % this.#fullEvery === 0;
    const current = new Map(this.#sessions());
    const sessions: Array<[string, number]> = [];
    for (const [account, count] of current) {
      if (full || this.#reported.get(account) !== count) sessions.push([account, count]);
    }
    for (const account of this.#reported.keys()) if (!current.has(account)) sessions.push([account, 0]);
    this.#reported = current;
    const messages = [...this.#limits.takeMessages()];
    if (!full && messages.length === 0 && sessions.length === 0) return [];
    const reports: LimitReport[] = [];
    for (let m = 0, s = 0; reports.length === 0 || m < messages.length || s < sessions.length;) {
      const mEnd = Math.min(messages.length, m + this.#perReport);
      const sEnd = Math.min(sessions.length, s + this.#perReport - (mEnd - m));
      reports.push({
        gateway: this.id,
        messages: Object.fromEntries(messages.slice(m, mEnd)),
        sessions: Object.fromEntries(sessions.slice(s, sEnd)),
      });
      [m, s] = [mEnd, sEnd];
    }
    return reports;
  }

  /**
   * Takes another gateway's report (its own are ignored); a malformed one throws, naming what
   * is wrong, and changes nothing.
   */
  receive(value: unknown): void {
    const report = parseReport(value);
    if (report.gateway === this.id) return;
    const now = this.#now();
    for (const [account, n] of Object.entries(report.messages)) {
      this.#limits.countMessages(account, n);
      this.peerMessages += n;
    }
    for (const [account, count] of Object.entries(report.sessions)) {
      let byGateway = this.#elsewhere.get(account);
      if (count === 0) {
        byGateway?.delete(report.gateway);
        if (byGateway?.size === 0) this.#elsewhere.delete(account);
        continue;
      }
      if (byGateway === undefined) {
        byGateway = new Map();
        this.#elsewhere.set(account, byGateway);
      }
      byGateway.set(report.gateway, { count, at: now });
    }
  }

  #sessionsOf(account: string, now: number): number {
    let n = 0;
    for (const { count, at } of this.#elsewhere.get(account)?.values() ?? []) {
      if (now - at <= this.#ttlMs) n += count;
    }
    return n;
  }

  #expire(now: number): void {
    for (const [account, byGateway] of this.#elsewhere) {
      for (const [gateway, { at }] of byGateway) if (now - at > this.#ttlMs) byGateway.delete(gateway);
      if (byGateway.size === 0) this.#elsewhere.delete(account);
    }
  }
}

/** A report as another gateway sent it, checked field by field. */
export function parseReport(value: unknown): LimitReport {
  const bad = (what: string) => makeError(`limit report: ${what}`, 'BAD_MESSAGE');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not an object');
  const { gateway, messages, sessions, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw bad(`unknown field "${extra[0]}"`);
  if (typeof gateway !== 'string' || gateway.length === 0 || gateway.length > 64) {
    throw bad('"gateway" must be a string of 1 to 64 characters');
  }
  return { gateway, messages: counts('messages', messages, 1), sessions: counts('sessions', sessions, 0) };

  function counts(field: string, v: unknown, min: number): Record<string, number> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`"${field}" must be an object`);
    const entries = Object.entries(v);
    if (entries.length > MAX_ENTRIES) throw bad(`"${field}" has more than ${MAX_ENTRIES} accounts`);
    for (const [account, n] of entries) {
      if (account.length === 0 || [...account].length > MAX_ACCOUNT_CHARS) {
        throw bad(
          `"${field}" names an account of ${[...account].length} characters (1 to ${MAX_ACCOUNT_CHARS})`,
        );
      }
      if (!Number.isSafeInteger(n) || (n as number) < min || (n as number) > MAX_COUNT) {
        throw bad(`"${field}.${account}" must be an integer from ${min} to ${MAX_COUNT}`);
      }
    }
    return Object.fromEntries(entries) as Record<string, number>;
  }
}
