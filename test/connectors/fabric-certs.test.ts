/**
 * The identities the devnet and the embedded Fabric connector make with node:crypto alone: each
 * certificate is DER that OpenSSL reads, and the member is issued by its CA. A thousand of each,
 * since a fault in the encoding of a random field (the serial) shows only now and then.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { makeIdentity } from '../../connectors/fabric/index.ts';

describe('identities made with node:crypto', () => {
  it('are certificates OpenSSL reads, the member issued by its CA, a thousand times over', () => {
    for (let i = 0; i < 1000; i++) {
      const { ca, peer } = makeIdentity('BankAMSP', `member-${i}`);
      const root = new X509Certificate(ca.certificate);
      const member = new X509Certificate(peer.certificate);
      assert.ok(member.checkIssued(root) && member.verify(root.publicKey), `identity ${i}`);
      assert.match(member.subject, new RegExp(`CN=member-${i}`));
    }
  });
});
