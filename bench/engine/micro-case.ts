/**
 * The shape of a micro-benchmark case (micro.ts), and the base of the structure cases, which set
 * the engine's hand-made structures against the standard ones they replace (micro-tables.ts,
 * micro-levels.ts). Each pair does the same operations in the engine's access patterns in the
 * same run, so that every choice stays justified by a measured ratio.
 *
 * A structure case runs a fixed number of iterations per cycle (`count`, through `initCount` and
 * a tiny `minTime`), so that its structure keeps about its engine size; setup makes what a cycle
 * consumes and teardown (both untimed) brings the structure back to its base size. Every
 * iteration also pays for the benchmark's loop and one call through a global, alike for both
 * sides of a pair, which pulls ratios towards 1.
 */
import { XorShift32 } from '../prng.ts';

/** What micro.ts runs: untimed `begin(count)`, `count` timed `run()`, untimed `end()`. */
export interface MicroCase {
  readonly key: string;
  readonly title: string;
  begin(count: number): void;
  run(): void;
  end(): void;
  readonly problem: string | null;
}

/** A structure case: one side of a comparison. */
export interface StructureCase extends MicroCase {
  /** The comparison, e.g. 'IdTable insert'. */
  readonly pair: string;
  readonly handMade: boolean;
  /** Iterations per cycle. */
  readonly count: number;
}

/** Key, title, checks and the seeded PRNG of a structure case. */
export abstract class StructureBase {
  /** Seeded alike on both sides of a pair, so they draw the same keys. */
  protected readonly rng = new XorShift32(42);
  protected i = 0;
  #problem: string | null = null;

  constructor(
    readonly pair: string,
    readonly handMade: boolean,
    readonly count: number,
  ) {}

  get key(): string {
    return `${this.pair} ${this.handMade ? 'hand-made' : 'plain'}`.replace(/\W+/g, '_');
  }

  abstract readonly title: string;
  /** One timed iteration. */
  abstract run(): void;

  get problem(): string | null {
    return this.#problem;
  }

  protected expect(ok: boolean, what: string): void {
    if (!ok && this.#problem === null) this.#problem = what;
  }
}
