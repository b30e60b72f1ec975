/**
 * What a trader relies on across a restart of the exchange (the same data folder): client order
 * ids stay used, time goes on from the journal's even when the clock went back, and market data
 * resumes only within one epoch; with the REST book's sequence usable as `fromSeq`, and the
 * login saying per venue whether the account may trade there.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type Config,
  defaultConfig,
  DEMO_LISTINGS,
  type Embedded,
  LocalExchange,
  startExchange,
} from '../../app/index.ts';
import { keepEvent } from '../../engine/index.ts';
import { testGateway } from '../support/gateway.ts';
import { makeWallet } from '../support/identities.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';
import { until } from '../support/wait.ts';

const ACME = 'ACME@evm:31337';

const order = (clientOrderId: string, side: 'buy' | 'sell', price: string) => ({
  op: 'new',
  instrument: ACME,
  clientOrderId,
  side,
  orderType: 'limit',
  price,
  quantity: '1',
});

describe('restart safety', () => {
  const dirs: string[] = [];
  const folder = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-restart-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const start = (dataDir: string, adjust: (c: Config) => void = () => {}): Promise<Embedded> => {
    const config = defaultConfig();
    config.port = 0;
    config.dataDir = dataDir;
    config.logLevel = 'silent';
    config.demo.marketMaker = false;
    adjust(config);
    return startExchange(config);
  };

  it('refuses after a restart the client order ids of orders filled or canceled before it', async () => {
    // Given a seller and a buyer whose orders filled, and an order canceled, before a restart
    const dir = folder();
    const [seller, buyer] = [makeWallet(), makeWallet()];
    let gw = await start(dir);
    const [s, b] = [await WsClient.connect(gw.url), await WsClient.connect(gw.url)];
    await login(s, seller);
    await login(b, buyer);
    s.send(order('sold', 'sell', '100.00'));
    await s.next((m) => m.clientOrderId === 'sold' && m.status === 'new');
    b.send(order('bought', 'buy', '100.00'));
    await b.next((m) => m.clientOrderId === 'bought' && m.status === 'filled');
    await s.next((m) => m.clientOrderId === 'sold' && m.status === 'filled');
    b.send(order('gone', 'buy', '90.00'));
    const rested = await b.next((m) => m.clientOrderId === 'gone' && m.status === 'new');
    await b.request({ op: 'cancel', orderId: rested.orderId });
    await b.next((m) => m.clientOrderId === 'gone' && m.status === 'canceled');
    await Promise.all([s.close(), b.close()]);
    await gw.close();

    // When the exchange starts again on the same folder and both resend their orders
    gw = await start(dir);
    try {
      const [s2, b2] = [await WsClient.connect(gw.url), await WsClient.connect(gw.url)];
      await login(s2, seller);
      await login(b2, buyer);
      const seq = gw.exchange.engine.commandSeq;
      const answers: Msg[] = [
        await s2.request(order('sold', 'sell', '100.00')),
        await b2.request(order('bought', 'buy', '100.00')),
        await b2.request(order('gone', 'buy', '90.00')),
      ];
      // Then each is refused as a duplicate, with no execution report, and nothing is executed
      assert.deepEqual(
        answers.map((m) => [m.type, m.code]),
        Array(3).fill(['error', 'DUPLICATE_CLIENT_ORDER_ID']),
      );
      await Promise.all([s2.ping(), b2.ping()]);
      assert.deepEqual(
        [...s2.messages, ...b2.messages].filter((m) => m.type === 'exec'),
        [],
      );
      assert.equal(gw.exchange.engine.commandSeq, seq);
      // And a new id is taken as usual
      const fresh = await b2.request(order('fresh', 'buy', '90.00'));
      assert.equal(fresh.status, 'pending-new');
      await Promise.all([s2.close(), b2.close()]);
    } finally {
      await gw.close();
    }
  });

  it('goes on from the time of the journal when the clock is behind it after a restart', async () => {
    // Given commands journaled at T
    const dir = folder();
    const T = Date.UTC(2026, 11, 4, 12);
    let exchange = new LocalExchange({ dataDir: dir, risk: false, tickMs: 0, now: () => T });
    exchange.list(DEMO_LISTINGS);
    await exchange.close();
    // When the exchange starts again with its clock an hour back
    exchange = new LocalExchange({ dataDir: dir, risk: false, tickMs: 0, now: () => T - 3_600_000 });
    try {
      const events: Array<Record<string, unknown>> = [];
      exchange.onEvents((_seq, evs) => events.push(...evs.map(keepEvent)));
      exchange.submit({
        type: 'new',
        instrument: ACME,
        account: 'a',
        clientOrderId: 'late',
        side: 'buy',
        orderType: 'limit',
        price: 9_000,
        quantity: 1,
      });
      // Then its commands are taken, stamped with the journal's last time, not refused
      assert.equal(exchange.engine.orderOf('a', 'late')?.clientOrderId, 'late');
      assert.equal(exchange.engine.lastTs, T);
      await exchange.durable.flush();
      assert.equal(events[0]?.kind, 'accepted');
      assert.deepEqual(new Set(events.map((e) => e.ts)), new Set([T]));
    } finally {
      await exchange.close();
    }
  });
});

describe('market data across restarts, and what a login says', () => {
  let gw: Embedded;
  after(() => gw?.close());

  it("answers the REST book with its channel's sequence and epoch, from which a subscription resumes", async () => {
    gw = await testGateway();
    const trader = await WsClient.connect(gw.url);
    await login(trader, makeWallet());
    trader.send(order('one', 'buy', '91.00'));
    await trader.next((m) => m.clientOrderId === 'one' && m.status === 'new');

    // Given the book loaded over REST
    const res = await fetch(`${gw.url}/api/instruments/${ACME}/book?depth=10`);
    const book = (await res.json()) as Record<string, unknown>;
    assert.equal(book.seq, 0, 'nobody followed book.10 before: its sequence starts now');
    assert.equal(book.commandSeq, gw.exchange.engine.commandSeq);
    // When the book changes and the client subscribes from the REST sequence and epoch
    trader.send(order('two', 'buy', '92.00'));
    await trader.next((m) => m.clientOrderId === 'two' && m.status === 'new');
    const c = await WsClient.connect(gw.url);
    const sub = await c.request({
      op: 'subscribe',
      channel: `book.10:${ACME}`,
      fromSeq: book.seq,
      epoch: book.epoch,
    });
    assert.equal(sub.epoch, book.epoch);
    // Then it gets the update after the REST book, not a snapshot
    const next = await c.next((m) => m.channel === `book.10:${ACME}` && m.type !== 'heartbeat');
    assert.equal(next.type, 'update', JSON.stringify(next));
    assert.equal(next.seq, (book.seq as number) + 1);
    assert.deepEqual(next.bids, [['92.00', '1']]);

    // And a fromSeq without its epoch is refused, subscribing to nothing
    const bare = await c.request({ op: 'subscribe', channel: `book.5:${ACME}`, fromSeq: 0 });
    assert.equal(bare.code, 'BAD_MESSAGE');
    assert.match(bare.message as string, /"fromSeq" needs "epoch"/);
    await c.ping();
    assert.equal(c.messages.filter((m) => m.channel === `book.5:${ACME}`).length, 0);
    await Promise.all([trader.close(), c.close()]);
  });

  it('says at login, per venue, whether the account may trade there and why not', async () => {
    const c = await WsClient.connect(gw.url);
    const { access } = (await loginReply(c, makeWallet())) as unknown as {
      access: Array<Record<string, unknown>>;
    };
    assert.deepEqual(
      access.map((a) => [a.venue, a.canTrade, a.reason]),
      [
        ['evm:31337', true, undefined],
        ['fabric:bank-net', false, 'other-ledger'],
      ],
    );
    assert.match(access[1]!.message as string, /link a fabric identity to it \(or log in with one\)/);
    await c.close();
  });

  it("says at a second session's login the standing the account has now, not the one it had at the first", async () => {
    // Given an account logged in, then frozen on its venue by its ledger
    const wallet = makeWallet();
    const first = await WsClient.connect(gw.url);
    const { account } = await login(first, wallet);
    const seq = gw.exchange.submit({
      type: 'set-account',
      account,
      venue: 'evm:31337',
      eligible: true,
      frozen: true,
    });
    await until('the freeze to be durable', () => gw.exchange.durable.journal.durableSeq >= seq);
    await first.ping();
    // When a second session of the account logs in
    const second = await WsClient.connect(gw.url);
    const { access } = (await loginReply(second, wallet)) as unknown as {
      access: Array<Record<string, unknown>>;
    };
    // Then its access says the venue froze the account
    assert.deepEqual(access[0], {
      venue: 'evm:31337',
      canTrade: false,
      reason: 'frozen',
      message: 'the ledger of evm:31337 froze this account',
    });
    await Promise.all([first.close(), second.close()]);
  });
});

async function loginReply(c: WsClient, wallet: ReturnType<typeof makeWallet>): Promise<Msg> {
  const l = await login(c, wallet);
  return c.messages.find((m) => m.type === 'login' && m.account === l.account)!;
}
