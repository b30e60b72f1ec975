/**
 * The client's Fabric signatures (node:crypto): DER, low-S as Fabric requires, verifying with the
 * key's certificate; either s that OpenSSL draws comes out low.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { fabricSigner, signLowS } from '../../connectors/fabric/signer.ts';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** r and s of a DER signature, checking its structure on the way. */
function rs(der: Buffer): { r: bigint; s: bigint } {
  assert.equal(der[0], 0x30);
  assert.equal(der[1], der.length - 2);
  const int = (at: number) => {
    assert.equal(der[at], 0x02);
    const len = der[at + 1]!;
    const bytes = der.subarray(at + 2, at + 2 + len);
    assert.ok(bytes[0]! < 0x80, 'a DER INTEGER is positive');
    assert.ok(len === 1 || bytes[0] !== 0 || bytes[1]! >= 0x80, 'and minimally encoded');
    return { value: BigInt(`0x${bytes.toString('hex')}`), end: at + 2 + len };
  };
  const r = int(2);
  const s = int(r.end);
  assert.equal(s.end, der.length);
  return { r: r.value, s: s.value };
}

describe('Fabric signer', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  it('signs DER, low-S, verifying with the public key, for 300 messages', () => {
    for (let i = 0; i < 300; i++) {
      const message = Buffer.from(`message ${i}`);
      const der = signLowS(message, privateKey);
      const { r, s } = rs(der);
      assert.ok(r > 0n && r < N);
      assert.ok(s > 0n && s <= N >> 1n, `signature ${i} is low-S`);
      assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, der));
    }
  });

  it("is a fabric-gateway signer over the whole message (the gateway's hash.none)", async () => {
    const message = Buffer.from('a proposal');
    const der = Buffer.from(await fabricSigner(privateKey)(message));
    assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, der));
  });
});
