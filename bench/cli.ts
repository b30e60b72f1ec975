/**
 * What the benchmark commands share on their command line: a usage error that exits with code 2,
 * positive whole-number options, and the settlement benches' options (`--trades N --json`, and
 * for benches with rows on several ledger settings the rows, depth and runs).
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
  const { trades, json } = settlementRowOptions(usageLine);
  return { trades, json };
}

/** Which rows a settlement bench runs: the ledger settings it knows (by name), and its batch sizes. */
export interface RowChoices {
  settings: readonly string[];
  batches: readonly number[];
}

/** The options of a settlement bench with rows on several ledger settings (see `settlementRowOptions`). */
export interface SettlementRowOptions {
  /** Trades per row on a setting without block times (default 1,000). */
  trades: number;
  json: boolean;
  /** Rows on a setting with block times run this many blocks' worth: batch x depth x blocks trades (default 3). */
  blocks: number;
  /** Batches in flight at once (default 1). */
  depth: number;
  /** Runs of each row; the median is reported (default 1). */
  runs: number;
  /** The settings to run (`--only`, comma-separated; default all). */
  settings: string[];
  /** Batch sizes (`--batch`, comma-separated; default the bench's). */
  batches: number[];
}

/**
 * A settlement bench's options. With `rows`, also `--blocks N`, `--depth N`, `--runs N`,
 * `--only SETTINGS` and `--batch SIZES`; without, those are refused (a bench that would ignore them).
 */
export function settlementRowOptions(usageLine: string, rows?: RowChoices): SettlementRowOptions {
  const { usage, count } = benchCli(usageLine);
  const string = { type: 'string' } as const;
  const base = { trades: string, json: { type: 'boolean' } } as const;
  const all = { ...base, blocks: string, depth: string, runs: string, only: string, batch: string };
  let values: Partial<Record<keyof typeof all, string | boolean>>;
  try {
    values = parseArgs({ options: rows === undefined ? base : all }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
  const text = (name: keyof typeof all) => values[name] as string | undefined;
  const settings = text('only')?.split(',') ?? [...(rows?.settings ?? [])];
  const unknown = settings.filter((s) => !rows!.settings.includes(s));
  if (unknown.length > 0)
    usage(`--only: unknown setting ${unknown.join(', ')} (settings: ${rows!.settings.join(', ')})`);
  const batches = text('batch')
    ?.split(',')
    .map((b) => count(b, 'batch', 1)) ?? [...(rows?.batches ?? [])];
  return {
    trades: count(text('trades'), 'trades', 1000),
    json: values.json === true,
    blocks: count(text('blocks'), 'blocks', 3),
    depth: count(text('depth'), 'depth', 1),
    runs: count(text('runs'), 'runs', 1),
    settings,
    batches,
  };
}
