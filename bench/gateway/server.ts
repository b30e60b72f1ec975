/**
 * The parent's handle on the server under test, in a process of its own: the exchange
 * (server-main.js, optionally under `--cpu-prof`) or the bare `ws` baseline (raw-server-main.js).
 * Both tell their URL, answer `mark` with CPU and memory since the previous mark, and end on
 * `stop`; the baseline also takes captured frames to replay (`ask`).
 */
import type { GatewayConfig } from '../../gateway/config.ts';
import { Child, pctOfCore } from './child.ts';
import type { RawReply, RawRequest } from './raw-server-main.ts';

/** What the server process measured since the previous mark. */
export interface ServerStats {
  wallMs: number;
  /** CPU time of the server process over wall time (100 = one core busy). */
  cpuPct: number;
  /** The part of `cpuPct` spent in the kernel (socket and file system calls). */
  sysPct: number;
  rssMB: number;
  /** Engine commands sequenced (0 for the bare `ws` server). */
  commands: number;
  /** Group commits (one write and one fdatasync each). */
  journalBatches: number;
  /** Market-data frames sent since the server started (all clients, all channels). */
  feedFramesSent: number;
  /** Subscriptions conflated now (slow consumers). */
  feedConflated: number;
  /** Clients closed as slow consumers since the start. */
  feedDropped: number;
  /** Price levels on ACME@evm:31337, both sides. */
  bookLevels: number;
}

export type ToServer = { op: 'mark' } | { op: 'stop' } | RawRequest;
export type FromServer =
  { op: 'ready'; url: string; limits?: Limits } | { op: 'stats'; stats: ServerStats } | RawReply;

export type Limits = GatewayConfig['limits'];

export interface ServerOptions {
  /** Folder for the `--cpu-prof` profile of the server process; no profiling if undefined. */
  profileDir?: string;
  /** Parent folder of the temporary data folder (default: the OS temp folder). */
  dataParent?: string;
  /**
   * Keep the gateway's own limits (the abuse scenario measures them); otherwise the rate limits
   * are raised out of the way of the load.
   */
  defaultLimits?: boolean;
  /** Limits set over the defaults (the smoke test's short deadlines). */
  limits?: Partial<Limits>;
  /** Run the demo market maker, as `npm start` does (default: off). */
  marketMaker?: boolean;
}

export class BenchServer {
  readonly url: string;
  /** The limits the server runs with (the exchange only). */
  readonly limits: Limits | undefined;
  #child: Child<ToServer, FromServer>;

  private constructor(child: Child<ToServer, FromServer>, first: FromServer) {
    if (first.op !== 'ready') throw new Error(`bench server said ${first.op} before ready`);
    this.#child = child;
    this.url = first.url;
    this.limits = first.limits;
  }

  /** The server's process id (its memory is read from /proc). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The exchange (gateway, engine, journal) on a fresh data folder. */
  static async start(options: ServerOptions = {}): Promise<BenchServer> {
    const execArgv =
      options.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.profileDir];
    const { child, first } = await Child.start<ToServer, FromServer>(
      'server-main.js',
      {
        dataParent: options.dataParent,
        defaultLimits: options.defaultLimits === true,
        limits: options.limits ?? {},
        marketMaker: options.marketMaker === true,
      },
      execArgv,
    );
    return new BenchServer(child, first);
  }

  /** A bare `ws` server: `echo` sends every message back; `broadcast` replays captured frames. */
  static async raw(mode: 'echo' | 'broadcast'): Promise<BenchServer> {
    const { child, first } = await Child.start<ToServer, FromServer>('raw-server-main.js', { mode });
    return new BenchServer(child, first);
  }

  /** CPU, memory and counters since the previous mark (or the start). */
  async mark(): Promise<ServerStats> {
    const m = await this.#child.ask({ op: 'mark' });
    if (m.op !== 'stats') throw new Error(`bench server answered mark with ${m.op}`);
    return m.stats;
  }

  /** A request only the bare `ws` server understands. */
  ask(msg: RawRequest): Promise<FromServer> {
    return this.#child.ask(msg);
  }

  /** Closes the server (the exchange flushes its journal and removes its data folder) and waits for its end. */
  stop(): Promise<void> {
    return this.#child.end({ op: 'stop' });
  }
}

/** The figures of the server process itself, over `wallMs` in which it used `used`. */
export function ownStats(
  wallMs: number,
  used: NodeJS.CpuUsage,
): Pick<ServerStats, 'wallMs' | 'cpuPct' | 'sysPct' | 'rssMB'> {
  return {
    wallMs,
    cpuPct: pctOfCore(used.user + used.system, wallMs),
    sysPct: pctOfCore(used.system, wallMs),
    rssMB: Math.round(process.memoryUsage().rss / 1048576),
  };
}
