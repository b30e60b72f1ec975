/**
 * The engine's contract with its callers, as found by the scenario suites: a listener that
 * executes a command does not nest (the command runs after the current one is delivered); a
 * failing error handler cannot escape `execute`; a rejected order does not create its account;
 * a replace that keeps the price is not checked against a band that moved; a triggered event
 * carries the order's size.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, type Command, Engine, eventToObject } from '../../engine/index.ts';
import { BOOKS, engineWith, spec } from '../support/engine.ts';

const ID = 'ACME@evm:31337';
const limit = (
  account: string,
  clientOrderId: string,
  side: 'buy' | 'sell',
  price: number,
  quantity: number,
  ts = 1,
) =>
  ({
    type: 'new',
    ts,
    instrument: ID,
    account,
    clientOrderId,
    side,
    orderType: 'limit',
    price,
    quantity,
  }) as Command;

for (const kind of BOOKS) {
  describe(`engine contract (${kind} book)`, () => {
    it('given a listener that executes a command, then it runs after the current command and every listener sees every event once, in order', () => {
      const engine = new Engine({ book: kind });
      const first: number[] = [];
      const second: number[] = [];
      let reacted = false;
      engine.addListener({
        onEvent: (e) => {
          first.push(e.seq);
          if (e.kind === 'accepted' && !reacted) {
            reacted = true;
            assert.equal(engine.execute(limit('b', 'b1', 'buy', 9_000, 1, 2)), 0); // queued, not run yet
          }
        },
      });
      engine.addListener({ onEvent: (e) => second.push(e.seq) });
      engine.execute({ type: 'list-instrument', ts: 0, spec: spec() });
      engine.execute(limit('a', 'a1', 'sell', 10_000, 1));
      const all = Array.from({ length: engine.eventSeq }, (_, i) => i + 1);
      assert.deepEqual(first, all);
      assert.deepEqual(second, all);
      assert.equal(engine.liveOrders, 2);
    });

    it('given an error handler that throws, then execute still returns and the other listeners get every event', () => {
      const engine = new Engine({
        book: kind,
        onListenerError: () => {
          throw new Error('handler down');
        },
      });
      const seen: string[] = [];
      engine.addListener({
        onEvent: () => {
          throw new Error('listener down');
        },
      });
      engine.addListener({ onEvent: (e) => seen.push(e.kind) });
      assert.doesNotThrow(() => engine.execute({ type: 'list-instrument', ts: 0, spec: spec() }));
      assert.deepEqual(seen, ['instrument']);
      assert.equal(engine.listenerErrors, 1);
    });

    const rejections: Array<[string, Command[], Command]> = [
      [
        'post-only would take',
        [limit('A', 'a1', 'sell', 10_000, 1)],
        { ...limit('NEW', 'n1', 'buy', 10_000, 1), postOnly: true } as Command,
      ],
      ['a bad price', [], limit('NEW', 'n1', 'buy', 0, 1)],
    ];
    for (const [why, setup, cmd] of rejections) {
      it(`given an order from a new account rejected for ${why}, then the account is not created`, () => {
        const { engine } = engineWith(kind);
        for (const c of setup) engine.execute(c);
        const accounts = engine.snapshot().accounts;
        engine.execute(cmd);
        assert.deepEqual(engine.snapshot().accounts, accounts);
      });
    }

    it('given a resting bid the band has moved past, when replaced naming its own price, then the size-down is accepted', () => {
      const { engine, events } = engineWith(kind, [spec({ referencePrice: 10_000, bandBps: 100 })]);
      engine.execute(limit('a', 'a1', 'buy', 9_900, 5));
      engine.execute(limit('s', 's1', 'sell', 10_100, 1));
      engine.execute(limit('b', 'b1', 'buy', 10_100, 1)); // last trade 10,100: band 9,999..10,201
      events.length = 0;
      engine.execute({
        type: 'replace',
        ts: 2,
        account: 'a',
        clientOrderId: 'a1',
        price: 9_900,
        quantity: 3,
      });
      assert.deepEqual(
        events
          .filter((e) => e.kind === 'replaced' || e.kind === 'rejected')
          .map((e) => [e.kind, e.keptPriority ?? e.code]),
        [['replaced', true]],
      );
      events.length = 0;
      engine.execute({ type: 'replace', ts: 2, account: 'a', clientOrderId: 'a1', price: 9_901 });
      assert.equal(events[0]?.code, Code.PRICE_OUTSIDE_BAND);
    });

    it('given a stop that triggers, then the triggered event carries its time in force and size', () => {
      const engine = new Engine({ book: kind });
      let triggered: Record<string, unknown> | undefined;
      engine.addListener({
        onOrder: (e) => (e.kind === 'triggered' ? (triggered = eventToObject(e)) : undefined),
      });
      engine.execute({ type: 'list-instrument', ts: 0, spec: spec() });
      engine.execute({
        type: 'new',
        ts: 1,
        instrument: ID,
        account: 'c',
        clientOrderId: 'st',
        side: 'buy',
        orderType: 'stop',
        stopPrice: 10_000,
        quantity: 4,
      });
      engine.execute(limit('a', 'a1', 'sell', 10_000, 1));
      engine.execute(limit('b', 'b1', 'buy', 10_000, 1));
      assert.deepEqual(
        {
          tif: triggered?.tif,
          quantity: triggered?.quantity,
          leaves: triggered?.leaves,
          filled: triggered?.filled,
        },
        { tif: 'IOC', quantity: 4, leaves: 4, filled: 0 },
      );
    });
  });
}
