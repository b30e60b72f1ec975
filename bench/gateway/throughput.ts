/**
 * Maximum sustained orders/s: a closed loop (closed-loop.ts) over several connections, half of
 * them buyers and half sellers, each a fresh demo-funded account keeping `window` orders
 * outstanding, spread over load generators. Counted: engine reports per second over the timed
 * part, after a warm-up, summed over the generators.
 *
 * The same loop against the bare `ws` echo server (mode `echo`) gives the messages/s this
 * machine's loopback carries with the same connections, windows and generators.
 */
import { latency, type Latency } from '../engine/stats.ts';
import type { ClosedLoopPart } from './closed-loop.ts';
import { INSTRUMENT } from './client.ts';
import type { GeneratorArgs, Usage } from './generator.ts';
import {
  askAll,
  closeAll,
  forkGenerators,
  type GeneratorHandle,
  type LoadReport,
  loadReport,
  localGenerator,
} from './generators.ts';
import type { BenchServer, ServerStats } from './server.ts';

export interface ThroughputResult {
  connections: number;
  window: number;
  seconds: number;
  /** Engine reports received for our orders during the timed part. */
  acknowledged: number;
  ordersPerSec: number;
  /** Send to engine report under this load (closed loop: the time each order spent in flight). */
  latency: Latency;
  errors: number;
  firstError?: string;
  load: LoadReport;
  server: ServerStats;
}

export interface ClosedLoopPlan {
  mode: GeneratorArgs['mode'];
  instrument: string;
  /** Connections in all, at least one buyer/seller pair per generator. */
  connections: number;
  window: number;
  seconds: number;
  warmSeconds: number;
}

/**
 * One closed-loop run against `server` with `processes` forked generators (or, with
 * 'in-process', one inside this process); the connections are shared out among them.
 */
export async function closedLoop(
  server: Pick<BenchServer, 'url' | 'mark'>,
  plan: ClosedLoopPlan,
  processes: number | 'in-process',
): Promise<{ result: Omit<ThroughputResult, 'load'>; usage: Usage[] }> {
  const n = processes === 'in-process' ? 1 : processes;
  const args: GeneratorArgs = {
    url: server.url,
    mode: plan.mode,
    instrument: plan.instrument,
    connections: 2 * Math.max(1, Math.floor(plan.connections / (2 * n))),
  };
  const gens = processes === 'in-process' ? [await localGenerator(args)] : await forkGenerators(args, n);
  try {
    process.stderr.write(
      `throughput (${plan.mode}): ${n} generators x ${args.connections} connections x ${plan.window} in flight, ` +
        `${plan.warmSeconds} s warm-up + ${plan.seconds} s\n`,
    );
    return await counted(server, gens, plan, args.connections * n);
  } finally {
    await closeAll(gens);
  }
}

async function counted(
  server: Pick<BenchServer, 'mark'>,
  gens: GeneratorHandle[],
  plan: ClosedLoopPlan,
  connections: number,
): Promise<{ result: Omit<ThroughputResult, 'load'>; usage: Usage[] }> {
  await askAll(gens, { op: 'closed', window: plan.window });
  await sleep(plan.warmSeconds * 1000);
  await server.mark();
  await askAll(gens, { op: 'count' });
  await sleep(plan.seconds * 1000);
  const parts = (await askAll(gens, { op: 'stop' })).map((m) => (m as { part: ClosedLoopPart }).part);
  const stats = await server.mark();
  await askAll(gens, { op: 'drain' });
  const usage = parts.map((p) => ({ cpuPct: p.cpuPct, spinPct: 0 }));
  const acknowledged = parts.reduce((n, p) => n + p.acknowledged, 0);
  const errors = parts.reduce((n, p) => n + p.errors, 0);
  const samples = new Float64Array(parts.reduce((n, p) => n + p.samples.length, 0));
  let at = 0;
  for (const p of parts) {
    samples.set(p.samples, at);
    at += p.samples.length;
  }
  const result: Omit<ThroughputResult, 'load'> = {
    connections,
    window: plan.window,
    seconds: plan.seconds,
    acknowledged,
    ordersPerSec: Math.round(parts.reduce((n, p) => n + p.acknowledged / (p.wallMs / 1000), 0)),
    latency: latency(samples),
    errors,
    ...(errors > 0 ? { firstError: parts.find((p) => p.errors > 0)!.firstError } : {}),
    server: stats,
  };
  return { result, usage };
}

/** A closed loop with the load inside this process (the cluster bench's use). */
export async function throughput(
  server: Pick<BenchServer, 'url' | 'mark'>,
  seconds: number,
  connections: number,
  window: number,
  warmSeconds = 1,
  instrument = INSTRUMENT,
): Promise<ThroughputResult> {
  const plan = { mode: 'trader' as const, instrument, connections, window, seconds, warmSeconds };
  const { result, usage } = await closedLoop(server, plan, 'in-process');
  return { ...result, load: loadReport(usage, true) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
