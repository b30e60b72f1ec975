/**
 * Replace (amend) of a resting limit order: a smaller quantity at the same price keeps the
 * order's place; a larger quantity or a new price sends it to the back of its (new) level, and a
 * new price that crosses trades at once. Rejections name the order and change nothing. Every case
 * on both books.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../engine/index.ts';
import { BOOKS, spec } from '../support/engine.ts';
import {
  ACME,
  bbo,
  buy,
  type Cmd,
  depth,
  given,
  rejected,
  sell,
  stop,
  withoutChange,
} from '../support/scenario.ts';

for (const kind of BOOKS) {
  describe(`replace (${kind} book)`, () => {
    /** Bids at 10000: a1 (A) 5 then b1 (B) 3; c1 (C) 2 at 9900. */
    const bids = () =>
      given(kind).orders(buy('A', 'a1', 5, 10_000), buy('B', 'b1', 3, 10_000), buy('C', 'c1', 2, 9_900));

    it('a smaller quantity at the same price keeps priority, and the order still fills first', () => {
      const s = bids();
      const t = s.when({ type: 'replace', account: 'A', orderId: s.id('a1'), quantity: 2 });
      assert.deepEqual(t.all, [
        s.replaced('a1', { price: 10_000, quantity: 2, keptPriority: true }),
        depth('buy', 10_000, 5, 2),
        bbo(10_000, 5, 0, 0),
      ]);
      assert.deepEqual(s.queue('buy'), ['a1:2@10000', 'b1:3@10000', 'c1:2@9900']);
      const u = s.when(sell('D', 's1', 1, 10_000));
      assert.equal(u.orders[1]?.makerClientOrderId, 'a1');
    });

    it('a smaller quantity of a partly filled order keeps its fills', () => {
      const s = bids().orders(sell('D', 's1', 1, 10_000));
      const t = s.when({ type: 'replace', account: 'A', clientOrderId: 'a1', quantity: 1 });
      assert.deepEqual(t.orders, [
        s.replaced('a1', { price: 10_000, quantity: 1, filled: 1, keptPriority: true }),
      ]);
      assert.deepEqual(s.queue('buy'), ['a1:1@10000', 'b1:3@10000', 'c1:2@9900']);
    });

    it('a larger quantity loses priority: the order goes to the back of its level', () => {
      const s = bids();
      const t = s.when({ type: 'replace', account: 'A', orderId: s.id('a1'), quantity: 8 });
      assert.deepEqual(t.all, [
        s.replaced('a1', { price: 10_000, quantity: 8, keptPriority: false }),
        depth('buy', 10_000, 11, 2),
        bbo(10_000, 11, 0, 0),
      ]);
      assert.deepEqual(s.queue('buy'), ['b1:3@10000', 'a1:8@10000', 'c1:2@9900']);
      const u = s.when(sell('D', 's1', 1, 10_000));
      assert.equal(u.orders[1]?.makerClientOrderId, 'b1');
    });

    it('a new price loses priority: the order goes behind those already at the new level', () => {
      const s = bids();
      const t = s.when({ type: 'replace', account: 'A', orderId: s.id('a1'), price: 9_900 });
      assert.deepEqual(t.all, [
        s.replaced('a1', { price: 9_900, quantity: 5, keptPriority: false }),
        depth('buy', 10_000, 3, 1),
        depth('buy', 9_900, 7, 2),
        bbo(10_000, 3, 0, 0),
      ]);
      assert.deepEqual(s.queue('buy'), ['b1:3@10000', 'c1:2@9900', 'a1:5@9900']);
    });

    it('a new price that crosses trades at once and rests the rest', () => {
      const s = bids().orders(sell('D', 's1', 2, 10_100));
      const t = s.when({ type: 'replace', account: 'A', orderId: s.id('a1'), price: 10_100 });
      assert.deepEqual(t.orders, [
        s.replaced('a1', { price: 10_100, quantity: 5, keptPriority: false }),
        s.trade('a1', 's1', {
          tradeId: 1,
          price: 10_100,
          quantity: 2,
          takerLeaves: 3,
          takerFilled: 2,
          makerLeaves: 0,
          makerFilled: 2,
        }),
      ]);
      assert.deepEqual(t.market, [
        depth('buy', 10_000, 3, 1),
        depth('buy', 10_100, 3, 1),
        depth('sell', 10_100, 0, 0),
        bbo(10_100, 3, 0, 0),
      ]);
      assert.deepEqual(s.queue('buy'), ['a1:3@10100', 'b1:3@10000', 'c1:2@9900']);
    });

    it('a crossing replace that trades triggers stops', () => {
      const s = bids().orders(
        sell('D', 's1', 1, 10_100),
        sell('D', 's2', 1, 10_200),
        stop('E', 'st1', 'buy', 1, 10_100),
      );
      const t = s.when({ type: 'replace', account: 'A', orderId: s.id('a1'), price: 10_100, quantity: 1 });
      assert.deepEqual(
        t.orders.map((e) => [e.kind, e.clientOrderId ?? e.takerClientOrderId, e.price]),
        [
          ['replaced', 'a1', 10_100],
          ['trade', 'a1', 10_100],
          ['triggered', 'st1', 0],
          ['trade', 'st1', 10_200],
        ],
      );
    });

    it('a replace by clientOrderId names the order of the calling account', () => {
      const s = given(kind).orders(buy('A', 'x', 5, 10_000), buy('B', 'x', 5, 10_000));
      const t = s.when({ type: 'replace', account: 'A', clientOrderId: 'x', quantity: 4 });
      assert.equal(t.orders[0]?.orderId, 1);
      assert.equal(t.orders[0]?.account, 'A');
      assert.deepEqual(s.book(), { bids: [[10_000, 9, 2]], asks: [] });
    });

    describe('rejections change nothing', () => {
      // a1 (A) rests; f1 (A) was filled; k1 (A) was canceled.
      const setup = () =>
        bids().orders(sell('A', 'f1', 1, 10_100), buy('D', 'd1', 1, 10_100), sell('A', 'k1', 1, 10_500), {
          type: 'cancel',
          account: 'A',
          clientOrderId: 'k1',
        });
      const ids = (() => {
        const s = setup();
        return { a1: s.id('a1'), f1: s.id('f1'), k1: s.id('k1') };
      })();
      const cases: Array<[string, Cmd, ReturnType<typeof rejected>]> = [
        [
          'a filled order',
          { type: 'replace', account: 'A', orderId: ids.f1, quantity: 2 },
          rejected(Code.UNKNOWN_ORDER, { orderId: ids.f1, account: 'A' }),
        ],
        [
          'a canceled order',
          { type: 'replace', account: 'A', orderId: ids.k1, price: 10_400 },
          rejected(Code.UNKNOWN_ORDER, { orderId: ids.k1, account: 'A' }),
        ],
        [
          'a canceled order by clientOrderId',
          { type: 'replace', account: 'A', clientOrderId: 'k1', price: 10_400 },
          rejected(Code.UNKNOWN_ORDER, { clientOrderId: 'k1', account: 'A' }),
        ],
        [
          'an order id never used',
          { type: 'replace', account: 'A', orderId: 999, quantity: 2 },
          rejected(Code.UNKNOWN_ORDER, { orderId: 999, account: 'A' }),
        ],
        [
          "another account's order",
          { type: 'replace', account: 'B', orderId: ids.a1, quantity: 2 },
          rejected(Code.NOT_ORDER_OWNER, { orderId: ids.a1, account: 'B' }),
        ],
        [
          'the same price and quantity',
          { type: 'replace', account: 'A', orderId: ids.a1, price: 10_000, quantity: 5 },
          rejected(Code.NOTHING_TO_CHANGE, { instrument: ACME, orderId: ids.a1, account: 'A' }),
        ],
        [
          'neither price nor quantity',
          { type: 'replace', account: 'A', clientOrderId: 'a1' },
          rejected(Code.NOTHING_TO_CHANGE, { instrument: ACME, clientOrderId: 'a1', account: 'A' }),
        ],
        [
          'a zero quantity',
          { type: 'replace', account: 'A', orderId: ids.a1, quantity: 0 },
          rejected(Code.INVALID_QUANTITY, { instrument: ACME, orderId: ids.a1, account: 'A' }),
        ],
        [
          'a quantity above the maximum',
          { type: 'replace', account: 'A', orderId: ids.a1, quantity: 1_000_001 },
          rejected(Code.QUANTITY_ABOVE_MAX, { instrument: ACME, orderId: ids.a1, account: 'A' }),
        ],
        [
          'a zero price',
          { type: 'replace', account: 'A', orderId: ids.a1, price: 0 },
          rejected(Code.INVALID_PRICE, { instrument: ACME, orderId: ids.a1, account: 'A' }),
        ],
        [
          'a price above the maximum',
          { type: 'replace', account: 'A', orderId: ids.a1, price: 1_000_000_001 },
          rejected(Code.PRICE_ABOVE_MAX, { instrument: ACME, orderId: ids.a1, account: 'A' }),
        ],
        [
          'both orderId and clientOrderId',
          { type: 'replace', account: 'A', orderId: ids.a1, clientOrderId: 'a1', quantity: 2 },
          rejected(Code.INVALID_COMMAND, { orderId: ids.a1, clientOrderId: 'a1', account: 'A' }),
        ],
        [
          'no order named',
          { type: 'replace', account: 'A', quantity: 2 },
          rejected(Code.INVALID_COMMAND, { account: 'A' }),
        ],
        [
          'no account',
          { type: 'replace', account: '', orderId: ids.a1, quantity: 2 },
          rejected(Code.INVALID_ACCOUNT),
        ],
      ];
      for (const [name, cmd, expected] of cases) {
        it(`${expected.code}: ${name}`, () => {
          assert.deepEqual(withoutChange(setup, cmd).all, [expected]);
        });
      }
    });

    it('a replace on a halted instrument is INSTRUMENT_HALTED; after resuming it works', () => {
      const setup = () => bids().orders({ type: 'set-status', instrument: ACME, status: 'halted' });
      const s = setup();
      const cmd: Cmd = { type: 'replace', account: 'A', orderId: s.id('a1'), quantity: 2 };
      const t = withoutChange(setup, cmd);
      assert.deepEqual(t.all, [
        rejected(Code.INSTRUMENT_HALTED, { instrument: ACME, orderId: s.id('a1'), account: 'A' }),
      ]);
      s.orders({ type: 'set-status', instrument: ACME, status: 'open' });
      assert.deepEqual(s.when(cmd).orders, [
        s.replaced('a1', { price: 10_000, quantity: 2, keptPriority: true }),
      ]);
    });

    it('a new price outside the band is PRICE_OUTSIDE_BAND', () => {
      const setup = () =>
        given(kind, spec({ referencePrice: 10_000, bandBps: 100 })).orders(buy('A', 'a1', 5, 10_000));
      const t = withoutChange(setup, { type: 'replace', account: 'A', orderId: 1, price: 9_899 });
      assert.deepEqual(t.all, [
        rejected(Code.PRICE_OUTSIDE_BAND, { instrument: ACME, orderId: 1, account: 'A' }),
      ]);
    });
  });
}
