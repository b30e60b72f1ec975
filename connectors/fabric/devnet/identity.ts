/**
 * Who signed a request: the creator is a `msp.SerializedIdentity` (MSP id + PEM certificate);
 * the certificate must be issued directly by one of that MSP's root CAs and be within its
 * validity period; the signature is ECDSA P-256 over SHA-256, DER, low-S (Fabric refuses high-S).
 */
import { X509Certificate, createPrivateKey, verify, type KeyObject } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { msp } from '@hyperledger/fabric-protos';
import { signLowS } from '../signer.ts';
import { DevnetError } from './errors.ts';

const P256_HALF_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n / 2n;

/** An MSP the devnet trusts: its id and root CA certificates (PEM). */
export interface DevnetMsp {
  mspId: string;
  rootCerts: readonly string[];
}

/** A creator whose certificate has been checked. */
export interface Creator {
  mspId: string;
  certificate: X509Certificate;
  /** The certificate's key (`certificate.publicKey` makes a new one each time it is read). */
  publicKey: KeyObject;
  /** The serialized identity, as it travels in headers. */
  bytes: Uint8Array;
}

function refuse(message: string): never {
  throw new DevnetError(status.PERMISSION_DENIED, message);
}

/** The s of a DER ECDSA signature, or undefined when it is not one. */
function derS(der: Uint8Array): bigint | undefined {
  if (der.length < 8 || der[0] !== 0x30) return undefined;
  let at = 2;
  const rLength = der[at + 1];
  if (der[at] !== 0x02 || rLength === undefined) return undefined;
  at += 2 + rLength;
  const sLength = der[at + 1];
  if (der[at] !== 0x02 || sLength === undefined || at + 2 + sLength !== der.length) return undefined;
  return BigInt(`0x${Buffer.from(der.subarray(at + 2)).toString('hex') || '0'}`);
}

/** How many certificates an MSP registry keeps checked (forgotten all at once past that). */
const CHECKED_CERTIFICATES = 1_024;

/** A certificate parsed and found issued by a root of its MSP, with a P-256 key. */
interface Checked {
  certificate: X509Certificate;
  publicKey: KeyObject;
  validFrom: number;
  validTo: number;
}

/** Parses `pem` and checks who issued it and its key; refuses (PERMISSION_DENIED) with the reason. */
function checkedCertificate(mspId: string, roots: readonly X509Certificate[], pem: Buffer): Checked {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (err) {
    throw new DevnetError(status.PERMISSION_DENIED, `creator's certificate cannot be parsed (${mspId})`, [], {
      cause: err,
    });
  }
  const issued = roots.some((root) => certificate.checkIssued(root) && certificate.verify(root.publicKey));
  if (!issued)
    refuse(`creator's certificate "${certificate.subject}" is not issued by a root CA of ${mspId}`);
  const publicKey = certificate.publicKey;
  if (publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    refuse(`creator's certificate key is not ECDSA P-256 (the devnet verifies P-256 signatures only)`);
  }
  return {
    certificate,
    publicKey,
    validFrom: Date.parse(certificate.validFrom),
    validTo: Date.parse(certificate.validTo),
  };
}

/**
 * The MSPs of the channel and the checks on their members' signatures. A certificate's issuer and
 * key are checked once (the checked ones kept, as a peer's MSP cache does), its validity period at
 * every use.
 */
export class MspRegistry {
  readonly #roots = new Map<string, X509Certificate[]>();
  readonly #checked = new Map<string, Checked>();

  constructor(msps: readonly DevnetMsp[]) {
    for (const { mspId, rootCerts } of msps) {
      this.#roots.set(
        mspId,
        rootCerts.map((pem) => new X509Certificate(pem)),
      );
    }
  }

  /** Parses and checks a serialized identity; refuses (PERMISSION_DENIED) with the reason. */
  creator(bytes: Uint8Array): Creator {
    let identity: msp.SerializedIdentity;
    try {
      identity = msp.SerializedIdentity.deserializeBinary(bytes);
    } catch (err) {
      throw new DevnetError(status.INVALID_ARGUMENT, 'creator is not a msp.SerializedIdentity', [], {
        cause: err,
      });
    }
    const mspId = identity.getMspid();
    const roots = this.#roots.get(mspId);
    if (roots === undefined) refuse(`creator's MSP "${mspId}" is not a member of the channel`);
    const pem = Buffer.from(identity.getIdBytes_asU8());
    const key = `${mspId}\n${pem.toString('latin1')}`;
    let checked = this.#checked.get(key);
    if (checked === undefined) {
      checked = checkedCertificate(mspId, roots, pem);
      if (this.#checked.size >= CHECKED_CERTIFICATES) this.#checked.clear();
      this.#checked.set(key, checked);
    }
    const { certificate, publicKey, validFrom, validTo } = checked;
    const now = Date.now();
    if (now < validFrom || now > validTo) {
      refuse(
        `creator's certificate is outside its validity period (${certificate.validFrom} - ${certificate.validTo})`,
      );
    }
    return { mspId, certificate, publicKey, bytes };
  }

  /** Checks that `creator` signed `message` (ECDSA over SHA-256, DER, low-S). */
  checkSignature(creator: Creator, message: Uint8Array, signature: Uint8Array): void {
    const s = derS(signature);
    if (s === undefined) refuse(`signature by ${creator.mspId} is not a DER ECDSA signature`);
    if (s > P256_HALF_N) refuse(`signature by ${creator.mspId} is not in low-S form`);
    const key = { key: creator.publicKey, dsaEncoding: 'der' as const };
    if (!verify('sha256', message, key, signature)) {
      refuse(`signature by ${creator.mspId} "${creator.certificate.subject}" does not verify`);
    }
  }
}

/** The devnet peer: signs endorsements with its own key. */
export class SigningIdentity {
  readonly mspId: string;
  readonly certificate: X509Certificate;
  /** The serialized identity (`endorser` of an endorsement). */
  readonly serialized: Uint8Array;
  readonly #key: KeyObject;

  constructor(mspId: string, certificatePem: string, privateKey: KeyObject | string) {
    this.mspId = mspId;
    this.certificate = new X509Certificate(certificatePem);
    this.#key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
    const identity = new msp.SerializedIdentity();
    identity.setMspid(mspId);
    identity.setIdBytes(Buffer.from(certificatePem, 'utf8'));
    this.serialized = identity.serializeBinary();
  }

  /** A low-S DER ECDSA signature over SHA-256 of `message`. */
  sign(message: Uint8Array): Buffer {
    return signLowS(message, this.#key);
  }

  /** Whether `signature` over `message` is this identity's. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return verify('sha256', message, { key: this.certificate.publicKey, dsaEncoding: 'der' }, signature);
  }
}
