/**
 * Withdrawal requests over the WebSocket and their status over REST, against a real exchange
 * without settlement connectors (the test gives the ledger's verdicts itself): a request takes
 * only what open orders do not reserve, each step is reported to every session of the account,
 * and a bad request is refused by name and changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code } from '../../engine/index.ts';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { issue, makeMsp, makeWallet } from '../support/identities.ts';
import { login, loginFabric, type Msg, WsClient } from '../support/ws-client.ts';

const ACME = 'ACME@evm:31337';
const USD = 'USD@evm:31337';

describe('withdrawals through the gateway', () => {
  let gw: Embedded;
  let msps: Awaited<ReturnType<typeof makeMsp>>[];

  before(async () => {
    msps = [await makeMsp('BankAMSP')];
    gw = await testGateway((c) => {
      c.msps = msps.map((m) => m.config);
    });
  });
  after(() => gw.close());

  /** A funded, logged-in account (demo funding: 1,000,000 lots and 100,000,000.00 USD a venue). */
  const account = async () => {
    const wallet = makeWallet();
    const c = await WsClient.connect(gw.url);
    const session = await login(c, wallet);
    const rest = async (path: string) => {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${session.token}` } });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const balance = async (asset: string) =>
      ((await rest('/api/balances')).body as Array<Record<string, string>>).find((b) => b.asset === asset)!;
    return { wallet, c, session, rest, balance };
  };
  const settle = (withdrawalId: number, ok: boolean, more: Record<string, unknown> = {}) =>
    gw.exchange.submit({ type: 'settle-withdrawal', withdrawalId, ok, ...more });

  it('grants a withdrawal of what open orders do not reserve, reports each step to every session, and shows it over REST', async () => {
    // Given an account with a resting buy reserving part of its cash, and a second session of it
    const a = await account();
    const second = await WsClient.connect(gw.url);
    await login(second, a.wallet);
    const order = { op: 'new', instrument: ACME, side: 'buy', orderType: 'limit', price: '100.00' };
    await a.c.request({ ...order, clientOrderId: 'b1', quantity: '1000' });
    await a.c.next((m) => m.clientOrderId === 'b1' && m.status === 'new');
    const before = await a.balance(USD);
    assert.notEqual(before.reserved, '0');

    // When it asks for more than is available, then the engine refuses it by code and reason, and nothing changes
    const tooMuch = (Number(before.available) + 0.01).toFixed(2);
    const ack = await a.c.request({ op: 'withdraw', asset: USD, amount: tooMuch });
    assert.deepEqual([ack.type, ack.op], ['ack', 'withdraw']);
    const refusal = await a.c.next((m) => m.type === 'reject' && m.id === ack.id);
    assert.equal(refusal.code, Code.RISK_INSUFFICIENT_BALANCE);
    assert.equal(refusal.codeName, 'RISK_INSUFFICIENT_BALANCE');
    assert.match(refusal.reason as string, /exceeds the available .* \(open orders reserve \d+ more\)/);
    assert.deepEqual(await a.balance(USD), before);

    // When it asks for all that is available, then it is granted, pending, to both sessions
    const asked = await a.c.request({ op: 'withdraw', asset: USD, amount: before.available });
    const granted = await a.c.next((m) => m.type === 'withdrawal' && m.id === asked.id);
    const withdrawalId = granted.withdrawalId as number;
    assert.deepEqual(
      { ...granted, ts: 0, withdrawalId: 0 },
      {
        type: 'withdrawal',
        id: asked.id,
        withdrawalId: 0,
        asset: USD,
        amount: before.available,
        status: 'pending',
        ts: 0,
      },
    );
    const seen = await second.next((m) => m.type === 'withdrawal' && m.withdrawalId === withdrawalId);
    assert.equal(seen.id, undefined, 'only the session that asked sees its id');
    assert.deepEqual(await a.balance(USD), {
      ...before,
      available: '0.00',
      pendingOut: before.available,
    });
    const listed = (await a.rest('/api/withdrawals')).body as Array<Record<string, unknown>>;
    assert.deepEqual(
      listed.map((w) => [w.withdrawalId, w.asset, w.venue, w.amount, w.status]),
      [[withdrawalId, USD, 'evm:31337', before.available, 'pending']],
    );

    // When the ledger releases it, then both sessions hear so, with its reference and cost, and REST shows it
    settle(withdrawalId, true, { ref: '0xfeed', gas: 61_234, gasFee: '61234000000000' });
    const released = await a.c.next((m) => m.type === 'withdrawal' && m.status === 'released');
    assert.deepEqual(
      [released.withdrawalId, released.ref, released.gas, released.gasFee, released.reason],
      [withdrawalId, '0xfeed', 61_234, '61234000000000', undefined],
    );
    await second.next((m) => m.type === 'withdrawal' && m.status === 'released');
    const shown = (await a.rest(`/api/withdrawals/${withdrawalId}`)).body as Record<string, unknown>;
    assert.deepEqual(
      [shown.status, shown.ref, shown.gas, shown.gasFee, typeof shown.settledAt],
      ['released', '0xfeed', 61_234, '61234000000000', 'number'],
    );
    assert.deepEqual(await a.balance(USD), { ...before, available: '0.00' });
    // and /metrics counts it, with its cost
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    for (const line of [
      'mosaic_withdrawal_pending{venue="evm:31337"} 0',
      'mosaic_withdrawal_released_total{venue="evm:31337"} 1',
      'mosaic_withdrawal_gas_total{venue="evm:31337"} 61234',
      'mosaic_withdrawal_fee_total{venue="evm:31337"} 61234000000000',
      'mosaic_withdrawal_costed_total{venue="evm:31337"} 1',
    ]) {
      assert.ok(metrics.split('\n').includes(line), line);
    }
    await second.close();
    await a.c.close();
  });

  it('returns a refused withdrawal to the available balance, with the ledger reason', async () => {
    const a = await account();
    const before = await a.balance(ACME);
    const asked = await a.c.request({ op: 'withdraw', asset: ACME, amount: '25' });
    const granted = await a.c.next((m) => m.type === 'withdrawal' && m.id === asked.id);
    settle(granted.withdrawalId as number, false, { reason: 'TO_FROZEN', ref: '0xbad' });
    const refused = await a.c.next((m) => m.type === 'withdrawal' && m.status === 'refused');
    assert.deepEqual([refused.reason, refused.ref, refused.amount], ['TO_FROZEN', '0xbad', '25']);
    assert.deepEqual(await a.balance(ACME), before);
    const shown = (await a.rest(`/api/withdrawals/${granted.withdrawalId as number}`)).body as Msg;
    assert.deepEqual([shown.status, shown.reason], ['refused', 'TO_FROZEN']);
    await a.c.close();
  });

  it('refuses a bad request by name and changes nothing', async () => {
    const a = await account();
    const fabric = await WsClient.connect(gw.url);
    await loginFabric(fabric, await issue(msps[0]!, 'erin'));
    const anonymous = await WsClient.connect(gw.url);
    const before = await a.rest('/api/balances');
    const cases: Array<[WsClient, Record<string, unknown>, string, RegExp]> = [
      [anonymous, { asset: USD, amount: '1' }, 'AUTH_REQUIRED', /log in first/],
      [a.c, { asset: 'EUR@evm:31337', amount: '1' }, 'UNKNOWN_ASSET', /unknown asset "EUR@evm:31337"/],
      // the permissioned demo venue exists only for its members
      [a.c, { asset: 'USD@fabric:club-net', amount: '1' }, 'UNKNOWN_ASSET', /unknown asset/],
      [a.c, { asset: USD, amount: '0.001' }, 'BAD_DECIMAL', /amount "0.001" is not valid: .* units of 0.01/],
      [a.c, { asset: USD, amount: '0' }, 'BAD_DECIMAL', /it must be positive/],
      [a.c, { asset: USD, amount: '-5' }, 'BAD_DECIMAL', /amount must be a plain positive decimal/],
      [a.c, { asset: USD }, 'BAD_MESSAGE', /missing field "amount"/],
      [a.c, { asset: USD, amount: '1', to: '0x00' }, 'BAD_MESSAGE', /unknown field "to"/],
    ];
    for (const [client, fields, code, message] of cases) {
      const r = await client.request({ op: 'withdraw', ...fields });
      assert.deepEqual([r.type, r.code], ['error', code], JSON.stringify(r));
      assert.match(r.message as string, message);
    }
    assert.deepEqual(await a.rest('/api/balances'), before);
    assert.deepEqual((await a.rest('/api/withdrawals')).body, []);
    // A withdrawal of another account is not found; REST needs a token
    const other = await account();
    const asked = await other.c.request({ op: 'withdraw', asset: USD, amount: '1' });
    const granted = await other.c.next((m) => m.type === 'withdrawal' && m.id === asked.id);
    const mine = await a.rest(`/api/withdrawals/${granted.withdrawalId as number}`);
    assert.equal(mine.status, 404);
    assert.equal((await fetch(`${gw.url}/api/withdrawals`)).status, 401);
    for (const c of [a.c, other.c, fabric, anonymous]) await c.close();
  });
});
