/**
 * The format version of the cluster's NATS messages. Command messages carry a command as the
 * journal encodes it, event messages a JSON array of events; both carry the format version in a
 * `Mosaic-Format` header (a header rather than a leading byte, so that the payload stays exactly
 * what earlier releases wrote and read). A message without the header was written before it
 * existed: it is version 1. A message in a version this release does not know is refused with a
 * FormatVersionError naming it: following on would fork the state of the followers.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { checkFormatVersion, FORMAT_VERSION, type PublishedEvent } from '../journal/index.ts';

export const FORMAT_HEADER = 'Mosaic-Format';

/** Headers for a message in the current format; a fresh set per message, as the client keeps it. */
export function formatHeaders(): MsgHdrs {
  const h = headers();
  h.set(FORMAT_HEADER, String(FORMAT_VERSION));
  return h;
}

/** Throws FormatVersionError unless message `m` (named `what` in the error) is in the current format. */
export function checkMessageFormat(m: JsMsg, what: string): void {
  const v = m.headers?.get(FORMAT_HEADER) ?? '';
  if (v !== '') checkFormatVersion(/^\d+$/.test(v) ? Number(v) : v, `${what} (header ${FORMAT_HEADER})`);
}

/** The events of an event message, once its format is checked. */
export function eventsOf(m: JsMsg, what: string): PublishedEvent[] {
  checkMessageFormat(m, what);
  return m.json<PublishedEvent[]>();
}
