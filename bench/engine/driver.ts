/**
 * Runs one workload once on one engine, in two passes over the same ops, each on a fresh engine
 * after the same untimed warm-up: a throughput pass that reads the clock only around the loop,
 * and a latency pass that times each op alone with `performance.now()` around the adapter call
 * (two timer reads per op would otherwise be a quarter of an op's time at 2,000,000 ops/s). Both
 * must end in the same state hash. Target picks for cancels and modifies (from the live set) and
 * W3's refills happen outside the per-op timing; W3's refill time is also taken out of the wall
 * time. Throughput is ops / wall time of the throughput pass, which includes the driver's own
 * work, so it is a conservative figure; `engineOpsPerSec` is ops / the sum of per-op latencies.
 *
 * W4 (`Workload.moving`): before a timed passive or aggressive order, the driver asks the engine
 * for its best prices and sets the order's price by `priceAgainstBest` (untimed, but inside the
 * wall time: one or two field reads for Mosaic, a tree lookup for the peer). Levels opened and
 * closed are the adapter's counts after the timed loop minus those before it, per second of the
 * same wall time as `opsPerSec`.
 */
import { readFileSync } from 'node:fs';
import { XorShift32 } from '../prng.ts';
import type { AdapterFactory, EngineAdapter } from './adapter.ts';
import { LiveOrders } from './live-orders.ts';
import { type Latency, latency, latencyByKind } from './stats.ts';
import { KIND_NAMES, Kind, priceAgainstBest, type Workload } from './workloads.ts';

export interface RunResult extends Omit<Latency, 'ops'> {
  engine: string;
  /** Ops actually timed. */
  ops: number;
  opsPerSec: number;
  liveOrders: number;
  stateHash: string;
  perType: Record<string, Latency>;
  engineOpsPerSec: number;
  /** Whether the timed ops were cut short of the workload's (`--ops`, `--peer-ops`). */
  capped: boolean;
  /** Maker orders touched by trades, warm-up included. */
  trades: number;
  rejects: number;
  /** Cancel/modify ops with no live order to name (not timed, not in `ops`). */
  skipped: number;
  /** W2: instruments redrawn because the drawn one had no live order. */
  redraws: number;
  /** The driver's live set at the end; equals `liveOrders` unless something is off. */
  liveTracked?: number;
  /** W4: price levels opened and closed during the timed ops, and open at the end (see adapter.ts). */
  levels?: { opened: number; closed: number; openedPerSec: number; closedPerSec: number; atEnd: number };
  /**
   * CPU that other processes used during the timed loop, in % of one core (Linux; -1 when
   * unknown). This machine has few cores: well above 0 means the run competed for them.
   */
  otherCpuPct: number;
}

export interface RunOptions {
  /** Timed ops to run (at most the workload's). */
  timedOps: number;
  /** Prefix of progress lines on stderr. */
  label: string;
}

const PROGRESS_MS = 2000;

/** A fresh engine through the workload's warm-up (untimed), then a full collection. */
function warmed(
  w: Workload,
  make: AdapterFactory,
  label: string,
): { a: EngineAdapter; live: LiveOrders | null } {
  const live = w.targets ? new LiveOrders(w.ops.n + 1, w.instruments.length) : null;
  const a = make(w, live);
  const started = performance.now();
  for (let i = 0; i < w.warmup; i++) a.place(i, i);
  const warmMs = performance.now() - started;
  progress(`${label}: warm-up of ${w.warmup} orders in ${(warmMs / 1000).toFixed(1)} s`);
  globalThis.gc?.();
  return { a, live };
}

export function runOnce(w: Workload, make: AdapterFactory, opts: RunOptions): RunResult {
  const timed = Math.min(opts.timedOps, w.ops.n - w.warmup);
  // Throughput pass
  const { a, live } = warmed(w, make, `${opts.label} throughput`);
  const levels0 = a.levelCounts();
  const busy0 = machineBusyMs();
  const own0 = process.cpuUsage();
  const t = opLoop(w, a, live, timed, null, `${opts.label} throughput`);
  const own = process.cpuUsage(own0);
  const busy = machineBusyMs() - busy0;
  const levels1 = a.levelCounts();
  const n = t.n;
  // Latency pass
  const samples = new Float64Array(timed);
  const kinds = new Uint8Array(timed);
  const again = warmed(w, make, `${opts.label} latency`);
  const l = opLoop(w, again.a, again.live, timed, { samples, kinds }, `${opts.label} latency`);
  const stateHash = a.stateHash();
  if (l.n !== n || again.a.stateHash() !== stateHash) {
    throw new Error(
      `${opts.label}: the latency pass ended elsewhere than the throughput pass (${l.n} ops, not ${n})`,
    );
  }

  let sum = 0;
  for (let i = 0; i < n; i++) sum += samples[i]!;
  const all = latency(samples.subarray(0, n));
  const counts = a.counts();
  const result: RunResult = {
    engine: a.name,
    ops: n,
    opsPerSec: Math.round(n / (t.wallMs / 1000)),
    p50Us: all.p50Us,
    p99Us: all.p99Us,
    p999Us: all.p999Us,
    maxUs: all.maxUs,
    liveOrders: a.liveOrders(),
    stateHash,
    perType: latencyByKind(samples.subarray(0, n), kinds.subarray(0, n), KIND_NAMES),
    engineOpsPerSec: Math.round(n / (sum / 1000)),
    capped: timed < w.ops.n - w.warmup,
    trades: counts.trades,
    rejects: counts.rejects,
    skipped: t.skipped,
    redraws: t.redraws,
    otherCpuPct:
      busy0 < 0 ? -1 : Math.max(0, Math.round((100 * (busy - (own.user + own.system) / 1000)) / t.totalMs)),
  };
  if (live !== null) result.liveTracked = live.size;
  if (levels0 !== null && levels1 !== null) {
    const opened = levels1.opened - levels0.opened;
    const closed = levels1.closed - levels0.closed;
    result.levels = {
      opened,
      closed,
      openedPerSec: Math.round(opened / (t.wallMs / 1000)),
      closedPerSec: Math.round(closed / (t.wallMs / 1000)),
      atEnd: levels1.open,
    };
  }
  return result;
}

interface LoopStats {
  n: number;
  /** Wall time of the timed ops (W3: without the refills). */
  wallMs: number;
  /** Wall time of the whole loop. */
  totalMs: number;
  skipped: number;
  redraws: number;
}

/**
 * Runs timed op `i` of a workload on an adapter: picks the target of a cancel or modify from the
 * live set (untimed), times the adapter call into `per` (when given), refills after a W3 sweep
 * (untimed). Shared by the synchronous loop here and the journaled loop, which yields between
 * chunks. A latency goes straight into its typed array: returned, each would be a heap number,
 * and the garbage of the harness itself would show in the tail it measures.
 */
export class OpStepper {
  /** Ops run (not skipped): the next index into `per`. */
  n = 0;
  skipped = 0;
  redraws = 0;
  /** Time spent in W3 refills, to take out of the wall time. */
  untimedMs = 0;
  readonly #redraw: XorShift32;

  constructor(
    readonly w: Workload,
    readonly a: EngineAdapter,
    readonly live: LiveOrders | null,
    readonly per: { samples: Float64Array; kinds: Uint8Array } | null = null,
  ) {
    this.#redraw = new XorShift32((w.seed ^ 0x5bd1e995) >>> 0 || 1);
  }

  /** Runs op `i`; false when it is a cancel or modify that found no live order (skipped). */
  step(i: number): boolean {
    const { w, a, live } = this;
    const ops = w.ops;
    const kind = ops.kind[i]!;
    let t0: number;
    let t1: number;
    if (kind === Kind.Cancel || kind === Kind.Modify) {
      const u = ops.pick[i]!;
      let h = live!.pick(ops.instrument[i]!, u);
      const groups = w.instruments.length;
      if (h < 0 && groups > 1 && live!.size > 0) {
        let g: number;
        do {
          g = this.#redraw.int(0, groups - 1);
          this.redraws++;
        } while (live!.groupSize(g) === 0);
        h = live!.pick(g, u);
      }
      if (h < 0) {
        this.skipped++;
        return false;
      }
      if (kind === Kind.Cancel) {
        t0 = this.#now();
        a.cancel(h, i);
        t1 = this.#now();
      } else {
        const q = a.openQty(h);
        const to = q > 1 ? Math.floor(q / 2) : 1;
        t0 = this.#now();
        a.reduce(h, to, i);
        t1 = this.#now();
      }
    } else {
      if (w.moving && (kind === Kind.Passive || kind === Kind.Aggressive)) {
        const inst = ops.instrument[i]!;
        a.reprice(i, priceAgainstBest(ops, i, a.best(inst, 0), a.best(inst, 1)));
      }
      t0 = this.#now();
      a.place(i, i);
      t1 = this.#now();
      if (kind === Kind.Sweep) this.untimedMs += refill(w, a, i);
    }
    const per = this.per;
    if (per !== null) {
      per.samples[this.n] = t1 - t0;
      per.kinds[this.n] = kind;
    }
    this.n++;
    return true;
  }

  #now(): number {
    return this.per === null ? 0 : performance.now();
  }
}

/**
 * The ops `warmup .. warmup + timed - 1`; with `per`, each op is timed into `per.samples` (ms),
 * its kind into `per.kinds`.
 */
function opLoop(
  w: Workload,
  a: EngineAdapter,
  live: LiveOrders | null,
  timed: number,
  per: { samples: Float64Array; kinds: Uint8Array } | null,
  label: string,
): LoopStats {
  const stepper = new OpStepper(w, a, live, per);
  const end = w.warmup + timed;
  const start = performance.now();
  let report = start + PROGRESS_MS;
  for (let i = w.warmup; i < end; i++) {
    if (!stepper.step(i)) continue;
    const n = stepper.n;
    if (n % 1024 === 0 && performance.now() >= report) {
      progress(`${label}: ${n}/${timed} ops`);
      report = performance.now() + PROGRESS_MS;
    }
  }
  const totalMs = performance.now() - start;
  return {
    n: stepper.n,
    wallMs: totalMs - stepper.untimedMs,
    totalMs,
    skipped: stepper.skipped,
    redraws: stepper.redraws,
  };
}

/** W3: places the orders the sweep `i` took, as they were (untimed); returns the time it took. */
function refill(w: Workload, a: EngineAdapter, i: number): number {
  const t0 = performance.now();
  const levels = w.ops.levels[i]!;
  // A buy swept the asks, a sell the bids.
  const side = w.sweepBook![w.ops.side[i] === 0 ? 1 : 0];
  const last = side.start[levels]!;
  for (let j = 0; j < last; j++) a.place(side.orders[j]!, i);
  return performance.now() - t0;
}

/** CPU time all processes have used since boot, in ms (from /proc/stat), or -1 where unknown. */
function machineBusyMs(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((x, y) => x + y, 0);
    // user nice system idle iowait irq softirq steal ...; busy = total - idle - iowait, in 10 ms ticks.
    return (total - f[3]! - f[4]!) * 10;
  } catch {
    return -1;
  }
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
