/**
 * Login by signed challenge. The server hands out a single-use nonce; the client proves a
 * ledger identity by signing it with an Ethereum key (eip191 or eip712) or with the key of a
 * Fabric member certificate (x509). `Authenticator` is the whole API; see docs/ws-protocol.md,
 * "Identity and sessions".
 */
export { type AuthOptions, Authenticator, MAX_ACCOUNT_CHARS } from './authenticator.ts';
export type { Challenge } from './challenge.ts';
export type { EvmProof, Identity, LoginProof, NamedIdentity, X509Proof } from './identity.ts';
export type { MspConfig } from './x509.ts';
