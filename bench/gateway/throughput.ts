/**
 * Maximum sustained orders/s: a closed loop over several connections (half of them buyers,
 * half sellers, each a fresh demo-funded account), each keeping `window` orders outstanding:
 * every engine report (after journaling) for one of a connection's orders sends its next one.
 * All orders are 1 lot at 100.00, so buys and sells cross each other and the book never holds
 * more than the orders in flight. Counted: engine reports per second over the timed part, after
 * a warm-up.
 */
import { latency, type Latency } from '../engine/stats.ts';
import { BenchSocket, ENGINE, ERROR, execReport, newOrder, parsed } from './client.ts';
import { INSTRUMENT } from './roundtrip.ts';
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
  clientCpuPct: number;
  server: ServerStats;
}

const RING = 1 << 20;

export async function throughput(
  server: Pick<BenchServer, 'url' | 'mark'>,
  seconds: number,
  connections: number,
  window: number,
  warmSeconds = 1,
  instrument = INSTRUMENT,
): Promise<ThroughputResult> {
  const pairs = Math.max(1, Math.floor(connections / 2));
  const conns = await Promise.all(Array.from({ length: pairs * 2 }, () => BenchSocket.trader(server.url)));
  process.stderr.write(
    `throughput: ${conns.length} connections x ${window} in flight, ${warmSeconds} s warm-up + ${seconds} s\n`,
  );
  // Order numbers are global (each account sees only its own): n's send time is sentAt[n % RING].
  const sentAt = new Float64Array(RING);
  const samples: number[] = [];
  let next = 1;
  let counting = false;
  let stopping = false;
  let acknowledged = 0;
  let inFlight = 0;
  let errors = 0;
  let firstError = '';
  const frames = conns.map(
    (_, c) => (n: number) => newOrder(instrument, n, c % 2 === 0 ? 'buy' : 'sell', '100.00', '1'),
  );
  const sendOne = (c: number) => {
    const n = next++;
    sentAt[n % RING] = performance.now();
    inFlight++;
    conns[c]!.send(frames[c]!(n));
  };
  let drained: () => void = () => {};
  conns.forEach((conn, c) => {
    conn.onFrame = (data) => {
      const kind = execReport(data);
      if (kind === ERROR) {
        if (errors++ === 0) firstError = parsed.error;
        return;
      }
      if (kind !== ENGINE) return;
      // A maker's fill report for an order already answered carries its number too: only the
      // first engine report counts, and that one clears the slot.
      const slot = parsed.order % RING;
      const at = sentAt[slot]!;
      if (at === 0) return;
      sentAt[slot] = 0;
      inFlight--;
      if (counting) {
        acknowledged++;
        samples.push(performance.now() - at);
      }
      if (!stopping) sendOne(c);
      else if (inFlight === 0) drained();
    };
  });
  for (let c = 0; c < conns.length; c++) for (let w = 0; w < window; w++) sendOne(c);
  await sleep(warmSeconds * 1000);
  await server.mark();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  counting = true;
  await sleep(seconds * 1000);
  counting = false;
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  const stats = await server.mark();
  stopping = true;
  await Promise.race([new Promise<void>((resolve) => (drained = resolve)), sleep(5000)]);
  await Promise.all(conns.map((c) => c.close()));
  return {
    connections: conns.length,
    window,
    seconds,
    acknowledged,
    ordersPerSec: Math.round(acknowledged / (wall / 1000)),
    latency: latency(Float64Array.from(samples)),
    errors,
    ...(errors > 0 ? { firstError } : {}),
    clientCpuPct: Math.round(((used.user + used.system) / 1000 / wall) * 1000) / 10,
    server: stats,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
