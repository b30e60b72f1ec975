/**
 * The gateway benchmark (bench/gateway) runs end to end: each scenario for about a second at
 * low rates, against a real gateway in a child process. Asserts that it reports numbers, that
 * every order was answered and that no subscriber saw a gap or a bad checksum; never speed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Options, runBench } from '../../bench/gateway/run.ts';

const small: Omit<Options, 'scenarios'> = {
  seconds: 1,
  rates: [200],
  runs: 1,
  connections: 2,
  window: 4,
  subscribers: 20,
  fanoutRates: [50],
  workers: 1,
  server: {},
};

describe('gateway benchmark smoke', { timeout: 120_000 }, () => {
  it('given a low rate, when the round trip runs, then every order is answered and timed', async () => {
    const report = await runBench({ ...small, scenarios: ['roundtrip'] });
    const [run] = report.roundtrip ?? [];
    assert.ok(run !== undefined);
    assert.equal(run.errors, 0, run.firstError);
    assert.equal(run.answered, run.orders);
    assert.ok(run.engine.ops === run.orders && run.engine.p50Us > 0 && run.engine.p99Us >= run.engine.p50Us);
    assert.ok(run.pending.ops > 0 && run.pending.p50Us > 0);
  });

  it('given a small window, when the closed loop runs, then it reports acknowledged orders per second', async () => {
    const report = await runBench({ ...small, scenarios: ['throughput'] });
    const t = report.throughput;
    assert.ok(t !== undefined);
    assert.equal(t.errors, 0, t.firstError);
    assert.ok(t.acknowledged > 0 && t.ordersPerSec > 0);
    assert.ok(t.latency.p50Us > 0);
  });

  it('given a few subscribers, when orders flow, then every frame arrives in sequence with good checksums', async () => {
    const report = await runBench({ ...small, scenarios: ['fanout'] });
    const f = report.fanout;
    assert.ok(f !== undefined);
    const [run] = f.runs;
    assert.ok(run !== undefined);
    assert.equal(run.errors, 0, run.firstError);
    assert.equal(run.answered, run.orders);
    assert.ok(run.channelUpdates > 0 && run.deliveredPerSec > 0);
    assert.ok(run.counts.bookChecks > 0);
    assert.equal(f.gaps, 0);
    assert.equal(f.checksumFailures, 0);
    assert.equal(f.complete, f.subscribers);
  });
});
