/**
 * Login by signed challenge (gateway/auth): real keys and certificates, no mocks. Every failure
 * asserts its error code and that the message names the problem.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isGatewayError } from '../../gateway/errors.ts';
import { type AuthOptions, Authenticator, type LoginProof } from '../../gateway/auth/index.ts';
import {
  evmLogin,
  type FabricMember,
  issue,
  makeMsp,
  makeWallet,
  type Msp,
  withS,
  x509Login,
} from '../support/identities.ts';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** An authenticator on a clock the test moves by assigning `clock.now`. */
function setup(options: Partial<AuthOptions> = {}): { auth: Authenticator; clock: { now: number } } {
  const clock = { now: Date.now() };
  const auth = new Authenticator({ msps: [], now: () => clock.now, ...options });
  return { auth, clock };
}

/** `fn` throws a GatewayError of `code` whose message matches `message`. */
function throwsGateway(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isGatewayError(err), `expected a GatewayError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('challenges', () => {
  it('are fresh 32-byte nonces whose text and typed data name the nonce and expiry', () => {
    const { auth } = setup({ now: () => T0 });
    const a = auth.challenge();
    const b = auth.challenge();
    assert.match(a.nonce, /^[0-9a-f]{64}$/);
    assert.notEqual(a.nonce, b.nonce);
    assert.equal(a.expiresAt, T0 + 60_000);
    assert.match(a.message, /^Mosaic login\n/);
    assert.ok(a.message.includes(`nonce: ${a.nonce}`));
    assert.ok(a.message.includes('expires: 2030-01-01T00:01:00.000Z'));
    assert.deepEqual(a.typedData, {
      domain: { name: 'Mosaic', version: '1' },
      types: {
        Login: [
          { name: 'nonce', type: 'string' },
          { name: 'expires', type: 'uint256' },
        ],
      },
      primaryType: 'Login',
      message: { nonce: a.nonce, expires: T0 + 60_000 },
    });
  });

  it('take the domain name and time to live from the options', () => {
    const { auth } = setup({ now: () => T0, domainName: 'Acme', ttlMs: 5_000 });
    const c = auth.challenge();
    assert.equal(c.expiresAt, T0 + 5_000);
    assert.match(c.message, /^Acme login\n/);
    assert.equal(c.typedData.domain.name, 'Acme');
  });

  it('refuse an unknown nonce', () => {
    const { auth } = setup();
    const wallet = makeWallet();
    const login = evmLogin(wallet, auth.challenge(), 'eip191');
    throwsGateway(
      () => auth.verify({ ...login, nonce: 'ab'.repeat(32) }),
      'CHALLENGE_EXPIRED',
      /nonce "abababababababab…" is unknown, already used or expired/,
    );
  });

  it('refuse a nonce used by a successful login', () => {
    const { auth } = setup();
    const login = evmLogin(makeWallet(), auth.challenge(), 'eip191');
    auth.verify(login);
    throwsGateway(() => auth.verify(login), 'CHALLENGE_EXPIRED', /already used/);
  });

  it('are consumed by a failed attempt too', () => {
    const { auth } = setup();
    const wallet = makeWallet();
    const good = evmLogin(wallet, auth.challenge(), 'eip191');
    throwsGateway(() => auth.verify({ ...good, address: makeWallet().address }), 'AUTH_FAILED', /made by/);
    throwsGateway(() => auth.verify(good), 'CHALLENGE_EXPIRED', /already used/);
  });

  it('expire after the time to live', () => {
    const { auth, clock } = setup();
    const wallet = makeWallet();
    const onTime = auth.challenge();
    const late = auth.challenge();
    clock.now += 60_000;
    assert.equal(auth.verify(evmLogin(wallet, onTime, 'eip191')).kind, 'evm');
    clock.now += 1;
    throwsGateway(
      () => auth.verify(evmLogin(wallet, late, 'eip191')),
      'CHALLENGE_EXPIRED',
      new RegExp(`expired at ${new Date(late.expiresAt).toISOString()}`),
    );
  });

  it('are swept once expired', () => {
    const { auth, clock } = setup();
    for (let i = 0; i < 10; i++) auth.challenge();
    assert.equal(auth.outstandingChallenges, 10);
    clock.now += 60_001;
    const fresh = auth.challenge();
    assert.equal(auth.outstandingChallenges, 1);
    auth.verify(evmLogin(makeWallet(), fresh, 'eip712'));
    assert.equal(auth.outstandingChallenges, 0);
  });

  it("keep each address's most recent ones, its oldest dropped first", () => {
    const { auth } = setup({ perAddress: 3 });
    const mine = Array.from({ length: 5 }, () => auth.challenge('10.0.0.1'));
    const theirs = auth.challenge('10.0.0.2');
    assert.equal(auth.outstandingChallenges, 4);
    const wallet = makeWallet();
    for (const dropped of mine.slice(0, 2)) {
      throwsGateway(() => auth.verify(evmLogin(wallet, dropped, 'eip191')), 'CHALLENGE_EXPIRED', /unknown/);
    }
    for (const kept of [...mine.slice(2), theirs]) auth.verify(evmLogin(wallet, kept, 'eip191'));
  });

  it("are capped: a flood of addresses is refused, it pushes out no one's challenge", () => {
    const { auth, clock } = setup({ maxChallenges: 3 });
    const signer = auth.challenge('10.0.0.1');
    auth.challenge('10.0.0.2');
    auth.challenge('10.0.0.3');
    throwsGateway(
      () => auth.challenge('10.0.0.4'),
      'RATE_LIMITED',
      /as many login challenges as it may \(3\); retry in 60001 ms/,
    );
    assert.equal(auth.outstandingChallenges, 3);
    clock.now += 20_000;
    assert.equal(auth.verify(evmLogin(makeWallet(), signer, 'eip712')).kind, 'evm');
    auth.challenge('10.0.0.4');
  });

  it('are capped at 100,000 by default', () => {
    const { auth } = setup();
    for (let i = 0; i < 100_000; i++) auth.challenge(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(auth.outstandingChallenges, 100_000);
    throwsGateway(() => auth.challenge('10.1.0.0'), 'RATE_LIMITED', /100000/);
  });

  it('refuse a bad time to live or cap at construction', () => {
    throwsGateway(() => setup({ ttlMs: 0 }), 'BAD_CONFIG', /ttlMs must be a positive integer/);
    throwsGateway(
      () => setup({ maxChallenges: -1 }),
      'BAD_CONFIG',
      /maxChallenges must be a positive integer/,
    );
  });

  it('refuse an unknown scheme, consuming the nonce', () => {
    const { auth } = setup();
    const login = evmLogin(makeWallet(), auth.challenge(), 'eip191');
    const proof = { ...login, scheme: 'eip4361' } as unknown as LoginProof;
    throwsGateway(
      () => auth.verify(proof),
      'AUTH_FAILED',
      /scheme "eip4361" is not one of eip191, eip712, x509/,
    );
    throwsGateway(() => auth.verify(login), 'CHALLENGE_EXPIRED', /already used/);
  });
});

describe('Ethereum logins (eip191, eip712)', () => {
  for (const scheme of ['eip191', 'eip712'] as const) {
    it(`${scheme}: a signature by the claimed address logs in as its checksummed address`, () => {
      const { auth } = setup();
      const wallet = makeWallet();
      const login = evmLogin(wallet, auth.challenge(), scheme);
      const identity = auth.verify({ ...login, address: wallet.address.toLowerCase() });
      assert.deepEqual(identity, { kind: 'evm', address: wallet.address });
      assert.equal(auth.accountOf(identity), wallet.address);
    });

    it(`${scheme}: a signature by another key names both addresses`, () => {
      const { auth } = setup();
      const signer = makeWallet();
      const claimed = makeWallet();
      const login = evmLogin(signer, auth.challenge(), scheme);
      throwsGateway(
        () => auth.verify({ ...login, address: claimed.address }),
        'AUTH_FAILED',
        new RegExp(`${scheme} signature was made by ${signer.address}, not ${claimed.address}`),
      );
    });

    it(`${scheme}: a signature of another challenge does not verify`, () => {
      const { auth } = setup();
      const wallet = makeWallet();
      const first = auth.challenge();
      const other = evmLogin(wallet, auth.challenge(), scheme);
      throwsGateway(
        () => auth.verify({ ...other, nonce: first.nonce }),
        'AUTH_FAILED',
        new RegExp(
          `was made by 0x[0-9a-fA-F]{40}, not ${wallet.address} \\(or it signs another challenge\\)`,
        ),
      );
    });
  }

  it('eip712: what ethers signTypedData makes of the typed data as sent verifies', async () => {
    const { auth } = setup();
    const wallet = makeWallet();
    const c = JSON.parse(JSON.stringify(auth.challenge())) as ReturnType<Authenticator['challenge']>;
    const { domain, types, message } = c.typedData;
    const signature = await wallet.signTypedData(domain, types, message);
    const identity = auth.verify({ scheme: 'eip712', nonce: c.nonce, address: wallet.address, signature });
    assert.deepEqual(identity, { kind: 'evm', address: wallet.address });
  });

  it('eip191: what ethers signMessage makes of the text verifies', async () => {
    const { auth } = setup();
    const wallet = makeWallet();
    const c = auth.challenge();
    const signature = await wallet.signMessage(c.message);
    assert.equal(
      auth.verify({ scheme: 'eip191', nonce: c.nonce, address: wallet.address, signature }).kind,
      'evm',
    );
  });

  it('an eip191 signature sent as eip712 does not verify', () => {
    const { auth } = setup();
    const wallet = makeWallet();
    const login = evmLogin(wallet, auth.challenge(), 'eip191');
    throwsGateway(
      () => auth.verify({ ...login, scheme: 'eip712' }),
      'AUTH_FAILED',
      /eip712 signature was made by/,
    );
  });

  const badSignatures: Array<[string, string, RegExp]> = [
    ['not hex', `0x${'zz'.repeat(65)}`, /eip191 signature is not 0x and 130 hex digits/],
    ['without 0x', 'ab'.repeat(65), /eip191 signature is not 0x and 130 hex digits/],
    ['too short', '0x1234', /eip191 signature is not 0x and 130 hex digits/],
    [
      'r = 0',
      `0x${'00'.repeat(32)}${'11'.repeat(32)}1b`,
      /eip191 signature is not a valid secp256k1 signature/,
    ],
    ['bad v', `0x${'11'.repeat(64)}05`, /eip191 signature is not a valid secp256k1 signature/],
  ];
  for (const [what, signature, message] of badSignatures) {
    it(`a malformed signature (${what}) fails naming the signature`, () => {
      const { auth } = setup();
      const wallet = makeWallet();
      const login = evmLogin(wallet, auth.challenge(), 'eip191');
      throwsGateway(() => auth.verify({ ...login, signature }), 'AUTH_FAILED', message);
    });
  }

  it('keeps the ethers error as the cause', () => {
    const { auth } = setup();
    const login = evmLogin(makeWallet(), auth.challenge(), 'eip191');
    try {
      auth.verify({ ...login, signature: `0x${'11'.repeat(64)}05` });
      assert.fail('expected a throw');
    } catch (err) {
      assert.ok(isGatewayError(err, 'AUTH_FAILED'));
      assert.ok(err.cause instanceof Error);
    }
  });

  const badAddresses: Array<[string, string]> = [
    ['too short', '0x1234'],
    ['not hex', `0x${'g'.repeat(40)}`],
    ['without 0x', 'a'.repeat(40)],
    ['an ENS name', 'alice.eth'],
  ];
  for (const [what, address] of badAddresses) {
    it(`a malformed address (${what}) fails naming the address`, () => {
      const { auth } = setup();
      const login = evmLogin(makeWallet(), auth.challenge(), 'eip712');
      throwsGateway(
        () => auth.verify({ ...login, address }),
        'AUTH_FAILED',
        new RegExp(`address ${JSON.stringify(address)} is not an Ethereum address`),
      );
    });
  }
});

describe('Fabric logins (x509)', () => {
  let bankA: Msp;
  let bankB: Msp;
  let stale: Msp;
  let alice: FabricMember;

  before(async () => {
    [bankA, bankB, stale] = await Promise.all([
      makeMsp('BankAMSP'),
      makeMsp('BankBMSP'),
      makeMsp('StaleMSP', { expired: true }),
    ]);
    alice = await issue(bankA, 'alice');
  });

  function fabric(options: Partial<AuthOptions> = {}): Authenticator {
    return setup({ msps: [bankA.config, bankB.config, stale.config], ...options }).auth;
  }

  it('a member of a configured MSP logs in as MSPID:CommonName', () => {
    const auth = fabric();
    const identity = auth.verify(x509Login(alice, auth.challenge()));
    assert.equal(identity.kind, 'fabric');
    assert.ok(identity.kind === 'fabric');
    assert.equal(identity.mspId, 'BankAMSP');
    assert.equal(identity.commonName, 'alice');
    assert.equal(identity.subject, 'CN=alice\nOU=client\nO=BankAMSP');
    assert.equal(auth.accountOf(identity), 'BankAMSP:alice');
  });

  it('a root among several of an MSP will do', async () => {
    const other = await makeMsp('BankAMSP');
    const auth = setup({ msps: [{ mspId: 'BankAMSP', rootCerts: [other.rootCert, bankA.rootCert] }] }).auth;
    assert.equal(auth.verify(x509Login(alice, auth.challenge())).kind, 'fabric');
  });

  it('a certificate from another CA is refused', async () => {
    const auth = fabric();
    const bob = await issue(bankB, 'bob');
    throwsGateway(
      () => auth.verify(x509Login(bob, auth.challenge(), { mspId: 'BankAMSP' })),
      'AUTH_FAILED',
      /not issued by a root CA of BankAMSP \(its issuer is CN=ca\.bankbmsp\.example, O=BankBMSP\)/,
    );
  });

  it('a certificate naming the right CA but signed by another key is refused', async () => {
    const auth = fabric();
    const forged = await issue(bankA, 'mallory', { signedBy: bankB });
    throwsGateway(
      () => auth.verify(x509Login(forged, auth.challenge())),
      'AUTH_FAILED',
      /certificate is not issued by a root CA of BankAMSP/,
    );
  });

  it('a certificate presented for another MSP id is refused', () => {
    const auth = fabric();
    throwsGateway(
      () => auth.verify(x509Login(alice, auth.challenge(), { mspId: 'BankBMSP' })),
      'AUTH_FAILED',
      /certificate is not issued by a root CA of BankBMSP/,
    );
  });

  it('an unknown MSP id is refused by name', () => {
    const auth = fabric();
    throwsGateway(
      () => auth.verify(x509Login(alice, auth.challenge(), { mspId: 'NopeMSP' })),
      'AUTH_FAILED',
      /MSP "NopeMSP" is not configured on this server/,
    );
  });

  it('an expired certificate is refused with its expiry', async () => {
    const auth = fabric();
    const old = await issue(bankA, 'old', { expired: true });
    throwsGateway(
      () => auth.verify(x509Login(old, auth.challenge())),
      'AUTH_FAILED',
      /^certificate expired at \d{4}-\d\d-\d\dT/,
    );
  });

  it('a certificate not yet valid is refused', async () => {
    const auth = fabric();
    const early = await issue(bankA, 'early', { notBefore: new Date(Date.now() + 3_600_000) });
    throwsGateway(
      () => auth.verify(x509Login(early, auth.challenge())),
      'AUTH_FAILED',
      /is not valid before/,
    );
  });

  it('a certificate is judged by the injected clock', () => {
    const auth = fabric({ now: () => Date.now() + 2 * 365 * 24 * 3_600_000 });
    throwsGateway(
      () => auth.verify(x509Login(alice, auth.challenge())),
      'AUTH_FAILED',
      /certificate expired at/,
    );
  });

  it('a certificate from an expired root is refused naming the root', async () => {
    const auth = fabric();
    const member = await issue(stale, 'carol');
    throwsGateway(
      () => auth.verify(x509Login(member, auth.challenge())),
      'AUTH_FAILED',
      /root CA CN=ca\.stalemsp\.example, O=StaleMSP of StaleMSP expired at/,
    );
  });

  it('a certificate with a P-384 key is refused', async () => {
    const auth = fabric();
    const p384 = await issue(bankA, 'dave', { curve: 'P-384' });
    throwsGateway(
      () => auth.verify(x509Login(p384, auth.challenge())),
      'AUTH_FAILED',
      /certificate key is ec secp384r1, not EC P-256/,
    );
  });

  it('a high-S signature is refused', () => {
    const auth = fabric();
    throwsGateway(
      () => auth.verify(x509Login(alice, auth.challenge(), { highS: true })),
      'AUTH_FAILED',
      /signature is not low-S/,
    );
  });

  it('the same signature made low-S verifies', () => {
    const auth = fabric();
    const login = x509Login(alice, auth.challenge(), { highS: true });
    const low = withS(Buffer.from(login.signature, 'base64'), 'low').toString('base64');
    assert.equal(auth.verify({ ...login, signature: low }).kind, 'fabric');
  });

  it('a signature of another challenge does not verify', () => {
    const auth = fabric();
    const first = auth.challenge();
    const other = x509Login(alice, auth.challenge());
    throwsGateway(
      () => auth.verify({ ...other, nonce: first.nonce }),
      'AUTH_FAILED',
      /x509 signature does not verify with the certificate's key/,
    );
  });

  it('a signature by another key does not verify', async () => {
    const auth = fabric();
    const eve = await issue(bankA, 'eve');
    const login = x509Login(eve, auth.challenge());
    throwsGateway(
      () => auth.verify({ ...login, certificate: alice.certificate }),
      'AUTH_FAILED',
      /does not verify with the certificate's key/,
    );
  });

  /** Mutations of a valid low-S DER signature, and hand-made ones, each breaking strict DER or its range. */
  const badDer: Array<[string, (der: Buffer) => Buffer, RegExp]> = [
    [
      'a trailing byte',
      () => Buffer.concat([seq(int([1]), int([1])), Buffer.from([0])]),
      /SEQUENCE length does not/,
    ],
    ['bytes after s', () => seq(int([1]), int([1]), Buffer.from([0, 0])), /it has bytes after s/],
    [
      'not a SEQUENCE',
      (d) => Buffer.concat([Buffer.from([0x31]), d.subarray(1)]),
      /not start with a DER SEQUENCE/,
    ],
    ['only r', (d) => seq(d.subarray(2, 4 + (d[3] ?? 0))), /s is not a DER INTEGER/],
    ['a padded r', () => seq(int([0, 1]), int([1])), /r is not minimally encoded/],
    ['a negative r', () => seq(int([0x80]), int([1])), /r is negative/],
    ['r = 0', () => seq(int([0]), int([1])), /r is not between 1 and n - 1/],
    [
      's = n',
      () => seq(int([1]), int([0, ...Buffer.from(P256_N_HEX, 'hex')])),
      /s is not between 1 and n - 1/,
    ],
    ['too long', () => Buffer.alloc(73, 1), /it is 73 bytes, not 8 to 72/],
  ];
  for (const [what, mutate, message] of badDer) {
    it(`a malformed DER signature (${what}) is refused`, () => {
      const auth = fabric();
      const login = x509Login(alice, auth.challenge());
      const signature = mutate(Buffer.from(login.signature, 'base64')).toString('base64');
      throwsGateway(() => auth.verify({ ...login, signature }), 'AUTH_FAILED', message);
    });
  }

  it('a signature that is not base64 is refused', () => {
    const auth = fabric();
    const login = x509Login(alice, auth.challenge());
    throwsGateway(
      () => auth.verify({ ...login, signature: 'not base64!' }),
      'AUTH_FAILED',
      /x509 signature is not base64 of a DER ECDSA signature/,
    );
  });

  const garbage: Array<[string, string]> = [
    ['random text', 'hello'],
    ['a PEM of junk', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
    ['a truncated certificate', ''],
  ];
  for (const [what, pem] of garbage) {
    it(`a garbage PEM (${what}) is refused`, () => {
      const auth = fabric();
      const login = x509Login(alice, auth.challenge());
      const certificate = pem === '' ? alice.certificate.slice(0, 200) : pem;
      throwsGateway(
        () => auth.verify({ ...login, certificate }),
        'AUTH_FAILED',
        /certificate is not a PEM X\.509 certificate/,
      );
    });
  }

  it('an account name over 64 characters is refused', async () => {
    const auth = fabric();
    const long = await issue(bankA, 'x'.repeat(56));
    const identity = auth.verify(x509Login(long, auth.challenge()));
    assert.ok(identity.kind === 'fabric');
    assert.equal(auth.accountOf({ ...identity, commonName: 'x'.repeat(55) }), `BankAMSP:${'x'.repeat(55)}`);
    throwsGateway(
      () => auth.accountOf(identity),
      'AUTH_FAILED',
      /account name "BankAMSP:x+" is 65 characters; it must be 1 to 64/,
    );
  });

  it('a bad MSP configuration stops the server from starting', () => {
    throwsGateway(
      () => new Authenticator({ msps: [{ mspId: 'A:B', rootCerts: [bankA.rootCert] }] }),
      'BAD_CONFIG',
      /MSP id "A:B" must be a non-empty string without ":"/,
    );
    throwsGateway(
      () => new Authenticator({ msps: [bankA.config, bankA.config] }),
      'BAD_CONFIG',
      /MSP BankAMSP is configured twice/,
    );
    throwsGateway(
      () => new Authenticator({ msps: [{ mspId: 'BankAMSP', rootCerts: ['junk'] }] }),
      'BAD_CONFIG',
      /root certificate 0 of MSP BankAMSP is not a PEM X\.509 certificate/,
    );
    throwsGateway(
      () => new Authenticator({ msps: [{ mspId: 'BankAMSP', rootCerts: [alice.certificate] }] }),
      'BAD_CONFIG',
      /root certificate 0 of MSP BankAMSP \(CN=alice, OU=client, O=BankAMSP\) is not a CA/,
    );
    throwsGateway(
      () => new Authenticator({ msps: [{ mspId: 'BankAMSP', rootCerts: [] }] }),
      'BAD_CONFIG',
      /MSP BankAMSP has no root certificates/,
    );
  });
});

const P256_N_HEX = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';

/** A DER SEQUENCE of the given content. */
function seq(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** A DER INTEGER with exactly these content bytes (possibly not minimal). */
function int(bytes: number[]): Buffer {
  return Buffer.from([0x02, bytes.length, ...bytes]);
}
