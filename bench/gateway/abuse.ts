/**
 * The abuse scenario (issue 21): attacks on the gateway from one address, each for a bounded
 * time on a fresh exchange that runs with its default limits and the demo market maker, while a
 * legitimate trader from another address places and cancels an order every period, `/health`
 * is polled and the server's resident memory is sampled (abuse-watch.ts). Each attack is a row:
 * what it sent, what refused it, the server's memory before, at its peak during and a few
 * seconds after, the trader's round trips during the attack beside those of a quiet period
 * before it, and the server's own counts of refusals and closes (`/metrics`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ATTACKER,
  type AttackContext,
  type AttackResult,
  httpRequest,
  OBSERVER,
  openFilesLimit,
  TRADER,
} from './abuse-common.ts';
import { challengeFlood, newcomerWait, slowBodies } from './abuse-http.ts';
import { type Phase, Watch } from './abuse-watch.ts';
import { faucetFlood, idleSockets, orderFlood, unreadMarketData, unreadReplies } from './abuse-ws.ts';
import { BenchServer, type Limits, type ServerOptions } from './server.ts';

export const ATTACKS = ['unread', 'orders', 'idle', 'slowbody', 'challenges', 'feed', 'faucet'] as const;
export type AttackName = (typeof ATTACKS)[number];

/** Each attack's length in seconds, as the issue sets it (`--seconds` caps them). */
export const ATTACK_SECONDS: Record<AttackName, number> = {
  unread: 40,
  orders: 60,
  idle: 15,
  slowbody: 15,
  challenges: 30,
  feed: 30,
  faucet: 3,
};

/** How many of each the attacks use. */
export interface AbuseSizes {
  floodSessions: number;
  floodFrames: number;
  idleSockets: number;
  slowBodies: number;
  challengeLanes: number;
  feedSockets: number;
  /** Orders a second that move the books under the market-data attack. */
  feedOrdersPerSec: number;
  faucetKeys: number;
}

export const DEFAULT_SIZES: AbuseSizes = {
  floodSessions: 60,
  floodFrames: 1_000_000,
  idleSockets: 10_000,
  slowBodies: 100,
  challengeLanes: 16,
  feedSockets: 500,
  feedOrdersPerSec: 200,
  faucetKeys: 300,
};

export interface AbuseOptions {
  attacks: AttackName[];
  /** Caps each attack's length (the login and request deadlines are waited for in any case). */
  seconds: number | undefined;
  traderPeriodMs: number;
  /** The trader alone before each attack: its quiet round trips and the memory before. */
  quietSeconds: number;
  /** After the attack's sockets closed, before the memory "after" is read. */
  settleSeconds: number;
  sizes: AbuseSizes;
  /** Sampling period of the server's memory. */
  rssEveryMs: number;
  /** The server's own options; the abuse runs keep its default limits, `limits` may set some. */
  server: ServerOptions;
}

/** One attack's row. */
export interface AbuseRow {
  attack: AttackName;
  seconds: number;
  sent: number;
  unit: AttackResult['unit'];
  /** Server RSS, MB: the end of the quiet period, the highest during the attack, the end of the settling. */
  rssMB: { before: number; peak: number; after: number };
  /** The trader's round trips (send to the engine's answer, ms) alone, before the attack. */
  quiet: Phase['trader'];
  /** The same during the attack. */
  trader: Phase['trader'];
  /** `/health` polls during the attack and the settling: over 1 s, and failed otherwise. */
  health: { polls: number; timeouts: number; failures: number; maxMs: number };
  /** New WebSocket connections from the trader's address during the attack. */
  traderConnects: Phase['connects'];
  /** What the attacker saw refuse or close it. */
  refusals: Record<string, number>;
  /** The server's counts (`mosaic_limit_refusals_total`, `mosaic_ws_closed_total`) at the end. */
  /**
   * The server's own counts after the attack: refusals by limit, closes by reason, and the most
   * bytes its connections held unsent at once (its check a few times a second).
   */
  server: { refused: Record<string, number>; closed: Record<string, number>; unsentPeakMB: number };
  detail: Record<string, unknown>;
}

export interface AbuseReport {
  limits: Limits | undefined;
  attackerAddress: string;
  traderAddress: string;
  traderPeriodMs: number;
  /** Files each process may open (`ulimit -n`): the idle-sockets attack is bounded by it. */
  openFiles: { bench: number; server: number };
  rows: AbuseRow[];
}

/** The length of `attack`'s run: its default, capped by `seconds`; a deadline it tests is waited out. */
function lengthOf(attack: AttackName, o: AbuseOptions, limits: Limits): number {
  const capped = Math.min(ATTACK_SECONDS[attack], o.seconds ?? Infinity);
  if (attack === 'idle') return Math.max(capped, limits.loginTimeoutMs / 1000 + 3);
  if (attack === 'slowbody') return Math.max(capped, limits.requestTimeoutMs / 1000 + 3);
  return capped;
}

async function attack(name: AttackName, ctx: AttackContext, s: AbuseSizes): Promise<AttackResult> {
  switch (name) {
    case 'unread':
      return unreadReplies(ctx);
    case 'orders':
      return orderFlood(ctx, s.floodSessions, s.floodFrames);
    case 'idle':
      return idleSockets(ctx, s.idleSockets);
    case 'slowbody':
      return slowBodies(ctx, s.slowBodies);
    case 'challenges':
      return challengeFlood(ctx, s.challengeLanes);
    case 'feed':
      return unreadMarketData(ctx, s.feedSockets, s.feedOrdersPerSec);
    case 'faucet': {
      const r = await faucetFlood(ctx, s.faucetKeys, ctx.seconds * 1000);
      return { ...r, detail: { ...r.detail, nextNewUser: await newcomerWait(ctx.httpUrl) } };
    }
  }
}

/** Runs each attack of `o.attacks` on a fresh server. */
export async function runAbuse(o: AbuseOptions): Promise<AbuseReport> {
  const report: AbuseReport = {
    limits: undefined,
    attackerAddress: ATTACKER,
    traderAddress: TRADER,
    traderPeriodMs: o.traderPeriodMs,
    openFiles: { bench: openFilesLimit(), server: 0 },
    rows: [],
  };
  for (const name of o.attacks) {
    report.rows.push(await row(name, o, report));
  }
  return report;
}

async function row(name: AttackName, o: AbuseOptions, report: AbuseReport): Promise<AbuseRow> {
  const server = await BenchServer.start({ ...o.server, defaultLimits: true, marketMaker: true });
  let watch: Watch | undefined;
  try {
    const limits = server.limits!;
    report.limits = limits;
    report.openFiles.server = openFilesLimit(server.pid);
    const seconds = lengthOf(name, o, limits);
    process.stderr.write(`abuse: ${name} for ${seconds} s\n`);
    watch = await Watch.start({
      url: server.url,
      serverPid: server.pid,
      traderAddress: TRADER,
      periodMs: o.traderPeriodMs,
      rssEveryMs: o.rssEveryMs,
    });
    await sleep(o.quietSeconds * 1000);
    const quiet = await watch.mark();
    const httpUrl = server.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    const ctx: AttackContext = {
      url: server.url,
      httpUrl,
      seconds,
      limits,
      // Room for this process's own files (the watcher's pipes, modules, the driver's sockets).
      maxSockets: Math.min(report.openFiles.bench, report.openFiles.server) - 200,
    };
    const result = await attack(name, ctx, o.sizes);
    const during = await watch.mark();
    await sleep(o.settleSeconds * 1000);
    const after = await watch.mark();
    return {
      attack: name,
      seconds,
      sent: result.sent,
      unit: result.unit,
      rssMB: {
        before: quiet.rssMB.last,
        peak: Math.max(during.rssMB.peak, after.rssMB.first),
        after: after.rssMB.last,
      },
      quiet: quiet.trader,
      trader: during.trader,
      health: {
        polls: during.health.polls + after.health.polls,
        timeouts: during.health.timeouts + after.health.timeouts,
        failures: during.health.failures + after.health.failures,
        maxMs: Math.max(during.health.maxMs, after.health.maxMs),
      },
      traderConnects: during.connects,
      refusals: result.refusals,
      server: await serverCounts(httpUrl),
      detail: result.detail,
    };
  } finally {
    await watch?.stop();
    await server.stop();
  }
}

/** The server's refusals by limit and closes by reason, from `/metrics`. */
async function serverCounts(httpUrl: string): Promise<AbuseRow['server']> {
  const out: AbuseRow['server'] = { refused: {}, closed: {}, unsentPeakMB: 0 };
  const m = await httpRequest(`${httpUrl}/metrics`, { localAddress: OBSERVER, timeoutMs: 5000 });
  const peak = /^mosaic_ws_unsent_bytes_peak (\d+)/m.exec(m.body);
  out.unsentPeakMB = Math.round(Number(peak?.[1] ?? 0) / 10_000) / 100;
  for (const [, name, label, value] of m.body.matchAll(
    /^mosaic_(limit_refusals|ws_closed)_total\{(?:limit|reason)="([^"]+)"\} (\d+)/gm,
  )) {
    if (Number(value) > 0) (name === 'limit_refusals' ? out.refused : out.closed)[label!] = Number(value);
  }
  return out;
}
