/**
 * Client order ids are used once per account: the engine remembers the ids of its last accepted
 * orders after the orders end, in its state (snapshots keep them, the state hash covers them),
 * and forgets the oldest beyond its memory. The hand-made remembered-id table is checked against
 * a plain `Set` with a FIFO of strings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Code, Engine, eventToObject } from '../../engine/index.ts';
import { UsedClientIds } from '../../engine/used-client-ids.ts';
import { BOOKS, type Ev, spec } from '../support/engine.ts';

const ACME = 'ACME@evm:31337';

function engineOf(options: ConstructorParameters<typeof Engine>[0]): { engine: Engine; events: Ev[] } {
  const engine = new Engine(options);
  const events: Ev[] = [];
  engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
  engine.execute({ type: 'list-instrument', ts: 0, spec: spec({ bandBps: 0 }) });
  return { engine, events };
}

function newOrder(engine: Engine, account: string, clientOrderId: string, quantity = 1): void {
  engine.execute({
    type: 'new',
    ts: 1,
    instrument: ACME,
    account,
    clientOrderId,
    side: 'buy',
    orderType: 'limit',
    price: 100,
    quantity,
  });
}

/** Rests a buy and cancels it: the order is gone, its id stays used. */
function restAndCancel(engine: Engine, account: string, clientOrderId: string): void {
  newOrder(engine, account, clientOrderId);
  engine.execute({ type: 'cancel', ts: 1, account, clientOrderId });
}

for (const book of BOOKS) {
  describe(`client order ids used once (${book} book)`, () => {
    it('refuses the id of an order that ended, for its account only', () => {
      const { engine, events } = engineOf({ book });
      restAndCancel(engine, 'a', 'x');
      events.length = 0;
      newOrder(engine, 'a', 'x');
      assert.deepEqual(
        events.map((e) => [e.kind, e.code]),
        [['rejected', Code.DUPLICATE_CLIENT_ORDER_ID]],
      );
      assert.equal(engine.clientOrderIdUsed('a', 'x'), true);
      assert.equal(engine.clientOrderIdUsed('b', 'x'), false);
      newOrder(engine, 'b', 'x');
      assert.equal(engine.openOrders('b').length, 1);
    });

    it('does not use the id of an order it refused', () => {
      const { engine } = engineOf({ book });
      newOrder(engine, 'a', 'first');
      newOrder(engine, 'a', 'refused', 0); // quantity below the minimum
      assert.equal(engine.clientOrderIdUsed('a', 'refused'), false);
      newOrder(engine, 'a', 'refused');
      assert.equal(engine.orderOf('a', 'refused')?.leaves, 1);
    });

    it('forgets the oldest id beyond its memory, never the id of a live order', () => {
      const { engine } = engineOf({ book, clientIdMemory: 3 });
      newOrder(engine, 'a', 'live');
      for (const id of ['x1', 'x2', 'x3']) restAndCancel(engine, 'a', id);
      assert.equal(engine.clientOrderIdUsed('a', 'live'), true, 'the live order holds it');
      assert.equal(engine.clientOrderIdUsed('a', 'x1'), true);
      restAndCancel(engine, 'a', 'x4');
      assert.equal(engine.clientOrderIdUsed('a', 'x1'), false, 'x1 is the oldest of the last 3');
      assert.equal(engine.clientOrderIdUsed('a', 'x2'), true);
      assert.equal(engine.clientOrderIdUsed('a', 'live'), true);
    });

    it('keeps the ids in a snapshot, which the state hash covers', () => {
      const { engine } = engineOf({ book });
      const before = engine.stateHash();
      restAndCancel(engine, 'a', 'x');
      const copy = Engine.fromSnapshot(JSON.parse(JSON.stringify(engine.snapshot())), { book });
      assert.equal(copy.stateHash(), engine.stateHash());
      assert.equal(copy.clientOrderIdUsed('a', 'x'), true);
      // The hash differs from the same state without the remembered id
      const { engine: other } = engineOf({ book });
      newOrder(other, 'a', 'x');
      other.execute({ type: 'cancel', ts: 1, account: 'a', clientOrderId: 'x' });
      const forgotten = other.snapshot();
      delete forgotten.usedClientIds;
      assert.notEqual(Engine.fromSnapshot(forgotten, { book }).stateHash(), engine.stateHash());
      assert.notEqual(before, engine.stateHash());
    });
  });
}

describe('the remembered-id table', () => {
  it('answers as a FIFO of the last `capacity` ids does, through growth and eviction', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.string({ maxLength: 3 })), {
          maxLength: 400,
          size: 'max',
        }),
        (capacity, ops) => {
          const table = new UsedClientIds(capacity);
          const fifo: string[] = [];
          for (const [account, id] of ops) {
            const key = `${account}/${id}`;
            assert.equal(table.has(account, id), fifo.includes(key));
            if (fifo.includes(key)) continue;
            table.add(account, id);
            fifo.push(key);
            if (fifo.length > capacity) fifo.shift();
            assert.equal(table.size, fifo.length);
          }
          for (const key of fifo) {
            const [account, id] = [Number(key.slice(0, key.indexOf('/'))), key.slice(key.indexOf('/') + 1)];
            assert.equal(table.has(account, id), true);
          }
          const copy = new UsedClientIds(capacity);
          copy.import(table.export());
          assert.deepEqual(copy.export(), table.export());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a memory that is not a whole number from 1 to 2^28, and malformed fingerprints', () => {
    for (const bad of [0, -1, 1.5, 2 ** 28 + 1]) {
      assert.throws(() => new UsedClientIds(bad), /from 1 to 2\^28 ids/);
    }
    assert.throws(() => new UsedClientIds(4).import(new Uint8Array(7)), /8 bytes each/);
    assert.throws(() => new UsedClientIds(4).import(new Uint8Array(16)), /appears twice/);
  });
});
