/** Engines that share one feed number orders and trades from disjoint ranges (`idBase`). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../engine/index.ts';
import { spec } from '../support/engine.ts';

describe('idBase', () => {
  it('numbers orders and trades after the base, and a snapshot keeps the numbering', () => {
    const e = new Engine({ idBase: 2 ** 40 });
    const trades: number[] = [];
    e.addListener({ onTrade: (t) => trades.push(t.tradeId) });
    e.execute({ type: 'list-instrument', ts: 1, spec: spec() });
    const order = {
      type: 'new',
      ts: 2,
      instrument: 'ACME@evm:31337',
      orderType: 'limit',
      price: 100,
      quantity: 1,
    } as const;
    e.execute({ ...order, account: 'a', clientOrderId: 'a1', side: 'sell' });
    e.execute({ ...order, account: 'b', clientOrderId: 'b1', side: 'buy' });
    assert.deepEqual(trades, [2 ** 40 + 1]);
    const copy = Engine.fromSnapshot(e.snapshot());
    copy.execute({ ...order, account: 'c', clientOrderId: 'c1', side: 'sell' });
    assert.equal(copy.openOrders('c')[0]!.orderId, 2 ** 40 + 3);
  });

  it('refuses a base that is not a whole number from 0 to 2^52', () => {
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN]) {
      assert.throws(() => new Engine({ idBase: bad }), /idBase must be a whole number from 0 to 2\^52/);
    }
  });
});
