/**
 * Event messages on the wire (cluster/wire-format.ts): written as bytes in format 2, read back as
 * the events they were; a message of an earlier release (JSON, format 1 or no header) still read;
 * one in a version this release does not know refused, naming it. Account messages carry
 * several commands, each with its id (or none) and its events, and bytes cut short are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers } from '@nats-io/transport-node';
import { EVENTS_FORMAT, type EventMessage, eventsOf, FORMAT_HEADER } from '../../cluster/index.ts';
import { type Command, Engine, eventToObject, type PublishedEvent } from '../../engine/index.ts';
import { FormatVersionError } from '../../journal/index.ts';
import { eventPayload } from '../../cluster/wire-format.ts';
import { decodeAccountCommands, encodeAccountCommands } from '../../cluster/accounts.ts';
import { CodecError } from '../../journal/index.ts';
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

describe('event messages', () => {
  it('given events written as this release writes them, then they read back as they were', () => {
    const written = events();
    assert.ok(written.some((e) => e.kind === 'trade'));
    const m = message(String(EVENTS_FORMAT), eventPayload(3, written));
    assert.deepEqual(eventsOf(m, 'event 3'), written);
  });

  it('given a JSON message of an earlier release, with format 1 or no header, then it is read', () => {
    const written = events();
    const json = Buffer.from(JSON.stringify(written));
    assert.deepEqual(eventsOf(message('1', json), 'event 3'), written);
    assert.deepEqual(eventsOf(message(null, json), 'event 3'), written);
  });

  it('given a message in a version this release does not know, then it is refused, naming it', () => {
    for (const version of ['3', 'x']) {
      assert.throws(
        () => eventsOf(message(version, eventPayload(3, events())), 'shard 0: event 3 of EVT'),
        (err: Error) =>
          err instanceof FormatVersionError &&
          err.message.startsWith(
            `shard 0: event 3 of EVT (header ${FORMAT_HEADER}) is in format version ${version}; this release reads event messages in versions 1 and 2 only`,
          ),
      );
    }
  });

  it('writes an account message of several commands, with and without ids, and reads it back', () => {
    const commands = [
      { seq: 7, ref: 'gw:1', events: events() },
      { seq: 9, ref: undefined, events: events().slice(0, 1) },
      { seq: 12, ref: 'settle:ü', events: [] },
    ];
    const data = encodeAccountCommands(commands);
    assert.deepEqual(decodeAccountCommands(data), commands);
    for (const cut of [1, 5, data.length - 3]) {
      assert.throws(() => decodeAccountCommands(data.subarray(0, cut)), CodecError, `cut at ${cut}`);
    }
  });
});
