/**
 * The parent's handle on the abuse scenario's witness (abuse-watch-main.ts): the legitimate
 * trader, the `/health` poller, the connection probe and the server's memory, and what they
 * saw between two marks, summed up.
 */
import { latency } from '../engine/stats.ts';
import { Child } from './child.ts';

export interface WatchArgs {
  url: string;
  serverPid: number;
  /** The trader's address (never the attackers'). */
  traderAddress: string;
  /** The trader places and cancels an order once a period. */
  periodMs: number;
  rssEveryMs: number;
}

/** What the witness saw between two marks, as it sends it. */
export interface WatchStats {
  wallMs: number;
  /** `ops`: requests sent (or due while disconnected); `ok`: answered as asked within 1 s. */
  trader: { ops: number; ok: number; latenciesMs: number[]; reconnects: number };
  /** `timeouts`: no answer within 1 s; `failures`: an error or a status other than 200. */
  health: { polls: number; timeouts: number; failures: number; maxMs: number };
  /** WebSocket connections opened from the trader's address, and refusals by HTTP status or error code. */
  connects: { tries: number; opened: number; refused: Record<string, number> };
  rssKB: number[];
  firstError?: string;
}

export type ToWatch = { op: 'mark' } | { op: 'stop' };
export type FromWatch = { op: 'ready' } | { op: 'watch'; stats: WatchStats };

/** A phase's figures as the report gives them. */
export interface Phase {
  seconds: number;
  trader: {
    ops: number;
    /** Share of requests answered as asked within 1 s. */
    successRate: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    reconnects: number;
    firstError?: string;
  };
  health: WatchStats['health'];
  connects: WatchStats['connects'];
  /** Server RSS, MB: the first and last samples of the phase and its highest. */
  rssMB: { first: number; peak: number; last: number; samples: number };
}

const mb = (kb: number) => Math.round(kb / 102.4) / 10;
const ms = (us: number) => Math.round(us / 100) / 10;

export class Watch {
  readonly #child: Child<ToWatch, FromWatch>;

  private constructor(child: Child<ToWatch, FromWatch>) {
    this.#child = child;
  }

  static async start(args: WatchArgs): Promise<Watch> {
    const { child, first } = await Child.start<ToWatch, FromWatch>('abuse-watch-main.js', args);
    if (first.op !== 'ready') {
      await child.end({ op: 'stop' });
      throw new Error(`abuse watcher said ${first.op} before ready`);
    }
    return new Watch(child);
  }

  /** What was seen since the previous mark (or the start). */
  async mark(): Promise<Phase> {
    const m = await this.#child.ask({ op: 'mark' });
    if (m.op !== 'watch') throw new Error(`abuse watcher answered mark with ${m.op}`);
    const s = m.stats;
    const lat = latency(Float64Array.from(s.trader.latenciesMs));
    const rss = s.rssKB.filter((x) => x > 0);
    return {
      seconds: Math.round(s.wallMs / 100) / 10,
      trader: {
        ops: s.trader.ops,
        successRate: s.trader.ops === 0 ? 0 : Math.round((s.trader.ok / s.trader.ops) * 1000) / 1000,
        p50Ms: ms(lat.p50Us),
        p99Ms: ms(lat.p99Us),
        maxMs: ms(lat.maxUs),
        reconnects: s.trader.reconnects,
        ...(s.firstError === undefined ? {} : { firstError: s.firstError }),
      },
      health: { ...s.health, maxMs: Math.round(s.health.maxMs) },
      connects: s.connects,
      rssMB: {
        first: mb(rss[0] ?? 0),
        peak: mb(rss.reduce((a, b) => Math.max(a, b), 0)),
        last: mb(rss.at(-1) ?? 0),
        samples: rss.length,
      },
    };
  }

  stop(): Promise<void> {
    return this.#child.end({ op: 'stop' });
  }
}
