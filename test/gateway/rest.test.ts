/**
 * REST and operations through `app.inject()` (no socket needed): instruments and market data
 * for anonymous callers and members, login for a bearer token, a holder's own orders, fills and
 * balances, settlement status, /health, /metrics and the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { login, WsClient } from '../support/ws-client.ts';
import { evmLogin, issue, makeMsp, makeWallet, type FabricMember, x509Login } from '../support/identities.ts';

type Json = Record<string, unknown>;

describe('REST and operations', () => {
  let gw: Embedded;
  let member: FabricMember;

  const get = async (url: string, token?: string) => {
    const res = await gw.app.inject({
      method: 'GET',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.statusCode, body: res.json() as unknown, headers: res.headers };
  };
  const post = async (url: string, payload?: unknown) => {
    const res = await gw.app.inject({ method: 'POST', url, payload: payload as Json });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const challenge = async () => (await post('/api/challenge')).body as never;
  /** A WebSocket login message as a REST body (no `op`). */
  const proof = ({ op: _op, ...rest }: { op: string }) => rest;

  before(async () => {
    const club = await makeMsp('ClubMSP');
    member = await issue(club, 'erin');
    gw = await testGateway((c) => {
      c.msps = [club.config];
    });
  });
  after(() => gw.close());

  it('lists public instruments to anyone and a permissioned one only to a member', async () => {
    const anon = await get('/api/instruments');
    assert.equal(anon.status, 200);
    const ids = (anon.body as Json[]).map((i) => i.id);
    assert.deepEqual(ids, ['ACME@evm:31337', 'ACME@fabric:bank-net', 'BOND@fabric:bank-net']);
    const acme = (anon.body as Json[])[0]!;
    assert.equal(acme.tickSize, '0.01');
    assert.equal(acme.venue, 'evm:31337');
    // What a client needs to check an order and estimate what it reserves, as the engine has them.
    const spec = gw.exchange.engine.instrument('ACME@evm:31337')!.spec;
    assert.deepEqual(
      [acme.maxPrice, acme.referencePrice, acme.bandBps, acme.quoteUnit, acme.minQty, acme.maxQty],
      [
        (spec.maxPrice / 100).toFixed(2),
        (spec.referencePrice / 100).toFixed(2),
        spec.bandBps,
        '0.01',
        String(spec.minQty),
        String(spec.maxQty),
      ],
    );

    const rest = await post('/api/login', proof(x509Login(member, await challenge())));
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    assert.equal(rest.body.account, 'ClubMSP:erin');
    const mine = await get('/api/instruments', rest.body.token as string);
    assert.ok((mine.body as Json[]).some((i) => i.id === 'GILT@fabric:club-net'));

    const hidden = await get('/api/instruments/GILT@fabric:club-net/book');
    assert.equal(hidden.status, 404);
    assert.equal((hidden.body as Json).code, 'UNKNOWN_INSTRUMENT');
    const shown = await get('/api/instruments/GILT@fabric:club-net/book', rest.body.token as string);
    assert.equal(shown.status, 200);
  });

  it('serves a book snapshot with its checksum, and recent trades', async () => {
    const wallet = makeWallet();
    const a = await WsClient.connect(gw.url);
    const b = await WsClient.connect(gw.url);
    await login(a, wallet);
    await login(b, makeWallet());
    await a.request({
      op: 'new',
      instrument: 'ACME@evm:31337',
      clientOrderId: 'x1',
      side: 'sell',
      orderType: 'limit',
      price: '100.25',
      quantity: '3',
    });
    await a.next((m) => m.clientOrderId === 'x1' && m.status === 'new');
    await b.request({
      op: 'new',
      instrument: 'ACME@evm:31337',
      clientOrderId: 'x2',
      side: 'buy',
      orderType: 'limit',
      price: '100.25',
      quantity: '1',
    });
    await b.next((m) => m.clientOrderId === 'x2' && m.status === 'filled');

    const book = await get('/api/instruments/ACME@evm:31337/book?depth=5');
    assert.equal(book.status, 200);
    const body = book.body as Json;
    assert.deepEqual(body.asks, [['100.25', '2']]);
    assert.equal(typeof body.checksum, 'number');
    const badDepth = await get('/api/instruments/ACME@evm:31337/book?depth=7');
    assert.equal(badDepth.status, 400);
    assert.match((badDepth.body as Json).message as string, /depth/);

    const trades = (await get('/api/instruments/ACME@evm:31337/trades')).body as Json[];
    const last = trades.at(-1)!;
    assert.equal(last.price, '100.25');
    assert.equal(last.quantity, '1');
    assert.equal(last.side, 'buy');

    const settlement = await get(`/api/trades/${last.tradeId}/settlement`);
    assert.equal(settlement.status, 200);
    assert.equal((settlement.body as Json).status, 'pending');
    assert.equal((settlement.body as Json).venue, 'evm:31337');
    const pipelines = (await get('/api/settlements')).body as Json[];
    assert.ok(pipelines.some((p) => p.venue === 'evm:31337' && (p.pending as number) >= 1));
    assert.equal((await get('/api/trades/999999/settlement')).status, 404);
    await Promise.all([a.close(), b.close()]);
  });

  it('shows a bearer only its own orders, fills and balances, and refuses without a token', async () => {
    const wallet = makeWallet();
    const rest = await post('/api/login', proof(evmLogin(wallet, await challenge(), 'eip712')));
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    const token = rest.body.token as string;
    const c = await WsClient.connect(gw.url);
    await login(c, wallet);
    await c.request({
      op: 'new',
      instrument: 'ACME@evm:31337',
      clientOrderId: 'own-1',
      side: 'buy',
      orderType: 'limit',
      price: '96.00',
      quantity: '4',
    });
    await c.next((m) => m.clientOrderId === 'own-1' && m.status === 'new');

    const orders = (await get('/api/orders', token)).body as Json[];
    assert.deepEqual(
      orders.map((o) => [o.clientOrderId, o.price, o.leavesQty]),
      [['own-1', '96.00', '4']],
    );
    const balances = (await get('/api/balances', token)).body as Json[];
    const usd = balances.find((b) => b.asset === 'USD@evm:31337')!;
    assert.ok(Number(usd.reserved) > 0, JSON.stringify(usd));
    assert.deepEqual(await get('/api/fills', token).then((r) => r.body), { fills: [], next: null });

    for (const url of ['/api/orders', '/api/fills', '/api/balances']) {
      const none = await get(url);
      assert.equal(none.status, 401);
      assert.equal((none.body as Json).code, 'AUTH_REQUIRED');
      const bad = await get(url, 'x'.repeat(32));
      assert.equal(bad.status, 401);
    }
    await c.close();
  });

  it('refuses a bad login proof with 401 and a reason', async () => {
    const signed = proof(evmLogin(makeWallet(), await challenge(), 'eip191'));
    const wrong = await post('/api/login', { ...signed, address: makeWallet().address });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.code, 'AUTH_FAILED');
    const extra = await post('/api/login', { ...signed, role: 'admin' });
    assert.equal(extra.status, 400);
    assert.match(extra.body.message as string, /login: unknown field "role"/);
  });

  it('answers /health, /metrics and the OpenAPI document', async () => {
    const health = await get('/health');
    assert.equal(health.status, 200);
    assert.equal((health.body as Json).status, 'ok');
    const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' });
    for (const name of [
      'mosaic_orders_total',
      'mosaic_orders_per_second',
      'mosaic_order_ack_seconds_bucket',
      'mosaic_ws_connections',
      'mosaic_feed_conflated',
      'mosaic_feed_conflations_total',
      'mosaic_feed_withheld_total',
      'mosaic_feed_dropped_total',
      'mosaic_feed_frames_sent_total',
    ]) {
      assert.match(metrics.body, new RegExp(`^${name}`, 'm'), name);
    }
    const doc = (await get('/docs/openapi.json')).body as { paths: Record<string, unknown> };
    for (const path of ['/api/instruments', '/api/instruments/{id}/book', '/api/login', '/api/balances']) {
      assert.ok(doc.paths[path], path);
    }
    const missing = await get('/api/nothing-here');
    assert.equal(missing.status, 404);
    assert.match((missing.body as Json).message as string, /no route GET \/api\/nothing-here/);
  });
});
