/**
 * Who signed a request: the creator is a `msp.SerializedIdentity` (MSP id + PEM certificate);
 * the certificate must be issued directly by one of that MSP's root CAs and be within its
 * validity period; the signature is ECDSA P-256 over SHA-256, DER, low-S (Fabric refuses high-S).
 */
import { X509Certificate, createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { msp } from '@hyperledger/fabric-protos';
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

/** The MSPs of the channel and the checks on their members' signatures. */
export class MspRegistry {
  readonly #roots = new Map<string, X509Certificate[]>();

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
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(Buffer.from(identity.getIdBytes_asU8()));
    } catch (err) {
      throw new DevnetError(
        status.PERMISSION_DENIED,
        `creator's certificate cannot be parsed (${mspId})`,
        [],
        {
          cause: err,
        },
      );
    }
    const issued = roots.some((root) => certificate.checkIssued(root) && certificate.verify(root.publicKey));
    if (!issued)
      refuse(`creator's certificate "${certificate.subject}" is not issued by a root CA of ${mspId}`);
    if (certificate.publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      refuse(`creator's certificate key is not ECDSA P-256 (the devnet verifies P-256 signatures only)`);
    }
    const now = Date.now();
    if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) {
      refuse(
        `creator's certificate is outside its validity period (${certificate.validFrom} - ${certificate.validTo})`,
      );
    }
    return { mspId, certificate, bytes };
  }

  /** Checks that `creator` signed `message` (ECDSA over SHA-256, DER, low-S). */
  checkSignature(creator: Creator, message: Uint8Array, signature: Uint8Array): void {
    const s = derS(signature);
    if (s === undefined) refuse(`signature by ${creator.mspId} is not a DER ECDSA signature`);
    if (s > P256_HALF_N) refuse(`signature by ${creator.mspId} is not in low-S form`);
    const key = { key: creator.certificate.publicKey, dsaEncoding: 'der' as const };
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
    const der = sign('sha256', message, { key: this.#key, dsaEncoding: 'der' });
    const s = derS(der);
    return s !== undefined && s > P256_HALF_N ? lowS(der, s) : der;
  }

  /** Whether `signature` over `message` is this identity's. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return verify('sha256', message, { key: this.certificate.publicKey, dsaEncoding: 'der' }, signature);
  }
}

function lowS(der: Buffer, s: bigint): Buffer {
  const rLength = der[3] ?? 0;
  const r = der.subarray(2, 4 + rLength);
  let hex = (P256_HALF_N * 2n + 1n - s).toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  const sBytes = Buffer.from(hex, 'hex');
  const body = Buffer.concat([r, Buffer.from([0x02, sBytes.length]), sBytes]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
