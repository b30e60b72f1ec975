/**
 * The engine alone on workload W1 (bench/engine, bench/WORKLOADS.md), measured in the same run as
 * the gateway, so that the gateway's orders/s can be given as a share of what the engine under it
 * does on this machine at this moment. It runs in a child process (engine-w1-main.ts) while
 * nothing else of the bench does.
 */
import { Child } from './child.ts';

export interface EngineW1 {
  /** Timed ops (the workload's, or `--w1-ops`). */
  ops: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  /** CPU other processes used during the timed loop, % of one core (-1: unknown). */
  otherCpuPct: number;
}

/** W1 once, Mosaic's engine, at most `ops` timed ops. */
export async function engineW1(ops: number): Promise<EngineW1> {
  process.stderr.write(`engine W1: up to ${ops} timed ops in a child process\n`);
  const { child, first } = await Child.start<never, EngineW1>('engine-w1-main.js', { ops }, ['--expose-gc']);
  await child.exited;
  return first;
}
