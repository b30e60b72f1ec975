/**
 * What a gateway bench run reports: the targets of the issue judged against the figures, notes
 * that say where the time went when one is missed (the exchange's CPU and journal batches beside
 * the bare `ws` baselines and the engine alone, all from the same run), and the readable table.
 */
import type { AbuseReport } from './abuse.ts';
import { abuseTable, judgeAbuse } from './abuse-report.ts';
import type { EngineW1 } from './engine-w1.ts';
import type { FanoutResult } from './fanout.ts';
import { type LoadReport, SATURATED_PCT } from './generators.ts';
import type { RoundTripResult } from './roundtrip.ts';
import type { ThroughputResult } from './throughput.ts';

/** The targets. */
export const TARGETS = {
  ordersPerSec: 100_000,
  roundTripRate: 10_000,
  roundTripP99Us: 1000,
  fanoutSubscribers: 1000,
  /** Frames delivered/s as a share of a bare `ws` server's, same frames, same subscribers. */
  fanoutRatioToRaw: 0.9,
};

export interface Report {
  commit: string;
  node: string;
  cpu: string;
  /** What ran in which process. */
  processes: string[];
  dataDir: string;
  loadAvg: { start: number; end: number };
  /** Per rate; `echo`: the bare `ws` echo at the same rate, the loopback floor. */
  roundtrip?: Array<RoundTripResult & { echo: RoundTripResult }>;
  throughput?: ThroughputResult & {
    runsOrdersPerSec: number[];
    /** The same closed loop against the bare `ws` echo server: messages/s over loopback. */
    echo: ThroughputResult;
    engineW1: EngineW1;
    /** `ordersPerSec` / `engineW1.opsPerSec`. */
    ratioToEngineW1: number;
  };
  fanout?: FanoutResult;
  /** Attacks from one address against the default limits (abuse.ts), one row each. */
  abuse?: AbuseReport;
  /** Each target, what was reached, and the ratio (reached / target; for latency target / reached). */
  targets: Array<{ what: string; target: string; reached: string; ratio: number; met: boolean }>;
  notes: string[];
}

const fmt = (n: number) => n.toLocaleString('en-US');
/** Microseconds, whole. */
const us = (n: number) => fmt(Math.round(n));
const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;

/** Judges the targets and writes the notes; `profiled`: the server ran with `--cpu-prof`. */
export function judge(r: Report, profiled: string | undefined): void {
  const missed: string[] = [];
  const t = r.throughput;
  if (t !== undefined) {
    const x = t.ordersPerSec;
    const met = x >= TARGETS.ordersPerSec;
    r.targets.push({
      what: 'orders/s through one gateway (closed loop, acknowledged after journaling)',
      target: `>= ${fmt(TARGETS.ordersPerSec)}`,
      reached: `${fmt(x)} (median of ${t.runsOrdersPerSec.length}; ${t.ratioToEngineW1} of the engine alone on W1)`,
      ratio: round(x / TARGETS.ordersPerSec, 2),
      met,
    });
    if (!met) {
      const s = t.server;
      const perSec = (n: number) => fmt(Math.round(n / (s.wallMs / 1000)));
      missed.push(
        `throughput: the exchange's process at ${s.cpuPct}% CPU (${s.sysPct}% in the kernel), ` +
          `${perSec(s.journalBatches)} journal batches/s (one write and one fdatasync each, ` +
          `${fmt(Math.round(s.commands / Math.max(1, s.journalBatches)))} commands per batch); ` +
          `the engine alone did ${fmt(t.engineW1.opsPerSec)} W1 ops/s in this run; ` +
          `the same closed loop against a bare ws echo carried ${fmt(t.echo.ordersPerSec)} messages/s over loopback`,
      );
    }
  }
  const at = r.roundtrip?.find((x) => x.rate === TARGETS.roundTripRate);
  if (at !== undefined) {
    const p99 = at.engine.p99Us;
    const met = p99 <= TARGETS.roundTripP99Us && at.answered === at.orders;
    r.targets.push({
      what: `round trip p99 at ${fmt(TARGETS.roundTripRate)} orders/s (scheduled send to engine report)`,
      target: `<= ${fmt(TARGETS.roundTripP99Us)} us`,
      reached: `${us(p99)} us (pending-new p99 ${us(at.pending.p99Us)} us; bare ws echo p99 ${us(at.echo.engine.p99Us)} us)`,
      ratio: round(TARGETS.roundTripP99Us / Math.max(p99, 1e-3), 2),
      met,
    });
    if (!met) {
      missed.push(
        `round trip at ${fmt(at.rate)}/s: p99 ${us(p99)} us to the engine's report, ${us(at.pending.p99Us)} us ` +
          `to pending-new (before the journal), ${fmt(at.server.journalBatches)} journal batches (one fdatasync each); ` +
          `a bare ws echo at the same rate with the same generators: p50 ${us(at.echo.engine.p50Us)} us, ` +
          `p99 ${us(at.echo.engine.p99Us)} us (this machine's floor for any round trip over loopback)`,
      );
    }
  } else if (r.roundtrip !== undefined) {
    r.notes.push(`no round-trip run at ${TARGETS.roundTripRate} orders/s: the latency target is not judged`);
  }
  const f = r.fanout;
  if (f !== undefined) {
    const worst = f.runs.reduce((a, b) => ((b.ratioToRaw ?? 0) < (a.ratioToRaw ?? 0) ? b : a), f.runs[0]!);
    const ratio = worst.ratioToRaw ?? 0;
    const met =
      ratio >= TARGETS.fanoutRatioToRaw &&
      f.subscribers >= TARGETS.fanoutSubscribers &&
      f.gaps === 0 &&
      f.checksumFailures === 0;
    r.targets.push({
      what:
        `fan-out to ${fmt(f.subscribers)} subscribers: frames delivered/s as a ratio to a bare ws server ` +
        'sending the same frames to as many (lowest over the driver rates)',
      target: `>= ${TARGETS.fanoutRatioToRaw} with ${fmt(TARGETS.fanoutSubscribers)} subscribers`,
      reached:
        `${ratio} at ${fmt(worst.rate)} orders/s (${fmt(worst.deliveredPerSec)} against ${fmt(worst.raw?.deliveredPerSec ?? 0)} frames/s); ` +
        `gaps ${f.gaps}, checksum failures ${f.checksumFailures}`,
      ratio: round(ratio / TARGETS.fanoutRatioToRaw, 2),
      met,
    });
    if (!met && worst.raw !== undefined) {
      missed.push(
        `fan-out at ${fmt(worst.rate)} orders/s: the exchange's process at ${worst.server.cpuPct}% CPU delivered ` +
          `${fmt(worst.deliveredPerSec)} frames/s (${fmt(worst.counts.conflations)} conflations); the bare ws server ` +
          `at ${worst.raw.server.cpuPct}% CPU delivered ${fmt(worst.raw.deliveredPerSec)} frames/s of the same frames`,
      );
    }
    if (f.conflations > 0) {
      r.notes.push(
        `fanout: ${f.conflations} conflations: the server withheld updates from subscribers that fell behind ` +
          '(then resynced them with a snapshot); those frames are not counted as delivered',
      );
    }
    if (f.raw !== undefined && !f.raw.captureComplete) {
      r.notes.push(
        'fanout: the capturing subscriber was conflated, so the baseline replayed an incomplete stream',
      );
    }
  }
  if (r.abuse !== undefined) r.targets.push(...judgeAbuse(r.abuse));
  for (const m of missed) r.notes.push(`where the time goes: ${m}`);
  if (missed.length > 0) {
    r.notes.push(
      profiled === undefined
        ? 'run with --profile DIR for a CPU profile of the exchange per scenario'
        : `server CPU profiles (.cpuprofile) in ${profiled}`,
    );
  }
  for (const [what, load] of loads(r)) {
    if (load.saturated) {
      r.notes.push(
        `${what}: a load process still worked ${SATURATED_PCT}% of a core or more with ${load.processes} of them ` +
          '(--generators caps them): the figure may be the load generator’s limit',
      );
    }
  }
}

/** Every load report of the run, named. */
function loads(r: Report): Array<[string, LoadReport]> {
  const out: Array<[string, LoadReport]> = [];
  for (const x of r.roundtrip ?? []) {
    out.push([`round trip at ${fmt(x.rate)}/s`, x.load], [`bare ws echo at ${fmt(x.rate)}/s`, x.echo.load]);
  }
  if (r.throughput !== undefined) {
    out.push(['throughput', r.throughput.load], ['bare ws echo closed loop', r.throughput.echo.load]);
  }
  if (r.fanout !== undefined) out.push(['fan-out subscribers', r.fanout.load]);
  return out;
}

/** `processes` generators, and what each worked (CPU less waiting) in % of a core. */
function loadCell(l: LoadReport): string {
  return `${l.processes}:${l.cpuPct.map((c, i) => Math.max(0, Math.round(c - l.spinPct[i]!))).join('+')}${l.saturated ? '!' : ''}`;
}

export function table(r: Report): string {
  const out: string[] = [
    `gateway bench  commit ${r.commit}  node ${r.node}  ${r.cpu}  load ${r.loadAvg.start} -> ${r.loadAvg.end}`,
    `journal data under ${r.dataDir}`,
    ...r.processes.map((p) => `  ${p}`),
    '',
  ];
  const row = (cells: Array<string | number>, width: number) =>
    `  ${cells.map((v) => String(v).padStart(width)).join('')}`;
  if (r.roundtrip !== undefined) {
    out.push(
      'Round trip (open loop, from the scheduled send time; us), and a bare ws echo at the same rate:',
    );
    const head = ['rate/s', 'orders', 'p50', 'p99', 'p99.9', 'max', 'pend p50', 'pend p99', '>1ms', 'late'];
    out.push(row([...head, 'srv cpu%', 'load', 'echo p50', 'echo p99', 'echo p99.9', 'echo load'], 11));
    for (const x of r.roundtrip) {
      const e = x.echo.engine;
      out.push(
        row(
          [
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
            loadCell(x.load),
            e.p50Us,
            e.p99Us,
            e.p999Us,
            loadCell(x.echo.load),
          ],
          11,
        ),
      );
      if (x.errors > 0) out.push(`    ${x.errors} errors, first: ${x.firstError}`);
      if (x.rejected > 0) out.push(`    ${x.rejected} orders rejected by the engine`);
    }
    const b = r.roundtrip.at(-1)!.server;
    out.push(
      `  (">1ms": engine report later than 1 ms after schedule, or none; "late": sent over 1 ms behind schedule; ` +
        `"load": generator processes:each one's CPU less its waiting, % of a core, "!" saturated; ` +
        `last run: ${fmt(b.journalBatches)} journal batches for ${fmt(b.commands)} commands)`,
      '',
    );
  }
  const t = r.throughput;
  if (t !== undefined) {
    out.push(
      `Throughput (closed loop, ${t.connections} connections x ${t.window} in flight, ${t.seconds} s):`,
      `  ${fmt(t.ordersPerSec)} orders/s acknowledged (runs ${t.runsOrdersPerSec.map(fmt).join(', ')}), load ${loadCell(t.load)}`,
      `  send to engine report under load us: p50 ${t.latency.p50Us}  p99 ${t.latency.p99Us}  p99.9 ${t.latency.p999Us}  max ${t.latency.maxUs}`,
      `  server cpu ${t.server.cpuPct}%, ` +
        `${fmt(Math.round(t.server.commands / (t.server.wallMs / 1000)))} engine commands/s, ` +
        `${fmt(Math.round(t.server.journalBatches / (t.server.wallMs / 1000)))} journal batches/s, server rss ${t.server.rssMB} MB`,
      `  bare ws echo, same closed loop: ${fmt(t.echo.ordersPerSec)} messages/s (p99 ${t.echo.latency.p99Us} us), load ${loadCell(t.echo.load)}`,
      `  engine alone, W1: ${fmt(t.engineW1.opsPerSec)} ops/s over ${fmt(t.engineW1.ops)} ops; gateway / engine = ${t.ratioToEngineW1}`,
    );
    if (t.errors > 0) out.push(`  ${t.errors} errors, first: ${t.firstError}`);
    out.push('');
  }
  const f = r.fanout;
  if (f !== undefined) {
    out.push(
      `Fan-out (${fmt(f.subscribers)} subscribers to book.10 + trades in ${f.workers} processes), and a bare ws server sending the same frames:`,
    );
    const head = [
      'orders/s',
      'updates',
      'demanded/s',
      'delivered/s',
      'of demand',
      'raw ws/s',
      'to raw',
      'gaps',
    ];
    out.push(row([...head, 'crc bad', 'conflated', 'srv cpu%', 'raw cpu%', 'subs cpu%'], 12));
    for (const x of f.runs) {
      out.push(
        row(
          [
            fmt(x.rate),
            fmt(x.channelUpdates),
            fmt(x.demandedPerSec),
            fmt(x.deliveredPerSec),
            x.demandedPerSec === 0 ? '-' : (x.deliveredPerSec / x.demandedPerSec).toFixed(2),
            fmt(x.raw?.deliveredPerSec ?? 0),
            x.ratioToRaw ?? '-',
            fmt(x.counts.gaps),
            fmt(x.counts.checksumFailures),
            fmt(x.counts.conflations),
            x.server.cpuPct,
            x.raw?.server.cpuPct ?? '-',
            x.workerCpuPct.join('+'),
          ],
          12,
        ),
      );
      if (x.answered < x.orders)
        out.push(`    driver: only ${fmt(x.answered)} of ${fmt(x.orders)} orders answered`);
      if (x.errors > 0) out.push(`    driver: ${x.errors} errors, first: ${x.firstError}`);
    }
    out.push(
      `  book messages checked: ${fmt(f.runs.reduce((n, x) => n + x.counts.bookChecks, 0))}; ` +
        `${fmt(f.complete)} of ${fmt(f.subscribers)} subscribers reached both channels' last seq; ` +
        `gaps ${f.gaps}, checksum failures ${f.checksumFailures}, conflations ${f.conflations}`,
    );
    if (f.raw !== undefined) {
      out.push(
        `  bare ws: ${fmt(f.raw.complete)} of ${fmt(f.subscribers)} subscribers reached the last seq; ` +
          `gaps ${f.raw.gaps}, checksum failures ${f.raw.checksumFailures}`,
      );
    }
    out.push(`  subscriber processes ${loadCell(f.load)}`, '');
  }
  if (r.abuse !== undefined) out.push(...abuseTable(r.abuse));
  if (r.targets.length > 0) {
    out.push('Targets:');
    for (const x of r.targets) {
      out.push(
        `  ${x.met ? 'MET    ' : 'NOT MET'} ${x.what}: target ${x.target}, reached ${x.reached} (x${x.ratio})`,
      );
    }
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return `${out.join('\n')}\n`;
}
