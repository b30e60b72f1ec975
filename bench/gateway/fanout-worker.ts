/**
 * A process of market-data subscribers (forked by subscriber-pool.ts): opens its share of the
 * connections, subscribes each to the book and trades channels, and checks every frame each one
 * receives (book-check.ts). Driven over IPC: `start` and `stop` bound the counted window,
 * `final` waits for every subscriber to reach the channels' last seq and reports, `exit` ends.
 */
import WebSocket from 'ws';
import { type CheckCounts, emptyCounts, FrameCache, Subscriber } from './book-check.ts';
import { childArgs, cpuPct as cpuSince } from './child.ts';
import { connectMany } from './client.ts';

export interface WorkerArgs {
  url: string;
  count: number;
  book: string;
  trades: string;
}

export type ToWorker =
  | { op: 'start' }
  | { op: 'stop' }
  | { op: 'final'; seqs: Record<string, number>; timeoutMs: number }
  | { op: 'exit' };

export interface WorkerReport {
  op: 'report';
  counts: CheckCounts;
  /** CPU of this process over the counted window, 100 = one core. */
  cpuPct: number;
  /** Subscribers that reached the last seq of both channels (only after `final`). */
  complete: number;
  /** Frames whose parse was shared with another subscriber's identical frame. */
  cacheHitPct: number;
}

export type FromWorker = { op: 'ready' } | WorkerReport;

async function main(): Promise<void> {
  const args = childArgs<WorkerArgs>();
  const cache = new FrameCache();
  const subs: Subscriber[] = [];
  const sockets = await connectMany(args.count, 50, async () => {
    const ws = new WebSocket(args.url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const sub = new Subscriber(args.book);
    subs.push(sub);
    ws.on('message', (data: Buffer) => sub.take(cache.parse(data)));
    ws.send(JSON.stringify({ op: 'subscribe', channel: args.book }));
    ws.send(JSON.stringify({ op: 'subscribe', channel: args.trades }));
    return ws;
  });
  await until(() => subs.every((s) => s.seq.has(args.book) && s.seq.has(args.trades)), 30_000);

  let cpu = process.cpuUsage();
  let t0 = performance.now();
  let cpuPct = 0;
  const report = (complete: number): WorkerReport => {
    const counts = emptyCounts();
    for (const s of subs) {
      for (const k of Object.keys(counts) as Array<keyof CheckCounts>) counts[k] += s.counts[k];
    }
    const looks = cache.hits + cache.misses;
    return {
      op: 'report',
      counts,
      cpuPct,
      complete,
      cacheHitPct: looks === 0 ? 0 : Math.round((cache.hits / looks) * 1000) / 10,
    };
  };
  process.on('message', (msg: ToWorker) => {
    if (msg.op === 'start') {
      for (const s of subs) s.counting = true;
      cpu = process.cpuUsage();
      t0 = performance.now();
    } else if (msg.op === 'stop') {
      for (const s of subs) s.counting = false;
      cpuPct = cpuSince(cpu, performance.now() - t0);
      process.send!(report(0));
    } else if (msg.op === 'final') {
      const done = (s: Subscriber) =>
        Object.entries(msg.seqs).every(([ch, seq]) => (s.seq.get(ch) ?? -1) >= seq);
      void until(() => subs.every(done), msg.timeoutMs)
        .catch(() => {})
        .then(() => process.send!(report(subs.filter(done).length)));
    } else {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ op: 'ready' } satisfies FromWorker);
}

function until(test: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (test()) resolve();
      else if (performance.now() > end) reject(new Error(`condition not met within ${ms} ms`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`fanout worker: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
