/**
 * Post-only orders: they rest when they do not cross, are rejected (POST_ONLY_WOULD_TAKE) when
 * they would take, go only with GTC/GTD limit orders, and keep that promise through a replace.
 * Every case on both books.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../engine/index.ts';
import { BOOKS } from '../support/engine.ts';
import {
  ACME,
  bbo,
  buy,
  depth,
  given,
  market,
  rejected,
  sell,
  stopLimit,
  withoutChange,
} from '../support/scenario.ts';

for (const kind of BOOKS) {
  describe(`post-only (${kind} book)`, () => {
    /** Bid 9900 (A), ask 10000 (B). */
    const spread = () =>
      given(kind).orders(buy('A', 'b0', 5, 9_900), sell('B', 's0', 5, 10_000), buy('C', 'c0', 1, 9_000));

    it('rests when it does not cross, on either side', () => {
      const s = spread();
      const t = s.when(buy('C', 'p1', 2, 9_950, { postOnly: true }));
      assert.deepEqual(t.all, [s.accepted('p1'), depth('buy', 9_950, 2, 1), bbo(9_950, 2, 10_000, 5)]);
      const u = s.when(sell('C', 'p2', 2, 9_960, { postOnly: true, tif: 'GTD', expireAt: 1_000 }));
      assert.deepEqual(u.all, [s.accepted('p2'), depth('sell', 9_960, 2, 1), bbo(9_950, 2, 9_960, 2)]);
    });

    it('rests on an empty book', () => {
      const s = given(kind);
      assert.deepEqual(s.when(sell('A', 'p1', 2, 10_000, { postOnly: true })).orders, [s.accepted('p1')]);
    });

    const crossing: Array<[string, ReturnType<typeof buy>]> = [
      ['a buy at the best ask', buy('C', 'p1', 2, 10_000, { postOnly: true })],
      ['a buy through the best ask', buy('C', 'p1', 2, 10_500, { postOnly: true })],
      ['a sell at the best bid', sell('C', 'p1', 2, 9_900, { postOnly: true })],
      [
        'a sell through the best bid',
        sell('C', 'p1', 2, 9_000, { postOnly: true, tif: 'GTD', expireAt: 999 }),
      ],
    ];
    for (const [name, cmd] of crossing) {
      it(`is rejected with POST_ONLY_WOULD_TAKE and changes nothing: ${name}`, () => {
        const t = withoutChange(spread, cmd);
        assert.deepEqual(t.all, [
          rejected(Code.POST_ONLY_WOULD_TAKE, {
            instrument: ACME,
            account: 'C',
            clientOrderId: 'p1',
            newOrder: true,
          }),
        ]);
      });
    }

    it('without postOnly the same crossing order trades', () => {
      const s = spread();
      const t = s.when(buy('C', 'p1', 2, 10_000, { postOnly: false }));
      assert.deepEqual(
        t.orders.map((e) => e.kind),
        ['accepted', 'trade'],
      );
    });

    const invalid: Array<[string, ReturnType<typeof buy>]> = [
      ['IOC', buy('C', 'p1', 2, 9_000, { postOnly: true, tif: 'IOC' })],
      ['FOK', buy('C', 'p1', 2, 9_000, { postOnly: true, tif: 'FOK' })],
      ['a market order', market('C', 'p1', 'buy', 2, { postOnly: true })],
      ['a stop-limit order', stopLimit('C', 'p1', 'buy', 2, 10_500, 10_600, { postOnly: true })],
      ['a non-boolean flag', buy('C', 'p1', 2, 9_000, { postOnly: 'yes' as unknown as boolean })],
    ];
    for (const [name, cmd] of invalid) {
      it(`is INVALID_COMBINATION with ${name}`, () => {
        const t = withoutChange(spread, cmd);
        assert.deepEqual(t.all, [
          rejected(Code.INVALID_COMBINATION, {
            instrument: ACME,
            account: 'C',
            clientOrderId: 'p1',
            newOrder: true,
          }),
        ]);
      });
    }

    it('a replace of a post-only order to a crossing price is rejected and leaves it as it was', () => {
      const setup = () => spread().orders(buy('C', 'p1', 2, 9_900, { postOnly: true }));
      const s = setup();
      assert.deepEqual(s.queue('buy'), ['b0:5@9900', 'p1:2@9900', 'c0:1@9000']);
      const cmd = { type: 'replace', account: 'C', orderId: s.id('p1'), price: 10_000 } as const;
      const t = withoutChange(setup, cmd);
      assert.deepEqual(t.all, [
        rejected(Code.POST_ONLY_WOULD_TAKE, { instrument: ACME, orderId: s.id('p1'), account: 'C' }),
      ]);
      s.run(cmd);
      assert.deepEqual(s.queue('buy'), ['b0:5@9900', 'p1:2@9900', 'c0:1@9000']);
      assert.deepEqual(s.queue('sell'), ['s0:5@10000']);
    });

    it('a replace of a post-only order to a price that does not cross moves it', () => {
      const s = spread().orders(buy('C', 'p1', 2, 9_900, { postOnly: true }));
      const t = s.when({ type: 'replace', account: 'C', clientOrderId: 'p1', price: 9_990, quantity: 3 });
      assert.deepEqual(t.all, [
        s.replaced('p1', { price: 9_990, quantity: 3, keptPriority: false }),
        depth('buy', 9_900, 5, 1),
        depth('buy', 9_990, 3, 1),
        bbo(9_990, 3, 10_000, 5),
      ]);
    });
  });
}
