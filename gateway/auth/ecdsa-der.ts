/**
 * The DER form of an ECDSA P-256 signature, parsed strictly by hand: Fabric accepts only low-S
 * signatures (s <= n/2), and node:crypto neither exposes `s` nor refuses a high-S one, so the
 * check needs `s` itself. A signature is at most 72 bytes, so the parser stays small.
 */

/** The order of the P-256 group. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** The largest low-S value. */
export const P256_HALF_N = P256_N >> 1n;

/** `r` and `s` of a DER `SEQUENCE { INTEGER r, INTEGER s }`. */
export interface EcdsaSignature {
  r: bigint;
  s: bigint;
}

/**
 * Parses a strict DER ECDSA P-256 signature. Returns a reason string instead of throwing, so the
 * caller can word the error for its context.
 */
export function parseEcdsaDer(der: Uint8Array): EcdsaSignature | string {
  // SEQUENCE, short-form length (a P-256 signature is at most 2 + 2 * (2 + 33) = 72 bytes).
  if (der.length < 8 || der.length > 72) return `it is ${der.length} bytes, not 8 to 72`;
  if (der[0] !== 0x30) return 'it does not start with a DER SEQUENCE';
  if (der[1] !== der.length - 2) return 'its SEQUENCE length does not match its size';
  const r = readInteger(der, 2);
  if (typeof r === 'string') return `r ${r}`;
  const s = readInteger(der, r.end);
  if (typeof s === 'string') return `s ${s}`;
  if (s.end !== der.length) return 'it has bytes after s';
  if (r.value === 0n || r.value >= P256_N) return 'r is not between 1 and n - 1';
  if (s.value === 0n || s.value >= P256_N) return 's is not between 1 and n - 1';
  return { r: r.value, s: s.value };
}

/** A positive, minimally encoded DER INTEGER of at most 33 bytes at `offset`. */
function readInteger(der: Uint8Array, offset: number): { value: bigint; end: number } | string {
  if (der[offset] !== 0x02) return 'is not a DER INTEGER';
  const length = der[offset + 1];
  if (length === undefined || length < 1 || length > 33) return 'has a bad length';
  const start = offset + 2;
  const end = start + length;
  if (end > der.length) return 'runs past the end';
  const first = der[start] ?? 0;
  if ((first & 0x80) !== 0) return 'is negative';
  if (length > 1 && first === 0 && ((der[start + 1] ?? 0) & 0x80) === 0) return 'is not minimally encoded';
  return { value: BigInt(`0x${Buffer.from(der.subarray(start, end)).toString('hex')}`), end };
}
