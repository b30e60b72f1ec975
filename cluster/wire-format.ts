/**
 * The format versions of the cluster's NATS messages, in a `Mosaic-Format` header (a header
 * rather than a leading byte, so that a payload stays exactly what its release wrote and read).
 * Command messages carry commands as the journal encodes them: in version 2 (COMMANDS_FORMAT)
 * several, each with its sender's id (u16 count, then per command a u16 byte length and the id
 * in UTF-8, empty for none, a u32 byte length and the command); in version 1 (the journal's
 * format version; earlier releases) one, its id the message's. Event messages carry the events
 * of one command message: in version 3 (EVENTS_FORMAT) each command's id and events, laid out as
 * account messages are (keyed.ts: u16 count, the ids, then the events as journal/event-codec.ts
 * writes them); in version 2 one command's events as bytes, its id in the `Mosaic-Ref` header; in
 * version 1 a JSON array (earlier releases; all still read, so that their streams replay). A
 * message without the header was written before it existed: it is version 1. A message in a
 * version this release does not know is refused with a FormatVersionError naming it: following
 * on would fork the state of the followers.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { EventKind } from '../engine/index.ts';
import {
  CodecError,
  EventBatchWriter,
  FORMAT_VERSION,
  FormatVersionError,
  type PublishedEvent,
  readEventBatch,
} from '../journal/index.ts';

export const FORMAT_HEADER = 'Mosaic-Format';

/** The header naming the command a version 2 event message came from (its command id). */
export const REF_HEADER = 'Mosaic-Ref';

/** The format version of the command messages this release writes (several commands each). */
export const COMMANDS_FORMAT = 2;

/** The format version of the event messages this release writes (each command's id and events). */
export const EVENTS_FORMAT = 3;

/** Headers for a message in format `version`; a fresh set per message, as the client keeps it. */
export function formatHeaders(version = FORMAT_VERSION): MsgHdrs {
  const h = headers();
  h.set(FORMAT_HEADER, String(version));
  return h;
}

/** What is read of a message: a consumer's, or one fetched from a stream (its `header` as `headers`). */
export type EventMessage = Pick<JsMsg, 'headers' | 'data' | 'json'>;

function versionOf(m: Pick<JsMsg, 'headers'>): number | string {
  const v = m.headers?.get(FORMAT_HEADER) ?? '';
  return v === '' ? 1 : /^\d+$/.test(v) ? Number(v) : v;
}

/** A command as a command message carries it: its sender's id, and its bytes as the journal encodes them. */
export interface CommandEntry {
  ref: string | undefined;
  bytes: Uint8Array;
}

/** The payload of a command message of `entries`, in format COMMANDS_FORMAT. */
export function commandsPayload(entries: readonly CommandEntry[]): Uint8Array {
  const refs = entries.map((e) => Buffer.from(e.ref ?? '', 'utf8'));
  let size = 2;
  for (let i = 0; i < entries.length; i++) size += 6 + refs[i]!.length + entries[i]!.bytes.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt16LE(entries.length, 0);
  let at = 2;
  for (let i = 0; i < entries.length; i++) {
    const ref = refs[i]!;
    const bytes = entries[i]!.bytes;
    out.writeUInt16LE(ref.length, at);
    ref.copy(out, at + 2);
    at += 2 + ref.length;
    out.writeUInt32LE(bytes.length, at);
    out.set(bytes, at + 4);
    at += 4 + bytes.length;
  }
  return out;
}

/**
 * The commands of command message `m` (named `what` in errors): version 1 (or no header) holds
 * one, under the message's id; version 2 several. Throws FormatVersionError for another
 * version, and CodecError for a payload that does not hold what its count says.
 */
export function commandsOf(m: Pick<JsMsg, 'headers' | 'data'>, what: string): CommandEntry[] {
  const version = versionOf(m);
  if (version !== COMMANDS_FORMAT) {
    if (version !== 1) {
      throw new FormatVersionError(
        `${what} (header ${FORMAT_HEADER}) is in format version ${version}; this release reads command messages in versions 1 and ${COMMANDS_FORMAT} only: read it with a release that knows version ${version}`,
      );
    }
    return [{ ref: m.headers?.get('Nats-Msg-Id') || undefined, bytes: m.data }];
  }
  const buf = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  const cut = () => new CodecError(`${what} is cut short`);
  if (buf.length < 2) throw cut();
  const n = buf.readUInt16LE(0);
  const out: CommandEntry[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    if (at + 2 > buf.length) throw cut();
    const refLength = buf.readUInt16LE(at);
    if (at + 6 + refLength > buf.length) throw cut();
    const ref = refLength === 0 ? undefined : buf.toString('utf8', at + 2, at + 2 + refLength);
    at += 2 + refLength;
    const length = buf.readUInt32LE(at);
    if (at + 4 + length > buf.length) throw cut();
    out.push({ ref, bytes: buf.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  if (at !== buf.length) throw new CodecError(`${what} holds more than its ${n} commands`);
  return out;
}

/** One command's events, as event and account messages carry them: its sequence (its message's) and id. */
export interface CommandEvents {
  seq: number;
  ref: string | undefined;
  events: PublishedEvent[];
}

const writer = new EventBatchWriter();

/**
 * Commands' ids then their events: the payload of a version 3 event message and of an account
 * message (`data`), and the events' batch within it (`batch`, as journal/event-codec.ts writes it).
 */
export function encodeCommandEvents(commands: readonly CommandEvents[]): { data: Buffer; batch: Buffer } {
  const refs = commands.map((c) => Buffer.from(c.ref ?? '', 'utf8'));
  const head = Buffer.allocUnsafe(2 + refs.reduce((n, r) => n + 2 + r.length, 0));
  head.writeUInt16LE(commands.length, 0);
  let at = 2;
  for (const r of refs) {
    head.writeUInt16LE(r.length, at);
    r.copy(head, at + 2);
    at += 2 + r.length;
  }
  for (const c of commands) writer.command(c.seq, c.events);
  const data = Buffer.concat([head, writer.take()]);
  return { data, batch: data.subarray(head.length) };
}

/** The commands' ids in `encodeCommandEvents`'s bytes, and its events' batch; CodecError naming `what` for bytes cut short. */
function splitCommandEvents(
  data: Uint8Array,
  what: string,
): { refs: Array<string | undefined>; batch: Buffer } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const cut = () => new CodecError(`${what} is cut short`);
  if (buf.length < 2) throw cut();
  const n = buf.readUInt16LE(0);
  const refs: Array<string | undefined> = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    if (at + 2 > buf.length) throw cut();
    const len = buf.readUInt16LE(at);
    if (at + 2 + len > buf.length) throw cut();
    refs.push(len === 0 ? undefined : buf.toString('utf8', at + 2, at + 2 + len));
    at += 2 + len;
  }
  return { refs, batch: buf.subarray(at) };
}

/** The commands of `encodeCommandEvents`'s bytes (with `kinds`, only events of those); throws CodecError on bytes that do not hold them. */
export function decodeCommandEvents(data: Uint8Array, kinds?: readonly EventKind[]): CommandEvents[] {
  const { refs, batch } = splitCommandEvents(data, "a message of commands' events");
  const out: CommandEvents[] = [];
  readEventBatch(batch, (seq, events) => out.push({ seq, ref: refs[out.length], events }), kinds);
  if (out.length !== refs.length)
    throw new CodecError(`a message names ${refs.length} commands and holds ${out.length}`);
  return out;
}

/**
 * The events of an event message as an event batch holds them (journal/event-codec.ts), each
 * command under the message's sequence, taken from the message's bytes as they are (format 2 or
 * 3); null for a message in format 1 (JSON). Throws FormatVersionError for another version and
 * CodecError for bytes cut short.
 */
export function eventBatchOf(m: EventMessage, what: string): Uint8Array | null {
  const version = versionOf(m);
  if (version === 2) return m.data;
  if (version === 1) return null;
  if (version !== EVENTS_FORMAT) throw unknownEvents(what, version);
  return splitCommandEvents(m.data, what).batch;
}

function unknownEvents(what: string, version: number | string): FormatVersionError {
  return new FormatVersionError(
    `${what} (header ${FORMAT_HEADER}) is in format version ${version}; this release reads event messages in versions 1 to ${EVENTS_FORMAT} only: read it with a release that knows version ${version}`,
  );
}

/**
 * Each command's events of event message `seq` (named `what` in errors), in format 1, 2 or 3;
 * with `kinds`, only those of these kinds.
 */
export function commandEventsOf(
  m: EventMessage,
  seq: number,
  what: string,
  kinds?: readonly EventKind[],
): CommandEvents[] {
  const version = versionOf(m);
  if (version === EVENTS_FORMAT) return decodeCommandEvents(m.data, kinds);
  const ref = m.headers?.get(REF_HEADER) || undefined;
  if (version === 1) {
    const all = m.json<PublishedEvent[]>();
    return [{ seq, ref, events: kinds === undefined ? all : all.filter((e) => kinds.includes(e.kind)) }];
  }
  if (version !== 2) throw unknownEvents(what, version);
  let events: PublishedEvent[] = [];
  readEventBatch(
    m.data,
    (_seq, e) => {
      events = e;
    },
    kinds,
  );
  return [{ seq, ref, events }];
}

/** The events of an event message, all its commands' in order; with `kinds`, only those of these kinds. */
export function eventsOf(m: EventMessage, what: string, kinds?: readonly EventKind[]): PublishedEvent[] {
  const commands = commandEventsOf(m, 0, what, kinds);
  return commands.length === 1 ? commands[0]!.events : commands.flatMap((c) => c.events);
}
