/**
 * `mosaic start` killed with SIGKILL right after its clients were told of their fills: started
 * again on the same data folder, it serves every fill and finished order from before, each once
 * (what its history store had not committed comes back from the journal), and the same candles
 * of every interval over REST and in each channel's snapshot, and goes on recording.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { candlesOf, type Interval, INTERVALS, type SeenTrade, type WireCandle } from '../support/candles.ts';
import { killAll, MosaicProcess, Traders } from '../support/exchange-process.ts';
import { makeWallet } from '../support/identities.ts';
import { login, WsClient } from '../support/ws-client.ts';

type Json = Record<string, unknown>;
const ACME = 'ACME@evm:31337';

describe('history across a SIGKILL of the exchange', { timeout: 120_000 }, () => {
  const running = new Set<ChildProcess>();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-history-kill-'));
  after(async () => {
    await killAll(running);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves every fill and finished order from before the kill, once, and records what comes after', async () => {
    const configFile = path.join(dir, 'mosaic.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        port: 0,
        dataDir: path.join(dir, 'data'),
        logLevel: 'silent',
        risk: false,
        demo: { instruments: true, marketMaker: false, fundAccounts: false },
        connectors: [],
      }),
    );
    const wallets = { seller: makeWallet(), buyer: makeWallet() };
    const signIn = (c: Parameters<typeof login>[0], who: 'seller' | 'buyer') => login(c, wallets[who]);
    const read = async (t: Traders, who: 'seller' | 'buyer', route: string) => {
      const res = await fetch(`${t.urls[who]}${route}`, {
        headers: { authorization: `Bearer ${t.tokens[who]}` },
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as Json;
    };
    /** Per interval, ACME's candles over REST and in a new subscriber's snapshot, checked to be the same. */
    const candles = async (t: Traders) => {
      const c = await WsClient.connect(t.urls.buyer);
      const out: Array<[Interval, WireCandle[]]> = [];
      for (const interval of Object.keys(INTERVALS) as Interval[]) {
        const res = await fetch(`${t.urls.buyer}/api/candles?instrument=${ACME}&interval=${interval}`);
        const rest = ((await res.json()) as { candles: WireCandle[] }).candles;
        await c.request({ op: 'subscribe', channel: `candles.${interval}:${ACME}` });
        const snap = await c.next(
          (m) => m.type === 'snapshot' && m.channel === `candles.${interval}:${ACME}`,
        );
        assert.deepEqual(snap.candles, rest, interval);
        out.push([interval, rest]);
      }
      await c.close();
      return new Map(out);
    };
    /** The candles the buyer's fills give (every trade is one of the buyer's). */
    const expected = (fills: Json) =>
      new Map(
        (Object.keys(INTERVALS) as Interval[]).map((i) => [i, candlesOf(fills.fills as SeenTrade[], i)]),
      );
    const history = async (t: Traders) => ({
      bought: await read(t, 'buyer', '/api/fills'),
      sold: await read(t, 'seller', '/api/fills'),
      orders: await read(t, 'buyer', '/api/orders/history'),
    });

    // Given trades the clients were told of
    let exchange = await MosaicProcess.start(configFile, running);
    let traders = await Traders.connect(exchange.url, ACME, signIn);
    const first = await traders.trade([1, 2, 3, 4]);
    const before = await candles(traders);
    assert.deepEqual(before, expected(await read(traders, 'buyer', '/api/fills')));
    // When the exchange is killed outright, at once
    assert.equal(await exchange.kill('SIGKILL'), null);
    await traders.close();

    // Then, started again, it serves each of those fills once, newest first, and the orders they filled
    exchange = await MosaicProcess.start(configFile, running);
    traders = await Traders.connect(exchange.url, ACME, signIn, traders);
    const seen = await history(traders);
    const ids = (page: Json, key = 'fills') => (page[key] as Json[]).map((f) => f.tradeId ?? f.clientOrderId);
    assert.deepEqual(ids(seen.bought), [...first].reverse(), exchange.output);
    assert.deepEqual(ids(seen.sold), [...first].reverse());
    assert.deepEqual(
      (seen.bought.fills as Json[]).map((f) => f.quantity),
      ['4', '3', '2', '1'],
    );
    assert.deepEqual(ids(seen.orders, 'orders'), ['b5', 'b4', 'b3', 'b2']);
    assert.equal(seen.bought.next, null);
    // And the same candles of every interval, over REST and in each channel's snapshot
    assert.deepEqual(await candles(traders), before);

    // And what comes after is recorded too, and survives a second kill with the rest
    const second = await traders.trade([5, 6]);
    const all = [...first, ...second].reverse();
    assert.deepEqual(ids(await read(traders, 'buyer', '/api/fills')), all);
    assert.equal(await exchange.kill('SIGKILL'), null);
    await traders.close();
    exchange = await MosaicProcess.start(configFile, running);
    traders = await Traders.connect(exchange.url, ACME, signIn, traders);
    const bought = await read(traders, 'buyer', '/api/fills');
    assert.deepEqual(ids(bought), all);
    assert.deepEqual(await candles(traders), expected(bought));
    const sold = await read(traders, 'seller', '/api/orders/history');
    assert.deepEqual(
      (sold.orders as Json[]).map((o) => [o.clientOrderId, o.status, o.cumQty]),
      [
        ['s6', 'filled', '11'],
        ['s1', 'filled', '10'],
      ],
    );
    await traders.close();
    await exchange.kill('SIGTERM');
  });
});
