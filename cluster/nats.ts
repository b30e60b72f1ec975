/**
 * The NATS side of a cluster process: the connection (reconnecting for as long as it runs), the
 * streams and the snapshot bucket (made when missing, so the first process up creates them),
 * and engine snapshots in that bucket (the bytes of a snapshot file: header, state hash, CRC).
 */
import crypto from 'node:crypto';
import {
  DiscardPolicy,
  type JetStreamClient,
  JetStreamApiError,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { eventObjects } from './large-events.ts';
import { connect, type NatsConnection, RequestError, TimeoutError } from '@nats-io/transport-node';
import { type BookKind, type Engine, type EngineSnapshot } from '../engine/index.ts';
import { decodeSnapshot, encodeSnapshot } from '../journal/index.ts';
import type { ClusterConfig } from './config.ts';
import type { Topology } from './topology.ts';
import { makeError } from './errors.ts';
import { sleep } from '../common/index.ts';

/** Connects to the cluster's servers; retries for ever once connected. `name` shows in NATS monitoring. */
export async function connectNats(
  config: Pick<ClusterConfig, 'servers'>,
  name: string,
): Promise<NatsConnection> {
  return connect({
    servers: config.servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
    // No stack captured up front for every request (each JetStream publish is one): 13% of a
    // gateway's CPU under load (bench:cluster, profiled).
    noAsyncTraces: true,
  });
}

/**
 * Closes a connection after draining it (what it has sent is flushed, what it consumes is
 * finished), or at once when that takes longer than `withinMs`: with its servers gone, a drain
 * would wait for them for ever.
 */
export async function closeNats(nc: NatsConnection, withinMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, withinMs);
  });
  await Promise.race([nc.drain().catch(() => {}), late]);
  clearTimeout(timer);
  if (!nc.isClosed()) await nc.close();
}

/**
 * Whether an error from NATS is one a moment may cure: no answer, no responder, no leader yet.
 * The client wraps some in others (no responder to the JetStream API comes as "jetstream is not
 * enabled" caused by it), so the causes count too.
 */
function passing(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof TimeoutError || (e instanceof RequestError && e.isNoResponders())) return true;
    if (e instanceof JetStreamApiError && (e.status === 503 || e.code === 10008)) return true;
  }
  return false;
}

/**
 * Runs a JetStream request, trying again for up to `timeoutMs` while NATS cannot answer yet (a
 * cluster forming, a stream electing a leader); other errors go to the caller at once.
 */
export async function answered<T>(request: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await request();
    } catch (err) {
      if (!passing(err) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Asks shard `shard` on `subject` (request/reply, JSON both ways) and gives its answer: asked again
 * while no instance of the shard listens (one restarting), UNAVAILABLE when none answers within
 * `timeoutMs`, SHARD_REFUSED when it answers with an error.
 */
export async function askShard<A extends object>(
  nc: NatsConnection,
  subject: string,
  shard: number,
  request: unknown,
  timeoutMs: number,
): Promise<Exclude<A, { error: string }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let answer: A | { error: string };
    try {
      const msg = await nc.request(subject, JSON.stringify(request), {
        timeout: Math.max(100, deadline - Date.now()),
      });
      answer = msg.json<A | { error: string }>();
    } catch (err) {
      if (Date.now() < deadline && passing(err)) {
        await sleep(100);
        continue;
      }
      throw makeError(
        `shard ${shard} does not answer (${(err as Error).message})`,
        'UNAVAILABLE',
        { shard },
        err,
      );
    }
    if ('error' in answer) throw makeError(`shard ${shard}: ${answer.error}`, 'SHARD_REFUSED', { shard });
    return answer as Exclude<A, { error: string }>;
  }
}

/**
 * Waits until JetStream answers (a cluster elects its meta leader a moment after its nodes are
 * up), for up to `timeoutMs`.
 */
export async function jetStreamReady(nc: NatsConnection, timeoutMs = 30_000): Promise<JetStreamManager> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      await jsm.getAccountInfo();
      return jsm;
    } catch (err) {
      if (Date.now() > deadline)
        throw makeError(`JetStream does not answer: ${(err as Error).message}`, 'UNAVAILABLE', {}, err);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Makes each shard's command and event streams and the snapshot bucket, where missing. */
export async function ensureStreams(
  nc: NatsConnection,
  topology: Topology,
  config: Pick<ClusterConfig, 'replicas' | 'dedupeMinutes'>,
): Promise<void> {
  const jsm = await jetStreamReady(nc);
  const have = await answered(async () => {
    const names = new Set<string>();
    for await (const name of jsm.streams.names()) names.add(name);
    return names;
  });
  const common = {
    storage: StorageType.File,
    num_replicas: config.replicas,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msg_size: 1024 * 1024,
  };
  for (let shard = 0; shard < topology.shards; shard++) {
    const commands = topology.commandStream(shard);
    if (!have.has(commands)) {
      await answered(() =>
        jsm.streams.add({
          ...common,
          name: commands,
          subjects: [`${topology.name}.cmd.${shard}.>`],
          duplicate_window: config.dedupeMinutes * 60 * 1e9,
        }),
      );
    }
    const events = topology.eventStream(shard);
    if (!have.has(events)) {
      await answered(() =>
        jsm.streams.add({
          ...common,
          name: events,
          subjects: [`${topology.name}.evt.${shard}.>`],
          duplicate_window: 2 * 60 * 1e9,
        }),
      );
    }
  }
  const keys = topology.keyStream;
  if (!have.has(keys)) {
    await answered(() =>
      jsm.streams.add({
        ...common,
        name: keys,
        subjects: [`${topology.name}.key.>`],
        // One message per key, the first written: a key, once there, never changes.
        max_msgs_per_subject: 1,
        discard: DiscardPolicy.New,
        discard_new_per_subject: true,
      }),
    );
  }
  await snapshotStore(jetstream(nc), topology, config.replicas);
  await eventObjects(jetstream(nc), topology, config.replicas);
}

/**
 * A secret shared by every process of the cluster under `name` (e.g. the gateways' key for REST
 * tokens): 32 random bytes written by the first process that asks, read by all the others.
 */
export async function sharedKey(nc: NatsConnection, topology: Topology, name: string): Promise<Uint8Array> {
  const subject = `${topology.name}.key.${name}`;
  const jsm = await jetStreamReady(nc);
  try {
    await answered(() =>
      jetstream(nc).publish(subject, crypto.randomBytes(32), { expect: { lastSubjectSequence: 0 } }),
    );
  } catch (err) {
    // Another process wrote it first: that one is the key.
    if (!(err instanceof JetStreamApiError)) throw err;
  }
  const m = await answered(() => jsm.streams.getMessage(topology.keyStream, { last_by_subj: subject }));
  if (m === null) throw makeError(`the key ${name} is missing from ${topology.keyStream}`, 'UNAVAILABLE');
  return m.data;
}

/** The bucket of engine snapshots (made when missing). */
export function snapshotStore(
  js: JetStreamClient,
  topology: Topology,
  replicas: number,
): Promise<ObjectStore> {
  return objectBucket(js, topology.snapshotBucket, replicas);
}

/** An object store bucket, made when missing. */
export function objectBucket(js: JetStreamClient, name: string, replicas: number): Promise<ObjectStore> {
  return answered(() => new Objm(js).create(name, { storage: StorageType.File, replicas }));
}

/**
 * A shard's snapshot as the bucket keeps it: a line `stream <sequence>` naming the last command
 * message it covers, then the engine's snapshot (journal/snapshots.ts), whose own sequence counts
 * commands. One without the line was stored when each message held one command: both are one.
 */
const STREAM_LINE = 'stream ';

/** A shard's stored snapshot: the last command message it covers, and its engine; null when there is none yet. */
export async function loadSnapshot(
  store: ObjectStore,
  topology: Topology,
  shard: number,
  book: BookKind,
): Promise<{ seq: number; engine: Engine } | null> {
  const bytes = await answered(() => store.getBlob(topology.snapshotName(shard)));
  if (bytes === null) return null;
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    if (buf.toString('latin1', 0, STREAM_LINE.length) !== STREAM_LINE) return decodeSnapshot(buf, book);
    const nl = buf.indexOf(10);
    const seq = Number(buf.toString('latin1', STREAM_LINE.length, nl));
    if (nl < 0 || !Number.isSafeInteger(seq) || seq < 0) {
      throw makeError('its stream line does not name a sequence', 'SNAPSHOT_DAMAGED');
    }
    return { seq, engine: decodeSnapshot(buf.subarray(nl + 1), book).engine };
  } catch (err) {
    throw makeError(
      `the stored snapshot of shard ${shard} is damaged: ${(err as Error).message}`,
      'SNAPSHOT_DAMAGED',
      { shard },
      err,
    );
  }
}

/** Stores a shard's snapshot as of command message `seq`, replacing the one before. */
export async function saveSnapshot(
  store: ObjectStore,
  topology: Topology,
  shard: number,
  seq: number,
  snapshot: { commandSeq: number; state: EngineSnapshot; stateHash: string },
): Promise<void> {
  const { commandSeq, state, stateHash } = snapshot;
  await store.putBlob(
    { name: topology.snapshotName(shard), description: `shard ${shard} at command message ${seq}` },
    Buffer.concat([Buffer.from(`${STREAM_LINE}${seq}\n`), encodeSnapshot(commandSeq, state, stateHash)]),
  );
}
