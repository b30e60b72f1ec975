/**
 * Who a session is and how a client proves it: the identity a login yields and the proofs the
 * wire `login` message carries, one per scheme.
 */

/**
 * A verified ledger identity. The gateway keys accounts, permissions and venues off it, so it
 * holds only what was proven: an EVM key's address, or a Fabric member certificate's MSP and
 * names.
 */
export type Identity =
  /** `address` is EIP-55 checksummed, so two spellings of one key are one identity. */
  | { kind: 'evm'; address: string }
  /**
   * `subject` is the certificate subject as node:crypto prints it (one `KEY=value` per line,
   * RFC 2253 escaping); `commonName` is its CN, escaped the same way.
   */
  | { kind: 'fabric'; mspId: string; subject: string; commonName: string };

/**
 * An identity as its account name tells it (`0x…` or `MSPID:CommonName`): what a login with a
 * bearer token knows of the identity the token was issued to (a token carries no certificate).
 * Every `Identity` is one.
 */
export type NamedIdentity =
  { kind: 'evm'; address: string } | { kind: 'fabric'; mspId: string; commonName: string };

/** An Ethereum login: a `personal_sign` (eip191) or `signTypedData` (eip712) of the challenge. */
export interface EvmProof {
  scheme: 'eip191' | 'eip712';
  nonce: string;
  /** The claimed signer, `0x` and 40 hex digits in any case. */
  address: string;
  /** `0x` hex of the 65-byte (or 64-byte EIP-2098) signature. */
  signature: string;
}

/** A Fabric login: the challenge text signed by the key of a member certificate of `mspId`. */
export interface X509Proof {
  scheme: 'x509';
  nonce: string;
  mspId: string;
  /** The member certificate, PEM. */
  certificate: string;
  /** Base64 of a DER ECDSA P-256 signature, low-S, over SHA-256 of the UTF-8 challenge text. */
  signature: string;
}

/** The proof part of a wire `login` message. */
export type LoginProof = EvmProof | X509Proof;
