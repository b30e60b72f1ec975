/**
 * Fabric logins: a member certificate issued by a root CA of the claimed MSP, with an EC P-256
 * key, and a low-S DER ECDSA signature of the challenge text by that key. Only node:crypto is
 * used; root certificates are parsed once, when the authenticator is built.
 */
import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { makeError } from '../errors.ts';
import { P256_HALF_N, parseEcdsaDer } from './ecdsa-der.ts';
import type { Identity, X509Proof } from './identity.ts';

/** The root CAs trusted for one Fabric MSP. */
export interface MspConfig {
  /** The MSP id; no `:`, since the account is `MSPID:CommonName`. */
  mspId: string;
  /** PEM root certificates; a member certificate must be issued directly by one of them. */
  rootCerts: string[];
}

/** Larger than any sane member certificate; parsing stops there. */
const MAX_CERTIFICATE_CHARS = 16_384;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The configured MSPs, their roots parsed and checked once at start-up. */
export class MspRegistry {
  readonly #roots = new Map<string, X509Certificate[]>();

  /** Throws BAD_CONFIG naming the MSP and root at fault. */
  constructor(msps: readonly MspConfig[]) {
    for (const { mspId, rootCerts } of msps) {
      if (typeof mspId !== 'string' || mspId.length === 0 || mspId.includes(':')) {
        throw makeError(
          `MSP id ${JSON.stringify(mspId)} must be a non-empty string without ":"`,
          'BAD_CONFIG',
        );
      }
      if (this.#roots.has(mspId)) throw makeError(`MSP ${mspId} is configured twice`, 'BAD_CONFIG');
      if (!Array.isArray(rootCerts) || rootCerts.length === 0) {
        throw makeError(`MSP ${mspId} has no root certificates`, 'BAD_CONFIG', { mspId });
      }
      this.#roots.set(
        mspId,
        rootCerts.map((pem, i) => parseRoot(mspId, i, pem)),
      );
    }
  }

  /** Verifies an x509 proof of the challenge `message` at time `now` (Unix ms). */
  verify(proof: X509Proof, message: string, now: number): Identity {
    const mspId: unknown = proof.mspId;
    const roots = typeof mspId === 'string' ? this.#roots.get(mspId) : undefined;
    if (typeof mspId !== 'string' || roots === undefined) {
      const shown = JSON.stringify(typeof mspId === 'string' ? mspId.slice(0, 64) : mspId);
      throw makeError(`MSP ${shown} is not configured on this server`, 'AUTH_FAILED');
    }
    const cert = parseCertificate(proof.certificate);
    checkValidity(cert, now, 'certificate', mspId);
    checkIssuer(cert, roots, mspId, now);
    checkKey(cert);
    checkSignature(cert, proof.signature, message);
    const subject = cert.subject;
    return { kind: 'fabric', mspId, subject, commonName: commonNameOf(subject) };
  }
}

function parseRoot(mspId: string, index: number, pem: string): X509Certificate {
  let root: X509Certificate;
  try {
    root = new X509Certificate(pem);
  } catch (err) {
    throw makeError(
      `root certificate ${index} of MSP ${mspId} is not a PEM X.509 certificate`,
      'BAD_CONFIG',
      { mspId },
      err,
    );
  }
  if (!root.ca) {
    throw makeError(
      `root certificate ${index} of MSP ${mspId} (${oneLine(root.subject)}) is not a CA`,
      'BAD_CONFIG',
      { mspId },
    );
  }
  return root;
}

function parseCertificate(pem: unknown): X509Certificate {
  if (typeof pem !== 'string' || pem.length > MAX_CERTIFICATE_CHARS) {
    throw makeError(
      `certificate must be a PEM string of at most ${MAX_CERTIFICATE_CHARS} characters`,
      'AUTH_FAILED',
    );
  }
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw makeError(
      `certificate is not a PEM X.509 certificate: ${err instanceof Error ? err.message : String(err)}`,
      'AUTH_FAILED',
      {},
      err,
    );
  }
}

/** Whether `cert` is valid at `now`; `what` and `mspId` word the error. */
function checkValidity(cert: X509Certificate, now: number, what: string, mspId: string): void {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) {
    throw makeError(`${what} has unreadable validity dates`, 'AUTH_FAILED', { mspId });
  }
  if (now < notBefore) {
    throw makeError(`${what} is not valid before ${new Date(notBefore).toISOString()}`, 'AUTH_FAILED', {
      mspId,
    });
  }
  if (now > notAfter) {
    throw makeError(`${what} expired at ${new Date(notAfter).toISOString()}`, 'AUTH_FAILED', { mspId });
  }
}

/** Some valid root of the MSP both names itself issuer of `cert` and signed it. */
function checkIssuer(
  cert: X509Certificate,
  roots: readonly X509Certificate[],
  mspId: string,
  now: number,
): void {
  const issuer = roots.find((root) => cert.checkIssued(root) && signedBy(cert, root));
  if (issuer === undefined) {
    throw makeError(
      `certificate is not issued by a root CA of ${mspId} (its issuer is ${oneLine(cert.issuer)})`,
      'AUTH_FAILED',
      { mspId },
    );
  }
  checkValidity(issuer, now, `root CA ${oneLine(issuer.subject)} of ${mspId}`, mspId);
}

function signedBy(cert: X509Certificate, root: X509Certificate): boolean {
  try {
    return cert.verify(root.publicKey);
  } catch {
    return false; // a key type that cannot have signed it
  }
}

function checkKey(cert: X509Certificate): void {
  const key = cert.publicKey;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const kind = [key.asymmetricKeyType ?? 'of unknown type', curve].filter((part) => part !== undefined);
    throw makeError(`certificate key is ${kind.join(' ')}, not EC P-256 (prime256v1)`, 'AUTH_FAILED');
  }
}

function checkSignature(cert: X509Certificate, signature: unknown, message: string): void {
  if (typeof signature !== 'string' || signature.length > 200 || !BASE64.test(signature)) {
    throw makeError('x509 signature is not base64 of a DER ECDSA signature', 'AUTH_FAILED');
  }
  const der = Buffer.from(signature, 'base64');
  const parsed = parseEcdsaDer(der);
  if (typeof parsed === 'string') {
    throw makeError(`x509 signature is not a DER ECDSA P-256 signature: ${parsed}`, 'AUTH_FAILED');
  }
  if (parsed.s > P256_HALF_N) {
    throw makeError(
      'x509 signature is not low-S (s > n/2), as Fabric requires: replace s with n - s',
      'AUTH_FAILED',
    );
  }
  let ok: boolean;
  try {
    ok = verifySignature(
      'sha256',
      Buffer.from(message, 'utf8'),
      { key: cert.publicKey, dsaEncoding: 'der' },
      der,
    );
  } catch (err) {
    throw makeError(
      'x509 signature could not be checked against the certificate key',
      'AUTH_FAILED',
      {},
      err,
    );
  }
  if (!ok) {
    throw makeError(
      "x509 signature does not verify with the certificate's key: sign this challenge's message with it",
      'AUTH_FAILED',
    );
  }
}

/**
 * The one CN of a subject printed by node:crypto: one RDN per line, multi-valued RDNs joined by
 * " + " (a literal `+` in a value is escaped as `\+`, a newline as `\0A`).
 */
function commonNameOf(subject: string): string {
  const names = subject
    .split('\n')
    .flatMap((line) => line.split(/(?<!\\) \+ /))
    .filter((attribute) => attribute.startsWith('CN='))
    .map((attribute) => attribute.slice(3));
  const [commonName] = names;
  if (names.length !== 1 || commonName === undefined || commonName.length === 0) {
    throw makeError(
      `certificate subject must have exactly one non-empty CN, not ${names.length}: ${oneLine(subject)}`,
      'AUTH_FAILED',
    );
  }
  return commonName;
}

/** A multi-line node:crypto name on one line, for messages. */
function oneLine(name: string): string {
  return name.split('\n').join(', ');
}
