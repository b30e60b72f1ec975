/**
 * Ethereum logins: recover the signer of an eip191 `personal_sign` or an eip712 typed-data
 * signature with ethers and compare it to the claimed address. Every ethers exception becomes
 * an AUTH_FAILED that names the bad field, with the original kept as `cause`.
 */
import { getAddress, verifyMessage, verifyTypedData } from 'ethers';
import { makeError } from '../errors.ts';
import type { LoginTypedData } from './challenge.ts';
import type { EvmProof, Identity } from './identity.ts';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** 64-byte (EIP-2098 compact) or 65-byte signatures; ethers checks the rest. */
const SIGNATURE = /^0x(?:[0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/;

/**
 * Verifies an eip191 or eip712 proof against the challenge the server rebuilt from its own
 * table (never the client's copy) and returns the checksummed identity.
 */
export function verifyEvm(proof: EvmProof, message: string, typedData: LoginTypedData): Identity {
  const claimed = checksummed(proof.address);
  const signature: unknown = proof.signature;
  if (typeof signature !== 'string' || !SIGNATURE.test(signature)) {
    throw makeError(
      `${proof.scheme} signature is not 0x and 130 hex digits (65 bytes) or 128 (64 bytes)`,
      'AUTH_FAILED',
      { scheme: proof.scheme },
    );
  }
  let recovered: string;
  try {
    recovered =
      proof.scheme === 'eip191'
        ? verifyMessage(message, signature)
        : verifyTypedData(typedData.domain, typedData.types, typedData.message, signature);
  } catch (err) {
    throw makeError(
      `${proof.scheme} signature is not a valid secp256k1 signature: ${shortMessage(err)}`,
      'AUTH_FAILED',
      { scheme: proof.scheme },
      err,
    );
  }
  if (recovered.toLowerCase() !== claimed.toLowerCase()) {
    throw makeError(
      `${proof.scheme} signature was made by ${recovered}, not ${claimed}` +
        ' (or it signs another challenge): sign the message of this challenge with that key',
      'AUTH_FAILED',
      { scheme: proof.scheme, claimed, recovered },
    );
  }
  return { kind: 'evm', address: claimed };
}

/**
 * The EIP-55 form of `address`. Any case is accepted (the signature, not the checksum, proves
 * the key), but the shape must be `0x` and 40 hex digits.
 */
export function checksummed(address: unknown): string {
  if (typeof address !== 'string' || !ADDRESS.test(address)) {
    const shown =
      typeof address === 'string' ? JSON.stringify(address.slice(0, 50)) : `(a ${typeof address})`;
    throw makeError(
      `address ${shown} is not an Ethereum address: expected 0x and 40 hex digits`,
      'AUTH_FAILED',
    );
  }
  try {
    return getAddress(address.toLowerCase());
  } catch (err) {
    throw makeError(`address ${address} is not an Ethereum address`, 'AUTH_FAILED', {}, err);
  }
}

/** ethers errors carry a one-line `shortMessage`; fall back to the message. */
function shortMessage(err: unknown): string {
  if (err instanceof Error) {
    const short: unknown = (err as Error & { shortMessage?: unknown }).shortMessage;
    return typeof short === 'string' ? short : err.message;
  }
  return String(err);
}
