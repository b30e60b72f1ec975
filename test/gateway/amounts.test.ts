/**
 * Amounts are exact decimal strings with the decimals of what they count: a fee in the quote
 * currency has the decimals of its cash unit (`0.10`, never `0.1` beside `0.21`), in execution
 * reports and REST fills alike, and so has every cash balance; gas is whole (the settlement suite
 * on anvil, `test/connectors/settler-evm.test.ts`, checks that).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { makeWallet } from '../support/identities.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';

const ACME = 'ACME@evm:31337';

describe('amounts in REST and execution reports', () => {
  let gw: Embedded;
  let maker: { ws: WsClient; token: string };
  let taker: { ws: WsClient; token: string };
  let fills: { maker: Msg; taker: Msg };

  const rest = async <T = Array<Record<string, string>>>(url: string, token: string) => {
    const res = await gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as T;
  };
  type Fills = { fills: Array<Record<string, string>> };
  const order = (ws: WsClient, clientOrderId: string, side: string) =>
    ws.request({
      op: 'new',
      instrument: ACME,
      clientOrderId,
      side,
      orderType: 'limit',
      price: '100.00',
      quantity: '2',
    });

  before(async () => {
    gw = await testGateway();
    const join = async () => {
      const ws = await WsClient.connect(gw.url);
      return { ws, token: (await login(ws, makeWallet())).token };
    };
    [maker, taker] = [await join(), await join()];
    // Given a trade of 2 ACME at 100.00: notional 200.00; the taker pays 5 bps (0.10), the maker
    // gets 1 bp back (-0.02)
    await order(maker.ws, 'm1', 'sell');
    await maker.ws.next((m) => m.clientOrderId === 'm1' && m.status === 'new');
    await order(taker.ws, 't1', 'buy');
    fills = {
      taker: await taker.ws.next((m) => m.clientOrderId === 't1' && m.status === 'filled'),
      maker: await maker.ws.next((m) => m.clientOrderId === 'm1' && m.status === 'filled'),
    };
  });
  after(async () => {
    await Promise.all([maker?.ws.close(), taker?.ws.close()]);
    await gw?.close();
  });

  it('shows a fee with the decimals of the quote currency in execution reports', () => {
    assert.equal(fills.taker.fee, '0.10');
    assert.equal(fills.maker.fee, '-0.02');
  });

  it('shows the same fee strings in REST fills', async () => {
    assert.deepEqual(
      (await rest<Fills>('/api/fills', taker.token)).fills.map((f) => [f.clientOrderId, f.fee]),
      [['t1', '0.10']],
    );
    assert.deepEqual(
      (await rest<Fills>('/api/fills', maker.token)).fills.map((f) => [f.clientOrderId, f.fee]),
      [['m1', '-0.02']],
    );
  });

  it('shows every balance with the decimals of its unit', async () => {
    for (const who of [maker, taker]) {
      for (const b of await rest('/api/balances', who.token)) {
        const decimals = b.unit!.split('.')[1]?.length ?? 0;
        const shape = new RegExp(decimals === 0 ? '^-?\\d+$' : `^-?\\d+\\.\\d{${decimals}}$`);
        for (const field of ['available', 'reserved', 'pendingIn', 'pendingOut']) {
          assert.match(b[field]!, shape, `${b.asset} ${field} in units of ${b.unit}: ${JSON.stringify(b)}`);
        }
      }
    }
  });
});
