/**
 * The held commands of the durable engine (journal/held.ts): rings that grow while commands
 * wait for the journal, hand each command's events back as objects in order, and keep nothing
 * of a released command. Compared with plain arrays of `eventToObject` copies, the way the
 * durable engine held them before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EngineEvent, eventToObject, type PublishedEvent } from '../../engine/index.ts';
import { HeldCommands } from '../../journal/held.ts';

/** An event whose fields all differ from a fresh record's, numbered `n`. */
function event(n: number): EngineEvent {
  const e = new EngineEvent();
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

describe('held commands', () => {
  it('copy every field of an event', () => {
    const from = new EngineEvent();
    const to = new EngineEvent();
    // Every field set to a value a fresh record does not have, of the field's own type
    for (const [key, value] of Object.entries(from)) {
      const v = typeof value === 'number' ? 42 : typeof value === 'boolean' ? !value : `x-${key}`;
      (from as unknown as Record<string, unknown>)[key] = v;
    }
    to.copyFrom(from);
    assert.deepEqual({ ...to }, { ...from });
  });

  it('give back each command with its events, in order, across growth and wrap-around, as copies', () => {
    fc.assert(
      fc.property(
        // Rounds of: commands held (each with some events), then how many of the oldest are released
        fc.array(fc.tuple(fc.array(fc.nat({ max: 40 }), { maxLength: 60 }), fc.nat({ max: 70 })), {
          maxLength: 30,
        }),
        (rounds) => {
          const held = new HeldCommands();
          const expected: Array<{ seq: number; events: PublishedEvent[] }> = [];
          const got: Array<{ seq: number; events: PublishedEvent[] }> = [];
          let seq = 0;
          let n = 0;
          let released = 0;
          const scratch = new EngineEvent();
          for (const [commands, release] of rounds) {
            for (const count of commands) {
              held.begin(++seq);
              const events: PublishedEvent[] = [];
              for (let k = 0; k < count; k++) {
                // The engine reuses its records: the held copy must not change with them
                scratch.copyFrom(event(++n));
                held.add(scratch);
                events.push(eventToObject(scratch));
                scratch.copyFrom(new EngineEvent());
              }
              expected.push({ seq, events });
            }
            released = Math.min(seq, released + release);
            held.release(released, (s, events) => got.push({ seq: s, events }));
            assert.equal(held.size, seq - released);
          }
          held.release(Infinity, (s, events) => got.push({ seq: s, events }));
          assert.deepEqual(got, expected);
          assert.equal(held.size, 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('forget everything held on clear', () => {
    const held = new HeldCommands();
    held.begin(1);
    held.add(event(1));
    held.clear();
    const got: number[] = [];
    held.release(Infinity, (s) => got.push(s));
    assert.deepEqual(got, []);
    held.begin(2);
    held.add(event(2));
    const after: number[] = [];
    held.release(2, (s, events) => after.push(s, events.length));
    assert.deepEqual(after, [2, 1]);
  });
});
