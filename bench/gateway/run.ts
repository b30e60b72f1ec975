/**
 * Gateway benchmarks: orders and market data through the real WebSocket gateway over loopback,
 * with the exchange (gateway, engine, journal) in a child process of its own and the load in
 * this process (and, for fan-out, in subscriber processes), so that each gets a core.
 *
 *   npm run bench:gateway -- [--scenario roundtrip|throughput|fanout|all] [--seconds N]
 *     [--rates 1000,5000,10000,20000] [--runs 3] [--connections 8] [--window 64]
 *     [--subscribers 1000] [--fanout-rates 50,100,200] [--workers 2]
 *     [--data-dir DIR] [--profile DIR] [--json]
 *
 * - roundtrip: open loop at each of `--rates` orders/s for `--seconds` (after a warm-up), latency
 *   from each order's scheduled send time to its engine report (and to `pending-new`).
 * - throughput: closed loop, `--connections` x `--window` orders in flight, engine reports per
 *   second over `--seconds`; `--runs` runs, the median reported.
 * - fanout: `--subscribers` connections over `--workers` processes on the book and trades
 *   channels while a driver sends orders at each of `--fanout-rates`; frames delivered per second,
 *   gaps and checksum failures (every subscriber checks every frame).
 *
 * `--profile DIR` runs the server with `--cpu-prof` (a .cpuprofile per scenario in DIR).
 * `--data-dir DIR` puts the journal's temporary folder under DIR (default: the OS temp folder).
 * `--json` prints exactly one JSON object on stdout; progress goes to stderr.
 */
import { benchCli } from '../cli.ts';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { median } from '../engine/stats.ts';
import { fanout, type FanoutResult } from './fanout.ts';
import { roundTrip, type RoundTripResult } from './roundtrip.ts';
import { BenchServer, type ServerOptions } from './server.ts';
import { throughput, type ThroughputResult } from './throughput.ts';

/** The targets. */
export const TARGETS = {
  ordersPerSec: 100_000,
  roundTripRate: 10_000,
  roundTripP99Us: 1000,
  fanoutSubscribers: 1000,
  fanoutPerSec: 1_000_000,
};

export interface Options {
  scenarios: Array<'roundtrip' | 'throughput' | 'fanout'>;
  seconds: number | undefined;
  rates: number[];
  runs: number;
  connections: number;
  window: number;
  subscribers: number;
  fanoutRates: number[];
  workers: number;
  server: ServerOptions;
}

export interface Report {
  commit: string;
  node: string;
  cpu: string;
  /** What ran in which process. */
  processes: string[];
  dataDir: string;
  loadAvg: { start: number; end: number };
  roundtrip?: RoundTripResult[];
  throughput?: ThroughputResult & { runsOrdersPerSec: number[] };
  fanout?: FanoutResult;
  /** Each target, what was reached, and the ratio (reached / target; for latency target / reached). */
  targets: Array<{ what: string; target: string; reached: string; ratio: number; met: boolean }>;
  notes: string[];
}

const DEFAULT_SECONDS = { roundtrip: 10, throughput: 10, fanout: 10 };

/** Runs the chosen scenarios, each on a fresh server. */
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
    const server = await BenchServer.start(o.server);
    try {
      const where = `${scenario}: server pid ${server.pid} (gateway + engine + journal), load pid ${process.pid} (this process)`;
      if (scenario === 'roundtrip') {
        report.processes.push(`${where}: 2 connections`);
        report.roundtrip = await roundTrip(server, o.rates, secs('roundtrip'));
      } else if (scenario === 'throughput') {
        report.processes.push(`${where}: ${o.connections} connections x ${o.window} in flight`);
        const runs: ThroughputResult[] = [];
        for (let r = 0; r < o.runs; r++)
          runs.push(await throughput(server, secs('throughput'), o.connections, o.window));
        const best = median(runs, (x) => x.ordersPerSec);
        report.throughput = { ...best, runsOrdersPerSec: runs.map((x) => x.ordersPerSec) };
      } else {
        report.processes.push(
          `${where}: order driver; ${o.subscribers} subscribers in ${Math.min(o.workers, o.subscribers)} forked processes`,
        );
        report.fanout = await fanout(server, o.subscribers, o.fanoutRates, secs('fanout'), o.workers);
      }
    } finally {
      await server.stop();
    }
  }
  report.loadAvg.end = round2(loadavg()[0]!);
  judge(report, o);
  return report;
}

function judge(r: Report, o: Options): void {
  const fmt = (n: number) => n.toLocaleString('en-US');
  if (r.throughput !== undefined) {
    const x = r.throughput.ordersPerSec;
    r.targets.push({
      what: 'orders/s through one gateway (closed loop, acknowledged after journaling)',
      target: `>= ${fmt(TARGETS.ordersPerSec)}`,
      reached: `${fmt(x)} (median of ${r.throughput.runsOrdersPerSec.length})`,
      ratio: round2(x / TARGETS.ordersPerSec),
      met: x >= TARGETS.ordersPerSec,
    });
  }
  const at = r.roundtrip?.find((x) => x.rate === TARGETS.roundTripRate);
  if (at !== undefined) {
    const p99 = at.engine.p99Us;
    r.targets.push({
      what: `round trip p99 at ${fmt(TARGETS.roundTripRate)} orders/s (scheduled send to engine report)`,
      target: `< ${fmt(TARGETS.roundTripP99Us)} us`,
      reached: `${fmt(p99)} us (pending-new p99 ${fmt(at.pending.p99Us)} us)`,
      ratio: round2(TARGETS.roundTripP99Us / Math.max(p99, 1e-3)),
      met: p99 < TARGETS.roundTripP99Us && at.answered === at.orders,
    });
  } else if (r.roundtrip !== undefined) {
    r.notes.push(`no round-trip run at ${TARGETS.roundTripRate} orders/s: the latency target is not judged`);
  }
  if (r.fanout !== undefined) {
    const f = r.fanout;
    const best = f.runs.reduce((a, b) => (b.deliveredPerSec > a.deliveredPerSec ? b : a), f.runs[0]!);
    r.targets.push({
      what: `fan-out to ${fmt(f.subscribers)} subscribers (frames delivered/s, best driver rate)`,
      target: `>= ${fmt(TARGETS.fanoutPerSec)} to ${fmt(TARGETS.fanoutSubscribers)}`,
      reached: `${fmt(best.deliveredPerSec)} at ${fmt(best.rate)} orders/s; gaps ${f.gaps}, checksum failures ${f.checksumFailures}`,
      ratio: round2(best.deliveredPerSec / TARGETS.fanoutPerSec),
      met:
        best.deliveredPerSec >= TARGETS.fanoutPerSec &&
        f.subscribers >= TARGETS.fanoutSubscribers &&
        f.gaps === 0 &&
        f.checksumFailures === 0,
    });
    if (f.conflations > 0) {
      r.notes.push(
        `fanout: ${f.conflations} conflations: the server withheld updates from subscribers that fell 4 MiB behind ` +
          '(then resynced them with a snapshot); those frames are not counted as delivered',
      );
    }
  }
  if (o.server.profileDir !== undefined)
    r.notes.push(`server CPU profiles (.cpuprofile) in ${o.server.profileDir}`);
}

// ---- the table ----------------------------------------------------------------------------

export function table(r: Report): string {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const out: string[] = [
    `gateway bench  commit ${r.commit}  node ${r.node}  ${r.cpu}  load ${r.loadAvg.start} -> ${r.loadAvg.end}`,
    `journal data under ${r.dataDir}`,
    ...r.processes.map((p) => `  ${p}`),
    '',
  ];
  if (r.roundtrip !== undefined) {
    out.push('Round trip (open loop, from the scheduled send time; us):');
    const head = [
      'rate/s',
      'orders',
      'p50',
      'p99',
      'p99.9',
      'max',
      'pend p50',
      'pend p99',
      '>1ms',
      'late',
      'srv cpu%',
      'cli cpu%',
    ];
    out.push(`  ${head.map((h) => h.padStart(10)).join('')}`);
    for (const x of r.roundtrip) {
      const row = [
        fmt(x.rate),
        fmt(x.answered) + (x.answered < x.orders ? `/${fmt(x.orders)}` : ''),
        x.engine.p50Us,
        x.engine.p99Us,
        x.engine.p999Us,
        x.engine.maxUs,
        x.pending.p50Us,
        x.pending.p99Us,
        fmt(x.over1ms),
        fmt(x.lateSends),
        x.server.cpuPct,
        x.clientCpuPct,
      ];
      out.push(`  ${row.map((v) => String(v).padStart(10)).join('')}`);
      if (x.errors > 0) out.push(`    ${x.errors} errors, first: ${x.firstError}`);
      if (x.rejected > 0) out.push(`    ${x.rejected} orders rejected by the engine`);
    }
    const b = r.roundtrip.at(-1)!.server;
    out.push(
      `  (">1ms": engine report later than 1 ms after schedule, or none; "late": sent over 1 ms behind schedule; ` +
        `last run: ${fmt(b.journalBatches)} journal batches for ${fmt(b.commands)} commands)`,
      '',
    );
  }
  if (r.throughput !== undefined) {
    const t = r.throughput;
    out.push(
      `Throughput (closed loop, ${t.connections} connections x ${t.window} in flight, ${t.seconds} s):`,
      `  ${fmt(t.ordersPerSec)} orders/s acknowledged (runs ${t.runsOrdersPerSec.map(fmt).join(', ')})`,
      `  send to engine report under load us: p50 ${t.latency.p50Us}  p99 ${t.latency.p99Us}  p99.9 ${t.latency.p999Us}  max ${t.latency.maxUs}`,
      `  server cpu ${t.server.cpuPct}%, load process cpu ${t.clientCpuPct}%, ` +
        `${fmt(Math.round(t.server.commands / (t.server.wallMs / 1000)))} engine commands/s, ` +
        `${fmt(Math.round(t.server.journalBatches / (t.server.wallMs / 1000)))} journal batches/s, server rss ${t.server.rssMB} MB`,
    );
    if (t.errors > 0) out.push(`  ${t.errors} errors, first: ${t.firstError}`);
    out.push('');
  }
  if (r.fanout !== undefined) {
    const f = r.fanout;
    out.push(`Fan-out (${fmt(f.subscribers)} subscribers to book.10 + trades in ${f.workers} processes):`);
    const head = [
      'orders/s',
      'updates',
      'demanded/s',
      'delivered/s',
      'ratio',
      'gaps',
      'crc bad',
      'conflated',
      'srv cpu%',
      'subs cpu%',
    ];
    out.push(`  ${head.map((h) => h.padStart(12)).join('')}`);
    for (const x of f.runs) {
      const row = [
        fmt(x.rate),
        fmt(x.channelUpdates),
        fmt(x.demandedPerSec),
        fmt(x.deliveredPerSec),
        x.demandedPerSec === 0 ? '-' : (x.deliveredPerSec / x.demandedPerSec).toFixed(2),
        fmt(x.counts.gaps),
        fmt(x.counts.checksumFailures),
        fmt(x.counts.conflations),
        x.server.cpuPct,
        x.workerCpuPct.join('+'),
      ];
      out.push(`  ${row.map((v) => String(v).padStart(12)).join('')}`);
      if (x.answered < x.orders)
        out.push(`    driver: only ${fmt(x.answered)} of ${fmt(x.orders)} orders answered`);
      if (x.errors > 0) out.push(`    driver: ${x.errors} errors, first: ${x.firstError}`);
    }
    out.push(
      `  book messages checked: ${fmt(f.runs.reduce((n, x) => n + x.counts.bookChecks, 0))}; ` +
        `${fmt(f.complete)} of ${fmt(f.subscribers)} subscribers reached both channels' last seq; ` +
        `gaps ${f.gaps}, checksum failures ${f.checksumFailures}, conflations ${f.conflations}`,
      '',
    );
  }
  if (r.targets.length > 0) {
    out.push('Targets:');
    for (const t of r.targets) {
      out.push(
        `  ${t.met ? 'MET    ' : 'NOT MET'} ${t.what}: target ${t.target}, reached ${t.reached} (x${t.ratio})`,
      );
    }
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return `${out.join('\n')}\n`;
}

// ---- command line -------------------------------------------------------------------------

const { usage, count } = benchCli(
  `usage: run.js [--scenario roundtrip|throughput|fanout|all] [--seconds N] [--rates 1000,10000] ` +
    '[--runs N] [--connections N] [--window N] [--subscribers N] [--fanout-rates 100,200] [--workers N] ' +
    '[--data-dir DIR] [--profile DIR] [--json]',
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
      'data-dir': { type: 'string' },
      profile: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const all = ['roundtrip', 'throughput', 'fanout'] as const;
  const s = values.scenario;
  if (s !== 'all' && !(all as readonly string[]).includes(s)) usage(`unknown scenario ${s}`);
  const server: ServerOptions = {};
  if (values['data-dir'] !== undefined) server.dataParent = values['data-dir'];
  if (values.profile !== undefined) server.profileDir = values.profile;
  return {
    scenarios: s === 'all' ? [...all] : [s as (typeof all)[number]],
    seconds: values.seconds === undefined ? undefined : count(values.seconds, 'seconds', 1),
    rates: list(values.rates, 'rates', [1000, 5000, 10_000, 20_000]),
    runs: count(values.runs, 'runs', 3),
    connections: count(values.connections, 'connections', 8),
    window: count(values.window, 'window', 64),
    subscribers: count(values.subscribers, 'subscribers', 1000),
    fanoutRates: list(values['fanout-rates'], 'fanout-rates', [50, 100, 200]),
    workers: count(values.workers, 'workers', 2),
    server,
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
