/**
 * Trying again after a failure, the one way every loop here does it: waits that grow from
 * `initialMs`, doubling up to `capMs`, each drawn at random below its bound ("full jitter"), so
 * that many clients failing together do not come back together; a permanent error (see
 * errors.ts) ends the tries at once.
 */
import { isRetryable } from './errors.ts';

export interface BackoffOptions {
  /** The first wait's bound, ms. */
  initialMs: number;
  /** No wait is longer, ms. */
  capMs: number;
  /** Random in [0, 1) (default Math.random); a test may pass a fixed one. */
  random?: () => number;
}

/** Waits whose bound doubles up to a cap, each drawn at random below its bound (full jitter). */
export class Backoff {
  #o: Required<BackoffOptions>;
  #bound: number;

  constructor(o: BackoffOptions) {
    if (!(o.initialMs > 0) || !(o.capMs >= o.initialMs)) {
      throw new RangeError(`backoff: need 0 < initialMs <= capMs, got ${o.initialMs} and ${o.capMs}`);
    }
    this.#o = { random: Math.random, ...o };
    this.#bound = o.initialMs;
  }

  /** The next wait, ms (at least 1), and the bound doubled for the one after. */
  next(): number {
    const bound = this.#bound;
    this.#bound = Math.min(bound * 2, this.#o.capMs);
    return Math.max(1, Math.round(bound * this.#o.random()));
  }

  /** Back to the first wait (after a success). */
  reset(): void {
    this.#bound = this.#o.initialMs;
  }
}

export interface RetryOptions extends Partial<BackoffOptions> {
  /** Whether an error is worth another try (default: `isRetryable`, so a permanent error ends it). */
  isRetryable?: (err: unknown) => boolean;
  /** Told of each failure that will be tried again, with the wait before it and the try it was (1-based). */
  onRetry?: (err: unknown, waitMs: number, attempt: number) => void;
  /** Ends the tries (the last error is thrown): a stop, or a deadline passed. */
  signal?: AbortSignal;
  /** Tries at most (default: no limit). */
  attempts?: number;
}

/**
 * Calls `fn` until it resolves; after each failure that `isRetryable` allows, waits (`Backoff`,
 * default 100 ms doubling to 30 s) and tries again. Throws the error that ended it: a permanent
 * one, the last one when `signal` is aborted (the wait in progress ends at once), or the last one
 * after `attempts` tries.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const backoff = new Backoff({
    initialMs: o.initialMs ?? 100,
    capMs: o.capMs ?? 30_000,
    ...(o.random === undefined ? {} : { random: o.random }),
  });
  const worth = o.isRetryable ?? isRetryable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (o.signal?.aborted || !worth(err) || attempt === o.attempts) throw err;
      const wait = backoff.next();
      o.onRetry?.(err, wait, attempt);
      await sleep(wait, o.signal);
      if (o.signal?.aborted) throw err;
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
