/**
 * `mosaic` commands as child processes: started, ready once their output says so, their CPU
 * time read from /proc. How `mosaic start` runs a cluster on one machine, and how the cluster
 * benchmark and the tests run theirs. Each is supervised (`spawnSupervised`): a terminal's
 * Ctrl-C reaches only the parent, which stops them in order, and none outlives its parent.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSupervised, type Supervised, whenReady } from '../connectors/index.ts';

const CLI = fileURLToPath(new URL('../bin/mosaic.js', import.meta.url));

/** A cluster process is ready once it logs its address and that it runs (pino JSON). */
export const CLUSTER_READY = /"ops":"(http:\/\/[\d.]+:\d+)"[^\n]*running"/;
/** `mosaic start` is ready at its banner. */
export const START_READY = /Mosaic is running at (http:\/\/[\d.]+:\d+)/;

export interface MosaicChild {
  child: ChildProcess;
  /** Stops it (SIGTERM, SIGKILL after a grace) or kills it. */
  process: Supervised;
  /** The address its output announced (group 1 of `ready`). */
  url: string;
  /** Everything it printed so far, stdout and stderr. */
  output: { text: string };
}

/**
 * `mosaic ARGS...` as a child process; resolves once its output matches `ready`, within
 * `timeoutMs` (default 60 s). `started` hears of the child at once (to kill it if the start
 * fails). Its output is kept in `output` unless `keep` is false (then only until it is ready).
 */
export async function spawnMosaic(
  args: string[],
  ready: RegExp,
  o: {
    started?: (child: ChildProcess) => void;
    timeoutMs?: number;
    keep?: boolean;
    /** Variables added to this process's environment. */
    env?: Record<string, string>;
    /** Options for node itself (e.g. `--cpu-prof`). */
    nodeArgs?: string[];
  } = {},
): Promise<MosaicChild> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const supervised = spawnSupervised(process.execPath, [...(o.nodeArgs ?? []), CLI, ...args], {
    env: { ...process.env, ...o.env },
  });
  const { child } = supervised;
  o.started?.(child);
  const output = { text: '' };
  const keep = (b: Buffer) => (output.text += b.toString());
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const [, url] = await whenReady(supervised, ready, `mosaic ${args.join(' ')}`, timeoutMs);
  if (o.keep === false) {
    child.stdout!.off('data', keep);
    child.stderr!.off('data', keep);
  }
  return { child, process: supervised, url: url!, output };
}

/** CPU time a process has used so far, ms (user + system, from /proc; 0 if it is gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}
