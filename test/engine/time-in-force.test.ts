/**
 * Time in force: GTC rests, IOC cancels its remainder, FOK fills completely or not at all, GTD
 * expires on the first command whose timestamp reaches `expireAt`. Every case on both books.
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
  rejectedOrder,
  sell,
  stopLimit,
} from '../support/scenario.ts';

for (const kind of BOOKS) {
  describe(`GTC and IOC (${kind} book)`, () => {
    it('GTC is the default of a limit order and rests however much time passes', () => {
      const s = given(kind).orders(buy('A', 'b1', 3, 10_000));
      assert.equal(s.accepted('b1').tif, 'GTC');
      assert.deepEqual(s.when({ type: 'tick', ts: 9_000_000_000_000 }).all, []);
      assert.deepEqual(s.queue('buy'), ['b1:3@10000']);
    });

    it('IOC fills what it can at once and cancels the remainder instead of resting', () => {
      const s = given(kind).orders(sell('A', 's1', 2, 10_000), sell('A', 's2', 2, 10_200));
      const t = s.when(buy('B', 'b1', 5, 10_100, { tif: 'IOC' }));
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
        s.canceled('b1', { quantity: 3, filled: 2, reason: 'ioc-remainder' }),
      ]);
      assert.deepEqual(t.market, [depth('sell', 10_000, 0, 0), bbo(0, 0, 10_200, 2)]);
      assert.deepEqual(s.book(), { bids: [], asks: [[10_200, 2, 1]] });
    });

    it('IOC that meets nothing is canceled whole and publishes no market data', () => {
      const s = given(kind).orders(sell('A', 's1', 2, 10_100));
      const t = s.when(buy('B', 'b1', 5, 10_000, { tif: 'IOC' }));
      assert.deepEqual(t.all, [s.accepted('b1'), s.canceled('b1', { quantity: 5, reason: 'ioc-remainder' })]);
    });
  });

  describe(`FOK (${kind} book)`, () => {
    const asks = () => given(kind).orders(sell('A', 's1', 3, 10_000), sell('B', 's2', 5, 10_100));

    it('fills completely across levels when enough is within its limit', () => {
      const s = asks();
      const t = s.when(buy('C', 'f1', 6, 10_100, { tif: 'FOK' }));
      assert.deepEqual(t.orders, [
        s.accepted('f1'),
        s.trade('f1', 's1', {
          tradeId: 1,
          price: 10_000,
          quantity: 3,
          takerLeaves: 3,
          takerFilled: 3,
          makerLeaves: 0,
          makerFilled: 3,
        }),
        s.trade('f1', 's2', {
          tradeId: 2,
          price: 10_100,
          quantity: 3,
          takerLeaves: 0,
          takerFilled: 6,
          makerLeaves: 2,
          makerFilled: 3,
        }),
      ]);
      assert.deepEqual(s.book(), { bids: [], asks: [[10_100, 2, 1]] });
    });

    const unfilled: Array<[string, ReturnType<typeof buy>]> = [
      ['more than the whole book', buy('C', 'f1', 9, 10_100, { tif: 'FOK' })],
      ['liquidity only past its limit', buy('C', 'f1', 5, 10_000, { tif: 'FOK' })],
      ['a market FOK larger than the book', market('C', 'f1', 'buy', 9, { tif: 'FOK' })],
    ];
    for (const [name, cmd] of unfilled) {
      it(`is canceled whole (fok-unfilled) and leaves the book unchanged: ${name}`, () => {
        const s = asks();
        const before = s.engine.snapshot().instruments;
        const t = s.when(cmd);
        assert.deepEqual(t.all, [
          s.accepted('f1'),
          s.canceled('f1', { quantity: cmd.quantity, reason: 'fok-unfilled' }),
        ]);
        assert.deepEqual(s.engine.snapshot().instruments, before);
        assert.deepEqual(s.queue('sell'), ['s1:3@10000', 's2:5@10100']);
        assert.equal(s.engine.liveOrders, 2);
      });
    }

    it('a sell FOK that exactly meets the bids fills', () => {
      const s = given(kind).orders(buy('A', 'b1', 2, 10_000), buy('B', 'b2', 2, 9_900));
      const t = s.when(sell('C', 'f1', 4, 9_900, { tif: 'FOK' }));
      assert.deepEqual(
        t.orders.map((e) => [e.kind, e.price, e.quantity]),
        [
          ['accepted', 9_900, 4],
          ['trade', 10_000, 2],
          ['trade', 9_900, 2],
        ],
      );
      assert.equal(s.engine.liveOrders, 0);
    });
  });

  describe(`GTD (${kind} book)`, () => {
    const gtd = (expireAt: number) => buy('A', 'g1', 5, 10_000, { tif: 'GTD', expireAt, ts: 10 });

    it('rests until a command reaches expireAt, then a tick expires it', () => {
      const s = given(kind).orders(gtd(100));
      assert.deepEqual(s.when({ type: 'tick', ts: 99 }).all, []);
      assert.deepEqual(s.queue('buy'), ['g1:5@10000']);
      const t = s.when({ type: 'tick', ts: 100 });
      assert.deepEqual(t.all, [
        s.canceled('g1', { quantity: 5, reason: 'expired' }),
        depth('buy', 10_000, 0, 0),
        bbo(0, 0, 0, 0),
      ]);
      assert.equal(s.engine.liveOrders, 0);
      assert.equal(s.engine.order(s.id('g1')), undefined);
    });

    it('expires before any other command at that time can trade with it', () => {
      const s = given(kind).orders(gtd(100));
      const t = s.when(sell('B', 's1', 5, 10_000, { ts: 150 }));
      assert.deepEqual(t.orders, [s.canceled('g1', { quantity: 5, reason: 'expired' }), s.accepted('s1')]);
      assert.deepEqual(s.book(), { bids: [], asks: [[10_000, 5, 1]] });
    });

    it('a partly filled GTD expires with its remainder, and several expire in expiry order', () => {
      const s = given(kind).orders(
        gtd(300),
        buy('A', 'g2', 2, 9_900, { tif: 'GTD', expireAt: 200 }),
        sell('B', 's1', 2, 10_000),
      );
      const t = s.when({ type: 'tick', ts: 300 });
      assert.deepEqual(t.orders, [
        s.canceled('g2', { quantity: 2, reason: 'expired' }),
        s.canceled('g1', { quantity: 3, filled: 2, reason: 'expired' }),
      ]);
      assert.deepEqual(t.market, [depth('buy', 9_900, 0, 0), depth('buy', 10_000, 0, 0), bbo(0, 0, 0, 0)]);
    });

    it('a cancel or replace at the expiry time finds the order already expired', () => {
      for (const cmd of [
        { type: 'cancel', account: 'A', clientOrderId: 'g1', ts: 100 },
        { type: 'replace', account: 'A', clientOrderId: 'g1', quantity: 2, ts: 100 },
      ] as const) {
        const s = given(kind).orders(gtd(100));
        assert.deepEqual(s.when(cmd).orders, [
          s.canceled('g1', { quantity: 5, reason: 'expired' }),
          rejected(Code.UNKNOWN_ORDER, { account: 'A', clientOrderId: 'g1' }),
        ]);
      }
    });

    it('a replaced GTD order keeps its expiry', () => {
      const s = given(kind).orders(gtd(100), {
        type: 'replace',
        account: 'A',
        clientOrderId: 'g1',
        price: 9_900,
        quantity: 7,
      });
      assert.deepEqual(s.when({ type: 'tick', ts: 100 }).orders, [
        s.canceled('g1', { quantity: 7, reason: 'expired' }),
      ]);
    });

    it('GTD orders expire while the instrument is halted', () => {
      const s = given(kind).orders(gtd(100), { type: 'set-status', instrument: ACME, status: 'halted' });
      assert.deepEqual(s.when({ type: 'tick', ts: 100 }).orders, [
        s.canceled('g1', { quantity: 5, reason: 'expired' }),
      ]);
    });

    it('a GTD order canceled before its expiry yields nothing when the expiry passes', () => {
      const s = given(kind).orders(gtd(100), { type: 'cancel', account: 'A', clientOrderId: 'g1' });
      assert.deepEqual(s.when({ type: 'tick', ts: 500 }).all, []);
    });

    it('a waiting GTD stop-limit expires too, with no market data', () => {
      const s = given(kind).orders(
        stopLimit('A', 'st1', 'buy', 4, 10_500, 10_600, { tif: 'GTD', expireAt: 50 }),
      );
      assert.equal(s.engine.order(s.id('st1'))?.state, 'waiting');
      const t = s.when({ type: 'tick', ts: 50 });
      assert.deepEqual(t.all, [s.canceled('st1', { quantity: 4, reason: 'expired' })]);
      assert.equal(s.engine.liveOrders, 0);
    });

    const badExpiry: Array<[string, Record<string, unknown>, number]> = [
      ['expireAt equal to ts', { tif: 'GTD', expireAt: 10 }, Code.INVALID_EXPIRY],
      ['expireAt before ts', { tif: 'GTD', expireAt: 9 }, Code.INVALID_EXPIRY],
      ['GTD without expireAt', { tif: 'GTD' }, Code.INVALID_EXPIRY],
      ['a fractional expireAt', { tif: 'GTD', expireAt: 10.5 }, Code.INVALID_EXPIRY],
      ['expireAt as a string', { tif: 'GTD', expireAt: '100' }, Code.INVALID_EXPIRY],
      ['expireAt with GTC', { tif: 'GTC', expireAt: 100 }, Code.INVALID_COMBINATION],
      ['expireAt with IOC', { tif: 'IOC', expireAt: 100 }, Code.INVALID_COMBINATION],
    ];
    for (const [name, extra, code] of badExpiry) {
      it(`rejects ${name}`, () => {
        const s = given(kind);
        const cmd = buy('A', 'g1', 1, 10_000, { ts: 10, ...(extra as object) });
        assert.deepEqual(s.when(cmd).all, [rejectedOrder(code, cmd)]);
        assert.equal(s.engine.liveOrders, 0);
      });
    }
  });
}
