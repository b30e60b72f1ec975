/**
 * Event records from outside the engine (`Engine.recordEventsIn`): the engine writes each event
 * into the record its source hands out, the listeners get those very records with the events an
 * engine on its own pool makes, and it goes back to its own pool when told.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Command, Engine, EngineEvent, eventToObject, type PublishedEvent } from '../../engine/index.ts';
import { spec } from '../support/engine.ts';

const order = { type: 'new', instrument: spec().id, orderType: 'limit', price: 10_000, quantity: 2 } as const;
const COMMANDS: Command[] = [
  { type: 'list-instrument', spec: spec(), ts: 1 },
  { ...order, account: 'ann', clientOrderId: 'a', side: 'sell', ts: 2 },
  { ...order, account: 'bob', clientOrderId: 'b', side: 'buy', ts: 3 },
  { type: 'cancel-all', account: 'ann', ts: 4 },
];

/** The events of COMMANDS as objects, and the records the listener was handed. */
function run(engine: Engine): { events: PublishedEvent[]; records: EngineEvent[] } {
  const events: PublishedEvent[] = [];
  const records: EngineEvent[] = [];
  engine.addListener({
    onEvent: (e) => {
      records.push(e);
      events.push(eventToObject(e));
    },
  });
  for (const c of COMMANDS) engine.execute(c);
  return { events, records };
}

describe('event records from a source', () => {
  it('given a source of records, then the engine writes its events into them and hands those to its listeners', () => {
    const handed: EngineEvent[] = [];
    const engine = new Engine();
    engine.recordEventsIn({
      next: () => {
        const e = new EngineEvent();
        handed.push(e);
        return e;
      },
    });
    const { events, records } = run(engine);
    assert.deepEqual(events, run(new Engine()).events);
    assert.equal(records.length, handed.length);
    records.forEach((r, i) => assert.equal(r, handed[i], `event ${i + 1} is the source's record`));
    // Each record still holds its own event: nothing was reused
    assert.deepEqual(records.map(eventToObject), events);
  });

  it('given the source taken away, then the engine goes back to its own records', () => {
    let handed = 0;
    const engine = new Engine();
    engine.recordEventsIn({
      next: () => {
        handed++;
        return new EngineEvent();
      },
    });
    engine.execute(COMMANDS[0]!);
    const before = handed;
    engine.recordEventsIn(null);
    engine.execute(COMMANDS[1]!);
    assert.equal(handed, before);
    assert.ok(before > 0);
  });
});
