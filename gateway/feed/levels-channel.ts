/**
 * What a book channel and a consolidated channel share: a view of the best N levels a side (what
 * the subscribers hold), the update that turns the view into the new top N, the checksum over
 * the view's best min(N, 10) levels, and the snapshot.
 */
import { Channel, type Retained, diffSide, type ViewLevel } from './channel.ts';
import { viewChecksum } from './checksum.ts';

/** Levels a checksum covers at most. */
export const CHECKSUM_LEVELS = 10;

export abstract class LevelsChannel<L extends ViewLevel> extends Channel {
  readonly depth: number;
  #bids: L[] = [];
  #asks: L[] = [];
  #same: (a: L, b: L) => boolean;
  #gone: (a: L) => readonly unknown[];

  constructor(
    name: string,
    key: string,
    retain: number,
    retained: Retained,
    now: number,
    depth: number,
    same: (a: L, b: L) => boolean,
    gone: (a: L) => readonly unknown[],
  ) {
    super(name, key, retain, retained, now);
    this.depth = depth;
    this.#same = same;
    this.#gone = gone;
  }

  /** The checksum of the view: its best min(N, 10) levels. */
  checksum(): number {
    return viewChecksum(this.#bids, this.#asks, Math.min(this.depth, CHECKSUM_LEVELS));
  }

  /** Sets the view without a message (at creation). */
  protected reset(bids: readonly L[], asks: readonly L[]): void {
    copy(bids, this.#bids, this.depth);
    copy(asks, this.#asks, this.depth);
  }

  /**
   * Brings the view to the new best levels (best first; only the first N count); returns the
   * update frame, already appended, or null when the top N did not change.
   */
  protected update(bids: readonly L[], asks: readonly L[], ts: number, now: number): Buffer | null {
    const n = this.depth;
    const bidOut: unknown[] = [];
    const askOut: unknown[] = [];
    const b = diffSide(this.#bids, bids, Math.min(n, bids.length), this.#same, this.#gone, bidOut);
    const a = diffSide(this.#asks, asks, Math.min(n, asks.length), this.#same, this.#gone, askOut);
    if (!b && !a) return null;
    if (b) copy(bids, this.#bids, n);
    if (a) copy(asks, this.#asks, n);
    const frame = Buffer.from(
      `{"type":"update","channel":${this.quoted},"seq":${this.seq + 1},"bids":${JSON.stringify(bidOut)},` +
        `"asks":${JSON.stringify(askOut)},"checksum":${this.checksum()},"ts":${ts}}`,
    );
    this.append(frame, now);
    return frame;
  }

  /** The snapshot message of the view as JSON text, stamped `ts`. */
  protected snapshotText(ts: number): string {
    const bids = this.#bids.map((l) => l.wire);
    const asks = this.#asks.map((l) => l.wire);
    return (
      `{"type":"snapshot","channel":${this.quoted},"seq":${this.seq},"bids":${JSON.stringify(bids)},` +
      `"asks":${JSON.stringify(asks)},"checksum":${this.checksum()},"ts":${ts}}`
    );
  }
}

function copy<L>(from: readonly L[], to: L[], depth: number): void {
  const n = Math.min(depth, from.length);
  to.length = n;
  for (let i = 0; i < n; i++) to[i] = from[i]!;
}
