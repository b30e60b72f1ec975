/**
 * The book checksum of the protocol (docs/ws-protocol.md, "Checksum"): CRC-32 IEEE 802.3 (the
 * one of zlib and PNG) over `price:qty` pairs interleaved bid, ask, bid, ask... zlib's, native in
 * Node 20.15 and later.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/** CRC-32 (IEEE) of a string's UTF-8 bytes: the book strings are ASCII. */
export function crc32(text: string): number {
  return zlibCrc32(text);
}

/** A level as it travels: its price and quantity strings first. */
export type WireLevel = readonly [string, string, ...unknown[]];

/**
 * The checksum string of the protocol over the best `n` levels of each side (best first):
 * `bid0.price:bid0.qty:ask0.price:ask0.qty:bid1...`, the missing side of a row left out.
 */
function checksumText(bids: readonly WireLevel[], asks: readonly WireLevel[], n: number): string {
  return text(bids, asks, n, plain);
}

/** The protocol's checksum of a book: CRC-32 of `checksumText`. */
export function bookChecksum(bids: readonly WireLevel[], asks: readonly WireLevel[], n: number): number {
  return crc32(checksumText(bids, asks, n));
}

/** `bookChecksum` over levels that carry their wire form (a channel's view), without copying. */
export function viewChecksum(
  bids: ReadonlyArray<{ readonly wire: WireLevel }>,
  asks: ReadonlyArray<{ readonly wire: WireLevel }>,
  n: number,
): number {
  return crc32(text(bids, asks, n, viewed));
}

const plain = (l: WireLevel): WireLevel => l;
const viewed = (l: { readonly wire: WireLevel }): WireLevel => l.wire;

function text<L>(bids: readonly L[], asks: readonly L[], n: number, wire: (l: L) => WireLevel): string {
  let s = '';
  const rows = Math.min(n, Math.max(bids.length, asks.length));
  for (let i = 0; i < rows; i++) {
    const b = bids[i];
    if (b !== undefined) s += `${wire(b)[0]}:${wire(b)[1]}:`;
    const a = asks[i];
    if (a !== undefined) s += `${wire(a)[0]}:${wire(a)[1]}:`;
  }
  return s.length === 0 ? s : s.slice(0, -1);
}
