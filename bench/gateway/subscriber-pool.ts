/**
 * Market-data subscribers spread over forked processes (fanout-worker.ts), each subscribed to the
 * book and trades channels of one server and checking every frame it gets: used alike against
 * the exchange and against the bare `ws` baseline, so that both feed the same receivers.
 */
import { type CheckCounts, emptyCounts } from './book-check.ts';
import { Child } from './child.ts';
import type { FromWorker, ToWorker, WorkerArgs, WorkerReport } from './fanout-worker.ts';

/** What the subscribers got in one counted window. */
export interface Window {
  wallMs: number;
  /** Summed over all subscribers. */
  counts: CheckCounts;
  deliveredPerSec: number;
  /** CPU of each subscriber process over the window, 100 = one core. */
  workerCpuPct: number[];
  /** Frames whose parse was shared with another subscriber's identical frame, per process. */
  cacheHitPct: number[];
}

export class SubscriberPool {
  readonly #workers: Array<Child<ToWorker, FromWorker>>;
  /** Counts at the end of the previous window (the processes report totals). */
  #before = emptyCounts();

  private constructor(workers: Array<Child<ToWorker, FromWorker>>) {
    this.#workers = workers;
  }

  /** `subscribers` connections to `url` over `processes` processes; resolves once all have their snapshots. */
  static async open(
    url: string,
    subscribers: number,
    processes: number,
    channels: Pick<WorkerArgs, 'book' | 'trades'>,
  ): Promise<SubscriberPool> {
    const share = (w: number) => Math.floor(subscribers / processes) + (w < subscribers % processes ? 1 : 0);
    const shares = Array.from({ length: Math.min(processes, subscribers) }, (_, w) => share(w));
    process.stderr.write(`fanout: connecting ${subscribers} subscribers in ${shares.length} processes\n`);
    const workers = await Child.startAll<ToWorker, FromWorker>(
      'fanout-worker.js',
      shares.map((count) => ({ url, count, ...channels })),
      { op: 'exit' },
    );
    return new SubscriberPool(workers);
  }

  get processes(): number {
    return this.#workers.length;
  }

  /** Counts what the subscribers receive while `drive` runs and 100 ms after (the last frames on their way). */
  async measure(drive: () => Promise<unknown>): Promise<Window> {
    for (const w of this.#workers) w.send({ op: 'start' });
    const t0 = performance.now();
    await drive();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const reports = await this.#ask({ op: 'stop' });
    const wallMs = performance.now() - t0;
    const total = sumCounts(reports.map((r) => r.counts));
    const counts = minusCounts(total, this.#before);
    this.#before = total;
    return {
      wallMs,
      counts,
      deliveredPerSec: Math.round(counts.frames / (wallMs / 1000)),
      workerCpuPct: reports.map((r) => r.cpuPct),
      cacheHitPct: reports.map((r) => r.cacheHitPct),
    };
  }

  /**
   * Waits (up to `timeoutMs`) for every subscriber to reach `seqs`; how many did, and the
   * counts over all windows.
   */
  async finish(
    seqs: Record<string, number>,
    timeoutMs: number,
  ): Promise<{ complete: number; counts: CheckCounts }> {
    const reports = await this.#ask({ op: 'final', seqs, timeoutMs });
    return {
      complete: reports.reduce((n, r) => n + r.complete, 0),
      counts: sumCounts(reports.map((r) => r.counts)),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.end({ op: 'exit' })));
  }

  async #ask(msg: ToWorker): Promise<WorkerReport[]> {
    return (await Promise.all(this.#workers.map((w) => w.ask(msg)))) as WorkerReport[];
  }
}

function sumCounts(all: CheckCounts[]): CheckCounts {
  const out = emptyCounts();
  for (const c of all) for (const k of Object.keys(out) as Array<keyof CheckCounts>) out[k] += c[k];
  return out;
}

function minusCounts(a: CheckCounts, b: CheckCounts): CheckCounts {
  const out = emptyCounts();
  for (const k of Object.keys(out) as Array<keyof CheckCounts>) out[k] = a[k] - b[k];
  return out;
}
