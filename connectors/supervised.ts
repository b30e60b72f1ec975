/**
 * Child processes that never outlive the process that started them, and that a terminal's
 * Ctrl-C does not reach: anvil, the chaincode processes, nats-server and the parts of a local
 * cluster. Each runs in a process group of its own, so a Ctrl-C (SIGINT to the terminal's
 * foreground group) reaches only its parent, which stops its children in dependency order;
 * and each holds a pipe from its parent: when the pipe closes (`stop()`, or the parent ending in
 * any way, SIGKILL included) the child gets SIGTERM and stops as it would on a plain SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { makeError } from './errors.ts';

/**
 * The program runs in the shell's place (`exec`, so its pid, exit code and signals are its own);
 * before that, a background reader of the pipe is left behind that sends the program SIGTERM once
 * the pipe ends. (SIGTERM rather than SIGINT: a background job of a shell ignores SIGINT, and a
 * program that has not installed its own handler yet would never see it.)
 */
const WATCH_PARENT = [
  'exec 3<&0',
  '(read -r _ <&3; kill -TERM $$ 2>/dev/null) </dev/null &',
  'exec "$0" "$@" </dev/null 3<&-',
].join('\n');

export interface Supervised {
  /** The program's process (its pid, output and exit are the program's). */
  readonly child: ChildProcess;
  /** Resolves once the program has exited. */
  readonly exited: Promise<void>;
  /** Whether the program still runs. */
  readonly running: boolean;
  /** SIGTERM (through the pipe); the whole group gets SIGKILL if it is not gone within `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to the group (no shutdown at all), and waits for the exit. */
  kill(): Promise<void>;
}

/** Starts `command args` supervised; its standard output and error are pipes to this process. */
export function spawnSupervised(
  command: string,
  args: readonly string[],
  o: { env?: NodeJS.ProcessEnv } = {},
): Supervised {
  const child = spawn('/bin/sh', ['-c', WATCH_PARENT, command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    ...(o.env === undefined ? {} : { env: o.env }),
  });
  let running = true;
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const exited = new Promise<void>((resolve) => {
    child.once('error', () => {
      running = false;
      resolve();
    });
    child.once('exit', () => {
      running = false;
      // The reader of the pipe is left in the group: it goes with the program.
      killGroup();
      child.stdin!.destroy();
      resolve();
    });
  });
  child.stdin!.on('error', () => undefined); // the program may be gone already
  return {
    child,
    exited,
    get running() {
      return running;
    },
    async stop(graceMs = 5_000) {
      if (!running) return;
      child.stdin!.end();
      const timer = setTimeout(killGroup, graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (!running) return;
      killGroup();
      await exited;
    },
  };
}

/**
 * Waits until a program started by `spawnSupervised` says it is ready: until its output (standard
 * output and error together) matches `ready`, the way a server that picked its own port says which
 * one, so that nothing picks a port for it that another process could take meanwhile. Resolves
 * with the match; if the program exits first, or has not said so within `timeoutMs`, stops it and
 * rejects, quoting the end of its output. `name` names the program in the message.
 */
export async function whenReady(
  running: Supervised,
  ready: RegExp,
  name: string,
  timeoutMs = 20_000,
): Promise<RegExpExecArray> {
  const { child } = running;
  let output = '';
  let read = (_chunk: Buffer): void => {};
  const said = new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          makeError(`${name}: not ready within ${timeoutMs / 1000} s:\n${output.slice(-4_000)}`, 'NOT_READY'),
        ),
      timeoutMs,
    );
    read = (chunk) => {
      output += chunk.toString('utf8');
      const m = ready.exec(output);
      if (m === null) return;
      clearTimeout(timer);
      resolve(m);
    };
    // 'close', not 'exit': its output is all read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(
        makeError(
          `${name} exited (${signal ?? code}) before it was ready:\n${output.slice(-4_000)}`,
          'NOT_READY',
        ),
      );
    });
  });
  child.stdout!.on('data', read);
  child.stderr!.on('data', read);
  try {
    return await said;
  } catch (err) {
    await running.stop();
    throw err;
  } finally {
    child.stdout!.off('data', read);
    child.stderr!.off('data', read);
  }
}
