/**
 * `book.N:INSTRUMENT`: the best N levels a side of one instrument. The channel keeps its view
 * (what its subscribers hold) and, after each command, sends the difference to the book's new
 * top N: changed levels, levels gone (quantity "0"), and levels that entered the top N because
 * a better one left or pushed out by a better one. No message when the top N did not change.
 * The checksum covers the best min(N, 10) levels of the view.
 */
import type { Retained } from './channel.ts';
import type { InstrumentFeed } from './instrument-feed.ts';
import type { L2Book, L2Level } from './l2-book.ts';
import { LevelsChannel } from './levels-channel.ts';

const sameLevel = (a: L2Level, b: L2Level): boolean => a.lots === b.lots;
const goneLevel = (a: L2Level): readonly unknown[] => [a.wire[0], '0'];

export class BookChannel extends LevelsChannel<L2Level> {
  readonly feed: InstrumentFeed;
  readonly book: L2Book;

  constructor(
    name: string,
    retain: number,
    retained: Retained,
    now: number,
    feed: InstrumentFeed,
    depth: number,
  ) {
    super(name, name, retain, retained, now, depth, sameLevel, goneLevel);
    this.feed = feed;
    this.book = feed.book;
    this.reset(feed.book.bids, feed.book.asks);
  }

  /** Brings the view up to the book; returns the update frame (already appended), or null. */
  refresh(ts: number, now: number): Buffer | null {
    return this.update(this.book.bids, this.book.asks, ts, now);
  }

  protected render(now: number): string {
    return this.snapshotText(this.feed.ts < 0 ? now : this.feed.ts);
  }
}
