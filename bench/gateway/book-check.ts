/**
 * What a market-data subscriber checks, independently of the gateway's code: each channel's
 * `seq` is gap-free (every update is the previous plus one, a heartbeat repeats the last), and
 * the book rebuilt from the snapshot and its updates has, after every message, the CRC-32
 * (node:zlib) the message carries (docs/ws-protocol.md, "Checksum").
 *
 * A thousand subscribers in one process receive the same frames, so two things are shared, both
 * pure functions of what a subscriber received: a frame's parsed form (`FrameCache`, keyed by its
 * exact text), and a book state's successor under a given message (`BookState.after`). Each
 * subscriber still follows its own chain of states and its own sequence numbers; a transition
 * taken by many is computed and checksummed once.
 */
import { crc32 } from 'node:zlib';
import { makeRoom } from '../../common/index.ts';

type Level = [string, string];

/** A market-data message as parsed (shared between subscribers: never modified). */
export interface FeedMsg {
  type: string;
  channel?: string;
  seq?: number;
  bids?: Level[];
  asks?: Level[];
  checksum?: number;
}

/** Parsed frames by exact text, the most recent `size` of them. */
export class FrameCache {
  #map = new Map<string, FeedMsg>();
  #size: number;
  hits = 0;
  misses = 0;

  constructor(size = 8192) {
    this.#size = size;
  }

  parse(data: Buffer): FeedMsg {
    const text = data.toString('latin1');
    let m = this.#map.get(text);
    if (m !== undefined) {
      this.hits++;
      return m;
    }
    this.misses++;
    m = JSON.parse(text) as FeedMsg;
    makeRoom(this.#map, this.#size);
    this.#map.set(text, m);
    return m;
  }
}

/** An immutable L2 book (best first) and whether its checksum matched the message that made it. */
export class BookState {
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
  readonly ok: boolean;
  #lastMsg: FeedMsg | null = null;
  #lastNext: BookState | null = null;

  constructor(bids: readonly Level[], asks: readonly Level[], checksum: number | undefined) {
    this.bids = bids;
    this.asks = asks;
    this.ok = checksum === crc32(checksumText(bids, asks));
  }

  static #snapshots = new WeakMap<FeedMsg, BookState>();

  /** The book a snapshot describes (one state per snapshot message). */
  static of(snapshot: FeedMsg): BookState {
    let s = BookState.#snapshots.get(snapshot);
    if (s === undefined) {
      s = new BookState(snapshot.bids ?? [], snapshot.asks ?? [], snapshot.checksum);
      BookState.#snapshots.set(snapshot, s);
    }
    return s;
  }

  /** This book with `update` applied (computed once per state and message). */
  after(update: FeedMsg): BookState {
    if (this.#lastMsg === update) return this.#lastNext!;
    const next = new BookState(
      apply(this.bids, update.bids ?? [], true),
      apply(this.asks, update.asks ?? [], false),
      update.checksum,
    );
    this.#lastMsg = update;
    this.#lastNext = next;
    return next;
  }
}

/** A side with `changes` applied: quantity "0" removes a level; kept best first. */
function apply(side: readonly Level[], changes: readonly Level[], bids: boolean): Level[] {
  const out = side.slice();
  for (const [price, qty] of changes) {
    const i = out.findIndex((l) => l[0] === price);
    if (i >= 0) out.splice(i, 1);
    if (qty === '0') continue;
    const p = Number(price);
    let at = 0;
    while (at < out.length && (bids ? Number(out[at]![0]) > p : Number(out[at]![0]) < p)) at++;
    out.splice(at, 0, [price, qty]);
  }
  return out;
}

/** The protocol's checksum text over the best 10 levels a side, bid then ask on each row. */
function checksumText(bids: readonly Level[], asks: readonly Level[]): string {
  const parts: string[] = [];
  for (let i = 0; i < 10; i++) {
    const b = bids[i];
    if (b !== undefined) parts.push(b[0], b[1]);
    const a = asks[i];
    if (a !== undefined) parts.push(a[0], a[1]);
  }
  return parts.join(':');
}

/** Counters of one subscriber, or summed over many. */
export interface CheckCounts {
  /** Frames received while counting. */
  frames: number;
  /** Updates whose seq was not the previous plus one (and heartbeats that disagreed). */
  gaps: number;
  /** Book messages whose checksum did not match the rebuilt book. */
  checksumFailures: number;
  /** `conflated` notices (the server withheld updates: this subscriber was too slow). */
  conflations: number;
  /** Fresh snapshots after the first on a channel (resyncs after conflation). */
  resyncs: number;
  /** Book messages checked. */
  bookChecks: number;
  errors: number;
}

export function emptyCounts(): CheckCounts {
  return { frames: 0, gaps: 0, checksumFailures: 0, conflations: 0, resyncs: 0, bookChecks: 0, errors: 0 };
}

/** One subscriber to a book channel and a trades channel. */
export class Subscriber {
  readonly counts = emptyCounts();
  counting = false;
  /** Last seq per channel; undefined before its snapshot. */
  readonly seq = new Map<string, number>();
  #book: BookState | null = null;
  #bookChannel: string;
  /** Channels conflated: updates are skipped until the resyncing snapshot. */
  #waiting = new Set<string>();

  constructor(bookChannel: string) {
    this.#bookChannel = bookChannel;
  }

  get bookState(): BookState | null {
    return this.#book;
  }

  take(m: FeedMsg): void {
    const c = this.counts;
    if (this.counting) c.frames++;
    const ch = m.channel;
    if (ch === undefined) {
      if (m.type === 'error') c.errors++;
      return;
    }
    const last = this.seq.get(ch);
    switch (m.type) {
      case 'snapshot':
        if (last !== undefined) c.resyncs++;
        this.#waiting.delete(ch);
        this.seq.set(ch, m.seq!);
        if (ch === this.#bookChannel) this.#check(BookState.of(m));
        return;
      case 'update':
        if (this.#waiting.has(ch)) return;
        if (last === undefined || m.seq !== last + 1) c.gaps++;
        this.seq.set(ch, m.seq!);
        if (ch === this.#bookChannel && this.#book !== null) this.#check(this.#book.after(m));
        return;
      case 'heartbeat':
        if (!this.#waiting.has(ch) && m.seq !== last) c.gaps++;
        return;
      case 'conflated':
        c.conflations++;
        this.#waiting.add(ch);
        return;
      default:
        return;
    }
  }

  #check(state: BookState): void {
    this.#book = state;
    this.counts.bookChecks++;
    if (!state.ok) this.counts.checksumFailures++;
  }
}
