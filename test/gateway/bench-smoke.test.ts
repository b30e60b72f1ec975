/**
 * The gateway benchmark (bench/gateway) runs end to end: each scenario for about a second at
 * low rates, against a real gateway in a child process, with forked load generators, and its
 * baselines in the same run (a bare `ws` echo, a bare `ws` server sending the captured frames,
 * the engine alone on W1). Asserts that it reports numbers, that every order and echo was
 * answered, that no subscriber saw a gap or a bad checksum on either server, and that the load's
 * CPU is reported; never speed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escalate } from '../../bench/gateway/generators.ts';
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
  generators: 1,
  w1Ops: 20_000,
  server: {},
};

describe('gateway benchmark smoke', { timeout: 180_000 }, () => {
  it('given a low rate, when the round trip runs, then every order and every echo is answered and timed', async () => {
    const report = await runBench({ ...small, scenarios: ['roundtrip'] });
    const [run] = report.roundtrip ?? [];
    assert.ok(run !== undefined);
    assert.equal(run.errors, 0, run.firstError);
    assert.equal(run.answered, run.orders);
    assert.ok(run.engine.ops === run.orders && run.engine.p50Us > 0 && run.engine.p99Us >= run.engine.p50Us);
    assert.ok(run.pending.ops > 0 && run.pending.p50Us > 0);
    assert.equal(run.load.processes, 1);
    assert.equal(run.load.inProcess, false);
    assert.ok(run.load.cpuPct[0]! > 0 && run.load.spinPct[0]! >= 0);
    const echo = run.echo;
    assert.equal(echo.errors, 0, echo.firstError);
    assert.equal(echo.answered, echo.orders);
    assert.ok(echo.engine.ops === echo.orders && echo.engine.p50Us > 0);
    assert.equal(echo.pending.ops, 0);
  });

  it('given a small window, when the closed loop runs, then it reports orders/s, the echo and the engine beside it', async () => {
    const report = await runBench({ ...small, scenarios: ['throughput'] });
    const t = report.throughput;
    assert.ok(t !== undefined);
    assert.equal(t.errors, 0, t.firstError);
    assert.ok(t.acknowledged > 0 && t.ordersPerSec > 0);
    assert.ok(t.latency.p50Us > 0);
    assert.equal(t.load.processes, 1);
    assert.ok(t.load.cpuPct[0]! > 0);
    assert.equal(t.echo.errors, 0, t.echo.firstError);
    assert.ok(t.echo.ordersPerSec > 0 && t.echo.server.cpuPct > 0);
    assert.equal(t.engineW1.ops, small.w1Ops);
    assert.ok(t.engineW1.opsPerSec > 0);
    assert.equal(t.ratioToEngineW1, Math.round((t.ordersPerSec / t.engineW1.opsPerSec) * 1000) / 1000);
  });

  it('given a few subscribers, when orders flow, then every frame arrives in sequence with good checksums, from the exchange and from bare ws', async () => {
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
    const raw = run.raw;
    assert.ok(raw !== undefined && raw.frames > 0 && raw.deliveredPerSec > 0);
    assert.ok(raw.counts.bookChecks > 0);
    assert.equal(run.ratioToRaw, Math.round((run.deliveredPerSec / raw.deliveredPerSec) * 1000) / 1000);
    assert.deepEqual(f.raw, { complete: f.subscribers, gaps: 0, checksumFailures: 0, captureComplete: true });
    assert.equal(f.load.processes, 1);
    const target = report.targets.find((t) => t.what.startsWith('fan-out'));
    assert.ok(target !== undefined && !target.met, 'judged, and not met with 20 subscribers');
  });
});

describe('load escalation', () => {
  const saturatedBelow = (limit: number) => async (n: number) => ({
    result: n,
    usage: Array.from({ length: n }, () => ({ cpuPct: n < limit ? 99 : 50, spinPct: 0 })),
  });

  it('given generators saturated below 4 processes, when escalating up to 8, then it reruns with 2 and 4 and stops there', async () => {
    const { result, load } = await escalate(1, 8, saturatedBelow(4), (n) => n * 10);
    assert.equal(result, 4);
    assert.equal(load.saturated, false);
    assert.deepEqual(
      load.escalated.map((e) => [e.processes, e.figure]),
      [
        [1, 10],
        [2, 20],
      ],
    );
  });

  it('given generators still saturated at the cap, when escalating, then the last run says it is saturated', async () => {
    const { result, load } = await escalate(1, 3, saturatedBelow(100), (n) => n);
    assert.equal(result, 3);
    assert.equal(load.saturated, true);
    assert.deepEqual(load.cpuPct, [99, 99, 99]);
  });

  it('given an open-loop sender that spins, when its CPU is mostly waiting, then it is not saturated', async () => {
    const attempt = async (n: number) => ({ result: n, usage: [{ cpuPct: 100, spinPct: 60 }] });
    const { load } = await escalate(1, 4, attempt, (n) => n);
    assert.equal(load.saturated, false);
    assert.equal(load.processes, 1);
  });
});
