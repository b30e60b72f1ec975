/**
 * The parent's handle on the exchange under test: forks server-main.js (optionally with
 * `--cpu-prof`), waits for its URL, and asks it for CPU and memory figures between phases.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What the server process measured since the previous mark. */
export interface ServerStats {
  wallMs: number;
  /** CPU time of the server process over wall time (100 = one core busy). */
  cpuPct: number;
  /** The part of `cpuPct` spent in the kernel (socket and file system calls). */
  sysPct: number;
  rssMB: number;
  /** Engine commands sequenced. */
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

export type ToServer = { op: 'mark' } | { op: 'stop' };
type FromServer =
  { op: 'ready'; url: string; dataDir: string; pid: number } | { op: 'stats'; stats: ServerStats };

export interface ServerOptions {
  /** Folder for the `--cpu-prof` profile of the server process; no profiling if undefined. */
  profileDir?: string;
  /** Parent folder of the temporary data folder (default: the OS temp folder). */
  dataParent?: string;
}

export class BenchServer {
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  #child: ChildProcess;

  private constructor(child: ChildProcess, ready: { url: string; pid: number; dataDir: string }) {
    this.#child = child;
    this.url = ready.url;
    this.pid = ready.pid;
    this.dataDir = ready.dataDir;
  }

  static async start(options: ServerOptions = {}): Promise<BenchServer> {
    const entry = fileURLToPath(new URL('./server-main.js', import.meta.url));
    const execArgv =
      options.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.profileDir];
    const args = options.dataParent === undefined ? [] : [options.dataParent];
    const child = fork(entry, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<{ url: string; pid: number; dataDir: string }>((resolve, reject) => {
      child.once('message', (m: FromServer) => {
        if (m.op === 'ready') resolve(m);
        else reject(new Error(`bench server said ${m.op} before ready`));
      });
      child.once('exit', (code) => reject(new Error(`bench server exited with code ${code} before ready`)));
    });
    return new BenchServer(child, ready);
  }

  /** CPU, memory and counters since the previous mark (or the start). */
  mark(): Promise<ServerStats> {
    return new Promise((resolve) => {
      const on = (m: FromServer) => {
        if (m.op !== 'stats') return;
        this.#child.off('message', on);
        resolve(m.stats);
      };
      this.#child.on('message', on);
      this.#child.send({ op: 'mark' } satisfies ToServer);
    });
  }

  /** Closes the gateway (journal flushed, data folder removed) and waits for the process to end. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.send({ op: 'stop' } satisfies ToServer);
    await exited;
  }
}
