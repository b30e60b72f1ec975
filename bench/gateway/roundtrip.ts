/**
 * Round trip over loopback at fixed rates (open loop, open-loop.ts): each load generator has a
 * buyer and a seller connection, each a fresh demo-funded account, alternating GTC limit orders
 * of 1 lot at 100.00 on ACME@evm:31337, so every buy that rests is taken by the next sell (and
 * the other way round) and the book stays at one level. With several generators each sends its
 * share of the rate on a schedule of its own. Latency runs from each order's scheduled send time
 * to its first engine report (after journaling); the time to `pending-new` is reported beside it.
 *
 * Against the bare `ws` echo server (mode `echo`) the same loop times the echo of a frame of the
 * same size: the floor this machine's loopback and `ws` set for any round trip.
 */
import { latency, type Latency } from '../engine/stats.ts';
import { INSTRUMENT } from './client.ts';
import type { GeneratorArgs, Usage } from './generator.ts';
import {
  askAll,
  closeAll,
  escalate,
  forkGenerators,
  type GeneratorHandle,
  type LoadReport,
  loadReport,
  localGenerator,
} from './generators.ts';
import { answered, mergeSamples, type OpenLoopSamples, over } from './open-loop.ts';
import type { BenchServer, ServerStats } from './server.ts';

export interface RoundTripResult {
  rate: number;
  seconds: number;
  orders: number;
  answered: number;
  rejected: number;
  errors: number;
  firstError?: string;
  /** Scheduled send to the engine's report (to the echo, against the echo server): the headline. */
  engine: Latency;
  /** Scheduled send to `pending-new`. */
  pending: Latency;
  /** Orders whose engine report came more than 1 ms after their scheduled send. */
  over1ms: number;
  /** Orders sent more than 1 ms after their scheduled time (the sender fell behind). */
  lateSends: number;
  sendLagP99Us: number;
  /** Orders answered per second over the run. */
  achievedPerSec: number;
  load: LoadReport;
  server: ServerStats;
}

type Server = Pick<BenchServer, 'url' | 'mark'>;

/**
 * Each of `rates` in turn with forked generators, from one on; at a rate where one is saturated
 * the run is repeated with more (up to `maxGenerators`), and the next rate starts from there.
 */
export async function roundTripForked(
  server: Server,
  rates: number[],
  seconds: number,
  mode: GeneratorArgs['mode'],
  maxGenerators: number,
): Promise<RoundTripResult[]> {
  const args: GeneratorArgs = { url: server.url, mode, instrument: INSTRUMENT, connections: 2 };
  const gens: GeneratorHandle[] = [];
  const out: RoundTripResult[] = [];
  try {
    let first = 1;
    for (const rate of rates) {
      const { result, load } = await escalate(
        first,
        maxGenerators,
        async (n) => {
          if (gens.length < n) gens.push(...(await forkGenerators(args, n - gens.length)));
          return atRate(server, gens.slice(0, n), rate, seconds, mode);
        },
        (r) => r.engine.p99Us,
      );
      first = load.processes;
      out.push({ ...result, load });
    }
  } finally {
    await closeAll(gens);
  }
  return out;
}

/** Each of `rates` in turn with one generator inside this process (the cluster bench's use), on `instrument`. */
export async function roundTrip(
  server: Server,
  rates: number[],
  seconds: number,
  instrument = INSTRUMENT,
): Promise<RoundTripResult[]> {
  const gen = await localGenerator({
    url: server.url,
    mode: 'trader',
    instrument,
    connections: 2,
  });
  try {
    const out: RoundTripResult[] = [];
    for (const rate of rates) {
      const { result, usage } = await atRate(server, [gen], rate, seconds, 'trader');
      out.push({ ...result, load: loadReport(usage, true) });
    }
    return out;
  } finally {
    await gen.close();
  }
}

/** A warm-up at the rate (JIT, buffers; not counted), then the timed run, the rate shared out. */
async function atRate(
  server: Server,
  gens: GeneratorHandle[],
  rate: number,
  seconds: number,
  mode: GeneratorArgs['mode'],
): Promise<{ result: Omit<RoundTripResult, 'load'>; usage: Usage[] }> {
  process.stderr.write(
    `roundtrip (${mode}): ${rate} orders/s for ${seconds} s over ${gens.length} generators\n`,
  );
  const share = rate / gens.length;
  await askAll(gens, { op: 'open', rate: share, seconds: Math.min(1, seconds / 4) });
  await server.mark();
  const answers = await askAll(gens, { op: 'open', rate: share, seconds });
  const stats = await server.mark();
  const parts = answers.map((m) => m as { samples: OpenLoopSamples; usage: Usage });
  const s = mergeSamples(parts.map((p) => p.samples));
  const eng = answered(s.engine);
  const result: Omit<RoundTripResult, 'load'> = {
    rate,
    seconds,
    orders: s.orders,
    answered: s.answered,
    rejected: s.rejected,
    errors: s.errors,
    ...(s.errors > 0 ? { firstError: s.firstError } : {}),
    engine: latency(eng),
    pending: latency(answered(s.pending)),
    over1ms: over(eng, 1) + (s.orders - s.answered),
    lateSends: over(s.sendLag, 1),
    sendLagP99Us: latency(s.sendLag).p99Us,
    achievedPerSec: Math.round(s.answered / (s.spanMs / 1000)),
    server: stats,
  };
  return { result, usage: parts.map((p) => p.usage) };
}
