/**
 * The format versions of the cluster's NATS messages, in a `Mosaic-Format` header (a header
 * rather than a leading byte, so that a payload stays exactly what its release wrote and read).
 * Command messages carry a command as the journal encodes it, in the journal's format version.
 * Event messages carry one command's events: as bytes (journal/event-codec.ts) in version 2, as
 * a JSON array in version 1 (earlier releases; still read, so that their streams replay). A
 * message without the header was written before it existed: it is version 1. A message in a
 * version this release does not know is refused with a FormatVersionError naming it: following
 * on would fork the state of the followers.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { EventKind } from '../engine/index.ts';
import {
  checkFormatVersion,
  EventBatchWriter,
  FORMAT_VERSION,
  FormatVersionError,
  type PublishedEvent,
  readEventBatch,
} from '../journal/index.ts';

export const FORMAT_HEADER = 'Mosaic-Format';

/** The format version of the event messages this release writes. */
export const EVENTS_FORMAT = 2;

/** Headers for a message in format `version`; a fresh set per message, as the client keeps it. */
export function formatHeaders(version = FORMAT_VERSION): MsgHdrs {
  const h = headers();
  h.set(FORMAT_HEADER, String(version));
  return h;
}

/** What is read of a message: a consumer's, or one fetched from a stream (its `header` as `headers`). */
export type EventMessage = Pick<JsMsg, 'headers' | 'data' | 'json'>;

function versionOf(m: EventMessage): number | string {
  const v = m.headers?.get(FORMAT_HEADER) ?? '';
  return v === '' ? 1 : /^\d+$/.test(v) ? Number(v) : v;
}

/** Throws FormatVersionError unless command message `m` (named `what` in the error) is in the current format. */
export function checkMessageFormat(m: JsMsg, what: string): void {
  if (m.headers?.get(FORMAT_HEADER)) checkFormatVersion(versionOf(m), `${what} (header ${FORMAT_HEADER})`);
}

const writer = new EventBatchWriter();

/** The payload of command `seq`'s event message, in format EVENTS_FORMAT. */
export function eventPayload(seq: number, events: readonly PublishedEvent[]): Uint8Array {
  writer.command(seq, events);
  return writer.take();
}

/** The events of an event message, in format 1 or 2; with `kinds`, only those of these kinds. */
export function eventsOf(m: EventMessage, what: string, kinds?: readonly EventKind[]): PublishedEvent[] {
  const version = versionOf(m);
  if (version === 1) {
    const all = m.json<PublishedEvent[]>();
    return kinds === undefined ? all : all.filter((e) => kinds.includes(e.kind));
  }
  if (version !== EVENTS_FORMAT) {
    throw new FormatVersionError(
      `${what} (header ${FORMAT_HEADER}) is in format version ${version}; this release reads event messages in versions 1 and ${EVENTS_FORMAT} only: read it with a release that knows version ${version}`,
    );
  }
  let events: PublishedEvent[] = [];
  readEventBatch(
    m.data,
    (_seq, e) => {
      events = e;
    },
    kinds,
  );
  return events;
}
