/**
 * Market-data fan-out: `subscribers` connections (spread over worker processes) each subscribe
 * to `book.10:ACME@evm:31337` and `trades:ACME@evm:31337`, while a driver sends orders at a fixed
 * rate (open loop): a buyer and a seller account alternate 1 to 10 lots at random prices within
 * 0.10 of 100.00, so levels come and go, some cross and trade, and the book stays within 21
 * levels. Counted: frames delivered per second across all subscribers, against what the
 * channels produced times the subscribers; every subscriber checks its sequence numbers and
 * its rebuilt book's checksums (book-check.ts), and at the end must have reached the last seq.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { XorShift32 } from '../index.ts';
import { type CheckCounts, emptyCounts, FrameCache, Subscriber } from './book-check.ts';
import { BenchSocket, newOrder } from './client.ts';
import type { FromWorker, ToWorker, WorkerArgs, WorkerReport } from './fanout-worker.ts';
import { openLoop } from './open-loop.ts';
import { INSTRUMENT } from './roundtrip.ts';
import type { BenchServer, ServerStats } from './server.ts';

export const BOOK = `book.10:${INSTRUMENT}`;
export const TRADES = `trades:${INSTRUMENT}`;

export interface FanoutRun {
  /** Driver orders per second. */
  rate: number;
  seconds: number;
  /** Updates the two channels produced during the window (book + trades). */
  channelUpdates: number;
  /** Frames every subscriber should have had: channel updates x subscribers. */
  demandedPerSec: number;
  /** Frames received across all subscribers per second of the window. */
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
}

class Worker {
  readonly child: ChildProcess;
  #waiters: Array<(m: FromWorker) => void> = [];

  constructor(args: WorkerArgs) {
    const entry = fileURLToPath(new URL('./fanout-worker.js', import.meta.url));
    this.child = fork(entry, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: FromWorker) => this.#waiters.shift()?.(m));
  }

  next(): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve);
      this.child.once('exit', (code) => reject(new Error(`fanout worker exited (${code})`)));
    });
  }

  async ask(msg: ToWorker): Promise<WorkerReport> {
    const reply = this.next();
    this.child.send(msg);
    return (await reply) as WorkerReport;
  }

  send(msg: ToWorker): void {
    this.child.send(msg);
  }
}

export async function fanout(
  server: BenchServer,
  subscribers: number,
  rates: number[],
  seconds: number,
  workerCount = 2,
): Promise<FanoutResult> {
  const workers: Worker[] = [];
  const share = (w: number) =>
    Math.floor(subscribers / workerCount) + (w < subscribers % workerCount ? 1 : 0);
  for (let w = 0; w < workerCount; w++) {
    if (share(w) > 0)
      workers.push(new Worker({ url: server.url, count: share(w), book: BOOK, trades: TRADES }));
  }
  process.stderr.write(`fanout: connecting ${subscribers} subscribers in ${workers.length} processes\n`);
  await Promise.all(workers.map((w) => w.next()));

  const buyer = await BenchSocket.trader(server.url);
  const seller = await BenchSocket.trader(server.url);
  const watch = await BenchSocket.connect(server.url);
  const watcher = new Subscriber(BOOK);
  const cache = new FrameCache(64);
  watch.onFrame = (data) => watcher.take(cache.parse(data));
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
  let before = emptyCounts();
  try {
    for (const rate of rates) {
      process.stderr.write(
        `fanout: driver at ${rate} orders/s for ${seconds} s, ${subscribers} subscribers\n`,
      );
      await server.mark();
      const seq0 = seqs();
      for (const w of workers) w.send({ op: 'start' });
      const t0 = performance.now();
      const s = await openLoop([buyer, seller], rate, seconds, next, frame);
      next += s.orders;
      await sleep(100); // the last updates reach the subscribers
      const reports = await Promise.all(workers.map((w) => w.ask({ op: 'stop' })));
      const wall = performance.now() - t0;
      const stats = await server.mark();
      const updates = seqs() - seq0;
      const total = sum(reports.map((r) => r.counts));
      const counts = minus(total, before);
      before = total;
      runs.push({
        rate,
        seconds,
        channelUpdates: updates,
        demandedPerSec: Math.round((updates * subscribers) / (wall / 1000)),
        deliveredPerSec: Math.round(counts.frames / (wall / 1000)),
        counts,
        orders: s.orders,
        answered: s.answered,
        errors: s.errors,
        ...(s.errors > 0 ? { firstError: s.firstError } : {}),
        workerCpuPct: reports.map((r) => r.cpuPct),
        cacheHitPct: reports.map((r) => r.cacheHitPct),
        server: stats,
      });
    }
    await sleep(300);
    const finalSeqs = { [BOOK]: watcher.seq.get(BOOK) ?? 0, [TRADES]: watcher.seq.get(TRADES) ?? 0 };
    const finals = await Promise.all(
      workers.map((w) => w.ask({ op: 'final', seqs: finalSeqs, timeoutMs: 15_000 })),
    );
    const all = sum(finals.map((r) => r.counts));
    return {
      subscribers,
      workers: workers.length,
      runs,
      complete: finals.reduce((n, r) => n + r.complete, 0),
      gaps: all.gaps,
      checksumFailures: all.checksumFailures,
      conflations: all.conflations,
    };
  } finally {
    for (const w of workers) w.send({ op: 'exit' });
    await Promise.all([buyer.close(), seller.close(), watch.close()]);
  }
}

function sum(all: CheckCounts[]): CheckCounts {
  const out = emptyCounts();
  for (const c of all) for (const k of Object.keys(out) as Array<keyof CheckCounts>) out[k] += c[k];
  return out;
}

function minus(a: CheckCounts, b: CheckCounts): CheckCounts {
  const out = emptyCounts();
  for (const k of Object.keys(out) as Array<keyof CheckCounts>) out[k] = a[k] - b[k];
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
