// The book checksum of the protocol (docs/ws-protocol.md, "Checksum"): CRC-32 (IEEE 802.3, the
// one of zlib and PNG) over a string of the best levels of both sides.

/** Levels a checksum covers at most. */
export const CHECKSUM_LEVELS = 10;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of an ASCII string, as an unsigned 32-bit integer. */
export function crc32(text) {
  let c = 0xffffffff;
  for (let i = 0; i < text.length; i++) c = CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** `bid0.price:bid0.qty:ask0.price:ask0.qty:bid1...` over the best `n` levels, last ':' dropped. */
export function checksumText(bids, asks, n = CHECKSUM_LEVELS) {
  let s = '';
  for (let i = 0; i < n; i++) {
    const b = bids[i];
    const a = asks[i];
    if (b === undefined && a === undefined) break;
    if (b !== undefined) s += `${b[0]}:${b[1]}:`;
    if (a !== undefined) s += `${a[0]}:${a[1]}:`;
  }
  return s.slice(0, -1);
}
