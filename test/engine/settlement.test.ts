/** The cash a trade moves: one function shared by the risk stage and the settlement connectors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cashPerNotional, quoteUnitOf, tradeCash } from '../../engine/index.ts';
import { spec } from '../support/engine.ts';

describe('settlement amounts', () => {
  const cases: Array<[string, Parameters<typeof spec>[0], number | RegExp]> = [
    [
      'a cent tick on single lots, counted in cents',
      { tickSize: '0.01', lotSize: '1', quoteUnit: '0.01' },
      1,
    ],
    [
      'a 5-cent tick on lots of 10, counted in cents',
      { tickSize: '0.05', lotSize: '10', quoteUnit: '0.01' },
      50,
    ],
    ['the default unit is one notional unit', { tickSize: '0.05', lotSize: '10' }, 1],
    [
      'a unit that does not divide the notional',
      { tickSize: '0.01', lotSize: '1', quoteUnit: '0.03' },
      /whole number of quoteUnit 0.03/,
    ],
  ];
  for (const [name, overrides, expected] of cases) {
    it(`cashPerNotional: ${name}`, () => {
      const k = cashPerNotional(spec(overrides));
      if (expected instanceof RegExp) assert.match(String(k), expected);
      else assert.equal(k, expected);
    });
  }

  it('quoteUnitOf falls back to tick x lot', () => {
    assert.equal(quoteUnitOf(spec({ tickSize: '0.05', lotSize: '10' })), '0.5');
    assert.equal(quoteUnitOf(spec({ quoteUnit: '0.001' })), '0.001');
  });

  it('tradeCash: the buyer pays notional plus its fee, the seller gets notional minus its fee, the venue both fees', () => {
    // 3 lots at 10,000 ticks, k = 1: notional 30,000; taker (buyer) fee 15, maker (seller) rebate -3.
    assert.deepEqual(tradeCash(1, 10_000, 3, 15, -3), { buyerCash: 30_015, sellerCash: 30_003, fee: 12 });
    assert.deepEqual(tradeCash(50, 200, 2, 0, 1), { buyerCash: 20_000, sellerCash: 19_950, fee: 50 });
  });
});
