/**
 * Fees: each trade charges the taker and pays or charges the maker in notional units (price
 * ticks times lots), a charge rounded up and a rebate toward zero. `feeFor` is checked against
 * BigInt arithmetic, up to notionals near Number.MAX_SAFE_INTEGER. Trade cases on both books.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { feeFor } from '../../engine/index.ts';
import { BOOKS, spec } from '../support/engine.ts';
import { buy, given, refFee, sell } from '../support/scenario.ts';

const MAX = Number.MAX_SAFE_INTEGER;

describe('feeFor', () => {
  // [notional, bps, fee]
  const cases: Array<[number, number, number]> = [
    [0, 5, 0],
    [0, -1, 0],
    [10_000, 5, 5],
    [10_000, -1, -1],
    [86_415, 5, 44], // 43.2075 rounds up
    [86_415, -1, -8], // -8.6415 rounds toward zero
    [10_001, 2, 3],
    [10_001, 10, 11],
    [19_999, -1, -1],
    [20_000, -1, -2],
    [1, 1, 1], // any charge on a positive notional is at least 1
    [1, 1000, 1],
    [9_999, 1, 1],
    [123_456_789, 0, 0],
    [2_000, 5, 1],
    [2_001, 5, 2],
    [9_007_198_990_992_801, 7, 6_305_039_293_695],
    [9_007_198_990_992_801, -3, -2_702_159_697_297],
    [MAX, 1000, 900_719_925_474_100],
    [MAX, -1000, -900_719_925_474_099],
    [MAX, 1, 900_719_925_475],
    [MAX - 1, -7, -6_305_039_478_318],
    [MAX - (MAX % 10_000), 1000, (MAX - (MAX % 10_000)) / 10],
  ];
  for (const [notional, bps, fee] of cases) {
    it(`${bps} bp of ${notional} is ${fee}`, () => {
      assert.equal(feeFor(notional, bps), fee);
      assert.equal(refFee(notional, bps), fee);
    });
  }

  it('agrees with BigInt arithmetic on a seeded spread of notionals and rates', () => {
    let x = 0x2545f491;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    for (let i = 0; i < 20_000; i++) {
      const r = (next() % 2 ** 21) * 2 ** 32 + next(); // 0..MAX
      const notional = Math.floor(r / 10 ** (next() % 16));
      const bps = (next() % 2001) - 1000;
      const got = feeFor(notional, bps);
      assert.equal(got, refFee(notional, bps), `feeFor(${notional}, ${bps})`);
    }
    for (let n = MAX - 20_000; n <= MAX; n++) {
      assert.equal(feeFor(n, 999), refFee(n, 999), `feeFor(${n}, 999)`);
      assert.equal(feeFor(n, -999), refFee(n, -999), `feeFor(${n}, -999)`);
    }
  });

  it('a rebate too small to pay is 0, not -0', () => {
    assert.ok(
      Object.is(feeFor(9_999, -1), 0),
      `feeFor(9999, -1) is ${Object.is(feeFor(9_999, -1), -0) ? '-0' : feeFor(9_999, -1)}`,
    );
  });
});

for (const kind of BOOKS) {
  describe(`fees on trades (${kind} book)`, () => {
    it('the taker pays and the maker earns its rebate on price ticks times lots', () => {
      const s = given(kind).orders(sell('A', 's1', 7, 12_345));
      const t = s.when(buy('B', 'b1', 7, 12_345));
      assert.equal(t.orders[1]?.takerFee, 44);
      assert.equal(t.orders[1]?.makerFee, -8);
    });

    it('each trade of a sweep carries the fees of its own notional', () => {
      const s = given(kind, spec({ makerFeeBps: 2, takerFeeBps: 10 })).orders(
        sell('A', 's1', 1, 10_001),
        sell('A', 's2', 3, 20_000),
      );
      const t = s.when(buy('B', 'b1', 4, 20_000));
      assert.deepEqual(
        t.orders.filter((e) => e.kind === 'trade').map((e) => [e.price, e.quantity, e.takerFee, e.makerFee]),
        [
          [10_001, 1, 11, 3],
          [20_000, 3, 60, 12],
        ],
      );
    });

    it('with zero rates both fees are 0', () => {
      const s = given(kind, spec({ makerFeeBps: 0, takerFeeBps: 0 })).orders(buy('A', 'b1', 3, 10_000));
      const t = s.when(sell('B', 's1', 3, 10_000));
      assert.deepEqual(t.orders[1], {
        ...s.trade('s1', 'b1', {
          tradeId: 1,
          price: 10_000,
          quantity: 3,
          takerLeaves: 0,
          takerFilled: 3,
          makerLeaves: 0,
          makerFilled: 3,
        }),
        takerFee: 0,
        makerFee: 0,
      });
    });

    it('a notional near the largest safe integer is charged exactly', () => {
      const big = spec({ maxPrice: 9_007_199, maxQty: 1_000_000_000, makerFeeBps: -3, takerFeeBps: 7 });
      const s = given(kind, big).orders(sell('A', 's1', 999_999_999, 9_007_199));
      const t = s.when(buy('B', 'b1', 999_999_999, 9_007_199));
      assert.deepEqual(t.orders[1], {
        ...s.trade('b1', 's1', {
          tradeId: 1,
          price: 9_007_199,
          quantity: 999_999_999,
          takerLeaves: 0,
          takerFilled: 999_999_999,
          makerLeaves: 0,
          makerFilled: 999_999_999,
        }),
        takerFee: 6_305_039_293_695,
        makerFee: -2_702_159_697_297,
      });
    });

    it('a rebate too small to pay is reported as 0, not -0', () => {
      const s = given(kind).orders(sell('A', 's1', 1, 9_999));
      const t = s.when(buy('B', 'b1', 1, 9_999));
      assert.deepEqual(t.orders[1], {
        ...s.trade('b1', 's1', {
          tradeId: 1,
          price: 9_999,
          quantity: 1,
          takerLeaves: 0,
          takerFilled: 1,
          makerLeaves: 0,
          makerFilled: 1,
        }),
        takerFee: 5,
        makerFee: 0,
      });
    });
  });
}
