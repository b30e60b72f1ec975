/**
 * Self-trade prevention: when a taker meets a resting order of its own account, the taker's
 * mode decides what is canceled (reason 'stp'), and matching against other accounts goes on
 * around it in the same sweep. FOK counts only what it could fill before STP would cancel any of
 * it (`OrderBook.fillable`). Every case on both books.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StpMode } from '../../engine/index.ts';
import { BOOKS } from '../support/engine.ts';
import { bbo, buy, depth, given, market, sell } from '../support/scenario.ts';

for (const kind of BOOKS) {
  describe(`self-trade prevention (${kind} book)`, () => {
    /** Three asks at one level, in this order: B 2, A (the self order) 2, C 2. */
    const level = () =>
      given(kind).orders(sell('B', 'sb', 2, 10_000), sell('A', 'sa', 2, 10_000), sell('C', 'sc', 2, 10_000));

    it('cancel-newest (the default) cancels the taker and leaves its resting order', () => {
      const s = given(kind).orders(sell('A', 'sa', 5, 10_000));
      const t = s.when(buy('A', 'ta', 3, 10_000));
      assert.deepEqual(t.all, [s.accepted('ta'), s.canceled('ta', { quantity: 3, reason: 'stp' })]);
      assert.deepEqual(s.queue('sell'), ['sa:5@10000']);
      assert.deepEqual(s.queue('buy'), []);
    });

    it("the taker's mode decides, not the resting order's", () => {
      const s = given(kind).orders(sell('A', 'sa', 5, 10_000, { stp: 'cancel-oldest' }));
      const t = s.when(buy('A', 'ta', 3, 10_000, { stp: 'cancel-newest' }));
      assert.deepEqual(t.orders, [s.accepted('ta'), s.canceled('ta', { quantity: 3, reason: 'stp' })]);
      assert.deepEqual(s.queue('sell'), ['sa:5@10000']);
    });

    it('cancel-newest after trades with other accounts cancels the rest of the taker there', () => {
      const s = level();
      const t = s.when(buy('A', 'ta', 5, 10_000));
      assert.deepEqual(t.orders, [
        s.accepted('ta'),
        s.trade('ta', 'sb', {
          tradeId: 1,
          price: 10_000,
          quantity: 2,
          takerLeaves: 3,
          takerFilled: 2,
          makerLeaves: 0,
          makerFilled: 2,
        }),
        s.canceled('ta', { quantity: 3, filled: 2, reason: 'stp' }),
      ]);
      assert.deepEqual(t.market, [depth('sell', 10_000, 4, 2), bbo(0, 0, 10_000, 4)]);
      assert.deepEqual(s.queue('sell'), ['sa:2@10000', 'sc:2@10000']);
    });

    it('a market taker stopped by STP is canceled for stp, not as an IOC remainder', () => {
      const s = level();
      const t = s.when(market('A', 'ta', 'buy', 5));
      assert.deepEqual(
        t.orders.map((e) => [e.kind, e.quantity, e.reason]),
        [
          ['accepted', 5, undefined],
          ['trade', 2, undefined],
          ['canceled', 3, 'stp'],
        ],
      );
    });

    it('cancel-oldest cancels the resting order and goes on matching, then rests the rest', () => {
      const s = level();
      const t = s.when(buy('A', 'ta', 5, 10_000, { stp: 'cancel-oldest' }));
      assert.deepEqual(t.orders, [
        s.accepted('ta'),
        s.trade('ta', 'sb', {
          tradeId: 1,
          price: 10_000,
          quantity: 2,
          takerLeaves: 3,
          takerFilled: 2,
          makerLeaves: 0,
          makerFilled: 2,
        }),
        s.canceled('sa', { quantity: 2, reason: 'stp' }),
        s.trade('ta', 'sc', {
          tradeId: 2,
          price: 10_000,
          quantity: 2,
          takerLeaves: 1,
          takerFilled: 4,
          makerLeaves: 0,
          makerFilled: 2,
        }),
      ]);
      assert.deepEqual(t.market, [
        depth('buy', 10_000, 1, 1),
        depth('sell', 10_000, 0, 0),
        bbo(10_000, 1, 0, 0),
      ]);
      assert.equal(s.engine.liveOrders, 1);
    });

    it('cancel-both cancels the resting order and the rest of the taker', () => {
      const s = level();
      const t = s.when(buy('A', 'ta', 5, 10_000, { stp: 'cancel-both' }));
      assert.deepEqual(t.orders, [
        s.accepted('ta'),
        s.trade('ta', 'sb', {
          tradeId: 1,
          price: 10_000,
          quantity: 2,
          takerLeaves: 3,
          takerFilled: 2,
          makerLeaves: 0,
          makerFilled: 2,
        }),
        s.canceled('sa', { quantity: 2, reason: 'stp' }),
        s.canceled('ta', { quantity: 3, filled: 2, reason: 'stp' }),
      ]);
      assert.deepEqual(t.market, [depth('sell', 10_000, 2, 1), bbo(0, 0, 10_000, 2)]);
      assert.deepEqual(s.queue('sell'), ['sc:2@10000']);
    });

    it('decrement-and-cancel, taker smaller: the resting order shrinks and keeps its place', () => {
      const s = given(kind).orders(sell('A', 'sa', 5, 10_000), sell('C', 'sc', 2, 10_000));
      const t = s.when(buy('A', 'ta', 3, 10_000, { stp: 'decrement-and-cancel' }));
      assert.deepEqual(t.all, [
        s.accepted('ta'),
        s.canceled('sa', { quantity: 3, leaves: 2, reason: 'stp' }),
        s.canceled('ta', { quantity: 3, reason: 'stp' }),
        depth('sell', 10_000, 4, 2),
        bbo(0, 0, 10_000, 4),
      ]);
      assert.deepEqual(s.queue('sell'), ['sa:2@10000', 'sc:2@10000']);
      assert.equal(s.engine.order(s.id('sa'))?.leaves, 2);
      const u = s.when(buy('B', 'b1', 1, 10_000));
      assert.equal(u.orders[1]?.makerClientOrderId, 'sa');
    });

    it('decrement-and-cancel, taker larger: the resting order goes, the taker shrinks and goes on', () => {
      const s = level();
      const t = s.when(buy('A', 'ta', 5, 10_000, { stp: 'decrement-and-cancel' }));
      assert.deepEqual(t.orders, [
        s.accepted('ta'),
        s.trade('ta', 'sb', {
          tradeId: 1,
          price: 10_000,
          quantity: 2,
          takerLeaves: 3,
          takerFilled: 2,
          makerLeaves: 0,
          makerFilled: 2,
        }),
        s.canceled('sa', { quantity: 2, reason: 'stp' }),
        s.canceled('ta', { quantity: 2, leaves: 1, filled: 2, reason: 'stp' }),
        s.trade('ta', 'sc', {
          tradeId: 2,
          price: 10_000,
          quantity: 1,
          takerLeaves: 0,
          takerFilled: 3,
          makerLeaves: 1,
          makerFilled: 1,
        }),
      ]);
      assert.deepEqual(t.market, [depth('sell', 10_000, 1, 1), bbo(0, 0, 10_000, 1)]);
      assert.equal(s.engine.liveOrders, 1);
    });

    it('decrement-and-cancel, equal sizes: both are canceled', () => {
      const s = given(kind).orders(buy('A', 'ba', 4, 10_000));
      const t = s.when(sell('A', 'ta', 4, 9_000, { stp: 'decrement-and-cancel' }));
      assert.deepEqual(t.all, [
        s.accepted('ta'),
        s.canceled('ba', { quantity: 4, reason: 'stp' }),
        s.canceled('ta', { quantity: 4, reason: 'stp' }),
        depth('buy', 10_000, 0, 0),
        bbo(0, 0, 0, 0),
      ]);
      assert.equal(s.engine.liveOrders, 0);
    });

    // FOK for 4 against B 2, A 2 (self), C 2: filled only if STP would cancel none of the taker.
    const fok: Array<[StpMode, boolean]> = [
      ['cancel-newest', false],
      ['cancel-both', false],
      ['decrement-and-cancel', false],
      ['cancel-oldest', true],
    ];
    for (const [mode, fills] of fok) {
      it(`FOK with its own order in the way, ${mode}: ${fills ? 'fills' : 'fok-unfilled'}`, () => {
        const s = level();
        const before = s.engine.snapshot().instruments;
        const t = s.when(buy('A', 'fa', 4, 10_000, { tif: 'FOK', stp: mode }));
        if (fills) {
          assert.deepEqual(
            t.orders.map((e) => [e.kind, e.makerClientOrderId ?? e.clientOrderId, e.quantity]),
            [
              ['accepted', 'fa', 4],
              ['trade', 'sb', 2],
              ['canceled', 'sa', 2],
              ['trade', 'sc', 2],
            ],
          );
          assert.deepEqual(s.book(), { bids: [], asks: [] });
        } else {
          assert.deepEqual(t.all, [
            s.accepted('fa'),
            s.canceled('fa', { quantity: 4, reason: 'fok-unfilled' }),
          ]);
          assert.deepEqual(s.engine.snapshot().instruments, before);
        }
      });
    }

    it('FOK fills when enough other liquidity comes before its own order', () => {
      const s = level();
      const t = s.when(buy('A', 'fa', 2, 10_000, { tif: 'FOK' }));
      assert.deepEqual(
        t.orders.map((e) => e.kind),
        ['accepted', 'trade'],
      );
      assert.deepEqual(s.queue('sell'), ['sa:2@10000', 'sc:2@10000']);
    });

    it('STP across levels: a better-priced self order is met first', () => {
      const s = given(kind).orders(sell('A', 'sa', 1, 10_000), sell('B', 'sb', 3, 10_100));
      const t = s.when(buy('A', 'ta', 3, 10_100, { stp: 'cancel-oldest' }));
      assert.deepEqual(t.orders, [
        s.accepted('ta'),
        s.canceled('sa', { quantity: 1, reason: 'stp' }),
        s.trade('ta', 'sb', {
          tradeId: 1,
          price: 10_100,
          quantity: 3,
          takerLeaves: 0,
          takerFilled: 3,
          makerLeaves: 0,
          makerFilled: 3,
        }),
      ]);
      assert.deepEqual(t.market, [depth('sell', 10_000, 0, 0), depth('sell', 10_100, 0, 0), bbo(0, 0, 0, 0)]);
    });
  });
}
