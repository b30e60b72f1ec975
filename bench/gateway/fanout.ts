/**
 * Market-data fan-out: `subscribers` connections (spread over processes, subscriber-pool.ts)
 * each subscribe to `book.10:ACME@evm:31337` and `trades:ACME@evm:31337`, while a driver sends
 * orders at a fixed rate (open loop): a buyer and a seller account alternate 1 to 10 lots at
 * random prices within 0.10 of 100.00, so levels come and go, some cross and trade, and the book
 * stays within 21 levels. Counted: frames delivered per second across all subscribers, against
 * what the channels produced times the subscribers; every subscriber checks its sequence numbers
 * and its rebuilt book's checksums (book-check.ts), and at the end must have reached the last seq.
 *
 * One more subscriber, in this process, records every frame (capture.ts); then the bare `ws`
 * baseline (fanout-raw.ts) sends those frames to as many subscribers in as many processes, and
 * each rate's delivered frames/s is reported as a ratio to the baseline's.
 */
import { XorShift32 } from '../index.ts';
import { type CheckCounts, FrameCache, Subscriber } from './book-check.ts';
import { FrameCapture, type Capture } from './capture.ts';
import { BenchSocket, BOOK, INSTRUMENT, newOrder, TRADES } from './client.ts';
import type { Usage } from './generator.ts';
import type { LoadReport } from './generators.ts';
import { rawFanout, type RawFanout, type RawRun } from './fanout-raw.ts';
import { openLoop, type OpenLoopSamples } from './open-loop.ts';
import { BenchServer, type ServerOptions, type ServerStats } from './server.ts';
import { SubscriberPool, type Window } from './subscriber-pool.ts';

export interface FanoutRun {
  /** Driver orders per second. */
  rate: number;
  seconds: number;
  /** Updates the two channels produced during the window (book + trades). */
  channelUpdates: number;
  /** Frames every subscriber should have had: channel updates x subscribers. */
  demandedPerSec: number;
  /**
   * Frames received across all subscribers per second of the window: the driver's `seconds`
   * and 100 ms more, as for the baseline.
   */
  deliveredPerSec: number;
  counts: CheckCounts;
  /** Driver orders sent, and answered by the engine within the run (plus 5 s of grace). */
  orders: number;
  answered: number;
  errors: number;
  firstError?: string;
  /** CPU of each subscriber process over the window, 100 = one core. */
  workerCpuPct: number[];
  cacheHitPct: number[];
  server: ServerStats;
  /** The bare `ws` server sending this rate's frames to as many subscribers. */
  raw?: RawRun;
  /** `deliveredPerSec` / `raw.deliveredPerSec`. */
  ratioToRaw?: number;
}

export interface FanoutResult {
  subscribers: number;
  workers: number;
  runs: FanoutRun[];
  /** Subscribers that reached the last seq of both channels at the end. */
  complete: number;
  /** Gaps and checksum failures over the whole scenario, all subscribers. */
  gaps: number;
  checksumFailures: number;
  conflations: number;
  raw?: RawFanout['totals'];
  load: LoadReport;
}

/**
 * The exchange's fan-out at each rate on a fresh server, then the bare `ws` baseline on the
 * frames it sent, both to `subscribers` in `processes` processes.
 */
export async function fanoutWithBaseline(
  options: ServerOptions,
  subscribers: number,
  rates: number[],
  seconds: number,
  processes: number,
): Promise<{ result: Omit<FanoutResult, 'load'>; usage: Usage[] }> {
  const server = await BenchServer.start(options);
  let mosaic: Awaited<ReturnType<typeof fanout>>;
  try {
    mosaic = await fanout(server, subscribers, rates, seconds, processes);
  } finally {
    await server.stop();
  }
  const raw = await rawFanout(mosaic.capture, subscribers, processes, seconds);
  const runs = mosaic.result.runs.map((run, i) => {
    const r = raw.runs[i]!;
    return {
      ...run,
      raw: r,
      ratioToRaw: Math.round((run.deliveredPerSec / Math.max(1, r.deliveredPerSec)) * 1000) / 1000,
    };
  });
  const all = [...runs.map((r) => r.workerCpuPct), ...raw.runs.map((r) => r.workerCpuPct)];
  const usage = all[0]!.map((_, w) => ({ cpuPct: Math.max(...all.map((cpu) => cpu[w] ?? 0)), spinPct: 0 }));
  return { result: { ...mosaic.result, runs, raw: raw.totals }, usage };
}

/** The exchange's fan-out at each rate; what one subscriber received is captured for the baseline. */
export async function fanout(
  server: BenchServer,
  subscribers: number,
  rates: number[],
  seconds: number,
  processes = 2,
): Promise<{ result: Omit<FanoutResult, 'load' | 'raw'>; capture: Capture }> {
  const pool = await SubscriberPool.open(server.url, subscribers, processes, { book: BOOK, trades: TRADES });
  const buyer = await BenchSocket.trader(server.url);
  const seller = await BenchSocket.trader(server.url);
  const watch = await BenchSocket.connect(server.url);
  const watcher = new Subscriber(BOOK);
  const capture = new FrameCapture();
  const cache = new FrameCache(64);
  watch.onFrame = (data) => {
    const m = cache.parse(data);
    watcher.take(m);
    capture.take(data, m);
  };
  await watch.request({ op: 'subscribe', channel: BOOK }, 'subscribed');
  await watch.request({ op: 'subscribe', channel: TRADES }, 'subscribed');

  const rng = new XorShift32(42);
  const frame = (n: number, i: number) =>
    newOrder(
      INSTRUMENT,
      n,
      i % 2 === 0 ? 'buy' : 'sell',
      (rng.int(9990, 10010) / 100).toFixed(2),
      `${rng.int(1, 10)}`,
    );
  const seqs = () => (watcher.seq.get(BOOK) ?? 0) + (watcher.seq.get(TRADES) ?? 0);
  const runs: FanoutRun[] = [];
  let next = 1;
  try {
    for (const rate of rates) {
      process.stderr.write(
        `fanout: driver at ${rate} orders/s for ${seconds} s, ${subscribers} subscribers\n`,
      );
      await server.mark();
      const seq0 = seqs();
      capture.nextSegment();
      // The window is the schedule's seconds, as the baseline's: frames the exchange sends later
      // are not counted (the driver's last answers are awaited after it).
      let sent: Promise<OpenLoopSamples> | undefined;
      const w: Window = await pool.measure(async () => {
        sent = openLoop([buyer, seller], rate, seconds, next, frame);
        await sleep(seconds * 1000);
      });
      const s = await sent!;
      next += s.orders;
      const stats = await server.mark();
      const updates = seqs() - seq0;
      runs.push({
        rate,
        seconds,
        channelUpdates: updates,
        demandedPerSec: Math.round((updates * subscribers) / (w.wallMs / 1000)),
        deliveredPerSec: w.deliveredPerSec,
        counts: w.counts,
        orders: s.orders,
        answered: s.answered,
        errors: s.errors,
        ...(s.errors > 0 ? { firstError: s.firstError } : {}),
        workerCpuPct: w.workerCpuPct,
        cacheHitPct: w.cacheHitPct,
        server: stats,
      });
    }
    await sleep(300);
    const finalSeqs = { [BOOK]: watcher.seq.get(BOOK) ?? 0, [TRADES]: watcher.seq.get(TRADES) ?? 0 };
    const end = await pool.finish(finalSeqs, 15_000);
    const result = {
      subscribers,
      workers: pool.processes,
      runs,
      complete: end.complete,
      gaps: end.counts.gaps,
      checksumFailures: end.counts.checksumFailures,
      conflations: end.counts.conflations,
    };
    return { result, capture: capture.capture };
  } finally {
    await pool.close();
    await Promise.all([buyer.close(), seller.close(), watch.close()]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
