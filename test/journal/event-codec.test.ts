/**
 * Events as bytes (journal/event-codec.ts): every kind, with any field values, reads back as
 * the plain object `eventToObject` makes, field for field and in order, whether written from a
 * pooled record's view or from a plain object; and bytes that do not hold whole events are
 * refused, naming why.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  EngineEvent,
  type EventKind,
  eventToObject,
  eventView,
  type PublishedEvent,
} from '../../engine/index.ts';
import { CodecError, EventBatchWriter, readEventBatch } from '../../journal/index.ts';

const KINDS: EventKind[] = [
  'accepted',
  'rejected',
  'trade',
  'canceled',
  'replaced',
  'triggered',
  'depth',
  'bbo',
  'instrument',
  'balance',
  'settlement',
  'account',
  'withdrawal',
];

/** A record of a random kind with every field random (numbers of any size and sign, any text). */
const record = fc
  .tuple(
    fc.constantFrom(...KINDS),
    fc.array(fc.oneof(fc.double({ noNaN: true }), fc.integer(), fc.maxSafeNat()), {
      minLength: 40,
      maxLength: 40,
    }),
    fc.array(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('buy', 'sell')), {
      minLength: 20,
      maxLength: 20,
    }),
    fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  )
  .map(([kind, numbers, strings, booleans]) => {
    const e = new EngineEvent();
    const fields = e as unknown as Record<string, unknown>;
    let n = 0;
    let s = 0;
    let b = 0;
    for (const [key, value] of Object.entries(e)) {
      if (typeof value === 'number') fields[key] = numbers[n++ % numbers.length];
      else if (typeof value === 'boolean') fields[key] = booleans[b++ % booleans.length];
      else fields[key] = strings[s++ % strings.length];
    }
    e.kind = kind;
    return e;
  });

function roundTrip(commands: Array<[number, readonly PublishedEvent[]]>): Array<[number, PublishedEvent[]]> {
  const w = new EventBatchWriter();
  for (const [seq, events] of commands) w.command(seq, events);
  const out: Array<[number, PublishedEvent[]]> = [];
  readEventBatch(w.take(), (seq, events) => out.push([seq, events]));
  assert.equal(w.size, 0, 'a writer starts again after take');
  return out;
}

describe('event codec', () => {
  it('given commands with events of every kind and any values, then they read back as eventToObject makes them, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.maxSafeNat(), fc.array(record, { maxLength: 12 })), { maxLength: 20 }),
        (commands) => {
          const expected = commands.map(([seq, records]) => [seq, records.map(eventToObject)] as const);
          const fromViews = roundTrip(commands.map(([seq, records]) => [seq, records.map(eventView)]));
          assert.deepEqual(fromViews, expected);
          // The same order of fields: the JSON is the same text
          assert.equal(JSON.stringify(fromViews), JSON.stringify(expected));
          // Written from plain objects, the same
          assert.deepEqual(roundTrip(expected.map(([seq, events]) => [seq, events])), expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('given kinds to read, then it hands exactly the events of those kinds and passes over the others', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.maxSafeNat(), fc.array(record, { maxLength: 12 })), { maxLength: 20 }),
        fc.subarray(KINDS),
        (commands, kinds) => {
          const w = new EventBatchWriter();
          for (const [seq, records] of commands) w.command(seq, records.map(eventView));
          const out: Array<[number, PublishedEvent[]]> = [];
          readEventBatch(w.take(), (seq, events) => out.push([seq, events]), kinds);
          const expected = commands.map(
            ([seq, records]) =>
              [seq, records.map(eventToObject).filter((e) => kinds.includes(e.kind))] as const,
          );
          assert.deepEqual(out, expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('given a batch larger than the writer started with, then it grows and loses nothing', () => {
    const e = new EngineEvent();
    e.kind = 'trade';
    e.makerAccount = 'm'.repeat(5_000);
    const commands = Array.from({ length: 100 }, (_, i) => {
      e.tradeId = i;
      return [i + 1, [eventToObject(e)]] as [number, PublishedEvent[]];
    });
    assert.deepEqual(roundTrip(commands), commands);
  });

  it('given bytes cut short, an unknown kind or an oversized string, then it refuses them, naming why', () => {
    const e = new EngineEvent();
    e.kind = 'depth';
    const w = new EventBatchWriter();
    w.command(1, [eventView(e)]);
    const bytes = w.take();
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.throws(
        () => readEventBatch(bytes.subarray(0, cut), () => {}),
        (err: Error) => err instanceof CodecError && /ends inside a field/.test(err.message),
        `cut at ${cut}`,
      );
    }
    const unknown = Uint8Array.from(bytes);
    unknown[10] = 200;
    assert.throws(() => readEventBatch(unknown, () => {}), /unknown event kind tag 200/);
    w.command(1, [eventView(e)]);
    e.instrument = 'x'.repeat(70_000);
    assert.throws(() => w.command(2, [eventView(e)]), /more than 65,535 bytes/);
    // The command refused left the batch as it was
    const kept: number[] = [];
    readEventBatch(w.take(), (seq) => kept.push(seq));
    assert.deepEqual(kept, [1]);
  });
});
