/**
 * What a subsystem logs through: pino's shape (fields first, then the message), so a pino child
 * logger (`logger.child({ venue })`) is one as it is, and the fields stay fields in the JSON line
 * instead of being pasted into the text.
 */
import { type Logger as PinoLogger, pino } from 'pino';

/**
 * pino's JSON lines to standard output at `level`, written synchronously: a process whose standard
 * output is gone (its parent killed) then stops logging at the first EPIPE, where an asynchronous
 * stream would retry its unwritten lines at exit for ever and keep the process alive. `base`: the
 * fields every line carries (default pino's: pid and hostname).
 */
export function stdoutLogger(level: string, base?: Record<string, unknown>): PinoLogger {
  return pino({ level, ...(base === undefined ? {} : { base }) }, pino.destination({ dest: 1, sync: true }));
}

export interface LogFn {
  (message: string): void;
  (fields: Record<string, unknown>, message: string): void;
}

/** A logger: `info` for what happened, `warn` for a failure it gets past, `error` for one it does not. */
export interface Logger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** A logger that makes loggers with fields of their own (pino's `child`), for the parts it wires. */
export interface ChildLogger extends Logger {
  child(bindings: Record<string, unknown>): ChildLogger;
}

const nothing = (): void => {};

/** A logger that drops everything (tests, tools that print their own output). */
export const silentLogger: ChildLogger = {
  info: nothing,
  warn: nothing,
  error: nothing,
  child: () => silentLogger,
};

/**
 * A logger that writes each call's message as one line to `write`, at every level, the fields
 * left out (tests, and command-line tools that print lines for people).
 */
export function lineLogger(write: (line: string) => void): ChildLogger {
  const line: LogFn = (a: string | Record<string, unknown>, b?: string) =>
    write(typeof a === 'string' ? a : (b ?? ''));
  const logger: ChildLogger = { info: line, warn: line, error: line, child: () => logger };
  return logger;
}
