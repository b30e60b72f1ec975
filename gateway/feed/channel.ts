/**
 * One market-data channel: its own gap-free sequence, the last `retain` update frames (a ring,
 * to serve `fromSeq` after a reconnect), its subscribers, and when it last sent something (for
 * heartbeats). Every message is serialized once into a Buffer that every subscriber receives;
 * the snapshot too is cached until the next update, so a burst of subscribers costs one.
 */
import type { FeedClient } from './client.ts';

/** The per-connection state of the feed. */
export interface Peer {
  readonly client: FeedClient;
  readonly subs: Map<Channel, Subscription>;
  /** Closed as a slow consumer: sends are skipped until it is dropped. */
  doomed: boolean;
}

/** One client on one channel. */
export interface Subscription {
  readonly peer: Peer;
  readonly channel: Channel;
  /** Updates withheld (slow consumer) until a fresh snapshot. */
  conflated: boolean;
}

/** Bytes retained by every channel of one feed, for the metrics. */
export interface Retained {
  bytes: number;
}

export abstract class Channel {
  /** The name on the wire (`book.10:ACME@evm:31337`). */
  readonly name: string;
  /** The name quoted as a JSON string, ready to splice into frames. */
  readonly quoted: string;
  /** The internal key: the name, plus the visible venues for a consolidated book. */
  readonly key: string;
  /** Seq of the last update (0 before the first). */
  seq = 0;
  /** When this channel last sent a frame (update or heartbeat), by the feed's clock. */
  lastSentAt: number;
  readonly subs: Subscription[] = [];
  #retain: number;
  #ring: Buffer[] = [];
  /** Index in the ring of the oldest retained frame, once it is full. */
  #oldest = 0;
  #retained: Retained;
  #snapshot: Buffer | null = null;

  constructor(name: string, key: string, retain: number, retained: Retained, now: number) {
    this.name = name;
    this.quoted = JSON.stringify(name);
    this.key = key;
    this.#retain = retain;
    this.#retained = retained;
    this.lastSentAt = now;
  }

  /** Frames retained now (never more than `retain`). */
  get retainedFrames(): number {
    return this.#ring.length;
  }

  /** Records the update numbered `seq + 1` (the frame must carry that number). */
  append(frame: Buffer, now: number): void {
    this.seq++;
    this.lastSentAt = now;
    this.#snapshot = null;
    if (this.#retain === 0) return;
    const ring = this.#ring;
    this.#retained.bytes += frame.length;
    if (ring.length < this.#retain) {
      ring.push(frame);
      return;
    }
    this.#retained.bytes -= ring[this.#oldest]!.length;
    ring[this.#oldest] = frame;
    this.#oldest = (this.#oldest + 1) % ring.length;
  }

  /** Whether every update after `fromSeq` is retained (none at all when `fromSeq` is the last). */
  canReplay(fromSeq: number): boolean {
    return Number.isSafeInteger(fromSeq) && fromSeq <= this.seq && fromSeq >= this.seq - this.#ring.length;
  }

  /** The retained update numbered `seq` (check `canReplay` first). */
  frame(seq: number): Buffer {
    const ring = this.#ring;
    const back = this.seq - seq; // 0 for the newest
    return ring[(this.#oldest + ring.length - 1 - back) % ring.length]!;
  }

  /** A snapshot of the channel at its current seq. Cached until the next update. */
  snapshot(now: number): Buffer {
    this.#snapshot ??= Buffer.from(this.render(now));
    return this.#snapshot;
  }

  /** The heartbeat frame (allocates: once a second per idle channel at most). */
  heartbeat(): Buffer {
    return Buffer.from(`{"type":"heartbeat","channel":${this.quoted},"seq":${this.seq}}`);
  }

  /** The `conflated` notice: updates after `seq` are withheld until a fresh snapshot. */
  conflatedNotice(): Buffer {
    return Buffer.from(`{"type":"conflated","channel":${this.quoted},"seq":${this.seq}}`);
  }

  /** Forgets the retained frames (the channel is being discarded). */
  release(): void {
    for (const f of this.#ring) this.#retained.bytes -= f.length;
    this.#ring = [];
    this.#oldest = 0;
  }

  /** The snapshot message as JSON text. */
  protected abstract render(now: number): string;
}

/** A level of a channel's view of one book side, sorted by `rank` from the best. */
export interface ViewLevel {
  readonly rank: number;
  readonly wire: readonly [string, string, ...unknown[]];
}

/**
 * Appends to `out` what changes the client's side `old` into `next` (both best first): new and
 * changed levels as they are, and each level gone from view as `gone(level)`. Returns whether
 * anything changed.
 */
export function diffSide<L extends ViewLevel>(
  old: readonly L[],
  next: readonly L[],
  nextLength: number,
  same: (a: L, b: L) => boolean,
  gone: (a: L) => readonly unknown[],
  out: unknown[],
): boolean {
  const before = out.length;
  let i = 0;
  let j = 0;
  while (i < old.length || j < nextLength) {
    const a = old[i];
    const b = j < nextLength ? next[j] : undefined;
    if (b === undefined || (a !== undefined && a.rank < b.rank)) {
      out.push(gone(a!));
      i++;
    } else if (a === undefined || b.rank < a.rank) {
      out.push(b.wire);
      j++;
    } else {
      if (!same(a, b)) out.push(b.wire);
      i++;
      j++;
    }
  }
  return out.length > before;
}
