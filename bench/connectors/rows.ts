/**
 * How the settlement benches run and report a row: its trades settled with up to `depth` batches
 * in flight, timed, with the machine's load at its start and end; `runs` runs of it and the
 * median one kept (as the other benches report); the machine for the JSON; and a table printed
 * with each cell right-aligned under its column.
 */
import { cpus, loadavg } from 'node:os';
import type { Ledger, SettlementInstruction } from '../../connectors/index.ts';
import { median } from '../engine/stats.ts';
import { timeBatches } from './seeded.ts';

/** One run of a row: what it settled, how fast, and the machine's load around it. */
export interface RowRun {
  trades: number;
  /** How long the row ran. */
  seconds: number;
  tradesPerSecond: number;
  /** Mean time from a batch's sending to its outcomes, ms (with depth > 1, batches overlap). */
  msPerBatch: number;
  /** The gas the ledger charged per trade (0 on a ledger without gas). */
  gasPerTrade: number;
  /** 1-minute load average at the start and the end. */
  load: { start: number; end: number };
}

/** Settles at least `perRun` trades in batches of `batch`, up to `depth` at once, timed. */
export async function settleRow(
  ledger: Ledger,
  batch: number,
  depth: number,
  perRun: number,
  next: () => SettlementInstruction,
): Promise<RowRun> {
  const start = loadavg()[0]!;
  const { trades, ms, batchMs, gas } = await timeBatches(ledger, batch, perRun, next, depth);
  return {
    trades,
    seconds: round2(ms / 1000),
    tradesPerSecond: trades / (ms / 1000),
    msPerBatch: batchMs.reduce((a, b) => a + b, 0) / batchMs.length,
    gasPerTrade: gas / trades,
    load: { start: round2(start), end: round2(loadavg()[0]!) },
  };
}

/** `run` made `runs` times, one after another: the median by trades/s, with each run's rate. */
export async function medianRun<T extends { tradesPerSecond: number }>(
  runs: number,
  run: () => Promise<T>,
): Promise<T & { runsTradesPerSecond: number[] }> {
  const all: T[] = [];
  for (let i = 0; i < runs; i++) all.push(await run());
  return {
    ...median(all, (r) => r.tradesPerSecond),
    runsTradesPerSecond: all.map((r) => round2(r.tradesPerSecond)),
  };
}

/** What machine ran the bench, for the JSON output. */
export function machine(): { node: string; cpu: string } {
  return { node: process.version, cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}` };
}

export const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Prints a header of `columns` (name and width) and a line per row of cells, right-aligned. */
export function printTable(
  columns: ReadonlyArray<[string, number]>,
  rows: readonly (readonly string[])[],
): void {
  const line = (cells: readonly string[]) => `${cells.map((c, i) => c.padStart(columns[i]![1])).join(' ')}\n`;
  process.stdout.write(line(columns.map(([name]) => name)));
  for (const r of rows) process.stdout.write(line(r));
}
