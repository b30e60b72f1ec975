/**
 * A load generator: a few connections to one server and the loops that drive them, told what to
 * do by messages, so that the same generator runs forked (generator-main.ts, a process and a core
 * of its own, as many as the load needs) or inside the bench process (the cluster bench). It
 * reports its own CPU beside every result, so a saturated generator is seen, not mistaken for a
 * slow server.
 */
import { cpuPct, pctOfCore } from './child.ts';
import { ClosedLoop, type ClosedLoopPart } from './closed-loop.ts';
import { BenchSocket, crossingOrder, echoFrame } from './client.ts';
import { openLoop, type OpenLoopSamples } from './open-loop.ts';

export interface GeneratorArgs {
  url: string;
  /**
   * `trader`: each connection a fresh demo-funded account, even ones buying and odd ones selling
   * `instrument`; `echo`: plain connections to the bare `ws` echo server.
   */
  mode: 'trader' | 'echo';
  connections: number;
  instrument: string;
}

export type ToGenerator =
  /** An open loop at `rate` for `seconds`; answered with its samples. */
  | { op: 'open'; rate: number; seconds: number }
  /** Starts a closed loop of `window` orders per connection, not yet counted. */
  | { op: 'closed'; window: number }
  | { op: 'count' }
  /** Ends the counted window and the loop; answered at once with the part. */
  | { op: 'stop' }
  /** Answered once the stopped loop's orders are all answered (or after 5 s). */
  | { op: 'drain' }
  | { op: 'exit' };

/** A load process's CPU over a timed part, 100 = one core; `spinPct` of it spent only waiting. */
export interface Usage {
  cpuPct: number;
  spinPct: number;
}

export type FromGenerator =
  | { op: 'ready' }
  | { op: 'done' }
  | { op: 'open'; samples: OpenLoopSamples; usage: Usage }
  | { op: 'part'; part: ClosedLoopPart };

export class Generator {
  readonly #args: GeneratorArgs;
  readonly #conns: BenchSocket[];
  #next = 1;
  #loop: ClosedLoop | undefined;

  private constructor(args: GeneratorArgs, conns: BenchSocket[]) {
    this.#args = args;
    this.#conns = conns;
  }

  static async open(args: GeneratorArgs): Promise<Generator> {
    const open = () =>
      args.mode === 'trader' ? BenchSocket.trader(args.url) : BenchSocket.connect(args.url);
    const conns = await Promise.all(Array.from({ length: args.connections }, open));
    return new Generator(args, conns);
  }

  async handle(msg: ToGenerator): Promise<FromGenerator> {
    switch (msg.op) {
      case 'open': {
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        const samples = await openLoop(this.#conns, msg.rate, msg.seconds, this.#next, (n, i) =>
          this.#frame(i, n),
        );
        this.#next += samples.orders;
        const wall = performance.now() - t0;
        return {
          op: 'open',
          samples,
          usage: { cpuPct: cpuPct(cpu, wall), spinPct: pctOfCore(samples.spinMs * 1000, wall) },
        };
      }
      case 'closed':
        this.#loop = new ClosedLoop(
          this.#conns,
          msg.window,
          (c, n) => this.#frame(c, n),
          () => this.#next++,
        );
        this.#loop.begin();
        return { op: 'done' };
      case 'count':
        this.#loop!.count();
        return { op: 'done' };
      case 'stop':
        return { op: 'part', part: this.#loop!.stop() };
      case 'drain':
        await this.#loop!.drain();
        return { op: 'done' };
      case 'exit':
        await this.close();
        return { op: 'done' };
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#conns.map((c) => c.close()));
  }

  /** Order `n`, the `i`-th of its run (or sent on connection `i` of a closed loop). */
  #frame(i: number, n: number): string {
    return this.#args.mode === 'echo' ? echoFrame(n) : crossingOrder(this.#args.instrument, n, i);
  }
}
