/**
 * The market-data frames the exchange sent during a fan-out run, as one of its subscribers got
 * them: the bare `ws` baseline (raw-server-main.ts) sends exactly these bytes to the same
 * number of subscribers, so both sides carry the same frames and the subscribers do the same
 * checks on them.
 */
import type { FeedMsg } from './book-check.ts';

/** One frame and the channel it belongs to. */
export interface CapturedFrame {
  channel: string;
  /** The frame's exact bytes (a copy: it crosses to another process). */
  frame: Uint8Array;
}

export interface Capture {
  /** The snapshot of each channel that its subscription began with. */
  snapshots: CapturedFrame[];
  /** Updates and heartbeats in arrival order, one segment per driver rate. */
  segments: CapturedFrame[][];
  /** The last seq of each channel in the capture. */
  lastSeq: Record<string, number>;
  /** False when the capturing subscriber was conflated or resynced, so frames are missing. */
  complete: boolean;
}

/** Records what one subscriber receives, segment by segment. */
export class FrameCapture {
  readonly capture: Capture = { snapshots: [], segments: [], lastSeq: {}, complete: true };
  /** Frames before the first segment begins belong to it. */
  #current: CapturedFrame[] = [];

  /** Frames from now on belong to a new segment (the first keeps what came before it). */
  nextSegment(): void {
    if (this.capture.segments.length > 0) this.#current = [];
    this.capture.segments.push(this.#current);
  }

  take(data: Buffer, m: FeedMsg): void {
    const channel = m.channel;
    if (channel === undefined) return;
    const c = this.capture;
    if (m.type === 'snapshot') {
      if (c.segments.length === 0 && c.lastSeq[channel] === undefined) {
        c.snapshots.push({ channel, frame: Uint8Array.from(data) });
        c.lastSeq[channel] = m.seq!;
      } else c.complete = false;
    } else if (m.type === 'conflated') {
      c.complete = false;
    } else if (m.type === 'update' || m.type === 'heartbeat') {
      this.#current.push({ channel, frame: Uint8Array.from(data) });
      if (m.type === 'update') c.lastSeq[channel] = m.seq!;
    }
  }
}
