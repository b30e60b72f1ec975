/**
 * Where the load runs, and how much of it: generators forked as processes of their own (or one
 * inside the bench process), and `escalate`, which repeats a run with more of them while one is
 * saturated, so that the figure reported is the server's and not the load's. The report says how
 * many ran, what CPU each used and whether one was still saturated.
 */
import { Child } from './child.ts';
import {
  type FromGenerator,
  Generator,
  type GeneratorArgs,
  type ToGenerator,
  type Usage,
} from './generator.ts';

/** A generator seen from the bench process, wherever it runs. */
export interface GeneratorHandle {
  ask(msg: ToGenerator): Promise<FromGenerator>;
  close(): Promise<void>;
}

/** A generator inside this process. */
export async function localGenerator(args: GeneratorArgs): Promise<GeneratorHandle> {
  const g = await Generator.open(args);
  return { ask: (msg) => g.handle(msg), close: () => g.close() };
}

/** `n` generators, each a process of its own with `args`' connections. */
export async function forkGenerators(args: GeneratorArgs, n: number): Promise<GeneratorHandle[]> {
  const children = await Child.startAll<ToGenerator, FromGenerator>(
    'generator-main.js',
    Array.from({ length: n }, () => args),
    { op: 'exit' },
  );
  return children.map((c) => ({ ask: (msg) => c.ask(msg), close: () => c.end({ op: 'exit' }) }));
}

export async function closeAll(handles: readonly GeneratorHandle[]): Promise<void> {
  await Promise.all(handles.map((h) => h.close()));
}

/** Sends `msg` to every generator; their answers in order. */
export function askAll(handles: readonly GeneratorHandle[], msg: ToGenerator): Promise<FromGenerator[]> {
  return Promise.all(handles.map((h) => h.ask(msg)));
}

/** A load process working (CPU not spent waiting for its next send) this much of a core is saturated. */
export const SATURATED_PCT = 90;

export interface LoadReport {
  /** Load processes in the run reported; `inProcess` when the load ran inside the bench process. */
  processes: number;
  inProcess: boolean;
  /** CPU of each over the timed part, 100 = one core. */
  cpuPct: number[];
  /** The part of `cpuPct` an open-loop sender spent waiting for its next scheduled send. */
  spinPct: number[];
  /** Whether one still worked `SATURATED_PCT` or more: then the figure may be the load's limit. */
  saturated: boolean;
  /** Earlier runs, with fewer processes, repeated because one of those was saturated. */
  escalated: Array<{ processes: number; cpuPct: number[]; spinPct: number[]; figure: number }>;
}

export function loadReport(usage: readonly Usage[], inProcess = false): LoadReport {
  return {
    processes: usage.length,
    inProcess,
    cpuPct: usage.map((u) => u.cpuPct),
    spinPct: usage.map((u) => u.spinPct),
    saturated: usage.some((u) => u.cpuPct - u.spinPct >= SATURATED_PCT),
    escalated: [],
  };
}

/**
 * Runs `attempt(n)` from `first` load processes on, doubling them (up to `max`) while one is
 * saturated; the last run is the result, the ones before it are listed with their `figure`.
 */
export async function escalate<T>(
  first: number,
  max: number,
  attempt: (processes: number) => Promise<{ result: T; usage: Usage[] }>,
  figure: (result: T) => number,
): Promise<{ result: T; load: LoadReport }> {
  const escalated: LoadReport['escalated'] = [];
  for (let n = first; ; n = Math.min(max, n * 2)) {
    const { result, usage } = await attempt(n);
    const load = { ...loadReport(usage), escalated };
    if (!load.saturated || n >= max) return { result, load };
    process.stderr.write(
      `load: a generator was saturated with ${n} processes; again with ${Math.min(max, n * 2)}\n`,
    );
    escalated.push({
      processes: load.processes,
      cpuPct: load.cpuPct,
      spinPct: load.spinPct,
      figure: figure(result),
    });
  }
}
