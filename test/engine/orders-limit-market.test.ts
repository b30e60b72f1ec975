/**
 * Limit and market orders: resting, fills, price-time priority, the maker's price, sweeps, IOC
 * remainders of market orders and the price band that limits them. Every case on both books.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../engine/index.ts';
import { BOOKS, spec } from '../support/engine.ts';
import { bbo, buy, depth, given, market, rejectedOrder, sell } from '../support/scenario.ts';

for (const kind of BOOKS) {
  describe(`limit and market orders (${kind} book)`, () => {
    it('a limit order that meets nothing rests and publishes its level and the BBO', () => {
      const s = given(kind);
      const t = s.when(buy('A', 'b1', 10, 10_000));
      assert.deepEqual(t.orders, [s.accepted('b1')]);
      assert.deepEqual(t.market, [depth('buy', 10_000, 10, 1), bbo(10_000, 10, 0, 0)]);
      assert.equal(s.engine.order(s.id('b1'))?.state, 'resting');
      assert.deepEqual(s.queue('buy'), ['b1:10@10000']);
      assert.equal(s.engine.liveOrders, 1);
    });

    it('a taker that meets a maker of equal size fills both, and both leave the book', () => {
      const s = given(kind).orders(sell('A', 's1', 5, 10_000));
      const t = s.when(buy('B', 'b1', 5, 10_000));
      assert.deepEqual(t.orders, [
        s.accepted('b1'),
        s.trade('b1', 's1', {
          tradeId: 1,
          price: 10_000,
          quantity: 5,
          takerLeaves: 0,
          takerFilled: 5,
          makerLeaves: 0,
          makerFilled: 5,
          takerFee: 25,
          makerFee: -5,
        }),
      ]);
      assert.deepEqual(t.market, [depth('sell', 10_000, 0, 0), bbo(0, 0, 0, 0)]);
      assert.equal(s.engine.liveOrders, 0);
      assert.equal(s.engine.instrument('ACME@evm:31337')?.lastPrice, 10_000);
    });

    it("a larger taker trades at the maker's price and rests its remainder at its own", () => {
      const s = given(kind).orders(sell('A', 's1', 3, 10_000));
      const t = s.when(buy('B', 'b1', 5, 10_100));
      assert.deepEqual(t.orders, [
        s.accepted('b1'),
        s.trade('b1', 's1', {
          tradeId: 1,
          price: 10_000,
          quantity: 3,
          takerLeaves: 2,
          takerFilled: 3,
          makerLeaves: 0,
          makerFilled: 3,
        }),
      ]);
      assert.deepEqual(t.market, [
        depth('buy', 10_100, 2, 1),
        depth('sell', 10_000, 0, 0),
        bbo(10_100, 2, 0, 0),
      ]);
      assert.deepEqual(s.engine.order(s.id('b1')), {
        orderId: s.id('b1'),
        instrument: 'ACME@evm:31337',
        account: 'B',
        clientOrderId: 'b1',
        side: 'buy',
        orderType: 'limit',
        tif: 'GTC',
        price: 10_100,
        stopPrice: 0,
        expireAt: 0,
        leaves: 2,
        filled: 3,
        state: 'resting',
      });
    });

    it('a smaller taker leaves the maker resting with its remainder and its place', () => {
      const s = given(kind).orders(sell('A', 's1', 10, 10_000), sell('C', 's2', 1, 10_000));
      const t = s.when(buy('B', 'b1', 4, 10_000));
      assert.deepEqual(t.orders, [
        s.accepted('b1'),
        s.trade('b1', 's1', {
          tradeId: 1,
          price: 10_000,
          quantity: 4,
          takerLeaves: 0,
          takerFilled: 4,
          makerLeaves: 6,
          makerFilled: 4,
        }),
      ]);
      assert.deepEqual(t.market, [depth('sell', 10_000, 7, 2), bbo(0, 0, 10_000, 7)]);
      assert.deepEqual(s.queue('sell'), ['s1:6@10000', 's2:1@10000']);
    });

    it("a sell taker trades at the resting bid's (higher) price", () => {
      const s = given(kind).orders(buy('A', 'b1', 2, 10_300));
      const t = s.when(sell('B', 's1', 2, 10_000));
      assert.deepEqual(t.orders, [
        s.accepted('s1'),
        s.trade('s1', 'b1', {
          tradeId: 1,
          price: 10_300,
          quantity: 2,
          takerLeaves: 0,
          takerFilled: 2,
          makerLeaves: 0,
          makerFilled: 2,
        }),
      ]);
    });

    it('orders at one level fill first in, first out', () => {
      const s = given(kind).orders(
        sell('A', 's1', 2, 10_000),
        sell('B', 's2', 3, 10_000),
        sell('C', 's3', 4, 10_000),
      );
      const t = s.when(buy('D', 'b1', 6, 10_000));
      assert.deepEqual(t.orders, [
        s.accepted('b1'),
        s.trade('b1', 's1', {
          tradeId: 1,
          price: 10_000,
          quantity: 2,
          takerLeaves: 4,
          takerFilled: 2,
          makerLeaves: 0,
          makerFilled: 2,
        }),
        s.trade('b1', 's2', {
          tradeId: 2,
          price: 10_000,
          quantity: 3,
          takerLeaves: 1,
          takerFilled: 5,
          makerLeaves: 0,
          makerFilled: 3,
        }),
        s.trade('b1', 's3', {
          tradeId: 3,
          price: 10_000,
          quantity: 1,
          takerLeaves: 0,
          takerFilled: 6,
          makerLeaves: 3,
          makerFilled: 1,
        }),
      ]);
      assert.deepEqual(t.market, [depth('sell', 10_000, 3, 1), bbo(0, 0, 10_000, 3)]);
      assert.deepEqual(s.queue('sell'), ['s3:3@10000']);
    });

    it('a better price fills first, whatever the time of entry', () => {
      const s = given(kind).orders(
        buy('A', 'b1', 1, 9_800),
        buy('B', 'b2', 1, 9_900),
        buy('C', 'b3', 1, 10_000),
        buy('C', 'b4', 1, 9_900),
      );
      assert.deepEqual(s.queue('buy'), ['b3:1@10000', 'b2:1@9900', 'b4:1@9900', 'b1:1@9800']);
      const t = s.when(sell('D', 's1', 3, 9_800));
      const trades = t.orders.filter((e) => e.kind === 'trade').map((e) => [e.makerClientOrderId, e.price]);
      assert.deepEqual(trades, [
        ['b3', 10_000],
        ['b2', 9_900],
        ['b4', 9_900],
      ]);
      assert.deepEqual(s.queue('buy'), ['b1:1@9800']);
    });

    it('a taker walks several levels up to its limit and rests the rest there', () => {
      const s = given(kind).orders(
        sell('A', 's1', 2, 10_000),
        sell('B', 's2', 2, 10_100),
        sell('C', 's3', 2, 10_200),
      );
      const t = s.when(buy('D', 'b1', 5, 10_100));
      assert.deepEqual(t.orders, [
        s.accepted('b1'),
        s.trade('b1', 's1', {
          tradeId: 1,
          price: 10_000,
          quantity: 2,
          takerLeaves: 3,
          takerFilled: 2,
          makerLeaves: 0,
          makerFilled: 2,
        }),
        s.trade('b1', 's2', {
          tradeId: 2,
          price: 10_100,
          quantity: 2,
          takerLeaves: 1,
          takerFilled: 4,
          makerLeaves: 0,
          makerFilled: 2,
        }),
      ]);
      assert.deepEqual(t.market, [
        depth('buy', 10_100, 1, 1),
        depth('sell', 10_000, 0, 0),
        depth('sell', 10_100, 0, 0),
        bbo(10_100, 1, 10_200, 2),
      ]);
      assert.deepEqual(s.book(), { bids: [[10_100, 1, 1]], asks: [[10_200, 2, 1]] });
    });

    it('a market order sweeps the book and cancels what it cannot fill (ioc-remainder)', () => {
      const s = given(kind).orders(sell('A', 's1', 2, 10_000), sell('B', 's2', 2, 10_100));
      const t = s.when(market('C', 'm1', 'buy', 5));
      assert.deepEqual(t.orders, [
        s.accepted('m1'),
        s.trade('m1', 's1', {
          tradeId: 1,
          price: 10_000,
          quantity: 2,
          takerLeaves: 3,
          takerFilled: 2,
          makerLeaves: 0,
          makerFilled: 2,
        }),
        s.trade('m1', 's2', {
          tradeId: 2,
          price: 10_100,
          quantity: 2,
          takerLeaves: 1,
          takerFilled: 4,
          makerLeaves: 0,
          makerFilled: 2,
        }),
        s.canceled('m1', { quantity: 1, filled: 4, reason: 'ioc-remainder' }),
      ]);
      assert.equal(s.accepted('m1').tif, 'IOC');
      assert.deepEqual(t.market, [depth('sell', 10_000, 0, 0), depth('sell', 10_100, 0, 0), bbo(0, 0, 0, 0)]);
      assert.equal(s.engine.liveOrders, 0);
    });

    it('a market sell fills against the bids and never rests', () => {
      const s = given(kind).orders(buy('A', 'b1', 3, 10_000));
      const t = s.when(market('B', 'm1', 'sell', 2));
      assert.deepEqual(t.orders, [
        s.accepted('m1'),
        s.trade('m1', 'b1', {
          tradeId: 1,
          price: 10_000,
          quantity: 2,
          takerLeaves: 0,
          takerFilled: 2,
          makerLeaves: 1,
          makerFilled: 2,
        }),
      ]);
      assert.equal(s.engine.liveOrders, 1);
    });

    it('a market order on an empty book is accepted and canceled whole', () => {
      const s = given(kind);
      const t = s.when(market('A', 'm1', 'sell', 5));
      assert.deepEqual(t.all, [s.accepted('m1'), s.canceled('m1', { quantity: 5, reason: 'ioc-remainder' })]);
      assert.equal(s.engine.liveOrders, 0);
    });
  });

  describe(`the price band (${kind} book)`, () => {
    // Reference 10000 ticks, band 1% = 100 ticks: 9900..10100 until the first trade.
    const banded = () => given(kind, spec({ referencePrice: 10_000, bandBps: 100 }));

    it('admits limit prices on the band edges and rejects those beyond', () => {
      const cases: Array<[ReturnType<typeof sell>, number | null]> = [
        [sell('A', 's1', 1, 10_100), null],
        [buy('A', 'b1', 1, 9_900), null],
        [sell('A', 's2', 1, 10_101), Code.PRICE_OUTSIDE_BAND],
        [buy('A', 'b2', 1, 9_899), Code.PRICE_OUTSIDE_BAND],
      ];
      for (const [cmd, code] of cases) {
        const s = banded();
        const t = s.when(cmd);
        if (code === null) assert.deepEqual(t.orders, [s.accepted(cmd.clientOrderId)], cmd.clientOrderId);
        else assert.deepEqual(t.all, [rejectedOrder(code, cmd)], cmd.clientOrderId);
      }
    });

    it('before any trade a market order sweeps up to the edge of the reference band', () => {
      const s = banded().orders(sell('A', 's1', 1, 10_000), sell('A', 's2', 1, 10_100));
      const t = s.when(market('B', 'm1', 'buy', 3));
      assert.deepEqual(
        t.orders.map((e) => [e.kind, e.price, e.quantity]),
        [
          ['accepted', 0, 3],
          ['trade', 10_000, 1],
          ['trade', 10_100, 1],
          ['canceled', undefined, 1],
        ],
      );
    });

    it('after a trade the band is centred on the last trade price and stops market orders there', () => {
      const s = banded().orders(
        sell('A', 's1', 1, 10_100),
        buy('B', 'b1', 1, 10_100), // last 10100: band 9999..10201
        sell('A', 's2', 5, 10_200), // inside the new band
        sell('A', 's3', 2, 10_050),
        buy('B', 'b2', 1, 10_050), // last 10050: band 9950..10150
      );
      const late = buy('C', 'b3', 1, 10_200);
      assert.deepEqual(s.when(late).all, [rejectedOrder(Code.PRICE_OUTSIDE_BAND, late)]);
      const t = s.when(market('C', 'm1', 'buy', 10));
      assert.deepEqual(t.orders, [
        s.accepted('m1'),
        s.trade('m1', 's3', {
          tradeId: 3,
          price: 10_050,
          quantity: 1,
          takerLeaves: 9,
          takerFilled: 1,
          makerLeaves: 0,
          makerFilled: 2,
        }),
        s.canceled('m1', { quantity: 9, filled: 1, reason: 'ioc-remainder' }),
      ]);
      assert.deepEqual(s.queue('sell'), ['s2:5@10200']);
    });

    it('a market sell stops at the low edge of the band', () => {
      const s = banded().orders(
        buy('A', 'b1', 1, 9_900),
        sell('B', 's1', 1, 9_900), // last 9900: band 9801..9999
        buy('A', 'b2', 1, 9_990),
        buy('A', 'b3', 1, 9_801),
        sell('B', 's2', 1, 9_990), // last 9990: band 9891..10089
      );
      const t = s.when(market('C', 'm1', 'sell', 4));
      assert.deepEqual(t.orders, [
        s.accepted('m1'),
        s.canceled('m1', { quantity: 4, reason: 'ioc-remainder' }),
      ]);
      assert.deepEqual(s.queue('buy'), ['b3:1@9801']);
    });
  });
}
