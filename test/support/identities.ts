/**
 * Throwaway identities for the gateway suites: Fabric MSPs (a root CA each) and member
 * certificates made with @peculiar/x509 over WebCrypto ECDSA keys, Ethereum wallets, and the
 * complete `login` message for each scheme built from a received challenge.
 *
 * Certificate making is async (WebCrypto, through Node's global `crypto`, the @peculiar/x509
 * default); everything else is synchronous. The low-S fix-up below is written independently of
 * `gateway/auth/ecdsa-der.ts`, so the suites test that parser rather than reuse it.
 */
import 'reflect-metadata'; // @peculiar/x509 (its tsyringe) needs a Reflect metadata polyfill
import { KeyObject, randomBytes, sign, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { TypedDataEncoder, Wallet } from 'ethers';
import type { Challenge, EvmProof, MspConfig, X509Proof } from '../../gateway/auth/index.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The part of a challenge a client needs to sign it (the wire `challenge` message will do). */
export type ReceivedChallenge = Pick<Challenge, 'nonce' | 'message' | 'typedData'>;
/** A wire `login` message without its request `id`. */
export type LoginMessage<P> = { op: 'login' } & P;

/** A Fabric MSP: its root CA and the config an `Authenticator` takes for it. */
export interface Msp {
  mspId: string;
  /** The root CA's distinguished name, e.g. `CN=ca.bankamsp.example, O=BankAMSP`. */
  name: string;
  /** The root certificate, PEM. */
  rootCert: string;
  keys: webcrypto.CryptoKeyPair;
  config: MspConfig;
}

/** A member certificate and its private key. */
export interface FabricMember {
  mspId: string;
  commonName: string;
  /** The member certificate, PEM. */
  certificate: string;
  privateKey: KeyObject;
  curve: 'P-256' | 'P-384';
}

/** How `makeMsp` and `issue` may bend a certificate. */
export interface CertOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** Valid from two days ago until yesterday. */
  expired?: boolean;
}

/** How `issue` may make a bad member certificate. */
export interface IssueOptions extends CertOptions {
  /** The member key's curve; default P-256. */
  curve?: 'P-256' | 'P-384';
  /**
   * A forgery: the certificate names `msp`'s root as its issuer (name and key id) but is signed
   * by this other MSP's root key.
   */
  signedBy?: Msp;
  /** Attributes in the Fabric CA certificate extension (OID 1.2.3.4.5.6.7.8.1), e.g. `{ role: 'investor' }`. */
  attributes?: Readonly<Record<string, string>>;
}

function ecKeys(curve: 'P-256' | 'P-384'): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, [
    'sign',
    'verify',
  ]) as Promise<webcrypto.CryptoKeyPair>;
}

function validity(options: CertOptions): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  if (options.expired === true) {
    return { notBefore: new Date(now - 2 * DAY_MS), notAfter: new Date(now - DAY_MS) };
  }
  return {
    notBefore: options.notBefore ?? new Date(now - DAY_MS),
    notAfter: options.notAfter ?? new Date(now + 365 * DAY_MS),
  };
}

const SHA256_ECDSA = { name: 'ECDSA', hash: 'SHA-256' };
/** Where Fabric CA puts a certificate's attributes (JSON `{"attrs": {...}}`). */
const FABRIC_ATTRIBUTES_OID = '1.2.3.4.5.6.7.8.1';

/** A new MSP with a self-signed P-256 root CA (`options` can make the root expired). */
export async function makeMsp(mspId: string, options: CertOptions = {}): Promise<Msp> {
  const keys = await ecKeys('P-256');
  const name = `CN=ca.${mspId.toLowerCase()}.example, O=${mspId}`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name,
    keys,
    ...validity(options),
    signingAlgorithm: SHA256_ECDSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const rootCert = cert.toString('pem');
  return { mspId, name, rootCert, keys, config: { mspId, rootCerts: [rootCert] } };
}

/** A member certificate `CN=<commonName>, OU=client, O=<mspId>` issued by `msp`'s root. */
export async function issue(msp: Msp, commonName: string, options: IssueOptions = {}): Promise<FabricMember> {
  const curve = options.curve ?? 'P-256';
  const keys = await ecKeys(curve);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject: `CN=${commonName}, OU=client, O=${msp.mspId}`,
    issuer: msp.name,
    ...validity(options),
    publicKey: keys.publicKey,
    signingKey: (options.signedBy ?? msp).keys.privateKey,
    signingAlgorithm: SHA256_ECDSA,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(msp.keys.publicKey),
      ...(options.attributes === undefined
        ? []
        : [
            new x509.Extension(
              FABRIC_ATTRIBUTES_OID,
              false,
              Buffer.from(JSON.stringify({ attrs: options.attributes })),
            ),
          ]),
    ],
  });
  return {
    mspId: msp.mspId,
    commonName,
    certificate: cert.toString('pem'),
    privateKey: KeyObject.from(keys.privateKey as webcrypto.CryptoKey),
    curve,
  };
}

/** A fresh random Ethereum wallet (no provider). */
export function makeWallet(): Wallet {
  return new Wallet(`0x${randomBytes(32).toString('hex')}`);
}

/**
 * The `login` message an Ethereum client sends: `signMessage` of the text (eip191) or
 * `signTypedData` of the typed data (eip712), computed synchronously with the wallet's key.
 */
export function evmLogin(
  wallet: Wallet,
  challenge: ReceivedChallenge,
  scheme: 'eip191' | 'eip712',
): LoginMessage<EvmProof> {
  const { domain, types, message } = challenge.typedData;
  const signature =
    scheme === 'eip191'
      ? wallet.signMessageSync(challenge.message)
      : wallet.signingKey.sign(TypedDataEncoder.hash(domain, types, message)).serialized;
  return { op: 'login', scheme, nonce: challenge.nonce, address: wallet.address, signature };
}

/**
 * The `login` message a Fabric client sends: a low-S DER ECDSA signature (base64) of the
 * challenge text by the member's key. `highS` flips s to n - s to make a signature Fabric
 * refuses; `mspId` claims another MSP.
 */
export function x509Login(
  member: FabricMember,
  challenge: ReceivedChallenge,
  options: { highS?: boolean; mspId?: string } = {},
): LoginMessage<X509Proof> {
  let der: Buffer = sign('sha256', Buffer.from(challenge.message, 'utf8'), {
    key: member.privateKey,
    dsaEncoding: 'der',
  });
  if (member.curve === 'P-256') der = withS(der, options.highS === true ? 'high' : 'low');
  return {
    op: 'login',
    scheme: 'x509',
    nonce: challenge.nonce,
    mspId: options.mspId ?? member.mspId,
    certificate: member.certificate,
    signature: der.toString('base64'),
  };
}

/** A DER P-256 signature with its s moved to the low (<= n/2) or high half. */
export function withS(der: Buffer, half: 'low' | 'high'): Buffer {
  const [r, s] = derIntegers(der);
  const low = s <= P256_N / 2n;
  const flip = half === 'low' ? !low : low;
  return flip ? derSignature(r, P256_N - s) : der;
}

function derIntegers(der: Buffer): [bigint, bigint] {
  const values: bigint[] = [];
  let at = 2;
  while (at < der.length) {
    const length = der.readUInt8(at + 1);
    values.push(BigInt(`0x${der.subarray(at + 2, at + 2 + length).toString('hex')}`));
    at += 2 + length;
  }
  const [r, s] = values;
  if (r === undefined || s === undefined || values.length !== 2) throw new Error('not a DER ECDSA signature');
  return [r, s];
}

function derSignature(r: bigint, s: bigint): Buffer {
  const integer = (n: bigint): Buffer => {
    let hex = n.toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
    const bytes = Buffer.from(hex, 'hex');
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([integer(r), integer(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
