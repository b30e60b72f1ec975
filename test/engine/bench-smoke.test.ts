/**
 * bench:engine's W4 "moving market" stays runnable and means what bench/WORKLOADS.md says: the
 * regimes reach their targets, prices follow the rule against the best, a shortened W4 (every
 * regime scaled down) runs on Mosaic and on the peer with the live set in step with each engine,
 * passive orders never trade, and price levels are counted. W3's sweeps trade on every engine
 * (the refill of a swept book is not refused). Asserts no speed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineAdapter } from '../../bench/engine/adapter.ts';
import { MosaicAdapter } from '../../bench/engine/adapter-mosaic.ts';
import { PeerAdapter } from '../../bench/engine/adapter-peer.ts';
import { OpStepper, runOnce } from '../../bench/engine/driver.ts';
import { LiveOrders } from '../../bench/engine/live-orders.ts';
import { generate, Kind, MID_W4, priceAgainstBest, trendW4 } from '../../bench/engine/workloads.ts';

/** Timed ops of the shortened W4: six regimes of 2,000 ops, a crash of 24 ops. */
const SHORT = 12_000;

describe('bench:engine W4 smoke', { timeout: 120_000 }, () => {
  it('given the regimes, then the trend reaches +25%, -40% and -30% and comes back', () => {
    const span = 166_666;
    for (const [t, want] of [
      [0, MID_W4],
      [span + span / 2, 125_000],
      [2 * span, MID_W4],
      [3 * span + span / 2, 60_000],
      [4 * span + 2_000, 70_000],
      [4 * span + 52_000, MID_W4],
      [999_999, MID_W4],
    ] as const) {
      assert.ok(Math.abs(trendW4(t) - want) < 1, `trend at op ${t}: ${trendW4(t)}, expected ${want}`);
    }
  });

  it('given the best prices, then passive orders stay behind them and aggressive ones cross', () => {
    const w = generate('W4', 42, SHORT);
    const ops = w.ops;
    const find = (kind: number, side: number) => {
      for (let i = w.warmup; i < ops.n; i++) if (ops.kind[i] === kind && ops.side[i] === side) return i;
      throw new Error(`no op of kind ${kind}, side ${side}`);
    };
    const pb = find(Kind.Passive, 0);
    const ps = find(Kind.Passive, 1);
    const ab = find(Kind.Aggressive, 0);
    const as = find(Kind.Aggressive, 1);
    const p = (i: number) => ops.price[i]!;
    // A passive buy at or above the ask goes one tick below it; below the ask it keeps its price.
    assert.equal(priceAgainstBest(ops, pb, 1, p(pb)), p(pb) - 1);
    assert.equal(priceAgainstBest(ops, pb, 1, p(pb) + 1), p(pb));
    assert.equal(priceAgainstBest(ops, pb, 1, 0), p(pb));
    assert.equal(priceAgainstBest(ops, ps, p(ps) + 5, 0), p(ps) + 6);
    assert.equal(priceAgainstBest(ops, ps, p(ps) - 1, 0), p(ps));
    assert.equal(priceAgainstBest(ops, ab, 0, 5_000), 5_000 + ops.cross[ab]!);
    assert.equal(priceAgainstBest(ops, as, 5_000, 0), 5_000 - ops.cross[as]!);
    assert.equal(priceAgainstBest(ops, as, 0, 0), p(as), 'an empty side: the generated price');
  });

  it('given a shortened W4 on Mosaic, then passive orders never trade and levels open and close', () => {
    const w = generate('W4', 42, SHORT);
    assert.deepEqual(generate('W4', 42, SHORT).ops.price, w.ops.price, 'the same seed, the same ops');
    const live = new LiveOrders(w.ops.n + 1, 1);
    const a = new MosaicAdapter(w, live);
    for (let i = 0; i < w.warmup; i++) a.place(i, i);
    const before = a.levelCounts()!;
    const stepper = new OpStepper(w, a, live);
    let passive = 0;
    for (let i = w.warmup; i < w.ops.n; i++) {
      const trades = a.counts().trades;
      stepper.step(i);
      if (w.ops.kind[i] !== Kind.Passive) continue;
      passive++;
      assert.equal(a.counts().trades, trades, `passive op ${i} traded`);
    }
    assert.ok(passive > SHORT / 3, `only ${passive} passive ops`);
    assert.equal(live.size, a.liveOrders(), 'the driver lost track of live orders');
    const after = a.levelCounts()!;
    assert.ok(after.opened - before.opened > 100, `levels opened: ${after.opened - before.opened}`);
    assert.ok(after.closed - before.closed > 10, `levels closed: ${after.closed - before.closed}`);
    assert.equal(after.opened - after.closed, after.open, 'opened - closed = open now');
  });

  for (const [name, make, ops] of [
    ['mosaic', (w, live) => new MosaicAdapter(w, live), SHORT],
    ['nodejs-order-book', (w, live) => new PeerAdapter(w, live), 2_000],
  ] as const satisfies ReadonlyArray<
    readonly [string, (w: ReturnType<typeof generate>, live: LiveOrders | null) => EngineAdapter, number]
  >) {
    it(`given a shortened W4 through the driver on ${name}, then it reports levels opened and closed`, () => {
      const w = generate('W4', 42, SHORT);
      const r = runOnce(w, make, { timedOps: ops, label: `W4 smoke ${name}` });
      assert.equal(r.ops, ops);
      assert.equal(r.liveTracked, r.liveOrders, 'the driver lost track of live orders');
      assert.ok(r.levels !== undefined, 'no level counts');
      assert.ok(r.levels.opened > 0 && r.levels.closed > 0, JSON.stringify(r.levels));
      assert.ok(r.levels.openedPerSec > 0 && r.levels.closedPerSec > 0, JSON.stringify(r.levels));
      assert.ok(r.levels.atEnd > 0, JSON.stringify(r.levels));
    });
  }

  for (const [name, make] of [
    ['mosaic', (w, live) => new MosaicAdapter(w, live)],
    ['nodejs-order-book', (w, live) => new PeerAdapter(w, live)],
  ] as const satisfies ReadonlyArray<
    readonly [string, (w: ReturnType<typeof generate>, live: LiveOrders | null) => EngineAdapter]
  >) {
    it(`given W3's sweeps on ${name}, then each one trades and the refills are accepted`, () => {
      const w = generate('W3', 42, 3);
      const r = runOnce(w, make, { timedOps: 3, label: `W3 smoke ${name}` });
      assert.equal(r.ops, 3);
      assert.equal(r.rejects, 0, 'refused orders');
      // Warm-up levels are 100 orders deep and a sweep takes at least 50 levels, in each pass
      assert.ok(r.trades >= 2 * 3 * 50 * 100, `only ${r.trades} makers traded`);
    });
  }
});
