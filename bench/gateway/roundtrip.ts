/**
 * Round trip over loopback at fixed rates (open loop): one buyer and one seller connection, each
 * a fresh demo-funded account, alternate GTC limit orders of 1 lot at 100.00 on ACME@evm:31337,
 * so every buy that rests is taken by the next sell (and the other way round) and the book stays
 * at one level. Latency runs from each order's scheduled send time to its first engine report
 * (after journaling); the time to `pending-new` is reported beside it.
 */
import { latency, type Latency } from '../engine/stats.ts';
import { BenchSocket, newOrder } from './client.ts';
import { answered, openLoop, over } from './open-loop.ts';
import type { BenchServer, ServerStats } from './server.ts';

export const INSTRUMENT = 'ACME@evm:31337';

export interface RoundTripResult {
  rate: number;
  seconds: number;
  orders: number;
  answered: number;
  rejected: number;
  errors: number;
  firstError?: string;
  /** Scheduled send to the engine's report: the headline. */
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
  /** CPU of the load process (this one) over the timed run, 100 = one core. */
  clientCpuPct: number;
  server: ServerStats;
}

/** The buyer (even orders) and seller (odd orders) of an open-loop run at 100.00, 1 lot each. */
export function crossingFrame(n: number, i: number): string {
  return newOrder(INSTRUMENT, n, i % 2 === 0 ? 'buy' : 'sell', '100.00', '1');
}

export async function roundTrip(
  server: Pick<BenchServer, 'url' | 'mark'>,
  rates: number[],
  seconds: number,
): Promise<RoundTripResult[]> {
  const conns = [await BenchSocket.trader(server.url), await BenchSocket.trader(server.url)];
  const out: RoundTripResult[] = [];
  let next = 1;
  try {
    for (const rate of rates) {
      process.stderr.write(`roundtrip: ${rate} orders/s for ${seconds} s\n`);
      // Warm-up at the same rate (JIT, buffers), not counted.
      const warm = await openLoop(conns, rate, Math.min(1, seconds / 4), next, crossingFrame);
      next += warm.orders;
      await server.mark();
      const cpu = process.cpuUsage();
      const s = await openLoop(conns, rate, seconds, next, crossingFrame);
      const used = process.cpuUsage(cpu);
      const stats = await server.mark();
      next += s.orders;
      const eng = answered(s.engine);
      out.push({
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
        clientCpuPct: Math.round(((used.user + used.system) / 1000 / stats.wallMs) * 1000) / 10,
        server: stats,
      });
    }
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
  return out;
}
