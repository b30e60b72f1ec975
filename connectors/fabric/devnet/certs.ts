/**
 * The devnet peer's own identity: a P-256 devnet CA and a peer certificate it issues, written
 * in DER with node:crypto alone (the devnet runs in `npm start`, where @peculiar/x509, a dev
 * dependency, is not at hand). Only what an X.509 parser and `checkIssued`/`verify` need.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const DAY_MS = 24 * 60 * 60 * 1000;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...body: Buffer[]): Buffer {
  const content = Buffer.concat(body);
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const seq = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts);

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const base128: number[] = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) base128.unshift(0x80 | (v & 0x7f));
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function name(commonName: string, organization: string): Buffer {
  const attribute = (type: string, value: string): Buffer =>
    tlv(0x31, seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))));
  return seq(attribute('2.5.4.10', organization), attribute('2.5.4.3', commonName));
}

function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2025-01-02T03:04:05.678Z
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/** A certificate and its private key. */
export interface KeyedCert {
  /** PEM. */
  certificate: string;
  privateKey: KeyObject;
}

function certificate(
  subject: Buffer,
  issuer: Buffer,
  publicKey: KeyObject,
  signingKey: KeyObject,
  isCa: boolean,
): string {
  const now = Date.now();
  const serial = randomBytes(8);
  // A positive INTEGER in its shortest form: first byte 0x40-0x7f (a leading zero byte, which a
  // bare `& 0x7f` gives one time in 128, is "illegal padding" to OpenSSL's DER parser).
  serial[0] = 0x40 | ((serial[0] ?? 0) & 0x3f);
  const basicConstraints = seq(
    oid('2.5.29.19'),
    tlv(0x01, Buffer.from([0xff])), // critical
    tlv(0x04, isCa ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()),
  );
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, serial),
    ECDSA_SHA256,
    issuer,
    seq(utcTime(new Date(now - DAY_MS)), utcTime(new Date(now + 3650 * DAY_MS))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(basicConstraints)),
  );
  const signature = sign('sha256', tbs, { key: signingKey, dsaEncoding: 'der' });
  const der = seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.from([0]), signature));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

/** The name of `mspId`'s CA. */
const caName = (mspId: string) => name(`ca.${mspId.toLowerCase()}.devnet`, mspId);

/** A fresh self-signed root CA for `mspId` (`CN=ca.<mspid>.devnet, O=<mspId>`). */
export function makeCa(mspId: string): KeyedCert {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    certificate: certificate(caName(mspId), caName(mspId), keys.publicKey, keys.privateKey, true),
    privateKey: keys.privateKey,
  };
}

/** A member certificate `CN=<commonName>, O=<mspId>` with a fresh key, issued by `mspId`'s CA `ca`. */
export function issueMember(ca: KeyedCert, mspId: string, commonName: string): KeyedCert {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    certificate: certificate(name(commonName, mspId), caName(mspId), keys.publicKey, ca.privateKey, false),
    privateKey: keys.privateKey,
  };
}

/** A fresh devnet CA for `mspId` and a peer certificate `CN=<peerName>` issued by it. */
export function makePeerIdentity(mspId: string, peerName: string): { ca: KeyedCert; peer: KeyedCert } {
  const ca = makeCa(mspId);
  return { ca, peer: issueMember(ca, mspId, peerName) };
}
