/**
 * Instrument administration through commands (so through the journal): fees, band and
 * reference price change with `update-instrument`, checked as a whole new spec; halts and
 * resumes are covered with validation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../engine/index.ts';
import { BOOKS, engineWith, spec } from '../support/engine.ts';

const ID = 'ACME@evm:31337';

for (const kind of BOOKS) {
  describe(`update-instrument (${kind} book)`, () => {
    it('given new fees, when two accounts trade, then the trade carries the new fees', () => {
      const { engine, events } = engineWith(kind, [spec({ makerFeeBps: -1, takerFeeBps: 5 })]);
      engine.execute({ type: 'update-instrument', ts: 1, instrument: ID, makerFeeBps: 2, takerFeeBps: 9 });
      assert.deepEqual(
        events.map((e) => [e.kind, e.instrument]),
        [['instrument', ID]],
      );
      assert.equal(engine.instrument(ID)?.spec.takerFeeBps, 9);
      const order = {
        type: 'new',
        ts: 2,
        instrument: ID,
        orderType: 'limit',
        price: 10_000,
        quantity: 10,
      } as const;
      engine.execute({ ...order, account: 'a', clientOrderId: 'a1', side: 'sell' });
      events.length = 0;
      engine.execute({ ...order, account: 'b', clientOrderId: 'b1', side: 'buy' });
      const trade = events.find((e) => e.kind === 'trade')!;
      assert.deepEqual([trade.makerFee, trade.takerFee], [20, 90]); // 100,000 notional units
    });

    it('given a new band, then prices outside it are rejected and the state hash changed', () => {
      const { engine, events } = engineWith(kind, [spec({ referencePrice: 10_000 })]);
      const before = engine.stateHash();
      engine.execute({ type: 'update-instrument', ts: 1, instrument: ID, bandBps: 100 });
      assert.notEqual(engine.stateHash(), before);
      events.length = 0;
      const o = {
        type: 'new',
        ts: 2,
        instrument: ID,
        account: 'a',
        side: 'buy',
        orderType: 'limit',
        quantity: 1,
      } as const;
      engine.execute({ ...o, clientOrderId: 'x', price: 10_101 });
      engine.execute({ ...o, clientOrderId: 'y', price: 10_100 });
      assert.deepEqual(
        events.filter((e) => e.kind === 'rejected' || e.kind === 'accepted').map((e) => [e.kind, e.code]),
        [
          ['rejected', Code.PRICE_OUTSIDE_BAND],
          ['accepted', undefined],
        ],
      );
    });

    const bad: Array<[string, Record<string, unknown>, number]> = [
      ['an unknown instrument', { instrument: 'NOPE@evm:1', bandBps: 1 }, Code.UNKNOWN_INSTRUMENT],
      ['nothing to change', { instrument: ID }, Code.INVALID_COMMAND],
      ['a rebate larger than the taker fee', { instrument: ID, makerFeeBps: -9 }, Code.INVALID_INSTRUMENT],
      ['a band over 100%', { instrument: ID, bandBps: 10_001 }, Code.INVALID_INSTRUMENT],
      ['a fractional reference price', { instrument: ID, referencePrice: 1.5 }, Code.INVALID_INSTRUMENT],
    ];
    for (const [what, fields, code] of bad) {
      it(`given ${what}, then it is rejected with code ${code} and nothing changes`, () => {
        const { engine, events } = engineWith(kind);
        const before = engine.instrument(ID)?.spec;
        engine.execute({ type: 'update-instrument', ts: 1, ...fields } as never);
        assert.equal(events[0]?.kind, 'rejected');
        assert.equal(events[0]?.code, code);
        assert.deepEqual(engine.instrument(ID)?.spec, before);
      });
    }
  });
}
