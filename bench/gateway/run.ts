/**
 * Gateway benchmarks: orders and market data through the real WebSocket gateway over loopback,
 * with the exchange (gateway, engine, journal) in a child process of its own and the load in
 * forked generator processes (for fan-out, subscriber processes), so that none of it shares a
 * process with the server. Each scenario also measures a baseline in the same run, with the
 * exchange stopped: a bare `ws` server (echo, or sending the exchange's own frames), and for
 * throughput the engine alone on W1.
 *
 *   npm run bench:gateway -- [--scenario roundtrip|throughput|fanout|abuse|all] [--seconds N]
 *     [--rates 1000,10000,50000] [--runs 3] [--connections 8] [--window 64]
 *     [--subscribers 1000] [--fanout-rates 50,100,200] [--workers 2] [--generators 4]
 *     [--w1-ops N] [--attacks unread,orders,idle,slowbody,challenges,feed,faucet]
 *     [--trader-period-ms 500] [--quiet-seconds 10] [--settle-seconds 5]
 *     [--data-dir DIR] [--profile DIR] [--json]
 *
 * - roundtrip: open loop at each of `--rates` orders/s for `--seconds` (after a warm-up), latency
 *   from each order's scheduled send time to its engine report (and to `pending-new`); then the
 *   same rates against a bare `ws` echo server.
 * - throughput: closed loop, `--connections` x `--window` orders in flight, engine reports per
 *   second over `--seconds`; `--runs` runs, the median reported; then the same loop against a
 *   bare `ws` echo server, and W1 on the engine alone (`--w1-ops` timed ops, default all).
 * - fanout: `--subscribers` connections over `--workers` processes on the book and trades
 *   channels while a driver sends orders at each of `--fanout-rates`; frames delivered per second,
 *   gaps and checksum failures (every subscriber checks every frame); then a bare `ws` server
 *   sends the same frames to as many subscribers, and each rate's figure is given as a ratio.
 * - abuse (not part of `all`): each of `--attacks` on a fresh exchange with its default limits
 *   and the demo market maker, from 127.0.0.1, for its own length (unread 40 s, orders 60 s,
 *   idle 15 s, slowbody 15 s, challenges 30 s, feed 30 s, faucet 3 s; `--seconds` caps them,
 *   but idle and slowbody last past the deadline they test), while a legitimate trader from
 *   127.0.0.2 places and cancels an order every `--trader-period-ms`, `/health` is polled and
 *   the server's VmRSS sampled: RSS before, peak and after (`--settle-seconds` after the
 *   attack's sockets closed), the trader's p50/p99 and success within 1 s, during the attack
 *   and alone before it (`--quiet-seconds`), and every refusal seen (abuse.ts).
 *
 * Load processes report their CPU; where one works 90% of a core or more, the run is repeated
 * with twice as many, up to `--generators` (fan-out: subscriber processes from `--workers`).
 * `--profile DIR` runs the server with `--cpu-prof` (a .cpuprofile per scenario in DIR).
 * `--data-dir DIR` puts the journal's temporary folder under DIR (default: the OS temp folder).
 * `--json` prints exactly one JSON object on stdout; progress goes to stderr.
 */
import { benchCli } from '../cli.ts';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { ATTACKS, type AbuseOptions, type AttackName, DEFAULT_SIZES, runAbuse } from './abuse.ts';
import { parseArgs } from 'node:util';
import { median } from '../engine/stats.ts';
import { INSTRUMENT } from './client.ts';
import { engineW1 } from './engine-w1.ts';
import { fanoutWithBaseline } from './fanout.ts';
import { escalate, type LoadReport, loadReport } from './generators.ts';
import { judge, type Report, table } from './report.ts';
import { roundTripForked } from './roundtrip.ts';
import { BenchServer, type ServerOptions } from './server.ts';
import { type ClosedLoopPlan, closedLoop, type ThroughputResult } from './throughput.ts';

export interface Options {
  scenarios: Array<'roundtrip' | 'throughput' | 'fanout' | 'abuse'>;
  seconds: number | undefined;
  rates: number[];
  runs: number;
  connections: number;
  window: number;
  subscribers: number;
  fanoutRates: number[];
  workers: number;
  /** The most load processes a run may use (generators; fan-out's subscriber processes). */
  generators: number;
  /** Timed ops of the engine's W1 run beside throughput (W1 has 1,000,000). */
  w1Ops: number;
  server: ServerOptions;
  /** The abuse scenario's settings but `seconds` and `server` (those above are used). */
  abuse?: Omit<AbuseOptions, 'seconds' | 'server'>;
}

/** The abuse scenario's defaults: every attack, the trader every 2 s. */
export const ABUSE_DEFAULTS: Omit<AbuseOptions, 'seconds' | 'server'> = {
  attacks: [...ATTACKS],
  traderPeriodMs: 500,
  quietSeconds: 10,
  settleSeconds: 5,
  sizes: DEFAULT_SIZES,
  rssEveryMs: 100,
};

const DEFAULT_SECONDS = { roundtrip: 10, throughput: 10, fanout: 10 };

/** Runs the chosen scenarios, each on a fresh server, each with its baselines. */
export async function runBench(o: Options): Promise<Report> {
  const report: Report = {
    commit: commit(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    processes: [],
    dataDir: o.server.dataParent ?? tmpdir(),
    loadAvg: { start: round2(loadavg()[0]!), end: 0 },
    targets: [],
    notes: [],
  };
  report.dataDir += ` (${fsType(report.dataDir)})`;
  const secs = (s: keyof typeof DEFAULT_SECONDS) => o.seconds ?? DEFAULT_SECONDS[s];
  for (const scenario of o.scenarios) {
    if (scenario === 'roundtrip') {
      const server = await BenchServer.start(o.server);
      let runs;
      try {
        runs = await roundTripForked(server, o.rates, secs('roundtrip'), 'trader', o.generators);
      } finally {
        await server.stop();
      }
      const echo = await BenchServer.raw('echo');
      let echoes;
      try {
        echoes = await roundTripForked(echo, o.rates, secs('roundtrip'), 'echo', o.generators);
      } finally {
        await echo.stop();
      }
      report.roundtrip = runs.map((r, i) => ({ ...r, echo: echoes[i]! }));
      report.processes.push(
        'roundtrip: the exchange in a process of its own, then a bare ws echo server in one; load generators ' +
          `(a buyer and a seller connection each) per rate: ${runs.map((r) => `${r.rate}/s ${r.load.processes}`).join(', ')}`,
      );
    } else if (scenario === 'throughput') {
      report.throughput = await throughputScenario(o, secs('throughput'));
      const t = report.throughput;
      report.processes.push(
        `throughput: the exchange in a process of its own, then a bare ws echo server, then the engine alone; ` +
          `${t.load.processes} load generators, ${t.connections} connections x ${t.window} in flight in all`,
      );
    } else if (scenario === 'abuse') {
      report.abuse = await runAbuse({ ...(o.abuse ?? ABUSE_DEFAULTS), seconds: o.seconds, server: o.server });
      report.processes.push(
        'abuse: the exchange (default limits, demo market maker) in a process of its own per attack; the attackers in ' +
          'this one; the legitimate trader, /health poller and memory sampler in another',
      );
    } else {
      const { result, load } = await escalate(
        Math.min(o.workers, o.subscribers),
        Math.max(o.workers, o.generators),
        (n) => fanoutWithBaseline(o.server, o.subscribers, o.fanoutRates, secs('fanout'), n),
        (f) => Math.min(...f.runs.map((x) => x.ratioToRaw ?? 0)),
      );
      report.fanout = { ...result, load };
      report.processes.push(
        'fanout: the exchange in a process of its own (the order driver and a capturing subscriber in this one), ' +
          `then a bare ws server sending the captured frames; ${o.subscribers} subscribers in ${result.workers} processes`,
      );
    }
  }
  report.loadAvg.end = round2(loadavg()[0]!);
  judge(report, o.server.profileDir);
  return report;
}

/**
 * `--runs` closed-loop runs on one server, the first repeated with more generators while one is
 * saturated and the rest with as many; then the bare `ws` echo and the engine on W1.
 */
async function throughputScenario(o: Options, seconds: number): Promise<NonNullable<Report['throughput']>> {
  const plan: ClosedLoopPlan = {
    mode: 'trader',
    instrument: INSTRUMENT,
    connections: o.connections,
    window: o.window,
    seconds,
    warmSeconds: 1,
  };
  const runs: Array<ThroughputResult> = [];
  const server = await BenchServer.start(o.server);
  try {
    const first = await escalate(
      1,
      o.generators,
      (n) => closedLoop(server, plan, n),
      (x) => x.ordersPerSec,
    );
    runs.push({ ...first.result, load: first.load });
    for (let r = 1; r < o.runs; r++) {
      const { result, usage } = await closedLoop(server, plan, first.load.processes);
      const load: LoadReport = { ...loadReport(usage), escalated: first.load.escalated };
      runs.push({ ...result, load });
    }
  } finally {
    await server.stop();
  }
  const echoServer = await BenchServer.raw('echo');
  let echo: ThroughputResult;
  try {
    const e = await escalate(
      runs[0]!.load.processes,
      o.generators,
      (n) => closedLoop(echoServer, { ...plan, mode: 'echo' }, n),
      (x) => x.ordersPerSec,
    );
    echo = { ...e.result, load: e.load };
  } finally {
    await echoServer.stop();
  }
  const w1 = await engineW1(o.w1Ops);
  const best = median(runs, (x) => x.ordersPerSec);
  return {
    ...best,
    runsOrdersPerSec: runs.map((x) => x.ordersPerSec),
    echo,
    engineW1: w1,
    ratioToEngineW1: Math.round((best.ordersPerSec / Math.max(1, w1.opsPerSec)) * 1000) / 1000,
  };
}

// ---- command line -------------------------------------------------------------------------

const { usage, count } = benchCli(
  `usage: run.js [--scenario roundtrip|throughput|fanout|abuse|all] [--seconds N] [--rates 1000,10000] ` +
    '[--runs N] [--connections N] [--window N] [--subscribers N] [--fanout-rates 100,200] [--workers N] ' +
    `[--generators N] [--w1-ops N] [--attacks ${ATTACKS.join(',')}] [--trader-period-ms N] ` +
    '[--quiet-seconds N] [--settle-seconds N] [--data-dir DIR] [--profile DIR] [--json]',
);

function list(v: string | undefined, name: string, fallback: number[]): number[] {
  if (v === undefined) return fallback;
  return v.split(',').map((x) => count(x, name, 0));
}

export function parseOptions(argv: string[]): Options & { json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', default: 'all' },
      seconds: { type: 'string' },
      rates: { type: 'string' },
      runs: { type: 'string' },
      connections: { type: 'string' },
      window: { type: 'string' },
      subscribers: { type: 'string' },
      'fanout-rates': { type: 'string' },
      workers: { type: 'string' },
      generators: { type: 'string' },
      'w1-ops': { type: 'string' },
      attacks: { type: 'string' },
      'trader-period-ms': { type: 'string' },
      'quiet-seconds': { type: 'string' },
      'settle-seconds': { type: 'string' },
      'data-dir': { type: 'string' },
      profile: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const all = ['roundtrip', 'throughput', 'fanout'] as const;
  const s = values.scenario;
  if (s !== 'all' && s !== 'abuse' && !(all as readonly string[]).includes(s)) usage(`unknown scenario ${s}`);
  const attacks = (values.attacks ?? ATTACKS.join(',')).split(',');
  for (const a of attacks) {
    if (!(ATTACKS as readonly string[]).includes(a))
      usage(`unknown attack ${a}: one of ${ATTACKS.join(', ')}`);
  }
  const server: ServerOptions = {};
  if (values['data-dir'] !== undefined) server.dataParent = values['data-dir'];
  if (values.profile !== undefined) server.profileDir = values.profile;
  return {
    scenarios: s === 'all' ? [...all] : [s as (typeof all)[number] | 'abuse'],
    seconds: values.seconds === undefined ? undefined : count(values.seconds, 'seconds', 1),
    rates: list(values.rates, 'rates', [1000, 10_000, 50_000]),
    runs: count(values.runs, 'runs', 3),
    connections: count(values.connections, 'connections', 8),
    window: count(values.window, 'window', 64),
    subscribers: count(values.subscribers, 'subscribers', 1000),
    fanoutRates: list(values['fanout-rates'], 'fanout-rates', [50, 100, 200]),
    workers: count(values.workers, 'workers', 2),
    generators: count(values.generators, 'generators', 4),
    w1Ops: count(values['w1-ops'], 'w1-ops', 1_000_000),
    server,
    abuse: {
      ...ABUSE_DEFAULTS,
      attacks: attacks as AttackName[],
      traderPeriodMs: count(values['trader-period-ms'], 'trader-period-ms', ABUSE_DEFAULTS.traderPeriodMs),
      quietSeconds: count(values['quiet-seconds'], 'quiet-seconds', ABUSE_DEFAULTS.quietSeconds),
      settleSeconds: count(values['settle-seconds'], 'settle-seconds', ABUSE_DEFAULTS.settleSeconds),
    },
    json: values.json,
  };
}

function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: 'pipe' }).trim();
    const dirty = git('status', '--porcelain', '--', ':/gateway', ':/engine', ':/journal');
    return git('rev-parse', '--short', 'HEAD') + (dirty ? '+dirty' : '');
  } catch {
    return 'unknown';
  }
}

function fsType(dir: string): string {
  try {
    const lines = execFileSync('df', ['-T', dir], { encoding: 'utf8', stdio: 'pipe' }).trim().split('\n');
    return lines.at(-1)?.split(/\s+/)[1] ?? 'unknown fs';
  } catch {
    return 'unknown fs';
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

async function main(): Promise<void> {
  const { json, ...options } = parseOptions(process.argv.slice(2));
  const report = await runBench(options);
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : table(report));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
