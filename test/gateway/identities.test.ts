/**
 * Linked identities through the gateway, as a client written from docs/ws-protocol.md does it: an
 * investor logged in with an Ethereum key links a Fabric member certificate by signing a link
 * challenge; the link shows in an `identity` report, a later login and REST; the identity's
 * ledger changes become the account's; a login with the certificate opens the same account;
 * unlinking makes it an account of its own again. Refusals name what was wrong. Real exchange,
 * real keys and certificates; the ledgers' changes are the commands a daemon would send.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Wallet } from 'ethers';
import type { Embedded } from '../../app/index.ts';
import { evmLogin, type FabricMember, issue, makeMsp, makeWallet, x509Login } from '../support/identities.ts';
import { testGateway } from '../support/gateway.ts';
import { login, loginFabric, type Msg, WsClient } from '../support/ws-client.ts';

const EVM = 'evm:31337';
const FABRIC = 'fabric:bank-net';

describe('linked identities over the gateway', () => {
  let gw: Embedded;
  let members: FabricMember[];

  before(async () => {
    const club = await makeMsp('ClubMSP');
    members = [await issue(club, 'alice'), await issue(club, 'bob')];
    gw = await testGateway((c) => {
      c.msps = [club.config];
      // The ledgers' changes are sent by the test, as a daemon would.
      c.demo.fundAccounts = false;
    });
  });

  after(async () => {
    await gw.close();
  });

  /** A challenge to link an identity to the session's account. */
  async function linkChallenge(c: WsClient) {
    const challenge = await c.request({ op: 'challenge', purpose: 'link' });
    assert.equal(challenge.type, 'challenge', JSON.stringify(challenge));
    return challenge as unknown as Parameters<typeof x509Login>[1];
  }

  /** Links `member` to the session's account: the ack, then the identity report to this session. */
  async function link(c: WsClient, member: FabricMember): Promise<[Msg, Msg]> {
    const proof = { ...x509Login(member, await linkChallenge(c)), op: 'link' };
    const id = c.newId();
    c.send({ ...proof, id });
    const ack = await c.reply(id);
    if (ack.type !== 'ack') return [ack, ack];
    return [ack, await c.next((m) => m.id === id && m.type !== 'ack')];
  }

  /** What a daemon of each ledger reports: eligible, and a deposit. */
  function ledger(identity: string, venue: string, asset: string, amount: number): number {
    gw.exchange.submit({ type: 'set-account', account: identity, venue, eligible: true });
    return gw.exchange.submit({ type: 'deposit', account: identity, asset, amount });
  }

  it('given an investor logged in with a key, when she links her Fabric certificate, then her account trades on the Fabric venue as it, and a login with the certificate opens the same account', async () => {
    const wallet = makeWallet();
    const alice = members[0]!;
    const c = await WsClient.connect(gw.url);
    const { account } = await login(c, wallet);
    ledger(account, EVM, `USDC@${EVM}`, 1_000_000);
    const before = c.messages.find((m) => m.type === 'login')!;
    assert.deepEqual(before.identities, []);
    assert.deepEqual(
      (before.access as Msg[]).map((a) => [a.venue, a.canTrade, a.reason]),
      [
        [EVM, false, 'not-eligible'],
        [FABRIC, false, 'other-ledger'],
      ],
    );

    // The link challenge names the account, in its text and its typed data.
    const challenge = await linkChallenge(c);
    assert.match(
      challenge.message,
      new RegExp(`^Mosaic link\nSign to link this key to the account ${account},`),
    );
    assert.equal(challenge.typedData.primaryType, 'Link');
    assert.deepEqual(challenge.typedData.message, {
      account,
      nonce: challenge.nonce,
      expires: (challenge as unknown as { expiresAt: number }).expiresAt,
    });

    const [ack, report] = await link(c, alice);
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    assert.equal(ack.op, 'link');
    assert.equal(report.type, 'identity', JSON.stringify(report));
    assert.equal(report.account, account);
    assert.equal(report.identity, 'ClubMSP:alice');
    assert.equal(report.linked, true);
    assert.deepEqual(report.identities, ['ClubMSP:alice']);
    assert.deepEqual(
      (report.access as Msg[]).map((a) => [a.venue, a.canTrade, a.reason]),
      [
        [EVM, true, undefined],
        [FABRIC, false, 'not-eligible'],
        ['fabric:club-net', false, 'not-eligible'],
      ],
      "the Fabric venues are of her ledgers now (the club's, for members only, is in sight); their networks have not made her eligible yet",
    );

    // The Fabric network reports the certificate's identity: it is her account's.
    const seq = ledger('ClubMSP:alice', FABRIC, `USD@${FABRIC}`, 500_000);
    await c.ping();
    assert.equal(gw.exchange.engine.partyOf(account, FABRIC), 'ClubMSP:alice');
    assert.equal(gw.exchange.engine.partyOf(account, EVM), account);
    const usd = gw.exchange.engine.balances(account).find((b) => b.asset === `USD@${FABRIC}`);
    assert.equal(usd?.available, 500_000);
    assert.ok(seq > 0);

    // She buys ACME on the Fabric venue from the session of her key.
    const buy = await c.request({
      op: 'new',
      instrument: `ACME@${FABRIC}`,
      clientOrderId: 'f1',
      side: 'buy',
      orderType: 'limit',
      price: '100.00',
      quantity: '1',
    });
    assert.equal(buy.status, 'pending-new', JSON.stringify(buy));
    const accepted = await c.next((m) => m.clientOrderId === 'f1' && m.status !== 'pending-new');
    assert.equal(accepted.status, 'new', JSON.stringify(accepted));

    // A login with the certificate opens the same account, which shows its linked identity.
    const d = await WsClient.connect(gw.url);
    const viaCert = await loginFabric(d, alice);
    assert.equal(viaCert.account, account);
    const answer = d.messages.find((m) => m.type === 'login')!;
    assert.deepEqual(answer.identities, ['ClubMSP:alice']);
    assert.deepEqual(
      (answer.access as Msg[]).map((a) => [a.venue, a.canTrade]),
      [
        [EVM, true],
        [FABRIC, true],
        ['fabric:club-net', false],
      ],
    );
    const open = await (
      await fetch(`${gw.url}/api/orders`, { headers: { authorization: `Bearer ${viaCert.token}` } })
    ).json();
    assert.deepEqual(
      (open as Msg[]).map((o) => o.clientOrderId),
      ['f1'],
    );

    // REST shows the account as it stands.
    const rest = (await (
      await fetch(`${gw.url}/api/account`, { headers: { authorization: `Bearer ${viaCert.token}` } })
    ).json()) as Msg;
    assert.deepEqual(rest, {
      account,
      identities: ['ClubMSP:alice'],
      venues: [EVM, FABRIC, 'fabric:club-net'],
      access: [
        { venue: EVM, canTrade: true },
        { venue: FABRIC, canTrade: true },
        {
          venue: 'fabric:club-net',
          canTrade: false,
          reason: 'not-eligible',
          message:
            'the ledger of fabric:club-net has not made this account eligible yet: its operator registers investors (with the demo settings, within seconds of the first login or link)',
        },
      ],
    });

    // While the order is open on the Fabric venue, the identity cannot be unlinked.
    const busy = await c.request({ op: 'unlink', identity: 'ClubMSP:alice' });
    assert.equal(busy.type, 'ack');
    const refused = await c.next((m) => m.type === 'reject' && m.op === 'unlink');
    assert.equal(refused.codeName, 'IDENTITY_BUSY');
    assert.match(
      refused.reason as string,
      /settles as ClubMSP:alice where it has open orders on fabric:bank-net: wait for them to end, or cancel them/,
    );

    // Once it is canceled, unlinking gives the identity what the account held there.
    c.send({ op: 'cancel', clientOrderId: 'f1' });
    await c.next((m) => m.clientOrderId === 'f1' && m.status === 'canceled');
    const unlinked = await c.request({ op: 'unlink', identity: 'ClubMSP:alice' });
    assert.equal(unlinked.type, 'ack');
    const gone = await c.next((m) => m.type === 'identity' && m.linked === false);
    assert.deepEqual(gone.identities, []);
    assert.deepEqual(
      (gone.access as Msg[]).map((a) => [a.venue, a.reason]),
      [
        [EVM, undefined],
        [FABRIC, 'other-ledger'],
      ],
      'the club venue is out of sight again',
    );
    // The session the certificate opened on the account is closed; its token no longer holds it.
    assert.deepEqual(await d.closed, {
      code: 4003,
      reason: `identity unlinked: ClubMSP:alice now opens account ClubMSP:alice; log in again`,
    });
    const stale = await fetch(`${gw.url}/api/account`, {
      headers: { authorization: `Bearer ${viaCert.token}` },
    });
    assert.equal(stale.status, 401);
    assert.match(
      ((await stale.json()) as Msg).message as string,
      new RegExp(
        `the identity this token was issued to \\(ClubMSP:alice\\) no longer opens account ${account}`,
      ),
    );
    const other = await WsClient.connect(gw.url);
    assert.equal((await loginFabric(other, alice)).account, 'ClubMSP:alice');
    const own = gw.exchange.engine.balances('ClubMSP:alice').find((b) => b.asset === `USD@${FABRIC}`);
    assert.equal(own?.available, 500_000);
    await Promise.all([c.close(), d.close(), other.close()]);
  });

  it('given links that cannot be, then each is refused with its code and a reason, and nothing is linked', async () => {
    const bob = members[1]!;
    const c = await WsClient.connect(gw.url);

    // Not logged in: no account to link to.
    const anonymous = await c.request({ op: 'challenge', purpose: 'link' });
    assert.equal(anonymous.code, 'AUTH_REQUIRED');

    const wallet: Wallet = makeWallet();
    const { account } = await login(c, wallet);

    // A login challenge's signature is no link's: the text differs.
    const loginChallenge = await c.request({ op: 'challenge' });
    const asLogin = await c.request({
      ...x509Login(bob, loginChallenge as unknown as Parameters<typeof x509Login>[1]),
      op: 'link',
    });
    assert.equal(asLogin.code, 'AUTH_FAILED', JSON.stringify(asLogin));

    // A link signed for one account does not link to another: the text names the account.
    const mallory = await WsClient.connect(gw.url);
    await login(mallory, makeWallet());
    const stolen = await mallory.request({ ...x509Login(bob, await linkChallenge(c)), op: 'link' });
    assert.equal(stolen.code, 'AUTH_FAILED', JSON.stringify(stolen));
    const wrongAccount = await c.request({ ...x509Login(bob, await linkChallenge(mallory)), op: 'link' });
    assert.equal(wrongAccount.code, 'AUTH_FAILED', JSON.stringify(wrongAccount));

    // Linking its own key is refused by the engine.
    const self = await c.request({ ...evmLogin(wallet, await linkChallenge(c), 'eip712'), op: 'link' });
    assert.equal(self.type, 'ack');
    const selfRefused = await c.next((m) => m.type === 'reject' && m.op === 'link');
    assert.equal(selfRefused.codeName, 'IDENTITY_LINKED');
    assert.equal(selfRefused.reason, `${account} is the account's own identity`);

    // Bob's certificate linked to mallory's account (closing the session it had opened on its own
    // account) cannot be linked to this one too.
    const bobSession = await WsClient.connect(gw.url);
    await loginFabric(bobSession, bob);
    const [, linked] = await link(mallory, bob);
    assert.equal(linked.type, 'identity');
    assert.equal((await bobSession.closed).code, 4003);
    assert.match((await bobSession.closed).reason, /^identity linked: ClubMSP:bob now opens account 0x/);
    const [ack, taken] = await link(c, bob);
    assert.equal(ack.type, 'ack');
    assert.equal(taken.type, 'reject');
    assert.equal(taken.codeName, 'IDENTITY_LINKED');
    assert.equal(taken.reason, 'ClubMSP:bob is linked to another account; unlink it there first');

    const notLinked = await c.request({ op: 'unlink', identity: 'ClubMSP:nobody' });
    assert.equal(notLinked.type, 'ack');
    const nothing = await c.next((m) => m.type === 'reject' && m.op === 'unlink');
    assert.equal(nothing.codeName, 'IDENTITY_NOT_LINKED');

    const badScheme = await c.request({ op: 'link', scheme: 'rsa', nonce: 'ab' });
    assert.equal(badScheme.code, 'BAD_MESSAGE');
    assert.match(badScheme.message as string, /link: scheme must be "eip191", "eip712" or "x509"/);
    assert.deepEqual(gw.exchange.engine.identities(account), []);
    await Promise.all([c.close(), mallory.close()]);
  });
});
