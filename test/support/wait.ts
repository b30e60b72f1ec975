/**
 * How the suites wait: for a state (`until`, polled against a deadline), for a promise (`within`,
 * against a deadline), and, only where a test shows that something did NOT happen, for a quiet
 * period (`quietPeriod`). A deadline only turns a hang into a failure that names what was awaited;
 * it is generous because this machine is shared, and a passing test never waits it out.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a test waits for something that must come, by default (a slow, shared machine). */
const DEADLINE_MS = 45_000;

/** Polls `probe` until it gives a value (not undefined or false); `context` explains a timeout. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  context: () => string = () => '',
  timeoutMs = DEADLINE_MS,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await sleep(50);
  }
}

/** What `promise` gives, or an error naming `what` (and `context`) if it has not settled by the deadline. */
export async function within<T>(
  what: string,
  promise: Promise<T>,
  context: () => string = () => '',
  timeoutMs = DEADLINE_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}\n${context()}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits `ms` so that a test can say something did NOT happen. A negative has no event to wait
 * for: it can only be bounded in time, and a bound proves only that it did not happen *yet*, so a
 * test ends a negative check on a positive event that must come after the thing that must not
 * (a later request's reply, a later command's effect) wherever there is one, and uses this only
 * where there is none. `why` says what must stay absent and why `ms` is enough; the promise gives
 * it back, worded for the assertion's message.
 */
export async function quietPeriod(ms: number, why: string): Promise<string> {
  await sleep(ms);
  return `${why} (after a quiet period of ${ms} ms)`;
}
