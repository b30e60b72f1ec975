/**
 * A WebSocket login with the bearer token an earlier login gave (`scheme: "token"`), as the
 * dashboard does after a reload: the session opens the same account, as the identity the token
 * was issued to, keeps the token and its expiry (a token cannot lengthen its own life), and may
 * trade; a token forged, expired or malformed is refused and logs nothing in; REST does not
 * exchange a token for another.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Embedded } from '../../app/index.ts';
import { Tokens } from '../../gateway/tokens.ts';
import { testGateway } from '../support/gateway.ts';
import { evmLogin, type FabricMember, issue, makeMsp, makeWallet } from '../support/identities.ts';
import { loginFabric, WsClient } from '../support/ws-client.ts';

describe('WebSocket login with a bearer token', () => {
  let gw: Embedded;
  let member: FabricMember;
  const wallet = makeWallet();
  let token: string;
  let expiresAt: number;
  const clients: WsClient[] = [];

  const connect = async () => {
    const c = await WsClient.connect(gw.url);
    clients.push(c);
    return c;
  };

  before(async () => {
    const club = await makeMsp('ClubMSP');
    member = await issue(club, 'carol');
    gw = await testGateway((c) => {
      c.msps = [club.config];
    });
    const challenge = await gw.app.inject({ method: 'POST', url: '/api/challenge' });
    const { op: _op, ...proof } = evmLogin(wallet, challenge.json(), 'eip712');
    const login = await gw.app.inject({ method: 'POST', url: '/api/login', payload: proof });
    assert.equal(login.statusCode, 200, login.body);
    ({ token, expiresAt } = login.json() as { token: string; expiresAt: number });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await gw?.close();
  });

  it('opens the account the token names, as its identity, keeping the token and its expiry; orders go through', async () => {
    const c = await connect();
    const answer = await c.request({ op: 'login', scheme: 'token', token });
    assert.equal(answer.type, 'login', JSON.stringify(answer));
    assert.equal(answer.account, wallet.address);
    assert.deepEqual(answer.identity, { kind: 'evm', address: wallet.address });
    assert.equal(answer.token, token);
    assert.equal(answer.tokenExpiresAt, expiresAt);
    assert.deepEqual(answer.venues, ['evm:31337', 'fabric:bank-net']);
    const order = await c.request({
      op: 'new',
      instrument: 'ACME@evm:31337',
      clientOrderId: 'token-1',
      side: 'sell',
      orderType: 'limit',
      quantity: '1',
      price: '105.00',
    });
    assert.equal(order.status, 'pending-new', JSON.stringify(order));
    const accepted = await c.next(
      (m) => m.clientOrderId === 'token-1' && m.type === 'exec' && m.status !== 'pending-new',
    );
    assert.equal(accepted.status, 'new', JSON.stringify(c.messages));
  });

  it('names a Fabric identity by its MSP and common name (a token carries no certificate)', async () => {
    const first = await connect();
    const { token: fabricToken } = await loginFabric(first, member);
    const c = await connect();
    const answer = await c.request({ op: 'login', scheme: 'token', token: fabricToken });
    assert.equal(answer.type, 'login', JSON.stringify(answer));
    assert.equal(answer.account, 'ClubMSP:carol');
    assert.deepEqual(answer.identity, { kind: 'fabric', mspId: 'ClubMSP', commonName: 'carol' });
  });

  const forgedHolder = () => {
    const [holder, signature] = token.split('.') as [string, string];
    const [, names, at] = JSON.parse(Buffer.from(holder, 'base64url').toString()) as unknown[];
    const forged = Buffer.from(JSON.stringify(['0x0000000000000000000000000000000000000001', names, at]));
    return `${forged.toString('base64url')}.${signature}`;
  };
  for (const [what, bad] of [
    ['signed with another key', () => `${token.slice(0, token.indexOf('.') + 1)}${'A'.repeat(43)}`],
    ['whose holder was changed', forgedHolder],
    [
      'expired',
      () =>
        new Tokens(gw.exchange.tokenKey, 1000).issue(wallet.address, [], wallet.address, Date.now() - 5000)
          .token,
    ],
    ['malformed', () => 'not a token'],
  ] as const) {
    it(`refuses a token ${what} with AUTH_REQUIRED, and logs nothing in`, async () => {
      const c = await connect();
      const answer = await c.request({ op: 'login', scheme: 'token', token: bad() });
      assert.equal(answer.type, 'error', JSON.stringify(answer));
      assert.equal(answer.code, 'AUTH_REQUIRED');
      assert.match(answer.message as string, /^the bearer token is unknown or expired; log in again$/);
      const order = await c.request({ op: 'cancel-all' });
      assert.equal(order.code, 'AUTH_REQUIRED', JSON.stringify(order));
    });
  }

  it('says which field is missing', async () => {
    const c = await connect();
    const answer = await c.request({ op: 'login', scheme: 'token' });
    assert.equal(answer.code, 'BAD_MESSAGE');
    assert.equal(answer.message, 'login: missing field "token"');
    const other = await c.request({ op: 'login', scheme: 'password', token });
    assert.equal(
      other.message,
      'login: scheme must be "eip191", "eip712", "x509" or "token", got "password"',
    );
  });

  it('is not exchanged for another token over REST', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { scheme: 'token', token },
    });
    assert.equal(res.statusCode, 400, res.body);
    const body = res.json() as { code: string; message: string };
    assert.equal(body.code, 'BAD_MESSAGE');
    assert.match(body.message, /a token is not exchanged for another/);
  });
});
