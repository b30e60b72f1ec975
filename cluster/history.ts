/**
 * A cluster's trading history: each engine shard keeps the history of its venues in a store of
 * its own (its data folder), fed with each event message the shard has stored, as it is stored;
 * when the store is behind (at a start, from where it stands, so a shard on a fresh machine
 * rebuilds it; or a message came out of order), it reads the event stream, which holds every
 * command's events, up to the last message stored, then takes them from the shard again. It
 * answers reads over NATS
 * request/reply. A gateway asks every shard for a page and merges them by position (an account
 * may trade on several shards' venues); `before`/`after` by id ask the shard that numbered the
 * id; an instrument's candles, the shard of its venue. Each read names the command the gateway
 * has seen of that shard, and the shard answers once its history holds it: a fill a client was
 * told of is in the next page it reads.
 */
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  type Candle,
  type CandleQuery,
  type Entry,
  type FillRecord,
  type HistoryKind,
  type HistoryReader,
  mergePages,
  type OrderRecord,
  type PageQuery,
  type Position,
  ThreadedHistory,
} from '../history/index.ts';
import { eventBatchOf, eventsOf } from './wire-format.ts';
import { eventObjectsOnce, type StoredEvents, withEvents } from './large-events.ts';
import { consume } from './consume.ts';
import { askShard, jetStreamReady } from './nats.ts';
import { type Topology, venueOfId } from './topology.ts';
import type { Logger } from '../common/index.ts';

type HistoryRequest =
  | { op: 'page'; query: PageQuery; atLeast: number }
  | { op: 'position'; kind: HistoryKind; account: string; id: number; atLeast: number }
  | { op: 'candles'; query: CandleQuery; atLeast: number };
type HistoryAnswer =
  | { entries: Entry<FillRecord | OrderRecord>[] }
  | { pos: Position | null }
  | { candles: Candle[] }
  | { error: string };

/** How long a shard's history may take to hold what a gateway has seen; the request waits a little longer. */
const CATCH_UP_MS = 10_000;
const REQUEST_MS = CATCH_UP_MS + 5_000;

export interface ShardHistoryOptions {
  /** The last event message its shard has stored (the store catches up to it from the stream). */
  published: number;
  nc: NatsConnection;
  topology: Topology;
  shard: number;
  /** The store's folder. */
  dir: string;
  log: Logger;
  /** Reading the event stream stopped on an error it cannot get past. */
  onError: (err: Error) => void;
}

/** A shard's history: its store, kept up with what the shard stores (or from the event stream), answering reads. */
export class ShardHistory {
  readonly store: ThreadedHistory;
  #o: ShardHistoryOptions;
  /** The last event message the shard has stored. */
  #published: number;
  /** Reading the event stream while the store is behind (null: it takes the shard's messages). */
  #reader: ReturnType<typeof consume> | null = null;
  #reading: Array<Promise<void>> = [];
  #closed = false;
  #sub: Subscription;
  /** Times it read the event stream (the tests count them). */
  readings = 0;

  private constructor(o: ShardHistoryOptions, store: ThreadedHistory) {
    this.store = store;
    this.#o = o;
    this.#published = o.published;
    const { nc, topology, shard } = o;
    if (store.appliedSeq < this.#published) this.#read();
    // One instance of the shard answers each request (any of them holds the same history).
    this.#sub = nc.subscribe(topology.historySubject(shard), {
      queue: 'history',
      callback: (err, msg) => {
        if (err !== null) return;
        void this.#answer(msg.json<HistoryRequest>()).then((answer) => msg.respond(JSON.stringify(answer)));
      },
    });
  }

  /**
   * The shard stored event message `seq`, whose events an event batch holds as `batch`
   * (journal/event-codec.ts): the store takes it when it is the next, else reads the stream.
   */
  published(seq: number, batch: Uint8Array): void {
    if (seq > this.#published) this.#published = seq;
    if (this.#reader !== null || this.#closed || seq <= this.store.appliedSeq) return;
    if (seq === this.store.appliedSeq + 1) this.store.applyBatch(seq, batch);
    else this.#read();
  }

  /** Reads the event stream from where the store stands up to the last message stored. */
  #read(): void {
    const { nc, topology, shard, log, onError } = this.#o;
    const js = jetstream(nc);
    const stream = topology.eventStream(shard);
    const store = this.store;
    this.readings++;
    const objects = eventObjectsOnce(js, topology);
    const take = (m: StoredEvents) => {
      const what = `shard ${shard}: event ${m.seq} of ${stream}`;
      // The events' bytes passed on as they are (the writer thread reads them), JSON of early releases decoded.
      const batch = eventBatchOf(m, what);
      if (batch === null) store.apply(m.seq, eventsOf(m, what));
      else store.applyBatch(m.seq, batch);
      // Caught up: what the shard stores next comes from it (what this reader still brings is skipped).
      if (this.#reader === reader && store.appliedSeq >= this.#published) {
        this.#reader = null;
        reader.stop();
      }
    };
    const reader = consume({
      get: () => js.consumers.get(stream, { opt_start_seq: store.appliedSeq + 1 }),
      handle: (m) => withEvents(m, objects, take),
      batch: 2_000,
      behind: async () =>
        (await (await jetStreamReady(nc)).streams.info(stream)).state.last_seq > store.appliedSeq,
      name: `shard ${shard}: history`,
      log,
    });
    this.#reader = reader;
    this.#reading.push(reader.done.catch((err: Error) => onError(err)));
  }

  /** Opens the store in `o.dir`; it catches up from the event stream to `o.published`, then takes what the shard stores. */
  static start(o: ShardHistoryOptions): ShardHistory {
    const store = ThreadedHistory.open({ dir: o.dir, shard: o.shard, log: o.log });
    o.log.info(
      `shard ${o.shard}: history at command ${store.appliedSeq}, the event stream at ${o.published}`,
    );
    return new ShardHistory(o, store);
  }

  async #answer(r: HistoryRequest): Promise<HistoryAnswer> {
    try {
      if (r.op === 'page') return { entries: await this.store.page(r.query, r.atLeast, CATCH_UP_MS) };
      if (r.op === 'candles') return { candles: await this.store.candles(r.query, r.atLeast, CATCH_UP_MS) };
      return { pos: (await this.store.position(r.kind, r.account, r.id, r.atLeast)) ?? null };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }

  /** Stops answering and following, and closes the store. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#sub.unsubscribe();
    this.#reader?.stop();
    await Promise.all(this.#reading);
    await this.store.close();
  }
}

/** The history as a gateway reads it: every shard's, merged. */
export class ClusterHistory implements HistoryReader {
  #nc: NatsConnection;
  #topology: Topology;
  #seen: (shard: number) => number;

  /** `seen(shard)`: the last command of the shard this gateway has told its clients of. */
  constructor(nc: NatsConnection, topology: Topology, seen: (shard: number) => number) {
    this.#nc = nc;
    this.#topology = topology;
    this.#seen = seen;
  }

  async page(query: PageQuery): Promise<Entry<FillRecord | OrderRecord>[]> {
    const shards = Array.from({ length: this.#topology.shards }, (_, shard) => shard);
    const pages = await Promise.all(
      shards.map(async (shard) => {
        const a = await this.#ask(shard, { op: 'page', query, atLeast: this.#seen(shard) });
        return 'entries' in a ? a.entries : [];
      }),
    );
    return mergePages(pages, query);
  }

  async position(kind: HistoryKind, account: string, id: number): Promise<Position | undefined> {
    const shard = this.#topology.shardOfId(id);
    if (shard >= this.#topology.shards) return undefined;
    const a = await this.#ask(shard, { op: 'position', kind, account, id, atLeast: this.#seen(shard) });
    return 'pos' in a && a.pos !== null ? a.pos : undefined;
  }

  /** The candles of the shard of the instrument's venue, once it holds `atLeast` and what this gateway heard of. */
  async candles(query: CandleQuery, atLeast: number): Promise<Candle[]> {
    const shard = this.#topology.shardOfVenue(venueOfId(query.instrument)) ?? 0;
    const a = await this.#ask(shard, { op: 'candles', query, atLeast: Math.max(atLeast, this.#seen(shard)) });
    return 'candles' in a ? a.candles : [];
  }

  #ask(shard: number, request: HistoryRequest): Promise<Exclude<HistoryAnswer, { error: string }>> {
    return askShard<HistoryAnswer>(
      this.#nc,
      this.#topology.historySubject(shard),
      shard,
      request,
      REQUEST_MS,
    );
  }
}
