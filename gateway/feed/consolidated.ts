/**
 * `consolidated.N:SYMBOL`: one security's L2 book merged across the venues a session may see.
 * Prices are compared as numbers (venues may have different ticks) and shown with the most
 * price decimals of the venues merged; a level's quantity is the sum of the venues' (in units
 * of the security, with the most quantity decimals), and `{venue: quantity}` breaks it down.
 *
 * One channel per distinct set of visible venues: its internal key carries the sorted venue
 * list, so sessions that see the same venues share one serialization.
 */
import BigNumber from 'bignumber.js';
import type { Retained } from './channel.ts';
import { Decimals } from '../decimals.ts';
import type { InstrumentFeed } from './instrument-feed.ts';
import type { L2Level } from './l2-book.ts';
import { LevelsChannel } from './levels-channel.ts';

/** One merged level. */
interface MergedLevel {
  readonly rank: number;
  /** Total and breakdown, to tell a changed level from an unchanged one. */
  readonly sig: string;
  readonly wire: readonly [string, string, Record<string, string>];
}

const sameLevel = (a: MergedLevel, b: MergedLevel): boolean => a.sig === b.sig;
const goneLevel = (a: MergedLevel): readonly unknown[] => [a.wire[0], '0', {}];

/** The internal key of a consolidated channel: its name and the venues it merges. */
export function consolidatedKey(name: string, feeds: readonly InstrumentFeed[]): string {
  return `${name}|${feeds.map((f) => f.venue).join(',')}`;
}

export class ConsolidatedChannel extends LevelsChannel<MergedLevel> {
  /** The instruments merged, sorted by venue. */
  readonly feeds: readonly InstrumentFeed[];
  #priceDecimals: number;
  /** Each venue's lot in units of 10^-quantityDecimals (an integer). */
  #lotScale: number[];
  #quantities: Decimals;
  #cursor: number[];

  constructor(
    name: string,
    retain: number,
    retained: Retained,
    now: number,
    feeds: readonly InstrumentFeed[],
    depth: number,
  ) {
    super(name, consolidatedKey(name, feeds), retain, retained, now, depth, sameLevel, goneLevel);
    this.feeds = feeds;
    this.#priceDecimals = Math.max(...feeds.map((f) => f.spec.priceDecimals));
    const q = Math.max(...feeds.map((f) => f.spec.quantityDecimals));
    this.#lotScale = feeds.map((f) => new BigNumber(f.spec.lotSize).shiftedBy(q).toNumber());
    this.#quantities = new Decimals(q === 0 ? '1' : `0.${'0'.repeat(q - 1)}1`, q);
    this.#cursor = feeds.map(() => 0);
    this.reset(this.#merge('buy'), this.#merge('sell'));
  }

  /** Brings the view up to the venues' books; returns the update frame (appended), or null. */
  refresh(ts: number, now: number): Buffer | null {
    return this.update(this.#merge('buy'), this.#merge('sell'), ts, now);
  }

  protected render(now: number): string {
    return this.snapshotText(this.#ts(now));
  }

  /** The timestamp of the last command that touched one of the venues (now if none did). */
  #ts(now: number): number {
    const ts = Math.max(...this.feeds.map((f) => f.ts));
    return ts < 0 ? now : ts;
  }

  /** The best `depth` merged levels of one side (a venue's levels beyond its own top N cannot be among them). */
  #merge(side: 'buy' | 'sell'): MergedLevel[] {
    const feeds = this.feeds;
    const cursor = this.#cursor;
    const sign = side === 'buy' ? -1 : 1;
    cursor.fill(0);
    const out: MergedLevel[] = [];
    while (out.length < this.depth) {
      let best = Infinity;
      let first: L2Level | undefined;
      for (let k = 0; k < feeds.length; k++) {
        const l = levelsOf(feeds[k]!, side)[cursor[k]!];
        if (l === undefined) continue;
        const r = sign * Number(l.wire[0]);
        if (r < best) {
          best = r;
          first = l;
        }
      }
      if (first === undefined) break;
      let units = 0;
      let sig = '';
      const venues: Record<string, string> = {};
      for (let k = 0; k < feeds.length; k++) {
        const f = feeds[k]!;
        const l = levelsOf(f, side)[cursor[k]!];
        if (l === undefined || sign * Number(l.wire[0]) !== best) continue;
        units += l.lots * this.#lotScale[k]!;
        venues[f.venue] = l.wire[1];
        sig += `${f.venue}=${l.wire[1]};`;
        cursor[k]!++;
      }
      const quantity = this.#quantities.format(units);
      out.push({ rank: best, sig: quantity + sig, wire: [this.#price(first.wire[0]), quantity, venues] });
    }
    return out;
  }

  /** A venue's price string with the most decimals of the venues merged. */
  #price(text: string): string {
    const dot = text.indexOf('.');
    const have = dot < 0 ? 0 : text.length - dot - 1;
    const want = this.#priceDecimals;
    if (have >= want) return text;
    return (dot < 0 ? `${text}.` : text) + '0'.repeat(want - have);
  }
}

function levelsOf(f: InstrumentFeed, side: 'buy' | 'sell'): readonly L2Level[] {
  return side === 'buy' ? f.book.bids : f.book.asks;
}
