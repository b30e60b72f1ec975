/**
 * Stop and stop-limit orders: they wait for the last trade price (a buy stop triggers when
 * last >= stopPrice, a sell stop when last <= stopPrice), then enter as market or limit orders;
 * one trigger can cascade into the next; among triggered stops the nearest trigger goes first,
 * then the earliest. Waiting stops can be canceled but not amended. Every case on both books.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../engine/index.ts';
import { BOOKS } from '../support/engine.ts';
import { ACME, bbo, buy, depth, given, rejected, sell, stop, stopLimit } from '../support/scenario.ts';

for (const kind of BOOKS) {
  describe(`stops (${kind} book)`, () => {
    it('a waiting stop is accepted, publishes no depth and is not in the book', () => {
      const s = given(kind).orders(sell('A', 's1', 1, 10_000));
      const t = s.when(stop('C', 'st1', 'buy', 2, 10_000));
      assert.deepEqual(t.all, [s.accepted('st1')]);
      assert.deepEqual(s.accepted('st1').tif, 'IOC');
      assert.equal(s.engine.order(s.id('st1'))?.state, 'waiting');
      assert.deepEqual(s.queue('buy'), []);
      assert.equal(s.engine.liveOrders, 2);
    });

    it('a buy stop triggers on a trade at its stop price and enters as a market order', () => {
      const s = given(kind).orders(
        sell('A', 's1', 1, 10_000),
        sell('A', 's2', 1, 10_100),
        sell('A', 's3', 5, 10_200),
        stop('C', 'st1', 'buy', 3, 10_000),
      );
      const t = s.when(buy('B', 'b1', 1, 10_000));
      assert.deepEqual(t.orders, [
        s.accepted('b1'),
        s.trade('b1', 's1', {
          tradeId: 1,
          price: 10_000,
          quantity: 1,
          takerLeaves: 0,
          takerFilled: 1,
          makerLeaves: 0,
          makerFilled: 1,
        }),
        s.triggered('st1'),
        s.trade('st1', 's2', {
          tradeId: 2,
          price: 10_100,
          quantity: 1,
          takerLeaves: 2,
          takerFilled: 1,
          makerLeaves: 0,
          makerFilled: 1,
        }),
        s.trade('st1', 's3', {
          tradeId: 3,
          price: 10_200,
          quantity: 2,
          takerLeaves: 0,
          takerFilled: 3,
          makerLeaves: 3,
          makerFilled: 2,
        }),
      ]);
      assert.equal(s.triggered('st1').orderType, 'market');
      assert.deepEqual(t.market, [
        depth('sell', 10_000, 0, 0),
        depth('sell', 10_100, 0, 0),
        depth('sell', 10_200, 3, 1),
        bbo(0, 0, 10_200, 3),
      ]);
      assert.equal(s.engine.liveOrders, 1);
    });

    it('a buy stop does not trigger below its stop price', () => {
      const s = given(kind).orders(sell('A', 's1', 1, 9_999), stop('C', 'st1', 'buy', 3, 10_000));
      const t = s.when(buy('B', 'b1', 1, 9_999));
      assert.deepEqual(
        t.orders.map((e) => e.kind),
        ['accepted', 'trade'],
      );
      assert.equal(s.engine.order(s.id('st1'))?.state, 'waiting');
    });

    it('a sell stop triggers when the last price falls to it; a market remainder is canceled', () => {
      const s = given(kind).orders(
        buy('A', 'b1', 1, 10_200),
        buy('A', 'b2', 1, 10_000),
        stop('C', 'st1', 'sell', 3, 10_200),
      );
      const t = s.when(sell('B', 's1', 1, 10_200));
      assert.deepEqual(t.orders, [
        s.accepted('s1'),
        s.trade('s1', 'b1', {
          tradeId: 1,
          price: 10_200,
          quantity: 1,
          takerLeaves: 0,
          takerFilled: 1,
          makerLeaves: 0,
          makerFilled: 1,
        }),
        s.triggered('st1'),
        s.trade('st1', 'b2', {
          tradeId: 2,
          price: 10_000,
          quantity: 1,
          takerLeaves: 2,
          takerFilled: 1,
          makerLeaves: 0,
          makerFilled: 1,
        }),
        s.canceled('st1', { quantity: 2, filled: 1, reason: 'ioc-remainder' }),
      ]);
      assert.equal(s.engine.liveOrders, 0);
    });

    it('a stop-limit enters as a limit order at its price and rests what it cannot fill', () => {
      const s = given(kind).orders(
        buy('A', 'b1', 1, 10_200),
        buy('A', 'b2', 1, 10_100),
        buy('A', 'b3', 1, 10_000),
        stopLimit('C', 'st1', 'sell', 3, 10_200, 10_100),
      );
      const t = s.when(sell('B', 's1', 1, 10_200));
      assert.deepEqual(t.orders, [
        s.accepted('s1'),
        s.trade('s1', 'b1', {
          tradeId: 1,
          price: 10_200,
          quantity: 1,
          takerLeaves: 0,
          takerFilled: 1,
          makerLeaves: 0,
          makerFilled: 1,
        }),
        s.triggered('st1'),
        s.trade('st1', 'b2', {
          tradeId: 2,
          price: 10_100,
          quantity: 1,
          takerLeaves: 2,
          takerFilled: 1,
          makerLeaves: 0,
          makerFilled: 1,
        }),
      ]);
      assert.equal(s.triggered('st1').orderType, 'limit');
      assert.deepEqual(t.market, [
        depth('buy', 10_200, 0, 0),
        depth('buy', 10_100, 0, 0),
        depth('sell', 10_100, 2, 1),
        bbo(10_000, 1, 10_100, 2),
      ]);
      assert.deepEqual(s.engine.order(s.id('st1'))?.state, 'resting');
      assert.deepEqual(s.queue('sell'), ['st1:2@10100']);
    });

    it('a triggered FOK stop that cannot fill completely is canceled fok-unfilled', () => {
      const s = given(kind).orders(
        sell('A', 's1', 1, 10_000),
        sell('A', 's2', 1, 10_100),
        stop('C', 'st1', 'buy', 3, 10_000, { tif: 'FOK' }),
      );
      const t = s.when(buy('B', 'b1', 1, 10_000));
      assert.deepEqual(t.orders.slice(2), [
        s.triggered('st1'),
        s.canceled('st1', { quantity: 3, reason: 'fok-unfilled' }),
      ]);
      assert.deepEqual(s.queue('sell'), ['s2:1@10100']);
    });

    it("stops cascade: one stop's trade triggers the next", () => {
      const s = given(kind).orders(
        sell('A', 's1', 1, 10_000),
        sell('A', 's2', 1, 10_100),
        sell('A', 's3', 1, 10_200),
        stop('C', 'st1', 'buy', 1, 10_000),
        stop('D', 'st2', 'buy', 1, 10_100),
        stop('E', 'st3', 'buy', 1, 10_300),
      );
      const t = s.when(buy('B', 'b1', 1, 10_000));
      assert.deepEqual(
        t.orders.map((e) => [e.kind, e.clientOrderId ?? e.takerClientOrderId, e.price]),
        [
          ['accepted', 'b1', 10_000],
          ['trade', 'b1', 10_000],
          ['triggered', 'st1', 0],
          ['trade', 'st1', 10_100],
          ['triggered', 'st2', 0],
          ['trade', 'st2', 10_200],
        ],
      );
      assert.equal(s.engine.order(s.id('st3'))?.state, 'waiting');
      assert.equal(s.engine.instrument(ACME)?.lastPrice, 10_200);
    });

    it('among triggered buy stops the lowest stop price goes first, then the earliest', () => {
      // Stop-limits far below the market: they trigger and rest, so the last price stays put.
      const s = given(kind).orders(
        sell('A', 's1', 1, 10_000),
        stopLimit('C', 'x1', 'buy', 1, 10_000, 5_000),
        stopLimit('C', 'x2', 'buy', 1, 9_000, 5_000),
        stopLimit('D', 'x3', 'buy', 1, 9_000, 5_000),
        stopLimit('D', 'x4', 'buy', 1, 9_500, 5_000),
      );
      const t = s.when(buy('B', 'b1', 1, 10_000));
      assert.deepEqual(t.orders.slice(2), [
        s.triggered('x2'),
        s.triggered('x3'),
        s.triggered('x4'),
        s.triggered('x1'),
      ]);
      assert.deepEqual(s.queue('buy'), ['x2:1@5000', 'x3:1@5000', 'x4:1@5000', 'x1:1@5000']);
      assert.deepEqual(t.market, [
        depth('buy', 5_000, 4, 4),
        depth('sell', 10_000, 0, 0),
        bbo(5_000, 4, 0, 0),
      ]);
    });

    it('among triggered sell stops the highest stop price goes first, then the earliest', () => {
      const s = given(kind).orders(
        buy('A', 'b1', 1, 10_000),
        stopLimit('C', 'x1', 'sell', 1, 10_000, 20_000),
        stopLimit('C', 'x2', 'sell', 1, 11_000, 20_000),
        stopLimit('D', 'x3', 'sell', 1, 11_000, 20_000),
      );
      const t = s.when(sell('B', 's1', 1, 10_000));
      assert.deepEqual(t.orders.slice(2), [s.triggered('x2'), s.triggered('x3'), s.triggered('x1')]);
    });

    const buyVsSell: Array<[string, 'buy-first' | 'sell-first']> = [
      ['the buy stop was entered first', 'buy-first'],
      ['the sell stop was entered first', 'sell-first'],
    ];
    for (const [name, which] of buyVsSell) {
      it(`between a triggered buy and sell stop the earlier goes first: ${name}`, () => {
        const buyStop = stopLimit('C', 'xb', 'buy', 1, 9_900, 5_000);
        const sellStop = stopLimit('D', 'xs', 'sell', 1, 10_100, 20_000);
        const s = given(kind).orders(
          sell('A', 's1', 1, 10_000),
          ...(which === 'buy-first' ? [buyStop, sellStop] : [sellStop, buyStop]),
        );
        const t = s.when(buy('B', 'b1', 1, 10_000));
        const order = which === 'buy-first' ? ['xb', 'xs'] : ['xs', 'xb'];
        assert.deepEqual(
          t.orders.slice(2),
          order.map((id) => s.triggered(id)),
        );
      });
    }

    it('nothing triggers before the first trade, however far the stop prices', () => {
      const s = given(kind);
      const t = s.when(stop('C', 'st1', 'sell', 1, 1_000_000_000));
      assert.deepEqual(t.all, [s.accepted('st1')]);
      s.orders(stop('C', 'st2', 'buy', 1, 1), buy('A', 'b1', 1, 10_000));
      assert.equal(s.engine.order(s.id('st1'))?.state, 'waiting');
      assert.equal(s.engine.order(s.id('st2'))?.state, 'waiting');
    });

    it('a stop entered when the last price is already past it triggers at once', () => {
      const s = given(kind).orders(
        sell('A', 's1', 1, 10_000),
        buy('B', 'b1', 1, 10_000),
        sell('A', 's2', 1, 10_100),
      );
      const t = s.when(stop('C', 'st1', 'buy', 1, 9_000));
      assert.deepEqual(t.orders, [
        s.accepted('st1'),
        s.triggered('st1'),
        s.trade('st1', 's2', {
          tradeId: 2,
          price: 10_100,
          quantity: 1,
          takerLeaves: 0,
          takerFilled: 1,
          makerLeaves: 0,
          makerFilled: 1,
        }),
      ]);
    });

    it('a waiting stop can be canceled, by order id or client order id', () => {
      const s = given(kind).orders(
        stop('C', 'st1', 'buy', 3, 10_000),
        stopLimit('C', 'st2', 'sell', 2, 9_000, 8_900),
      );
      const t = s.when({ type: 'cancel', account: 'C', orderId: s.id('st1') });
      assert.deepEqual(t.all, [s.canceled('st1', { quantity: 3, reason: 'user' })]);
      const u = s.when({ type: 'cancel', account: 'C', clientOrderId: 'st2' });
      assert.deepEqual(u.all, [s.canceled('st2', { quantity: 2, reason: 'user' })]);
      s.orders(sell('A', 's1', 1, 10_000), buy('B', 'b1', 1, 10_000));
      assert.equal(s.engine.liveOrders, 0);
    });

    it('a waiting stop cannot be amended (NOT_AMENDABLE); once triggered and resting it can', () => {
      const s = given(kind).orders(stopLimit('C', 'st1', 'buy', 3, 10_000, 9_000));
      const before = s.engine.stateHash();
      const t = s.when({ type: 'replace', account: 'C', orderId: s.id('st1'), price: 9_100 });
      assert.deepEqual(t.all, [
        rejected(Code.NOT_AMENDABLE, { instrument: ACME, orderId: s.id('st1'), account: 'C' }),
      ]);
      assert.notEqual(before, s.engine.stateHash()); // the sequences moved...
      assert.equal(s.engine.order(s.id('st1'))?.price, 9_000); // ...the order did not
      assert.equal(s.engine.order(s.id('st1'))?.state, 'waiting');
      s.orders(sell('A', 's1', 1, 10_000), buy('B', 'b1', 1, 10_000));
      const u = s.when({ type: 'replace', account: 'C', clientOrderId: 'st1', price: 9_100 });
      assert.deepEqual(u.orders, [s.replaced('st1', { price: 9_100, quantity: 3, keptPriority: false })]);
    });
  });
}
