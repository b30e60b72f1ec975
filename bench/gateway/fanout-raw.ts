/**
 * The fan-out baseline: a bare `ws` server (raw-server-main.ts) sends the frames the exchange
 * sent (capture.ts) to as many subscribers, in as many processes, doing the same checks: each
 * rate's frames spread evenly over the same seconds. What it delivers is what this machine's
 * loopback and `ws` can carry of that stream, with no exchange in the way.
 */
import type { CheckCounts } from './book-check.ts';
import type { Capture } from './capture.ts';
import { BOOK, TRADES } from './client.ts';
import { BenchServer, type ServerStats } from './server.ts';
import { SubscriberPool } from './subscriber-pool.ts';

export interface RawRun {
  /** Frames of the segment, each sent to every subscriber of its channel. */
  frames: number;
  deliveredPerSec: number;
  counts: CheckCounts;
  workerCpuPct: number[];
  server: ServerStats;
}

export interface RawFanout {
  runs: RawRun[];
  totals: {
    /** Subscribers that reached the capture's last seq of both channels. */
    complete: number;
    gaps: number;
    checksumFailures: number;
    /** False when the capturing subscriber missed frames (it was conflated): then gaps are expected. */
    captureComplete: boolean;
  };
}

export async function rawFanout(
  capture: Capture,
  subscribers: number,
  processes: number,
  seconds: number,
): Promise<RawFanout> {
  const server = await BenchServer.raw('broadcast');
  try {
    await server.ask({ op: 'load', capture });
    const pool = await SubscriberPool.open(server.url, subscribers, processes, {
      book: BOOK,
      trades: TRADES,
    });
    try {
      const runs: RawRun[] = [];
      for (let k = 0; k < capture.segments.length; k++) {
        const frames = capture.segments[k]!.length;
        process.stderr.write(`fanout baseline (bare ws): ${frames} frames over ${seconds} s\n`);
        await server.mark();
        const w = await pool.measure(() => server.ask({ op: 'replay', segment: k, seconds }));
        const stats = await server.mark();
        runs.push({
          frames,
          deliveredPerSec: w.deliveredPerSec,
          counts: w.counts,
          workerCpuPct: w.workerCpuPct,
          server: stats,
        });
      }
      const end = await pool.finish(capture.lastSeq, 15_000);
      return {
        runs,
        totals: {
          complete: end.complete,
          gaps: end.counts.gaps,
          checksumFailures: end.counts.checksumFailures,
          captureComplete: capture.complete,
        },
      };
    } finally {
      await pool.close();
    }
  } finally {
    await server.stop();
  }
}
