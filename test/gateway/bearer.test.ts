/**
 * The REST `Authorization` header as RFC 7235 has it: the scheme is case-insensitive and one or
 * more spaces part it from the token; any other scheme, or a header without a token, is refused,
 * and so is a token not signed with the exchange's key or whose holder was changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { evmLogin, makeWallet } from '../support/identities.ts';

describe('REST bearer tokens', () => {
  let gw: Embedded;
  let token: string;

  const balances = async (authorization: string) => {
    const res = await gw.app.inject({ method: 'GET', url: '/api/balances', headers: { authorization } });
    return { status: res.statusCode, body: res.json() as { code?: string } };
  };

  before(async () => {
    gw = await testGateway();
    const challenge = await gw.app.inject({ method: 'POST', url: '/api/challenge' });
    const { op: _op, ...proof } = evmLogin(makeWallet(), challenge.json(), 'eip191');
    const login = await gw.app.inject({ method: 'POST', url: '/api/login', payload: proof });
    assert.equal(login.statusCode, 200, login.body);
    token = (login.json() as { token: string }).token;
  });
  after(() => gw.close());

  for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
    it(`accepts the scheme written "${scheme}"`, async () => {
      const res = await balances(`${scheme} ${token}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
  }

  it('accepts more than one space between the scheme and the token', async () => {
    assert.equal((await balances(`bearer   ${token}`)).status, 200);
  });

  for (const [what, header] of [
    [
      'a token signed with another key',
      () => `Bearer ${token.slice(0, token.indexOf('.') + 1)}${'A'.repeat(43)}`,
    ],
    [
      'a token whose holder was changed',
      () => {
        const [holder, signature] = token.split('.') as [string, string];
        const [, names, expiresAt] = JSON.parse(Buffer.from(holder, 'base64url').toString()) as unknown[];
        const forged = Buffer.from(
          JSON.stringify(['0x0000000000000000000000000000000000000001', names, expiresAt]),
        );
        return `Bearer ${forged.toString('base64url')}.${signature}`;
      },
    ],
    ['another scheme', () => `Basic ${token}`],
    ['no space after the scheme', () => `Bearer${token}`],
    ['a scheme without a token', () => 'bearer'],
    ['a token without a scheme', () => token],
  ] as const) {
    it(`refuses ${what} with AUTH_REQUIRED`, async () => {
      const res = await balances(header());
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'AUTH_REQUIRED');
    });
  }
});
