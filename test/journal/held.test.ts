/**
 * The held commands of the durable engine (journal/held.ts): rings that grow while commands
 * wait for the journal, hand each command's events back as views in order, and keep nothing
 * of a released command. Compared with plain arrays of `eventToObject` copies, the way the
 * durable engine held them before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EngineEvent, eventToObject, keepEvent, type PublishedEvent } from '../../engine/index.ts';
import { HeldCommands } from '../../journal/held.ts';

/** Writes into record `e` an event whose fields all differ from a fresh record's, numbered `n`. */
function write(e: EngineEvent, n: number): EngineEvent {
  const kinds = ['accepted', 'trade', 'canceled', 'depth', 'balance'] as const;
  e.kind = kinds[n % kinds.length]!;
  e.seq = n;
  e.commandSeq = n * 7;
  e.ts = 1_000 + n;
  e.instrument = `I${n}`;
  e.orderId = n + 1;
  e.account = `acct-${n}`;
  e.clientOrderId = `c${n}`;
  e.price = n * 3;
  e.quantity = n * 5;
  e.leaves = n;
  e.tradeId = n * 11;
  e.makerAccount = `maker-${n}`;
  e.asset = `A${n}`;
  e.available = n * 13;
  return e;
}

/** That event in a record of its own. */
const event = (n: number) => write(new EngineEvent(), n);

describe('held commands', () => {
  it('give back each command with its events, in order, across growth and wrap-around, as they were written', () => {
    fc.assert(
      fc.property(
        // Rounds of: commands held (each with some events), then how many of the oldest are released
        fc.array(
          fc.tuple(fc.array(fc.nat({ max: 40 }), { maxLength: 60, size: 'max' }), fc.nat({ max: 70 })),
          {
            maxLength: 30,
            // Lengths up to the maximum (fast-check's default stops near ten), so that the rings grow and wrap
            size: 'max',
          },
        ),
        (rounds) => {
          const held = new HeldCommands();
          const expected: Array<{ seq: number; events: PublishedEvent[] }> = [];
          const got: Array<{ seq: number; events: PublishedEvent[] }> = [];
          let seq = 0;
          let n = 0;
          let released = 0;
          for (const [commands, release] of rounds) {
            for (const count of commands) {
              held.begin(++seq);
              const events: PublishedEvent[] = [];
              for (let k = 0; k < count; k++) {
                // The engine writes into the held record, as it does in a durable engine
                write(held.next(), ++n);
                events.push(eventToObject(event(n)));
              }
              expected.push({ seq, events });
            }
            released = Math.min(seq, released + release);
            held.release(released, (s, events) => got.push({ seq: s, events: events.map(keepEvent) }));
            assert.equal(held.size, seq - released);
          }
          held.release(Infinity, (s, events) => got.push({ seq: s, events: events.map(keepEvent) }));
          assert.deepEqual(got, expected);
          assert.equal(held.size, 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keep the events handed over intact while the handler holds more commands, the rings growing', () => {
    const held = new HeldCommands();
    const events = (first: number, n: number) => Array.from({ length: n }, (_, k) => event(first + k));
    held.begin(1);
    for (let k = 1; k <= 3; k++) write(held.next(), k);
    held.begin(2);
    for (let k = 4; k <= 5; k++) write(held.next(), k);
    const seen: Array<{ seq: number; events: PublishedEvent[] }> = [];
    let next = 2;
    let n = 5;
    held.release(2, (seq, view) => {
      // A subscriber that submits commands at once: 3,000 events, well past the ring's 1,024
      for (let c = 0; c < 30; c++) {
        held.begin(++next);
        for (let k = 0; k < 100; k++) write(held.next(), ++n);
      }
      seen.push({ seq, events: view.map(keepEvent) });
    });
    assert.deepEqual(seen, [
      { seq: 1, events: events(1, 3).map(eventToObject) },
      { seq: 2, events: events(4, 2).map(eventToObject) },
    ]);
    const after: Array<{ seq: number; events: PublishedEvent[] }> = [];
    held.release(Infinity, (seq, view) => after.push({ seq, events: view.map(keepEvent) }));
    assert.equal(after.length, 60);
    assert.deepEqual(after[0], { seq: 3, events: events(6, 100).map(eventToObject) });
    assert.deepEqual(after.at(-1)!.events.at(-1), eventToObject(event(n)));
  });

  it('forget everything held on clear', () => {
    const held = new HeldCommands();
    held.begin(1);
    write(held.next(), 1);
    held.clear();
    const got: number[] = [];
    held.release(Infinity, (s) => got.push(s));
    assert.deepEqual(got, []);
    held.begin(2);
    write(held.next(), 2);
    const after: number[] = [];
    held.release(2, (s, events) => after.push(s, events.length));
    assert.deepEqual(after, [2, 1]);
  });
});
