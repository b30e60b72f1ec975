/**
 * Messages on the wire (cluster/wire-format.ts). Command messages: several commands, each with
 * its id (or none), written in format 2 and read back as they were; one command of an earlier
 * release (format 1 or no header) read under the message's id; bytes cut short and unknown
 * versions refused. Event messages: each command's id and events written in format 3 and read
 * back, whole or only some kinds; a message of an earlier release (bytes in format 2 with its id
 * in a header, JSON in format 1 or no header) still read; one in a version this release does not
 * know refused, naming it. Bytes cut short are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers } from '@nats-io/transport-node';
import {
  commandEventsOf,
  COMMANDS_FORMAT,
  EVENTS_FORMAT,
  type EventMessage,
  eventsOf,
  FORMAT_HEADER,
  REF_HEADER,
} from '../../cluster/index.ts';
import { type Command, Engine, eventToObject, type PublishedEvent } from '../../engine/index.ts';
import { CodecError, EventBatchWriter, FormatVersionError, readEventBatch } from '../../journal/index.ts';
import {
  commandsOf,
  commandsPayload,
  decodeCommandEvents,
  encodeCommandEvents,
  eventBatchOf,
} from '../../cluster/wire-format.ts';
import { spec } from '../support/engine.ts';

/** A command's events: an order that trades against one resting. */
function events(): PublishedEvent[] {
  const engine = new Engine();
  const out: PublishedEvent[] = [];
  const order = { type: 'new', instrument: spec().id, orderType: 'limit', price: 10_000, quantity: 2 };
  engine.execute({ type: 'list-instrument', spec: spec(), ts: 1 });
  engine.execute({ ...order, account: 'ann', clientOrderId: 'a', side: 'sell', ts: 2 } as Command);
  engine.addListener({ onEvent: (e) => out.push(eventToObject(e)) });
  engine.execute({ ...order, account: 'bob', clientOrderId: 'b', side: 'buy', ts: 3 } as Command);
  return out;
}

function message(version: string | null, data: Uint8Array): EventMessage {
  const h = headers();
  if (version !== null) h.set(FORMAT_HEADER, version);
  return {
    headers: version === null ? undefined : h,
    data,
    json: <T>() => JSON.parse(Buffer.from(data).toString()) as T,
  };
}

/** A version 2 event message's payload: one command's events. */
function v2Payload(seq: number, written: PublishedEvent[]): Buffer {
  const w = new EventBatchWriter();
  w.command(seq, written);
  return w.take();
}

describe('command messages', () => {
  it('given commands written as this release writes them, then they read back with their ids', () => {
    const entries = [
      { ref: 'gw:1', bytes: Uint8Array.from([1, 2, 3]) },
      { ref: undefined, bytes: Uint8Array.from([]) },
      { ref: 'gw:ü', bytes: Uint8Array.from([9]) },
    ];
    const data = commandsPayload(entries);
    const got = commandsOf(message(String(COMMANDS_FORMAT), data), 'command 4');
    assert.deepEqual(
      got.map((e) => ({ ref: e.ref, bytes: Uint8Array.from(e.bytes) })),
      entries,
    );
    for (const cut of [1, 5, data.length - 1]) {
      assert.throws(
        () => commandsOf(message(String(COMMANDS_FORMAT), data.subarray(0, cut)), 'command 4'),
        (err: Error) => err instanceof CodecError && err.message === 'command 4 is cut short',
        `cut at ${cut}`,
      );
    }
  });

  it('given one command of an earlier release, then it is read under the message id; an unknown version is refused', () => {
    const data = Uint8Array.from([7, 7]);
    for (const version of ['1', null]) {
      const m = message(version, data);
      m.headers = headers();
      if (version !== null) m.headers.set(FORMAT_HEADER, version);
      m.headers.set('Nats-Msg-Id', 'old-1');
      assert.deepEqual(commandsOf(m, 'command 2'), [{ ref: 'old-1', bytes: data }]);
    }
    assert.throws(
      () => commandsOf(message('3', data), 'shard 0: command 2 of CMD'),
      (err: Error) =>
        err instanceof FormatVersionError &&
        err.message.startsWith(
          `shard 0: command 2 of CMD (header ${FORMAT_HEADER}) is in format version 3; this release reads command messages in versions 1 and 2 only`,
        ),
    );
  });
});

describe('event messages', () => {
  it("given several commands' events written as this release writes them, then they read back as they were", () => {
    const written = [
      { seq: 3, ref: 'gw:1', events: events() },
      { seq: 3, ref: undefined, events: events().slice(0, 1) },
    ];
    assert.ok(written[0]!.events.some((e) => e.kind === 'trade'));
    const m = message(String(EVENTS_FORMAT), encodeCommandEvents(written).data);
    assert.deepEqual(commandEventsOf(m, 3, 'event 3'), written);
    assert.deepEqual(eventsOf(m, 'event 3'), [...written[0]!.events, ...written[1]!.events]);
    assert.deepEqual(
      commandEventsOf(m, 3, 'event 3', ['trade']),
      written.map((c) => ({ ...c, events: c.events.filter((e) => e.kind === 'trade') })),
    );
    // And its events' bytes, taken as they are, read as each command's under the message's sequence
    const read: Array<[number, PublishedEvent[]]> = [];
    readEventBatch(eventBatchOf(m, 'event 3')!, (seq, e) => read.push([seq, e]));
    assert.deepEqual(
      read,
      written.map((c) => [3, c.events]),
    );
    assert.throws(
      () => eventBatchOf(message(String(EVENTS_FORMAT), m.data.subarray(0, 5)), 'event 3'),
      CodecError,
    );
  });

  it('given a message of an earlier release, bytes in format 2 or JSON in format 1 or no header, then it is read with its id', () => {
    const written = events();
    const v2 = message('2', v2Payload(3, written));
    v2.headers!.set(REF_HEADER, 'gw:7');
    assert.deepEqual(commandEventsOf(v2, 3, 'event 3'), [{ seq: 3, ref: 'gw:7', events: written }]);
    assert.equal(eventBatchOf(v2, 'event 3'), v2.data);
    const json = Buffer.from(JSON.stringify(written));
    assert.deepEqual(eventsOf(message('1', json), 'event 3'), written);
    assert.equal(eventBatchOf(message('1', json), 'event 3'), null);
    assert.deepEqual(eventsOf(message(null, json), 'event 3'), written);
  });

  it('given a message in a version this release does not know, then it is refused, naming it', () => {
    for (const version of ['4', 'x']) {
      assert.throws(
        () => eventsOf(message(version, v2Payload(3, events())), 'shard 0: event 3 of EVT'),
        (err: Error) =>
          err instanceof FormatVersionError &&
          err.message.startsWith(
            `shard 0: event 3 of EVT (header ${FORMAT_HEADER}) is in format version ${version}; this release reads event messages in versions 1 to 3 only`,
          ),
      );
    }
  });

  it('writes the events of commands of several messages, with and without ids, and reads them back; bytes cut short are refused', () => {
    const commands = [
      { seq: 7, ref: 'gw:1', events: events() },
      { seq: 9, ref: undefined, events: events().slice(0, 1) },
      { seq: 12, ref: 'settle:ü', events: [] },
    ];
    const { data } = encodeCommandEvents(commands);
    assert.deepEqual(decodeCommandEvents(data), commands);
    for (const cut of [1, 5, data.length - 3]) {
      assert.throws(() => decodeCommandEvents(data.subarray(0, cut)), CodecError, `cut at ${cut}`);
    }
  });
});
