/**
 * The one retry loop: waits grow up to the cap, each drawn below its bound (full jitter); a
 * retryable error is tried again until the call succeeds, a permanent one (anywhere on the cause
 * chain) ends it at once, and a stop ends the wait in progress.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, CodedError, errorMaker, isRetryable, retry } from '../../common/index.ts';

const makeError = errorMaker({ FLAKY: 'retryable', REFUSED: 'permanent' });

describe('Backoff', () => {
  it('doubles the bound up to the cap, each wait drawn below it', () => {
    const top = new Backoff({ initialMs: 10, capMs: 50, random: () => 0.999 });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => top.next()),
      [10, 20, 40, 50, 50],
    );
    const low = new Backoff({ initialMs: 10, capMs: 50, random: () => 0 });
    assert.deepEqual(
      [1, 2].map(() => low.next()),
      [1, 1],
    );
    top.reset();
    assert.equal(top.next(), 10);
  });

  it('refuses bounds that cannot work', () => {
    assert.throws(() => new Backoff({ initialMs: 0, capMs: 10 }), /0 < initialMs <= capMs/);
    assert.throws(() => new Backoff({ initialMs: 20, capMs: 10 }), /0 < initialMs <= capMs/);
  });
});

describe('retry', () => {
  const fast = { initialMs: 1, capMs: 2 };

  it('tries a retryable failure again until the call succeeds, telling each retry', async () => {
    const told: number[] = [];
    const result = await retry(
      async (attempt) => {
        if (attempt < 4) throw makeError('not yet', 'FLAKY');
        return attempt;
      },
      { ...fast, onRetry: (_err, _wait, attempt) => told.push(attempt) },
    );
    assert.equal(result, 4);
    assert.deepEqual(told, [1, 2, 3]);
  });

  it('ends at once on a permanent error, even one wrapped in another', async () => {
    let calls = 0;
    const refused = makeError('refused', 'REFUSED');
    const wrapped = new Error('the batch failed', { cause: refused });
    assert.equal(isRetryable(wrapped), false);
    await assert.rejects(
      retry(async () => {
        calls++;
        throw wrapped;
      }, fast),
      (err) => err === wrapped,
    );
    assert.equal(calls, 1);
    assert.ok(refused instanceof CodedError && !refused.retryable);
  });

  it('ends when stopped, the wait in progress cut short, with the last error', async () => {
    const stop = new AbortController();
    const last = makeError('down', 'FLAKY');
    const p = retry(
      async () => {
        throw last;
      },
      { initialMs: 60_000, capMs: 60_000, signal: stop.signal, onRetry: () => stop.abort() },
    );
    await assert.rejects(p, (err) => err === last);
  });

  it('ends after the tries it is given', async () => {
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw new Error('socket reset');
        },
        { ...fast, attempts: 3 },
      ),
      /socket reset/,
    );
    assert.equal(calls, 3);
  });
});
