/**
 * A bench process forked from a module of this folder and spoken to over IPC: the exchange under
 * test, a bare `ws` server, a load generator, a process of subscribers. Its first message says it
 * is ready; after that it answers each request in order. Messages use the `advanced`
 * serialization, so typed arrays and buffers (latency samples, captured frames) cross as they
 * are. Every entry exits when the IPC channel closes, so none outlives this process.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export class Child<To, From> {
  readonly #proc: ChildProcess;
  #waiters: Array<{ resolve: (m: From) => void; reject: (e: Error) => void }> = [];
  #gone: Error | undefined;
  readonly #exited: Promise<void>;

  private constructor(proc: ChildProcess, module: string) {
    this.#proc = proc;
    proc.on('message', (m: From) => this.#waiters.shift()?.resolve(m));
    this.#exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.#gone = new Error(`${module} exited (${signal ?? `code ${code}`})`);
        for (const w of this.#waiters.splice(0)) w.reject(this.#gone);
        resolve();
      });
    });
  }

  /**
   * Forks `module` (a compiled file of this folder, such as `generator-main.js`) with `args` as
   * JSON in argv[2]; resolves with the handle and the child's first message.
   */
  static async start<To, From>(
    module: string,
    args: unknown,
    execArgv: string[] = [],
  ): Promise<{ child: Child<To, From>; first: From }> {
    const entry = fileURLToPath(new URL(`./${module}`, import.meta.url));
    const proc = fork(entry, [JSON.stringify(args)], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child = new Child<To, From>(proc, module);
    const first = await child.next();
    return { child, first };
  }

  /**
   * One child of `module` per element of `args`, started side by side; if one fails to start,
   * the others are ended with `bye` and its error is thrown.
   */
  static async startAll<To, From>(module: string, args: unknown[], bye: To): Promise<Array<Child<To, From>>> {
    const started = await Promise.allSettled(args.map((a) => Child.start<To, From>(module, a)));
    const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.child] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(children.map((c) => c.end(bye)));
      throw (failed as PromiseRejectedResult).reason;
    }
    return children;
  }

  /** The child's next message. */
  next(): Promise<From> {
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Sends `msg` and resolves with the answer. */
  ask(msg: To): Promise<From> {
    const answer = this.next();
    this.send(msg);
    return answer;
  }

  send(msg: To): void {
    if (this.#proc.connected) this.#proc.send(msg as object);
  }

  /** Sends `msg` (the child's way to stop) and waits for the process to end. */
  async end(msg: To): Promise<void> {
    if (this.#gone === undefined) this.send(msg);
    await this.#exited;
  }

  /** The process id. */
  get pid(): number {
    return this.#proc.pid ?? -1;
  }

  /** Resolves when the process has ended. */
  get exited(): Promise<void> {
    return this.#exited;
  }
}

/** argv[2] of a child started by `Child.start`. */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? 'null') as T;
}

/** `micros` of CPU time over `wallMs` of wall time, in % of one core (one decimal). */
export function pctOfCore(micros: number, wallMs: number): number {
  return Math.round((micros / 1000 / wallMs) * 1000) / 10;
}

/** CPU of this process since `from`, over `wallMs`, in % of one core. */
export function cpuPct(from: NodeJS.CpuUsage, wallMs: number): number {
  const used = process.cpuUsage(from);
  return pctOfCore(used.user + used.system, wallMs);
}
