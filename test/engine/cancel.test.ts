/**
 * Cancel and cancel-all: an account cancels its own live orders (resting or waiting stops) by
 * order id or client order id, one instrument's or all; another account's order is refused
 * without revealing where it is; a client order id stays used once its order is done. Every
 * case on both books.
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
  malformed,
  rejected,
  sell,
  stop,
  withoutChange,
} from '../support/scenario.ts';

const BETA = 'BETA@evm:31337';

for (const kind of BOOKS) {
  describe(`cancel (${kind} book)`, () => {
    const book = () =>
      given(kind).orders(buy('A', 'a1', 5, 10_000), buy('B', 'b1', 3, 10_000), sell('A', 'a2', 2, 10_100));

    it('by order id: the order leaves the book with reason user', () => {
      const s = book();
      const t = s.when({ type: 'cancel', account: 'A', orderId: s.id('a1') });
      assert.deepEqual(t.all, [
        s.canceled('a1', { quantity: 5, reason: 'user' }),
        depth('buy', 10_000, 3, 1),
        bbo(10_000, 3, 10_100, 2),
      ]);
      assert.equal(s.engine.order(s.id('a1')), undefined);
      assert.deepEqual(s.queue('buy'), ['b1:3@10000']);
    });

    it('by client order id, of a partly filled order: the rest goes, the fills stay reported', () => {
      const s = book().orders(buy('C', 'c1', 1, 10_100));
      const t = s.when({ type: 'cancel', account: 'A', clientOrderId: 'a2' });
      assert.deepEqual(t.all, [
        s.canceled('a2', { quantity: 1, filled: 1, reason: 'user' }),
        depth('sell', 10_100, 0, 0),
        bbo(10_000, 8, 0, 0),
      ]);
    });

    it('works while the instrument is halted', () => {
      const s = book().orders({ type: 'set-status', instrument: ACME, status: 'halted' });
      const t = s.when({ type: 'cancel', account: 'A', orderId: s.id('a1') });
      assert.deepEqual(t.orders, [s.canceled('a1', { quantity: 5, reason: 'user' })]);
    });

    const ids = (() => {
      const s = book();
      return { a1: s.id('a1'), b1: s.id('b1') };
    })();
    const refused: Array<[string, Cmd, ReturnType<typeof rejected>]> = [
      [
        'an unknown order id',
        { type: 'cancel', account: 'A', orderId: 99 },
        rejected(Code.UNKNOWN_ORDER, { orderId: 99, account: 'A' }),
      ],
      [
        'an unknown client order id',
        { type: 'cancel', account: 'A', clientOrderId: 'zz' },
        rejected(Code.UNKNOWN_ORDER, { clientOrderId: 'zz', account: 'A' }),
      ],
      [
        "another account's client order id (looked up among the caller's own)",
        { type: 'cancel', account: 'A', clientOrderId: 'b1' },
        rejected(Code.UNKNOWN_ORDER, { clientOrderId: 'b1', account: 'A' }),
      ],
      [
        "another account's order id, without naming its instrument",
        { type: 'cancel', account: 'A', orderId: ids.b1 },
        rejected(Code.NOT_ORDER_OWNER, { orderId: ids.b1, account: 'A' }),
      ],
      [
        'both orderId and clientOrderId',
        { type: 'cancel', account: 'A', orderId: ids.a1, clientOrderId: 'a1' },
        rejected(Code.INVALID_COMMAND, { orderId: ids.a1, clientOrderId: 'a1', account: 'A' }),
      ],
      ['neither', { type: 'cancel', account: 'A' }, rejected(Code.INVALID_COMMAND, { account: 'A' })],
      [
        'a fractional order id',
        { type: 'cancel', account: 'A', orderId: 1.5 },
        rejected(Code.INVALID_COMMAND, { orderId: 1.5, account: 'A' }),
      ],
      [
        'an empty client order id',
        { type: 'cancel', account: 'A', clientOrderId: '' },
        rejected(Code.INVALID_CLIENT_ORDER_ID, { account: 'A' }),
      ],
      ['no account', malformed({ type: 'cancel', orderId: ids.a1 }), rejected(Code.INVALID_ACCOUNT)],
    ];
    for (const [name, cmd, expected] of refused) {
      it(`refuses ${name} (${expected.code}) and changes nothing`, () => {
        assert.deepEqual(withoutChange(book, cmd).all, [expected]);
      });
    }

    it('NOT_ORDER_OWNER tells nothing of the order: no instrument, in the fields or the words', () => {
      for (const cmd of [
        { type: 'cancel', account: 'A', orderId: ids.b1 },
        { type: 'replace', account: 'A', orderId: ids.b1, quantity: 1 },
      ] as Cmd[]) {
        const [e] = book().when(cmd).raw;
        assert.equal(e?.code, Code.NOT_ORDER_OWNER);
        assert.equal(e?.instrument, '');
        assert.ok(!String(e?.reason).includes('ACME'), String(e?.reason));
        assert.ok(!String(e?.reason).includes('10000'), String(e?.reason));
      }
    });

    it('an order already canceled is UNKNOWN_ORDER the second time', () => {
      const s = book().orders({ type: 'cancel', account: 'A', orderId: 1 });
      const t = s.when({ type: 'cancel', account: 'A', orderId: 1 });
      assert.deepEqual(t.all, [rejected(Code.UNKNOWN_ORDER, { orderId: 1, account: 'A' })]);
    });
  });

  describe(`cancel-all (${kind} book)`, () => {
    /** A: a1 bid and a2 ask and a3 stop on ACME, a4 on BETA; B: b1 on ACME. */
    const two = () =>
      given(kind, spec(), spec({ id: BETA })).orders(
        buy('A', 'a1', 5, 10_000),
        buy('A', 'a4', 7, 500, { instrument: BETA }),
        buy('B', 'b1', 1, 9_900),
        sell('A', 'a2', 2, 10_500),
        stop('A', 'a3', 'buy', 4, 11_000),
      );

    it("for one instrument cancels the account's orders there, stops included, in id order", () => {
      const s = two();
      const t = s.when({ type: 'cancel-all', account: 'A', instrument: ACME });
      assert.deepEqual(t.all, [
        s.canceled('a1', { quantity: 5, reason: 'cancel-all' }),
        s.canceled('a2', { quantity: 2, reason: 'cancel-all' }),
        s.canceled('a3', { quantity: 4, reason: 'cancel-all' }),
        depth('buy', 10_000, 0, 0),
        depth('sell', 10_500, 0, 0),
        bbo(9_900, 1, 0, 0),
      ]);
      assert.deepEqual(
        s.engine.openOrders('A').map((o) => o.clientOrderId),
        ['a4'],
      );
      assert.equal(s.engine.liveOrders, 2);
    });

    it('for all instruments cancels every live order of the account', () => {
      const s = two();
      const t = s.when({ type: 'cancel-all', account: 'A' });
      assert.deepEqual(t.all, [
        s.canceled('a1', { quantity: 5, reason: 'cancel-all' }),
        s.canceled('a4', { quantity: 7, reason: 'cancel-all' }),
        s.canceled('a2', { quantity: 2, reason: 'cancel-all' }),
        s.canceled('a3', { quantity: 4, reason: 'cancel-all' }),
        depth('buy', 10_000, 0, 0),
        depth('sell', 10_500, 0, 0),
        bbo(9_900, 1, 0, 0),
        depth('buy', 500, 0, 0, BETA),
        bbo(0, 0, 0, 0, BETA),
      ]);
      assert.deepEqual(s.engine.openOrders('A'), []);
      assert.deepEqual(
        s.engine.openOrders('B').map((o) => o.clientOrderId),
        ['b1'],
      );
    });

    it('with nothing to cancel yields no events', () => {
      const s = two();
      assert.deepEqual(s.when({ type: 'cancel-all', account: 'B', instrument: BETA }).all, []);
      assert.deepEqual(s.when({ type: 'cancel-all', account: 'nobody' }).all, []);
      assert.equal(s.engine.liveOrders, 5);
    });

    const refused: Array<[string, Cmd, ReturnType<typeof rejected>]> = [
      [
        'an unknown instrument',
        { type: 'cancel-all', account: 'A', instrument: 'NOPE@evm:1' },
        rejected(Code.UNKNOWN_INSTRUMENT),
      ],
      ['an empty account', { type: 'cancel-all', account: '' }, rejected(Code.INVALID_ACCOUNT)],
      [
        'an account too long',
        { type: 'cancel-all', account: 'x'.repeat(65) },
        rejected(Code.INVALID_ACCOUNT),
      ],
    ];
    for (const [name, cmd, expected] of refused) {
      it(`refuses ${name} (${expected.code}) and changes nothing`, () => {
        assert.deepEqual(withoutChange(two, cmd).all, [expected]);
      });
    }
  });

  describe(`client order ids (${kind} book)`, () => {
    it('a live order holds its client order id: DUPLICATE_CLIENT_ORDER_ID, resting or waiting', () => {
      const setup = () => given(kind).orders(buy('A', 'x', 5, 10_000), stop('A', 'st', 'sell', 1, 9_000));
      for (const cmd of [sell('A', 'x', 1, 10_500), buy('A', 'st', 1, 9_000)]) {
        const t = withoutChange(setup, cmd);
        assert.deepEqual(t.all, [
          rejected(Code.DUPLICATE_CLIENT_ORDER_ID, {
            instrument: ACME,
            account: 'A',
            clientOrderId: cmd.clientOrderId,
            newOrder: true,
          }),
        ]);
      }
    });

    it('another account may use the same client order id', () => {
      const s = given(kind).orders(buy('A', 'x', 5, 10_000));
      assert.deepEqual(
        s.when(buy('B', 'x', 1, 9_000)).orders.map((e) => e.kind),
        ['accepted'],
      );
    });

    it('stays used once the order is canceled, filled or expired', () => {
      const setup = () =>
        given(kind).orders(
          buy('A', 'x', 5, 10_000),
          { type: 'cancel', account: 'A', clientOrderId: 'x' },
          buy('A', 'y', 2, 10_000),
          sell('B', 's1', 2, 10_000),
          buy('A', 'z', 1, 9_000, { tif: 'GTD', expireAt: 100 }),
          { type: 'tick', ts: 100 },
        );
      assert.equal(setup().engine.liveOrders, 0);
      for (const id of ['x', 'y', 'z']) {
        const t = withoutChange(setup, buy('A', id, 3, 9_500));
        assert.deepEqual(
          t.orders.map((e) => [e.kind, e.code]),
          [['rejected', Code.DUPLICATE_CLIENT_ORDER_ID]],
          id,
        );
      }
    });

    it('stay findable by id and client order id beyond the preallocated capacity (1024)', () => {
      const s = given(kind);
      const accounts = ['A', 'B', 'C'];
      const orders: Cmd[] = [];
      for (let i = 0; i < 3_000; i++) {
        const account = accounts[i % 3] ?? 'A';
        orders.push(
          i % 2 === 0
            ? buy(account, `c${i}`, 1, 5_000 + (i % 997))
            : sell(account, `c${i}`, 1, 20_000 + (i % 991)),
        );
      }
      s.orders(...orders);
      assert.equal(s.engine.liveOrders, 3_000);
      // Cancel every third by client order id and every third by order id, in a scattered order.
      for (let k = 0; k < 3_000; k++) {
        const i = (k * 7) % 3_000;
        const account = accounts[i % 3] ?? 'A';
        if (i % 3 === 0) s.orders({ type: 'cancel', account, clientOrderId: `c${i}` });
        if (i % 3 === 1) s.orders({ type: 'cancel', account, orderId: s.id(`c${i}`) });
      }
      assert.equal(s.engine.liveOrders, 1_000);
      for (let i = 0; i < 3_000; i++) {
        const account = accounts[i % 3] ?? 'A';
        const live = i % 3 === 2;
        assert.equal(s.engine.order(s.id(`c${i}`))?.clientOrderId, live ? `c${i}` : undefined, `c${i}`);
        assert.equal(s.engine.orderOf(account, `c${i}`)?.orderId, live ? s.id(`c${i}`) : undefined, `c${i}`);
        const [e] = s.when(buy(account, `c${i}`, 1, 5_000)).orders;
        assert.deepEqual([e?.kind, e?.code], ['rejected', Code.DUPLICATE_CLIENT_ORDER_ID], `reuse of c${i}`);
      }
      assert.equal(s.engine.liveOrders, 1_000);
    });

    it('an IOC remainder ends its order, and its id stays used', () => {
      const s = given(kind).orders(buy('A', 'x', 5, 10_000, { tif: 'IOC' }));
      assert.equal(s.engine.liveOrders, 0);
      assert.deepEqual(
        s.when(buy('A', 'x', 5, 10_000)).orders.map((e) => [e.kind, e.code]),
        [['rejected', Code.DUPLICATE_CLIENT_ORDER_ID]],
      );
    });
  });
}
