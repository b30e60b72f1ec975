/**
 * What the benchmark commands share on their command line: a usage error that exits with code 2,
 * positive whole-number options, and the settlement benches' `--trades N --json`.
 */
import { parseArgs } from 'node:util';

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

/** The settlement benches' options: trades per row (default 1,000) and JSON output. */
export function settlementOptions(usageLine: string): { trades: number; json: boolean } {
  const { usage, count } = benchCli(usageLine);
  let values: { trades?: string; json?: boolean };
  try {
    values = parseArgs({ options: { trades: { type: 'string' }, json: { type: 'boolean' } } }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
  return { trades: count(values.trades, 'trades', 1000), json: values.json === true };
}
