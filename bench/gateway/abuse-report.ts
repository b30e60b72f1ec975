/**
 * The abuse scenario's targets (issue 21), judged row by row, and its part of the readable table.
 * The faucet row is informative: it has no target.
 */
import type { AbuseReport, AbuseRow } from './abuse.ts';

export const ABUSE_TARGETS = {
  /** Growth of the server's memory over its level before, MB. */
  unreadGrowthMB: 64,
  ordersGrowthMB: 128,
  /** The market-data budget (feed.totalBytes, 64 MiB), in MB: what the connections may hold unsent. */
  feedUnsentMB: 64 * 1.048576,
  /** A legitimate round trip is answered within this long. */
  traderOkMs: 1000,
  /** Under the challenge flood, the trader's p99 within this many times its quiet p99. */
  fairnessRatio: 2,
};

export interface Target {
  what: string;
  target: string;
  reached: string;
  ratio: number;
  met: boolean;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const growth = (r: AbuseRow) => round2(r.rssMB.peak - r.rssMB.before);
const afterGrowth = (r: AbuseRow) => round2(r.rssMB.after - r.rssMB.before);
const rss = (r: AbuseRow) => `RSS ${r.rssMB.before} -> peak ${r.rssMB.peak} -> after ${r.rssMB.after} MB`;
const trader = (r: AbuseRow) =>
  `trader success ${r.trader.successRate}, p99 ${r.trader.p99Ms} ms (quiet ${r.quiet.p99Ms} ms)`;
const n = (r: Record<string, number>, k: string) => r[k] ?? 0;

/** One target per attack with a target. */
export function judgeAbuse(a: AbuseReport): Target[] {
  const out: Target[] = [];
  for (const r of a.rows) {
    const t = judgeRow(r, a);
    if (t !== null) out.push(t);
  }
  return out;
}

function judgeRow(r: AbuseRow, a: AbuseReport): Target | null {
  const T = ABUSE_TARGETS;
  switch (r.attack) {
    case 'unread': {
      const g = Math.max(growth(r), afterGrowth(r));
      return {
        what: 'abuse/unread: one client sending cheap requests that never reads the answers',
        target: `RSS peak and after <= before + ${T.unreadGrowthMB} MB`,
        reached: `${rss(r)}; cut ${JSON.stringify(r.server.closed)}`,
        ratio: round2(T.unreadGrowthMB / Math.max(g, 0.01)),
        met: growth(r) <= T.unreadGrowthMB && afterGrowth(r) <= T.unreadGrowthMB,
      };
    }
    case 'orders': {
      // The fairness guarantee: another account's round trip while one account floods.
      const bound = T.fairnessRatio * r.quiet.p99Ms;
      const met =
        growth(r) <= T.ordersGrowthMB &&
        r.trader.successRate === 1 &&
        r.health.timeouts === 0 &&
        r.trader.p99Ms <= bound;
      return {
        what: `abuse/orders: ${String(r.detail.sessionsAsked)} sessions of one account flooding orders and cancels`,
        target: `RSS <= before + ${T.ordersGrowthMB} MB, trader 100% within ${T.traderOkMs} ms and p99 <= ${T.fairnessRatio} x its quiet p99, no /health timeout`,
        reached: `${rss(r)}; ${trader(r)}; /health timeouts ${r.health.timeouts}`,
        ratio: round2(
          Math.min(
            T.ordersGrowthMB / Math.max(growth(r), 0.01),
            r.trader.successRate,
            bound / Math.max(r.trader.p99Ms, 0.01),
          ),
        ),
        met,
      };
    }
    case 'idle': {
      const opened = Number(r.detail.opened);
      const closed4001 = n(r.refusals, 'close 4001');
      const refusedTrader = r.traderConnects.tries - r.traderConnects.opened;
      return {
        what: `abuse/idle: ${String(r.detail.tried)} idle unauthenticated sockets from one address`,
        target: `each open one closed at the login deadline (4001, ${a.limits?.loginTimeoutMs} ms); the trader's connections never refused`,
        reached:
          `${opened} opened, ${closed4001} closed 4001 after ${JSON.stringify(r.detail.closedAfterMs)} ms; ` +
          `trader connects ${r.traderConnects.opened}/${r.traderConnects.tries}; ${trader(r)}`,
        ratio: round2(opened === 0 ? 0 : closed4001 / opened),
        met: opened > 0 && closed4001 === opened && refusedTrader === 0 && r.trader.successRate === 1,
      };
    }
    case 'slowbody': {
      const limit = (a.limits?.requestTimeoutMs ?? 0) + 1000;
      const at = r.detail.closedAfterMs as { median: number; max: number };
      const open = Number(r.detail.stillOpenAtEnd);
      return {
        what: `abuse/slowbody: ${String(r.detail.connections)} request bodies sent a byte a second`,
        target: `all closed within the request timeout (${a.limits?.requestTimeoutMs} ms, checked every second)`,
        reached: `closed after median ${at.median} ms, max ${at.max} ms; ${open} still open at the end; ${JSON.stringify(r.refusals)}`,
        ratio: round2(open > 0 ? 0 : limit / Math.max(at.max, 1)),
        met: open === 0 && at.max <= limit,
      };
    }
    case 'challenges': {
      const limited = n(r.refusals, 'HTTP 429');
      const bound = T.fairnessRatio * r.quiet.p99Ms;
      return {
        what: 'abuse/challenges: POST /api/challenge flood and bogus EIP-712 logins from one address',
        target: `refused 429 per address; trader p99 <= ${T.fairnessRatio} x its quiet p99`,
        reached: `${limited} answered 429 of ${r.sent}; ${trader(r)}`,
        ratio: round2(bound / Math.max(r.trader.p99Ms, 0.01)),
        met: limited > 0 && r.trader.p99Ms <= bound && r.trader.successRate === 1,
      };
    }
    case 'feed': {
      // The budget is of data held for clients; the RSS beside it also has the JavaScript heap
      // that the fan-out's allocation rate makes V8 grow (and keep), however few clients read.
      const held = r.server.unsentPeakMB;
      return {
        what: `abuse/feed: ${String(r.detail.tried)} market-data subscribers (${String(r.detail.channelsEach)} channels each) that never read`,
        target: `unsent bytes held by the server <= ${round2(T.feedUnsentMB)} MB (the 64 MiB market-data budget)`,
        reached: `at most ${held} MB unsent; ${rss(r)}; ${n(r.server.closed, 'slowConsumer')} closed as slow consumers (1008); ${String(r.detail.subscribed)} subscribed`,
        ratio: round2(T.feedUnsentMB / Math.max(held, 0.01)),
        met: held <= T.feedUnsentMB,
      };
    }
    case 'faucet':
      return null;
  }
}

/** The abuse rows as lines of the readable table. */
export function abuseTable(a: AbuseReport): string[] {
  const out = [
    `Abuse (default limits; attackers from ${a.attackerAddress}, the trader from ${a.traderAddress} every ${a.traderPeriodMs} ms; ` +
      `open files: bench ${a.openFiles.bench}, server ${a.openFiles.server}):`,
  ];
  const row = (cells: Array<string | number>) => `  ${cells.map((v) => String(v).padStart(11)).join('')}`;
  out.push(
    row([
      'attack',
      's',
      'sent',
      'rss before',
      'rss peak',
      'rss after',
      'p50 ms',
      'p99 ms',
      'quiet p99',
      'success',
      'health>1s',
    ]),
  );
  for (const r of a.rows) {
    out.push(
      row([
        r.attack,
        r.seconds,
        `${r.sent.toLocaleString('en-US')}`,
        r.rssMB.before,
        r.rssMB.peak,
        r.rssMB.after,
        r.trader.p50Ms,
        r.trader.p99Ms,
        r.quiet.p99Ms,
        r.trader.successRate,
        r.health.timeouts,
      ]),
      `    ${r.unit}; attacker refused: ${JSON.stringify(r.refusals)}; server: ${JSON.stringify(r.server)}`,
      `    ${JSON.stringify(r.detail)}`,
    );
    if (r.trader.firstError !== undefined) out.push(`    trader's first error: ${r.trader.firstError}`);
  }
  out.push('');
  return out;
}
