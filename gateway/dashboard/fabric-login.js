// A login with a Fabric identity: a PEM member certificate and its PEM private key (PKCS#8, or
// SEC1 "EC PRIVATE KEY"), read from files the user picks. The key is imported into WebCrypto,
// not extractable, and signs the server's challenge text in the page: ECDSA P-256 over SHA-256,
// DER, low-S, as the `x509` scheme of docs/ws-protocol.md wants. Only the certificate and the
// signature are sent; the key never leaves the browser.

import { challenge, logIn } from './session.js';

/** The order of the P-256 group: an s above half of it is replaced by n - s (low-S). */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The base64 body of a PEM block labelled `label` as bytes, or null when there is none. */
function pemBody(text, label) {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  if (m === null) return null;
  return Uint8Array.from(atob(m[1].replace(/\s+/g, '')), (c) => c.charCodeAt(0));
}

/** A DER element: its tag, its length in DER's form, its content. */
function der(tag, content) {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([tag, ...length, ...content]);
}

/** A SEC1 EC private key (RFC 5915) wrapped as the PKCS#8 that WebCrypto imports. */
function pkcs8OfSec1(sec1) {
  const ecPublicKey = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
  const prime256v1 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
  const algorithm = der(0x30, [...ecPublicKey, ...prime256v1]);
  return der(0x30, [0x02, 0x01, 0x00, ...algorithm, ...der(0x04, sec1)]);
}

/** Imports a PEM P-256 private key for signing only; throws naming what is wrong with it. */
async function importKey(pem) {
  const pkcs8 = pemBody(pem, 'PRIVATE KEY');
  const sec1 = pkcs8 === null ? pemBody(pem, 'EC PRIVATE KEY') : null;
  if (pkcs8 === null && sec1 === null) {
    throw new Error('the key file is not a PEM private key ("BEGIN PRIVATE KEY" or "BEGIN EC PRIVATE KEY")');
  }
  if (crypto.subtle === undefined) {
    throw new Error(
      'this page is not a secure context (https or localhost): the browser offers no WebCrypto',
    );
  }
  try {
    return await crypto.subtle.importKey(
      'pkcs8',
      pkcs8 ?? pkcs8OfSec1(sec1),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
  } catch (err) {
    throw new Error(`the key is not an ECDSA P-256 private key (${err.message})`, { cause: err });
  }
}

/** A DER INTEGER of a non-negative BigInt. */
function derInteger(n) {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = hex.match(/../g).map((b) => parseInt(b, 16));
  if (bytes[0] >= 0x80) bytes.unshift(0);
  return der(0x02, bytes);
}

/** WebCrypto's signature (r and s, 32 bytes each) as DER with s in the low half. */
function lowSDer(raw) {
  const hex = (bytes) => BigInt(`0x${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
  const r = hex(raw.slice(0, 32));
  let s = hex(raw.slice(32));
  if (s > N / 2n) s = N - s;
  return der(0x30, [...derInteger(r), ...derInteger(s)]);
}

/**
 * Logs in as the member whose certificate (`certificatePem`) and key (`keyPem`) were chosen,
 * for MSP `mspId`: the challenge text signed here, the certificate and signature sent.
 */
export async function loginWithFabric(certificatePem, keyPem, mspId) {
  // The first certificate of the file (a file may hold its chain too).
  const block = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/.exec(certificatePem);
  if (block === null) throw new Error('the certificate file is not a PEM certificate ("BEGIN CERTIFICATE")');
  if (mspId.trim() === '') throw new Error('enter the MSP id of the certificate’s organization');
  const key = await importKey(keyPem);
  const { nonce, message } = await challenge();
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(message)),
  );
  const signature = btoa(String.fromCharCode(...lowSDer(raw)));
  await logIn({ scheme: 'x509', nonce, mspId: mspId.trim(), certificate: `${block[0]}\n`, signature });
}
