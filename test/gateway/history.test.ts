/**
 * REST history on a real exchange: `/api/fills` and `/api/orders/history` in pages (newest or
 * oldest first, a cursor to the next page, exclusive bounds by id and by time), a clear 400 for
 * each bad parameter, each account seeing only its own, the same pages after the exchange is
 * stopped and started again on its data folder, and a permissioned venue's entries only for its
 * members.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Config, defaultConfig, type Embedded, startExchange } from '../../app/index.ts';
import { type FabricMember, issue, makeMsp, makeWallet } from '../support/identities.ts';
import { login, loginFabric, WsClient } from '../support/ws-client.ts';

type Json = Record<string, unknown>;
const ACME = 'ACME@evm:31337';

describe('REST history', () => {
  const config: Config = defaultConfig();
  let gw: Embedded;
  const seller = makeWallet();
  const buyer = makeWallet();
  const tokens = { seller: '', buyer: '' };
  const clients: WsClient[] = [];
  /** The buyer's fills, newest first, once all trades are done. */
  let all: Json[] = [];

  const get = async (url: string, token?: string) => {
    const res = await gw.app.inject({
      method: 'GET',
      url,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const fills = async (query: string, token = tokens.buyer) => {
    const r = await get(`/api/fills?${query}`, token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { fills: Json[]; next: string | null };
  };
  const orders = async (query: string, token: string) => {
    const r = await get(`/api/orders/history?${query}`, token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { orders: Json[]; next: string | null };
  };
  /** Every entry, page by page from `query`, following `next`. */
  const walk = async (query: string) => {
    const seen: Json[] = [];
    let page = await fills(query);
    const sizes = [page.fills.length];
    seen.push(...page.fills);
    while (page.next !== null) {
      page = await fills(`${query}&cursor=${page.next}`);
      seen.push(...page.fills);
      sizes.push(page.fills.length);
    }
    return { seen, sizes };
  };
  const connect = async () => {
    const [s, b] = [await WsClient.connect(gw.url), await WsClient.connect(gw.url)];
    clients.push(s, b);
    tokens.seller = (await login(s, seller)).token;
    tokens.buyer = (await login(b, buyer)).token;
    return { s, b };
  };
  const order = (clientOrderId: string, side: 'buy' | 'sell', quantity: string, extra: Json = {}) => ({
    op: 'new',
    instrument: ACME,
    clientOrderId,
    side,
    orderType: 'limit',
    price: '100.00',
    quantity,
    ...extra,
  });
  const done = (c: WsClient, clientOrderId: string, status: string) =>
    c.next((m) => m.type === 'exec' && m.clientOrderId === clientOrderId && m.status === status, 10_000);

  const members: FabricMember[] = [];

  before(async () => {
    const club = await makeMsp('ClubMSP');
    members.push(await issue(club, 'erin'), await issue(club, 'frank'));
    config.msps = [club.config];
    config.port = 0;
    config.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-history-'));
    config.logLevel = 'silent';
    config.demo.marketMaker = false;
    gw = await startExchange(config);
    const { s, b } = await connect();
    // Given the seller resting 10 and the buyer taking 1 seven times
    s.send(order('s1', 'sell', '10'));
    await done(s, 's1', 'new');
    for (let i = 1; i <= 7; i++) {
      b.send(order(`b${i}`, 'buy', '1'));
      await done(b, `b${i}`, 'filled');
    }
    all = (await fills('')).fills;
  });
  after(async () => {
    for (const c of clients) await c.close();
    await gw.close();
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  });

  it('documents both routes and their parameters in the OpenAPI document, and serves the page about them', async () => {
    const doc = (await get('/docs/openapi.json')).body as {
      paths: Record<string, { get: { parameters: Array<{ name: string; description?: string }> } }>;
    };
    for (const route of ['/api/fills', '/api/orders/history']) {
      const params = doc.paths[route]!.get.parameters;
      assert.deepEqual(params.map((p) => p.name).sort(), [
        'after',
        'afterTime',
        'before',
        'beforeTime',
        'cursor',
        'limit',
        'order',
      ]);
      assert.ok(
        params.every((p) => (p.description ?? '') !== ''),
        route,
      );
    }
    const page = await gw.app.inject({ method: 'GET', url: '/docs/history.md' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /^# Fill and order history/);
  });

  it('lists the fills newest first, each account its own side of each trade', async () => {
    assert.equal(all.length, 7);
    const ids = all.map((f) => f.tradeId as number);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
    assert.deepEqual(
      { ...all.at(-1), tradeId: 0, orderId: 0, ts: 0 },
      {
        tradeId: 0,
        orderId: 0,
        ts: 0,
        clientOrderId: 'b1',
        instrument: ACME,
        side: 'buy',
        price: '100.00',
        quantity: '1',
        liquidity: 'taker',
        fee: '0.05',
      },
    );
    const sold = (await fills('', tokens.seller)).fills;
    assert.deepEqual(
      sold.map((f) => [f.tradeId, f.side, f.liquidity, f.clientOrderId]),
      ids.map((id) => [id, 'sell', 'maker', 's1']),
    );
  });

  it('walks pages with the cursor, newest or oldest first, each entry once', async () => {
    const desc = await walk('limit=3');
    assert.deepEqual(desc.sizes, [3, 3, 1]);
    assert.deepEqual(desc.seen, all);
    const asc = await walk('limit=2&order=asc');
    assert.deepEqual(asc.sizes, [2, 2, 2, 1]);
    assert.deepEqual(asc.seen, [...all].reverse());
    // A page that ends exactly at the last entry says so
    assert.equal((await fills('limit=7')).next, null);
    assert.notEqual((await fills('limit=6')).next, null);
  });

  it('bounds by trade id and by time are exclusive and apply together', async () => {
    const id = (i: number) => all[i]!.tradeId;
    assert.deepEqual((await fills(`before=${id(3)}`)).fills, all.slice(4));
    assert.deepEqual((await fills(`after=${id(3)}`)).fills, all.slice(0, 3));
    assert.deepEqual(
      (await fills(`after=${id(5)}&before=${id(1)}&order=asc`)).fills,
      all.slice(2, 5).reverse(),
    );
    assert.deepEqual((await fills(`before=${id(6)}`)).fills, []);
    const ts = all[3]!.ts as number;
    assert.deepEqual(
      (await fills(`beforeTime=${ts}`)).fills,
      all.filter((f) => (f.ts as number) < ts),
    );
    assert.deepEqual(
      (await fills(`afterTime=${ts}`)).fills,
      all.filter((f) => (f.ts as number) > ts),
    );
    assert.deepEqual(
      (await fills(`afterTime=${(all.at(-1)!.ts as number) - 1}&before=${id(0)}&limit=2&order=asc`)).fills,
      all.slice(1).reverse().slice(0, 2),
    );
  });

  it('refuses bad parameters with a 400 naming the parameter, and a missing token with a 401', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['limit=0', 'limit', />= 1/],
      ['limit=1001', 'limit', /<= 1000/],
      ['limit=many', 'limit', /integer/],
      ['order=up', 'order', /one of desc, asc/],
      ['before=0', 'before', />= 1/],
      ['after=abc', 'after', /integer/],
      ['beforeTime=-5', 'beforeTime', />= 0/],
      ['before=999999', 'before', /trade 999999 is not one of your fills/],
      ['cursor=zzz', 'cursor', /not a cursor this API gave/],
      ['sort=asc', 'sort', /not a parameter of this route/],
    ];
    for (const [query, parameter, why] of cases) {
      const r = await get(`/api/fills?${query}`, tokens.buyer);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.parameter, parameter, `${query}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.message as string, new RegExp(parameter), query);
      assert.match(r.body.message as string, why, query);
    }
    const orderOfOther = await get(`/api/orders/history?after=${all[0]!.orderId}`, tokens.seller);
    assert.equal(orderOfOther.status, 400);
    assert.match(orderOfOther.body.message as string, /after: order \d+ is not one of your finished orders/);
    for (const url of ['/api/fills', '/api/orders/history']) {
      const r = await get(url);
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'AUTH_REQUIRED');
    }
  });

  it('lists finished orders: filled, canceled with what it filled, refused at entry; live ones are not there', async () => {
    const { s, b } = await connect();
    assert.deepEqual((await orders('', tokens.seller)).orders, [], 's1 is live');
    // When the seller cancels the rest of s1, and the buyer sends a post-only order that would take
    s.send(order('s2', 'sell', '2', { price: '101.00' }));
    await done(s, 's2', 'new');
    const cancel = await s.request({ op: 'cancel', clientOrderId: 's1' });
    assert.equal(cancel.type, 'ack');
    await done(s, 's1', 'canceled');
    b.send(order('p1', 'buy', '1', { price: '101.00', postOnly: true }));
    await done(b, 'p1', 'rejected');

    const sold = (await orders('', tokens.seller)).orders;
    assert.deepEqual(
      sold.map((o) => [o.clientOrderId, o.status, o.reason, o.quantity, o.cumQty, o.avgPrice]),
      [['s1', 'canceled', 'user', '10', '7', '100.00']],
    );
    const bought = (await orders('', tokens.buyer)).orders;
    assert.deepEqual(
      bought.map((o) => [o.clientOrderId, o.status]),
      [['p1', 'rejected'], ...[7, 6, 5, 4, 3, 2, 1].map((i) => [`b${i}`, 'filled'])],
    );
    const [p1, b7] = bought;
    assert.equal(p1!.orderId, null);
    assert.equal(p1!.codeName, 'POST_ONLY_WOULD_TAKE');
    assert.deepEqual(
      [b7!.orderType, b7!.tif, b7!.price, b7!.cumQty, b7!.avgPrice, typeof b7!.createdAt],
      ['limit', 'GTC', '100.00', '1', '100.00', 'number'],
    );
    // Pages by order id, exclusive
    const b4 = bought[4]!.orderId;
    assert.deepEqual(
      (await orders(`before=${b4}&limit=2`, tokens.buyer)).orders.map((o) => o.clientOrderId),
      ['b3', 'b2'],
    );
    const page = await orders('limit=3&order=asc', tokens.buyer);
    assert.deepEqual(
      page.orders.map((o) => o.clientOrderId),
      ['b1', 'b2', 'b3'],
    );
    assert.deepEqual(
      (await orders(`limit=3&order=asc&cursor=${page.next}`, tokens.buyer)).orders.map(
        (o) => o.clientOrderId,
      ),
      ['b4', 'b5', 'b6'],
    );
  });

  it('serves the same history after the exchange is stopped and started again', async () => {
    const before = {
      fills: await fills(''),
      sold: await fills('', tokens.seller),
      orders: await orders('', tokens.buyer),
      canceled: await orders('', tokens.seller),
    };
    assert.equal(before.fills.fills.length, 7);
    // When it is closed and started again on its data folder
    for (const c of clients.splice(0)) await c.close();
    await gw.close();
    gw = await startExchange(config);
    await connect();
    // Then every page is as it was
    assert.deepEqual(await fills(''), before.fills);
    assert.deepEqual(await fills('', tokens.seller), before.sold);
    assert.deepEqual(await orders('', tokens.buyer), before.orders);
    assert.deepEqual(await orders('', tokens.seller), before.canceled);
  });

  it("shows a permissioned venue's fills and orders to its members only: none once the caller is no member", async () => {
    // Given two members of the club venue trading its instrument
    const [erin, frank] = [await WsClient.connect(gw.url), await WsClient.connect(gw.url)];
    clients.push(erin, frank);
    await loginFabric(frank, members[1]!);
    const token = (await loginFabric(erin, members[0]!)).token;
    const gilt = { instrument: 'GILT@fabric:club-net', price: '98.50' };
    frank.send(order('f1', 'sell', '2', gilt));
    await done(frank, 'f1', 'new');
    erin.send(order('e1', 'buy', '2', gilt));
    await done(erin, 'e1', 'filled');
    assert.deepEqual(
      (await fills('', token)).fills.map((f) => [f.instrument, f.quantity]),
      [['GILT@fabric:club-net', '2']],
    );
    assert.equal((await orders('', token)).orders.length, 1);
    // When the exchange starts again with the venue's membership no longer naming their MSP
    for (const c of clients.splice(0)) await c.close();
    await gw.close();
    gw = await startExchange({
      ...config,
      venues: { ...config.venues, 'fabric:club-net': { permissioned: true, members: ['OtherMSP'] } },
    });
    const again = await WsClient.connect(gw.url);
    clients.push(again);
    const other = (await loginFabric(again, members[0]!)).token;
    // Then the caller's history of that venue is not shown, and a page is not cut short by it
    assert.deepEqual(await fills('', other), { fills: [], next: null });
    assert.deepEqual(await orders('', other), { orders: [], next: null });
    await connect();
    assert.equal((await fills('limit=1')).fills.length, 1, 'others see theirs as before');
  });
});
