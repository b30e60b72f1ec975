/**
 * Event messages too large for NATS. A command message's events are stored as one message at
 * its sequence, and a NATS message holds at most 1 MiB (the streams' `max_msg_size`, within
 * nats-server's default `max_payload`): a cancel-all of about 7,000 orders, or a sweep of about
 * 4,000 fills, makes more. Such events go to the object store bucket `<name>-events` (made when
 * missing, as the snapshots' bucket), under a name of their shard and sequence; the event
 * message at that sequence holds no bytes and names the object in the header `Mosaic-Object`.
 * Readers of the event stream take such a message's events from the object (`withEvents`).
 * An account or market-data message that would be too large is sent as a header
 * `Mosaic-Too-Large` and no bytes: its reader reads that message's events from the event stream.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { objectBucket } from './nats.ts';
import type { Topology } from './topology.ts';
import type { EventMessage } from './wire-format.ts';

/** Events of one command message above this many bytes go to the object store. */
export const INLINE_EVENTS_MAX = 960 * 1024;

export const OBJECT_HEADER = 'Mosaic-Object';

export const TOO_LARGE_HEADER = 'Mosaic-Too-Large';

/** An event message as its readers decode it (wire-format.ts), at its sequence. */
export type StoredEvents = EventMessage & { seq: number };

/** The bucket of event messages too large for NATS (made when missing). */
export function eventObjects(
  js: JetStreamClient,
  topology: Topology,
  replicas: number,
): Promise<ObjectStore> {
  return objectBucket(js, topology.eventObjectBucket, replicas);
}

/** Stores the events of `shard`'s command message `seq`; returns the object's name, for the header. */
export async function putEvents(
  store: ObjectStore,
  shard: number,
  seq: number,
  data: Uint8Array,
): Promise<string> {
  const name = `shard-${shard}-seq-${seq}`;
  // Put again after a failure, or by another instance of the shard: the same bytes under the same name.
  await store.putBlob({ name }, data);
  return name;
}

/**
 * A reader's side: `take` of `m` with its events, at once, or, for a message whose events are in
 * the object store, once they are read from it (`store` opens the bucket: the reader keeps it).
 */
export function withEvents<R>(
  m: StoredEvents,
  store: () => Promise<ObjectStore>,
  take: (whole: StoredEvents) => R,
): R | Promise<Awaited<R>> {
  const name = m.headers?.get(OBJECT_HEADER);
  if (!name) return take(m);
  return (async (): Promise<Awaited<R>> => {
    const data = await (await store()).getBlob(name);
    if (data === null) throw new Error(`event ${m.seq}: its events, object ${name}, are not in the bucket`);
    const text = () => Buffer.from(data).toString('utf8');
    return await take({ seq: m.seq, headers: m.headers, data, json: <T>() => JSON.parse(text()) as T });
  })();
}

/** Opens the bucket of large events once, on first need. */
export function eventObjectsOnce(js: JetStreamClient, topology: Topology): () => Promise<ObjectStore> {
  let store: Promise<ObjectStore> | null = null;
  return () => {
    store ??= new Objm(js).open(topology.eventObjectBucket).catch((err: Error) => {
      store = null;
      throw err;
    });
    return store;
  };
}
