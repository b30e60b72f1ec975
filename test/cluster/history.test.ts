/**
 * The history on a cluster, every part its own process on a real nats-server: two engine shards
 * (the EVM venue, and the rest) each keep the history of their venues; any gateway serves an
 * account's fills and finished orders from both, merged by time and paged across shards, and
 * each instrument's candles from its shard; a gateway killed with SIGKILL and started again
 * serves the same; a shard that lost its history folder (a fresh machine) rebuilds it from its
 * event stream.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ID_SPAN } from '../../cluster/index.ts';
import { candlesOf, ClientCandles, type Interval, INTERVALS, type SeenTrade } from '../support/candles.ts';
import { clusterConfigFile, READY, type TestNats, testNats } from '../support/cluster.ts';
import { killAll, MosaicProcess } from '../support/exchange-process.ts';
import { makeWallet } from '../support/identities.ts';
import { login, WsClient } from '../support/ws-client.ts';

type Json = Record<string, unknown>;
const EVM = 'ACME@evm:31337';
const FABRIC = 'ACME@fabric:bank-net';

describe('history on a cluster', { timeout: 240_000 }, () => {
  const running = new Set<ChildProcess>();
  const clients: WsClient[] = [];
  let nats: TestNats;
  let config: string;
  let dataDir: string;
  const seller = makeWallet();
  const buyer = makeWallet();

  before(async () => {
    nats = await testNats(1, { shards: [{ venues: ['evm:31337'] }, { venues: ['*'] }] });
    config = clusterConfigFile(nats);
    dataDir = path.join(nats.dir, 'data');
  });
  after(async () => {
    for (const c of clients) await c.close();
    await killAll(running);
    await nats?.stop();
  });

  const spawn = (args: string[]) => MosaicProcess.spawn([...args, '--config', config], READY, running);
  const signIn = async (url: string, wallet: ReturnType<typeof makeWallet>) => {
    const c = await WsClient.connect(url);
    clients.push(c);
    return { c, token: (await login(c, wallet)).token };
  };
  const read = async (url: string, token: string, route: string) => {
    const res = await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as Json;
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  };
  /** Every interval's candles of both instruments over REST at `url`, by `interval:instrument`. */
  const candles = async (url: string) => {
    const out: Record<string, unknown> = {};
    for (const instrument of [EVM, FABRIC]) {
      for (const interval of Object.keys(INTERVALS) as Interval[]) {
        const res = await fetch(`${url}/api/candles?instrument=${instrument}&interval=${interval}`);
        const body = (await res.json()) as Json;
        assert.equal(res.status, 200, JSON.stringify(body));
        out[`${interval}:${instrument}`] = body.candles;
      }
    }
    return out;
  };
  /** The candles the buyer's fills give (every trade is one of the buyer's), as `candles` keys them. */
  const candlesOfFills = (fills: Json) => {
    const out: Record<string, unknown> = {};
    for (const instrument of [EVM, FABRIC]) {
      const trades = (fills.fills as Array<SeenTrade & { instrument: string }>).filter(
        (f) => f.instrument === instrument,
      );
      for (const interval of Object.keys(INTERVALS) as Interval[])
        out[`${interval}:${instrument}`] = candlesOf(trades, interval);
    }
    return out;
  };
  const exec = (c: WsClient, clientOrderId: string, status: string) =>
    c.next((m) => m.type === 'exec' && m.clientOrderId === clientOrderId && m.status === status, 20_000);
  const order = (instrument: string, side: 'buy' | 'sell', clientOrderId: string, quantity: string) => ({
    op: 'new',
    instrument,
    side,
    orderType: 'limit',
    price: '100.00',
    quantity,
    clientOrderId,
  });

  it('serves fills, finished orders and candles of both shards through any gateway, after a gateway restart, and after a shard loses its folder', async () => {
    // Given two shards, each its own process, and two gateways
    const shard0 = await spawn(['engine', '--shard', '0', '--port', '0']);
    let shard1 = await spawn(['engine', '--shard', '1', '--port', '0']);
    let a = await spawn(['gateway']);
    const b = await spawn(['gateway']);
    const s = await signIn(a.url, seller);
    const bu = await signIn(b.url, buyer);

    // When the buyer, at gateway b, takes from the seller's orders on both shards, in turns
    s.c.send(order(EVM, 'sell', 'se', '10'));
    await exec(s.c, 'se', 'new');
    s.c.send(order(FABRIC, 'sell', 'sf', '10'));
    await exec(s.c, 'sf', 'new');
    const trades: number[] = [];
    for (const [i, instrument] of [EVM, FABRIC, EVM, FABRIC, EVM].entries()) {
      bu.c.send(order(instrument, 'buy', `b${i}`, String(i + 1)));
      trades.push((await exec(bu.c, `b${i}`, 'filled')).tradeId as number);
    }
    assert.ok(trades[1]! > ID_SPAN && trades[0]! < ID_SPAN, `trade ids of both shards: ${trades}`);
    const newestFirst = [...trades].reverse();

    // Then gateway b, at once, and gateway a serve the buyer's fills of both shards, newest first
    const ids = (body: Json) => (body.fills as Json[]).map((f) => f.tradeId);
    const fills = await read(b.url, bu.token, '/api/fills');
    assert.deepEqual(ids(fills), newestFirst);
    assert.deepEqual(
      (fills.fills as Json[]).map((f) => [f.instrument, f.quantity]),
      [
        [EVM, '5'],
        [FABRIC, '4'],
        [EVM, '3'],
        [FABRIC, '2'],
        [EVM, '1'],
      ],
    );
    const aToken = (await signIn(a.url, buyer)).token;
    assert.deepEqual(await read(a.url, aToken, '/api/fills'), fills);
    // And both gateways serve the candles of each shard's instrument, as the fills give them, the channel's snapshot too
    const wanted = candlesOfFills(fills);
    assert.deepEqual(await candles(b.url), wanted);
    assert.deepEqual(await candles(a.url), wanted);
    await bu.c.request({ op: 'subscribe', channel: `candles.1m:${FABRIC}` });
    const snap = await bu.c.next((m) => m.type === 'snapshot' && m.channel === `candles.1m:${FABRIC}`);
    assert.deepEqual(snap.candles, wanted[`1m:${FABRIC}`]);
    // And pages cross shards: two at a time, by cursor, or before a trade of the other shard
    const seen: unknown[] = [];
    let page = await read(a.url, aToken, '/api/fills?limit=2');
    seen.push(...ids(page));
    while (page.next !== null) {
      page = await read(a.url, aToken, `/api/fills?limit=2&cursor=${page.next as string}`);
      seen.push(...ids(page));
    }
    assert.deepEqual(seen, newestFirst);
    assert.deepEqual(
      ids(await read(a.url, aToken, `/api/fills?before=${trades[3]}&order=asc`)),
      trades.slice(0, 3),
    );
    assert.deepEqual(
      ids(await read(a.url, aToken, `/api/fills?after=${trades[1]}&limit=2&order=asc`)),
      trades.slice(2, 4),
    );
    // And the seller's orders, which ended on both shards, are its finished orders
    s.c.send({ op: 'cancel-all', id: 99 });
    // (the two shards cancel in either order)
    const ended = new Set<unknown>();
    while (ended.size < 2) {
      const m = await s.c.next(
        (r) =>
          r.type === 'exec' &&
          r.status === 'canceled' &&
          (r.clientOrderId === 'se' || r.clientOrderId === 'sf'),
        20_000,
      );
      ended.add(m.clientOrderId);
    }
    const sold = await read(a.url, s.token, '/api/orders/history');
    assert.deepEqual(
      (sold.orders as Json[]).map((o) => [o.clientOrderId, o.status, o.reason, o.cumQty]).sort(),
      [
        ['se', 'canceled', 'cancel-all', '9'],
        ['sf', 'canceled', 'cancel-all', '6'],
      ],
    );
    const bought = await read(b.url, bu.token, '/api/orders/history');
    assert.deepEqual(
      (bought.orders as Json[]).map((o) => o.clientOrderId),
      ['b4', 'b3', 'b2', 'b1', 'b0'],
    );

    // When gateway a is killed outright and started again
    assert.equal(await a.kill('SIGKILL'), null);
    a = await spawn(['gateway']);
    // Then it serves the same history
    const again = (await signIn(a.url, buyer)).token;
    assert.deepEqual(await read(a.url, again, '/api/fills'), fills);
    assert.deepEqual(await candles(a.url), wanted);
    assert.deepEqual(await read(a.url, again, '/api/orders/history'), bought);

    // When shard 1 is killed and its history folder lost, as on a fresh machine
    assert.equal(await shard1.kill('SIGKILL'), null);
    fs.rmSync(path.join(dataDir, 'history-shard-1'), { recursive: true, force: true });
    shard1 = await spawn(['engine', '--shard', '1', '--port', '0']);
    // Then it rebuilds the history from its event stream, and gateways serve all of it again
    assert.deepEqual(await read(a.url, again, '/api/fills'), fills);
    assert.deepEqual(await read(b.url, bu.token, '/api/orders/history'), bought);
    assert.deepEqual(await candles(a.url), wanted);
    assert.ok(shard0.child.exitCode === null && shard1.child.exitCode === null);

    // And a trade after it reaches a candle subscriber at a gateway as an update, counted once
    const channel = `candles.1h:${FABRIC}`;
    const copy = new ClientCandles();
    await bu.c.request({ op: 'subscribe', channel });
    copy.apply(await bu.c.next((m) => m.type === 'snapshot' && m.channel === channel));
    const s2 = await signIn(b.url, seller);
    s2.c.send(order(FABRIC, 'sell', 'sf2', '2'));
    await exec(s2.c, 'sf2', 'new');
    bu.c.send(order(FABRIC, 'buy', 'b9', '2'));
    await exec(bu.c, 'b9', 'filled');
    copy.apply(await bu.c.next((m) => m.type === 'update' && m.channel === channel, 20_000));
    const now = candlesOfFills(await read(b.url, bu.token, '/api/fills'));
    assert.deepEqual(copy.candles, now[`1h:${FABRIC}`]);
    assert.deepEqual(await candles(a.url), now);
  });
});
