/**
 * What the benchmark commands share on their command line: a usage error that exits with code 2,
 * and positive whole-number options.
 */

export interface BenchCli {
  /** Prints the problem and the usage line, and exits with code 2. */
  usage(problem: string): never;
  /** A positive whole-number option, `fallback` when absent. */
  count(v: string | undefined, name: string, fallback: number): number;
}

export function benchCli(usageLine: string): BenchCli {
  const usage = (problem: string): never => {
    process.stderr.write(`${problem}\n${usageLine}\n`);
    process.exit(2);
  };
  const count = (v: string | undefined, name: string, fallback: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) usage(`--${name} must be a positive whole number, not ${v}`);
    return n;
  };
  return { usage, count };
}
