/**
 * Engine benchmarks: the seeded workloads of bench/WORKLOADS.md on Mosaic's fast book and on the
 * peer engine nodejs-order-book, side by side in one process, plus M1, a memory measure.
 *
 *   npm run bench:engine -- --workload W1|W2|W3|W4|M1 [--json] [--runs 3] [--seed 42]
 *     [--engines mosaic,nodejs-order-book] [--peer-ops N] [--ops N] [--capacity N]
 *     [--journal DIR [--chunk N] [--journal-rates N,N]]
 *
 * Each run times the workload twice, each time on a fresh engine after the same warm-up: once
 * as a whole for throughput, once op by op for latency (see driver.ts); with `--runs N` the run with
 * the median throughput is reported per engine (`runsOpsPerSec` lists them all). `--ops` caps the
 * timed ops of every engine, `--peer-ops` those of the peer only; `ops` in each result says how
 * many were timed. `--capacity` sets Mosaic's `EngineOptions.capacity` (order records and tables
 * preallocated for that many live orders; the engine's default otherwise). `--json` prints exactly
 * one JSON object on stdout (use `npm run -s` so that npm's banner stays out of it); progress goes
 * to stderr. Each result also says how much CPU other processes took during its timed loop.
 * `--journal DIR` adds runs of Mosaic through its write-ahead journal in DIR (emptied first):
 * acknowledged ops/s, submit-to-ack latency, fsyncs/s and bytes per command (see journaled.ts).
 * `--journal-rates` adds, per rate, runs paced at that many ops/s (below saturation: the
 * acknowledgement latency a client sees when the journal keeps up).
 * W4 results also give the price levels opened and closed per second (`levels`).
 */
import { benchCli } from '../cli.ts';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { AdapterFactory } from './adapter.ts';
import { MosaicAdapter } from './adapter-mosaic.ts';
import { PEER_NAME, PeerAdapter } from './adapter-peer.ts';
import { type RunResult, runOnce } from './driver.ts';
import { type JournaledResult, runJournaled } from './journaled.ts';
import { type MemoryResult, mosaicMemory, peerMemory } from './memory.ts';
import { type Latency, latency, median } from './stats.ts';
import { generate, WORKLOAD_NAMES, type WorkloadName } from './workloads.ts';

/** `capacity`: Mosaic's `EngineOptions.capacity` (`--capacity`), the engine default when undefined. */
function factoriesFor(capacity: number | undefined): Record<string, AdapterFactory> {
  return {
    mosaic: (w, live) => new MosaicAdapter(w, live, capacity),
    [PEER_NAME]: (w, live) => new PeerAdapter(w, live),
  };
}
const ENGINE_NAMES = ['mosaic', PEER_NAME];

type Reported = RunResult & { runsOpsPerSec: number[]; runsOtherCpuPct: number[] };

interface Report {
  workload: string;
  /** The commit the engine was built from, `+dirty` when engine/ had uncommitted changes. */
  commit: string;
  node: string;
  cpu: string;
  seed: number;
  runs: number;
  /** Mosaic's `EngineOptions.capacity` (preallocated live orders), or 'default'. */
  mosaicCapacity: number | 'default';
  /** Cost of one `performance.now()` read, which every per-op latency includes once. */
  timerNs: number;
  /**
   * The machine's own tail: latencies of a fixed loop of about a microsecond that allocates
   * nothing, timed as the ops are. What exceeds its p50 there (preemption, interrupts) is in
   * every op's tail too.
   */
  floor: Omit<Latency, 'ops'>;
  /** 1-minute load average when the runs started and ended (other processes share the cores). */
  loadAvg: { start: number; end: number };
  notes: string[];
  results: Array<
    Reported | MemoryResult | (JournaledResult & { runsOpsPerSec: number[]; runsAckP99Us?: number[] })
  >;
}

const { usage, count } = benchCli(
  `usage: run.js --workload W1|W2|W3|W4|M1 [--json] [--runs N] [--seed N] ` +
    `[--engines mosaic,${PEER_NAME}] [--peer-ops N] [--ops N] [--capacity N] [--journal DIR [--chunk N] [--journal-rates N,N]]`,
);

/** `git describe` of the working tree's engine, or 'unknown' outside a git checkout. */
function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: 'pipe' }).trim();
    return (
      git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--', 'engine') ? '+dirty' : '')
    );
  } catch {
    return 'unknown';
  }
}

/** Latencies of 1,000,000 runs of a fixed loop that allocates nothing (about 1 us each here). */
function machineFloor(): Omit<Latency, 'ops'> {
  const n = 1_000_000;
  const samples = new Float64Array(n);
  let x = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    for (let k = 0; k < 300; k++) x += k ^ i;
    samples[i] = performance.now() - t0;
  }
  // Reading x keeps the compiler from dropping the loop.
  if (x < 0) throw new Error('unreachable');
  const { p50Us, p99Us, p999Us, maxUs } = latency(samples);
  return { p50Us, p99Us, p999Us, maxUs };
}

/** Mean cost of one `performance.now()` read, in ns. */
function timerCost(): number {
  const n = 1_000_000;
  let x = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) x += performance.now();
  const t1 = performance.now();
  return x > 0 ? Math.round(((t1 - t0) * 1e6) / n) : 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string' },
      json: { type: 'boolean', default: false },
      runs: { type: 'string' },
      seed: { type: 'string' },
      engines: { type: 'string' },
      'peer-ops': { type: 'string' },
      ops: { type: 'string' },
      capacity: { type: 'string' },
      journal: { type: 'string' },
      chunk: { type: 'string' },
      'journal-rates': { type: 'string' },
    },
    strict: true,
  });
  const workload = values.workload ?? usage('--workload is required');
  if (workload !== 'M1' && !WORKLOAD_NAMES.includes(workload as WorkloadName))
    usage(`unknown workload ${workload}; known: ${WORKLOAD_NAMES.join(', ')}, M1`);
  const runs = count(values.runs, 'runs', 3);
  const seed = count(values.seed, 'seed', 42);
  const engines = (values.engines ?? `mosaic,${PEER_NAME}`).split(',').filter((e) => e !== '');
  for (const e of engines)
    if (!ENGINE_NAMES.includes(e)) usage(`unknown engine ${e}; known: ${ENGINE_NAMES}`);
  const peerOps = count(values['peer-ops'], 'peer-ops', Number.MAX_SAFE_INTEGER);
  const allOps = count(values.ops, 'ops', Number.MAX_SAFE_INTEGER);
  const capacity = values.capacity === undefined ? undefined : count(values.capacity, 'capacity', 1);
  const factories = factoriesFor(capacity);
  const chunk = count(values.chunk, 'chunk', 1000);
  if (values.journal !== undefined && workload === 'M1') usage('--journal goes with W1, W2, W3 or W4');
  const journalRates = (values['journal-rates'] ?? '')
    .split(',')
    .filter((r) => r !== '')
    .map((r) => count(r, 'journal-rates', 1));
  if (journalRates.length > 0 && values.journal === undefined)
    usage('--journal-rates goes with --journal DIR');
  if (globalThis.gc === undefined) process.stderr.write('warning: run node with --expose-gc\n');

  const report: Report = {
    workload: workload === 'M1' ? 'M1 (resting memory: 1,000,000 limit orders)' : workload,
    commit: commit(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    seed,
    runs: workload === 'M1' ? 1 : runs,
    mosaicCapacity: capacity ?? 'default',
    timerNs: timerCost(),
    floor: machineFloor(),
    loadAvg: { start: Math.round(loadavg()[0]! * 100) / 100, end: 0 },
    notes: [],
    results: [],
  };

  if (workload === 'M1') {
    report.notes.push('M1 is the target measure for mosaic; other engines are shown for comparison');
    for (const e of engines) {
      process.stderr.write(`M1: ${e}\n`);
      report.results.push(e === 'mosaic' ? mosaicMemory(seed, capacity) : peerMemory(seed));
    }
  } else {
    const w = generate(workload as WorkloadName, seed);
    // All runs of one engine, then the next engine's: no engine runs on another's leftovers.
    const perEngine = new Map<string, RunResult[]>(engines.map((e) => [e, []]));
    for (const e of engines) {
      for (let r = 1; r <= runs; r++) {
        const timedOps = Math.min(allOps, e === PEER_NAME ? peerOps : Number.MAX_SAFE_INTEGER);
        const label = `${workload} ${e} run ${r}/${runs}`;
        perEngine.get(e)!.push(runOnce(w, factories[e]!, { timedOps, label }));
        globalThis.gc?.();
      }
    }
    for (const [e, results] of perEngine) {
      const best = median(results, (x) => x.opsPerSec);
      report.results.push({
        ...best,
        runsOpsPerSec: results.map((x) => x.opsPerSec),
        runsOtherCpuPct: results.map((x) => x.otherCpuPct),
      });
      if (best.capped) report.notes.push(`${e}: timed ops capped at ${best.ops} of ${w.ops.n - w.warmup}`);
      if (best.liveTracked !== undefined && best.liveTracked !== best.liveOrders) {
        report.notes.push(
          `${e}: driver tracked ${best.liveTracked} live orders, engine reports ${best.liveOrders}`,
        );
      }
      if (w.name === 'W3' && best.liveOrders !== w.warmup) {
        report.notes.push(`${e}: W3 book not restored: ${best.liveOrders} live orders, expected ${w.warmup}`);
      }
    }
    if (engines.includes(PEER_NAME)) {
      report.notes.push(
        `${PEER_NAME}: modify re-enters the order (a size-down loses queue priority); cancel is linear in level depth`,
      );
    }
    if (w.moving) {
      report.notes.push(
        'W4: passive and aggressive prices are set at run time against each engine’s own best prices; ' +
          'six regimes of 166,666 ops, so a run capped below that sees only the first (calm) one',
        `W4 levels: mosaic counts them from its depth events; ${PEER_NAME} from its book internals, ` +
          'not counting a modify that re-enters an order alone at its level',
      );
    }
    report.notes.push(
      'stateHash is each engine’s own hash of its final book; hashes do not compare across engines',
    );
    if (values.journal !== undefined) {
      for (const rate of [undefined, ...journalRates]) {
        const journaled: JournaledResult[] = [];
        const name = rate === undefined ? 'journaled' : `journaled, ${fmt(rate)} ops/s offered`;
        for (let r = 1; r <= runs; r++) {
          const label = `${workload} mosaic (${name}) run ${r}/${runs}`;
          journaled.push(await runJournaled(w, values.journal, { timedOps: allOps, chunk, label, rate }));
          globalThis.gc?.();
        }
        // Paced runs all carry their rate: the median by tail latency is the telling one.
        const best =
          rate === undefined ? median(journaled, (x) => x.opsPerSec) : median(journaled, (x) => x.ackP99Us);
        report.results.push({
          ...best,
          engine: `mosaic (${name})`,
          runsOpsPerSec: journaled.map((x) => x.opsPerSec),
          ...(rate === undefined ? {} : { runsAckP99Us: journaled.map((x) => x.ackP99Us) }),
        });
      }
      report.notes.push(
        `mosaic (journaled): acknowledged once durable (group commit); ops submitted in chunks of ${chunk} per event-loop turn` +
          (journalRates.length > 0
            ? '; paced runs submit each op when due and time it from then (open loop)'
            : ''),
      );
    }
  }

  report.loadAvg.end = Math.round(loadavg()[0]! * 100) / 100;
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(table(report));
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** The report as a readable table. */
function table(r: Report): string {
  const out: string[] = [
    `${r.workload}  commit ${r.commit}  node ${r.node}  ${r.cpu}  seed ${r.seed}  runs ${r.runs}  ` +
      `load ${r.loadAvg.start} -> ${r.loadAvg.end}`,
  ];
  out.push(
    `(each latency includes one performance.now() read, ~${r.timerNs} ns; a fixed loop that allocates nothing ` +
      `takes p50 ${r.floor.p50Us} p99 ${r.floor.p99Us} p99.9 ${r.floor.p999Us} us here: the machine's own tail)`,
    '',
  );
  for (const x of r.results) {
    if ('ackP50Us' in x) {
      out.push(
        `${x.engine}: ${fmt(x.ops)} ops  ${fmt(x.opsPerSec)} acknowledged ops/s (runs ${x.runsOpsPerSec.map(fmt).join(', ')})`,
        `  ack latency us: p50 ${x.ackP50Us}  p99 ${x.ackP99Us}  p99.9 ${x.ackP999Us}  max ${x.ackMaxUs}`,
        `  ${fmt(x.fsyncsPerSec)} fsyncs/s, ${x.commandsPerBatch} commands per batch, ${x.bytesPerCommand} bytes per command; ` +
          `live ${fmt(x.liveOrders)}  hash ${x.stateHash}`,
        '',
      );
      continue;
    }
    if ('heapUsedMB' in x) {
      out.push(
        `${x.engine.padEnd(18)} ${fmt(x.restingOrders)} resting orders: heap used ${x.heapUsedMB} MB ` +
          `(engine ${x.engineHeapMB} MB, ${x.bytesPerOrder} B/order; + typed arrays ${x.engineArrayBuffersMB} MB ` +
          `= ${x.engineTotalMB} MB), rss ${x.rssMB} MB`,
      );
      continue;
    }
    out.push(
      `${x.engine}: ${fmt(x.ops)} ops  ${fmt(x.opsPerSec)} ops/s (engine-only ${fmt(x.engineOpsPerSec)}; ` +
        `runs ${x.runsOpsPerSec.map(fmt).join(', ')}; other processes' CPU ${x.runsOtherCpuPct.join(', ')}%)`,
    );
    out.push(
      `  live ${fmt(x.liveOrders)}  trades ${fmt(x.trades)}  rejects ${fmt(x.rejects)}  hash ${x.stateHash}`,
    );
    if (x.levels !== undefined) {
      const l = x.levels;
      out.push(
        `  price levels: ${fmt(l.openedPerSec)} opened/s, ${fmt(l.closedPerSec)} closed/s ` +
          `(${fmt(l.opened)} opened, ${fmt(l.closed)} closed; ${fmt(l.atEnd)} open at the end)`,
      );
    }
    out.push(
      `  ${'type'.padEnd(12)}${['ops', 'p50 us', 'p99 us', 'p99.9 us', 'max us'].map((h) => h.padStart(12)).join('')}`,
    );
    const rows = [
      ['all', x as { ops: number; p50Us: number; p99Us: number; p999Us: number; maxUs: number }],
    ] as const;
    for (const [name, l] of [...rows, ...Object.entries(x.perType)]) {
      out.push(
        `  ${name.padEnd(12)}${[fmt(l.ops), l.p50Us, l.p99Us, l.p999Us, l.maxUs].map((v) => String(v).padStart(12)).join('')}`,
      );
    }
    out.push('');
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return `${out.join('\n')}\n`;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
