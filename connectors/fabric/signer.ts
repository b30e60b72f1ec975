/**
 * Signatures as Fabric wants them, on node:crypto: ECDSA P-256 over SHA-256, DER, low-S (s <= n/2;
 * Fabric refuses the other of the two valid s). fabric-gateway's own signer computes them in
 * pure JavaScript (@noble/curves), about 1.2 ms each on this project's machine, three per
 * transaction (proposal, transaction, commit status request); node:crypto (OpenSSL) takes a
 * small fraction of that.
 */
import { type KeyObject, sign } from 'node:crypto';
import type { Signer } from '@hyperledger/fabric-gateway';

/** The order of the P-256 group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** A DER INTEGER of the unsigned big-endian `bytes`, minimally encoded. */
function derInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const body = bytes.subarray(start);
  const pad = (body[0] ?? 0) >= 0x80 ? [0] : [];
  return Buffer.concat([Buffer.from([0x02, body.length + pad.length, ...pad]), body]);
}

/** A low-S DER ECDSA P-256 signature of SHA-256 of `message` by `key`. */
export function signLowS(message: Uint8Array, key: KeyObject): Buffer {
  const raw = sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' });
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  const lowS =
    s > P256_N >> 1n ? Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex') : raw.subarray(32);
  const body = Buffer.concat([derInteger(raw.subarray(0, 32)), derInteger(lowS)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** A fabric-gateway signer for `key`; use it with `hash: hash.none` (it hashes the message itself). */
export function fabricSigner(key: KeyObject): Signer {
  return (message) => Promise.resolve(signLowS(message, key));
}
