/**
 * What the abuse scenario's attacks share: the loopback addresses each party connects from (the
 * gateway limits each address on its own, and Linux routes all of 127/8 to loopback), what an
 * attack is given and what it reports, and a small HTTP client that can bind an address.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { Limits } from './server.ts';

/** Every attacker connects from here. */
export const ATTACKER = '127.0.0.1';
/** The legitimate trader, its `/health` poller and its connection probe. */
export const TRADER = '127.0.0.2';
/** The scenario's own reads (`/metrics`). */
export const OBSERVER = '127.0.0.3';
/** The orders that move the books under the market-data attack. */
export const DRIVER = '127.0.0.4';
/** The new user who, after the faucet flood, waits for its demo balance. */
export const NEWCOMER = '127.0.0.5';

export interface AttackContext {
  /** The WebSocket URL (`ws://…/ws`). */
  url: string;
  /** The HTTP origin (`http://host:port`). */
  httpUrl: string;
  /** How long the attack lasts. */
  seconds: number;
  /** The limits the server runs with. */
  limits: Limits;
  /** Sockets the attack may open at most (the process's file descriptors, less a margin). */
  maxSockets: number;
}

export interface AttackResult {
  /** Frames, requests or connections sent, as `unit` says. */
  sent: number;
  unit: 'frames' | 'requests' | 'connections' | 'logins';
  /** Refusals the attacker saw, by HTTP status (`HTTP 429`), close code (`close 4001`) or error code. */
  refusals: Record<string, number>;
  /** The attack's own figures. */
  detail: Record<string, unknown>;
}

/** Counts `key` in `tally`. */
export function count(tally: Record<string, number>, key: string, n = 1): void {
  tally[key] = (tally[key] ?? 0) + n;
}

/** The median and the highest of `xs`, rounded to whole numbers. */
export function medianMax(xs: number[]): { median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: Math.round(s[Math.floor((s.length - 1) / 2)] ?? 0), max: Math.round(s.at(-1) ?? 0) };
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * One HTTP request from `localAddress`; resolves with the status and body, or status 0 and the
 * error code (`timeout` after `timeoutMs`).
 */
export function httpRequest(
  url: string,
  o: {
    method?: string;
    localAddress: string;
    body?: string;
    headers?: Record<string, string>;
    agent?: http.Agent | false;
    timeoutMs?: number;
  },
): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const headers = { ...o.headers };
    if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(o.body));
    }
    const req = http.request(
      url,
      { method: o.method ?? 'GET', localAddress: o.localAddress, headers, agent: o.agent ?? false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
        res.on('error', () => resolve({ status: 0, body: 'response error' }));
      },
    );
    req.setTimeout(o.timeoutMs ?? 10_000, () =>
      req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })),
    );
    req.on('error', (err) =>
      resolve({ status: 0, body: (err as NodeJS.ErrnoException).code ?? err.message }),
    );
    req.end(o.body);
  });
}

/** The highest number of files this process may open (its soft limit), from /proc. */
export function openFilesLimit(pid: number | 'self' = 'self'): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
    const m = /Max open files\s+(\d+|unlimited)/.exec(text);
    return m === null || m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    return 1024;
  }
}
