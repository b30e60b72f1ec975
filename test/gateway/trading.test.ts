/**
 * Order entry over the WebSocket against a real exchange: logins (an order sent right behind its
 * login waits for it), the execution-report
 * lifecycle, idempotent client order ids, reports to every session of an account,
 * cancel-on-disconnect and the privacy of a permissioned venue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { login, loginFabric, type Msg, reports, WsClient } from '../support/ws-client.ts';
import { evmLogin, issue, makeMsp, makeWallet, type FabricMember } from '../support/identities.ts';

const ACME = 'ACME@evm:31337';
const GILT = 'GILT@fabric:club-net';

describe('order entry over WebSocket', () => {
  let gw: Embedded;
  let club: FabricMember;
  let outsider: FabricMember;

  before(async () => {
    const clubMsp = await makeMsp('ClubMSP');
    const bankMsp = await makeMsp('BankAMSP');
    club = await issue(clubMsp, 'carol');
    outsider = await issue(bankMsp, 'dave');
    gw = await testGateway((c) => {
      c.msps = [clubMsp.config, bankMsp.config];
    });
  });
  after(() => gw.close());

  it('logs in an Ethereum identity as its checksummed address and lists the venues it may see', async () => {
    const wallet = makeWallet();
    const c = await WsClient.connect(gw.url);
    const session = await login(c, wallet, 'eip712');
    assert.equal(session.account, wallet.address);
    assert.deepEqual(session.venues, ['evm:31337', 'fabric:bank-net']);
    assert.match(session.token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    await c.close();
  });

  it('takes an order sent right behind its login, once the login is answered', async () => {
    const c = await WsClient.connect(gw.url);
    const challenge = await c.request({ op: 'challenge' });
    // When the login and an order leave together, before the login's answer
    c.sendBatch([
      { ...evmLogin(makeWallet(), challenge as never, 'eip191'), id: 'in' },
      {
        op: 'new',
        id: 'order',
        instrument: ACME,
        clientOrderId: 'right-behind',
        side: 'buy',
        orderType: 'limit',
        price: '90.00',
        quantity: '1',
      },
    ]);
    // Then the login is answered, then the order, which was not refused for want of a login
    await c.next((m) => m.id === 'order');
    const answers = c.messages.filter((m) => m.id === 'in' || m.id === 'order');
    assert.deepEqual(
      answers.map((m) => [m.id, m.type, m.status]),
      [
        ['in', 'login', undefined],
        ['order', 'exec', 'pending-new'],
      ],
      JSON.stringify(answers),
    );
    await c.close();
  });

  it('takes an order through pending-new, new, partially-filled and filled with cumulative quantities and average price', async () => {
    const seller = await WsClient.connect(gw.url);
    const buyer = await WsClient.connect(gw.url);
    await login(seller, makeWallet());
    await login(buyer, makeWallet());
    const sell = (clientOrderId: string, price: string, quantity: string) =>
      seller.request({
        op: 'new',
        instrument: ACME,
        clientOrderId,
        side: 'sell',
        orderType: 'limit',
        price,
        quantity,
      });
    await sell('s1', '101.00', '4');
    await sell('s2', '101.02', '6');
    await seller.next((m) => m.clientOrderId === 's2' && m.status === 'new');
    const ack = await buyer.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'b1',
      side: 'buy',
      orderType: 'limit',
      price: '101.05',
      quantity: '10',
    });
    assert.equal(ack.status, 'pending-new');
    const filled = await buyer.next((m) => m.clientOrderId === 'b1' && m.status === 'filled');
    const statuses = reports(buyer, 'b1').map((r) => r.status);
    assert.deepEqual(statuses, ['pending-new', 'new', 'partially-filled', 'filled']);
    const partial = reports(buyer, 'b1')[2]!;
    assert.equal(partial.cumQty, '4');
    assert.equal(partial.leavesQty, '6');
    assert.equal(partial.lastPrice, '101.00');
    assert.equal(partial.liquidity, 'taker');
    assert.equal(filled.cumQty, '10');
    assert.equal(filled.leavesQty, '0');
    // (4 x 101.00 + 6 x 101.02) / 10 = 101.012
    assert.equal(filled.avgPrice, '101.0120');
    assert.equal(filled.orderId, partial.orderId);
    const makerFill = await seller.next((m) => m.clientOrderId === 's2' && m.status === 'filled');
    assert.equal(makerFill.liquidity, 'maker');
    assert.equal(makerFill.avgPrice, '101.02');
    await seller.close();
    await buyer.close();
  });

  it('reports replaced and canceled, and names an engine refusal by code', async () => {
    const c = await WsClient.connect(gw.url);
    await login(c, makeWallet());
    await c.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'r1',
      side: 'buy',
      orderType: 'limit',
      price: '95.00',
      quantity: '3',
    });
    const accepted = await c.next((m) => m.clientOrderId === 'r1' && m.status === 'new');
    await c.request({ op: 'replace', orderId: accepted.orderId, price: '95.50', quantity: '2' });
    const replaced = await c.next((m) => m.clientOrderId === 'r1' && m.status === 'replaced');
    assert.equal(replaced.price, '95.50');
    assert.equal(replaced.leavesQty, '2');
    await c.request({ op: 'cancel', clientOrderId: 'r1' });
    const canceled = await c.next((m) => m.clientOrderId === 'r1' && m.status === 'canceled');
    assert.equal(canceled.reason, 'user');
    assert.equal(canceled.leavesQty, '0');
    // 150.00 is outside the 10% band around the reference price 100.00.
    await c.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'r2',
      side: 'buy',
      orderType: 'limit',
      price: '150.00',
      quantity: '1',
    });
    const rejected = await c.next((m) => m.clientOrderId === 'r2' && m.status === 'rejected');
    assert.equal(rejected.codeName, 'PRICE_OUTSIDE_BAND');
    assert.match(rejected.reason as string, /band/);
    await c.close();
  });

  it('refuses a client order id used before, even after its order is gone, and never makes a second order', async () => {
    const c = await WsClient.connect(gw.url);
    await login(c, makeWallet());
    const order = {
      op: 'new',
      instrument: ACME,
      clientOrderId: 'once',
      side: 'buy',
      orderType: 'limit',
      price: '95.00',
      quantity: '1',
    };
    await c.request(order);
    const first = await c.next((m) => m.clientOrderId === 'once' && m.status === 'new');
    await c.request({ op: 'cancel', orderId: first.orderId });
    await c.next((m) => m.clientOrderId === 'once' && m.status === 'canceled');
    const seq = gw.exchange.engine.commandSeq;
    const again = await c.request(order);
    assert.equal(again.type, 'error');
    assert.equal(again.code, 'DUPLICATE_CLIENT_ORDER_ID');
    assert.match(again.message as string, /"once" was used before/);
    assert.equal(gw.exchange.engine.commandSeq, seq);
    await c.close();
  });

  it('sends reports to every session of the account, with the request id only to the one that asked', async () => {
    const wallet = makeWallet();
    const a = await WsClient.connect(gw.url);
    const b = await WsClient.connect(gw.url);
    await login(a, wallet);
    await login(b, wallet);
    const ack = await a.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'both',
      side: 'sell',
      orderType: 'limit',
      price: '109.00',
      quantity: '1',
    });
    const mine = await a.next((m) => m.clientOrderId === 'both' && m.status === 'new');
    const theirs = await b.next((m) => m.clientOrderId === 'both' && m.status === 'new');
    assert.equal(mine.id, ack.id);
    assert.equal(theirs.id, undefined);
    assert.equal(theirs.orderId, mine.orderId);
    await a.close();
    await b.close();
  });

  it('cancels the account orders when a cancel-on-disconnect session closes', async () => {
    const wallet = makeWallet();
    const c = await WsClient.connect(gw.url);
    await login(c, wallet, 'eip191', { cancelOnDisconnect: true });
    await c.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'cod',
      side: 'buy',
      orderType: 'limit',
      price: '91.00',
      quantity: '2',
    });
    const live = await c.next((m) => m.clientOrderId === 'cod' && m.status === 'new');
    assert.ok(gw.exchange.engine.order(live.orderId as number));
    await c.close();
    const watcher = await WsClient.connect(gw.url);
    await login(watcher, wallet);
    const deadline = Date.now() + 5000;
    while (gw.exchange.engine.order(live.orderId as number) !== undefined && Date.now() < deadline) {
      await watcher.ping();
    }
    assert.equal(gw.exchange.engine.order(live.orderId as number), undefined);
    await watcher.close();
  });

  it('shows a permissioned venue only to its members, in orders and market data alike', async () => {
    const member = await WsClient.connect(gw.url);
    const other = await WsClient.connect(gw.url);
    const session = await loginFabric(member, club);
    assert.equal(session.account, 'ClubMSP:carol');
    assert.ok(session.venues.includes('fabric:club-net'));
    const otherSession = await loginFabric(other, outsider);
    assert.ok(!otherSession.venues.includes('fabric:club-net'));

    const order = {
      op: 'new',
      instrument: GILT,
      clientOrderId: 'g1',
      side: 'buy',
      orderType: 'limit',
      price: '98.00',
      quantity: '5',
    };
    await member.request(order);
    await member.next((m) => m.clientOrderId === 'g1' && m.status === 'new');
    const refused = await other.request(order);
    assert.equal(refused.code, 'UNKNOWN_INSTRUMENT');
    assert.match(refused.message as string, /unknown instrument "GILT@fabric:club-net"/);

    const sub = await member.request({ op: 'subscribe', channel: `book.5:${GILT}` });
    assert.equal(sub.type, 'subscribed');
    const snap = await member.next((m) => m.type === 'snapshot' && m.channel === `book.5:${GILT}`);
    assert.deepEqual(snap.bids, [['98.00', '5']]);
    const denied = await other.request({ op: 'subscribe', channel: `book.5:${GILT}` });
    assert.equal(denied.code, 'UNKNOWN_INSTRUMENT');
    const anonymous = await WsClient.connect(gw.url);
    const anon = await anonymous.request({ op: 'subscribe', channel: `trades:${GILT}` });
    assert.equal(anon.code, 'UNKNOWN_INSTRUMENT');
    await Promise.all([member.close(), other.close(), anonymous.close()]);
  });

  it('streams market data to an anonymous subscriber with gap-free sequences', async () => {
    const watcher = await WsClient.connect(gw.url);
    await watcher.request({ op: 'subscribe', channel: `trades:${ACME}` });
    const snap = await watcher.next((m) => m.type === 'snapshot' && m.channel === `trades:${ACME}`);
    const trader = await WsClient.connect(gw.url);
    await login(trader, makeWallet());
    const other = await WsClient.connect(gw.url);
    await login(other, makeWallet());
    await trader.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'm1',
      side: 'sell',
      orderType: 'limit',
      price: '99.10',
      quantity: '2',
    });
    await trader.next((m: Msg) => m.clientOrderId === 'm1' && m.status === 'new');
    await other.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'm2',
      side: 'buy',
      orderType: 'market',
      quantity: '2',
    });
    const update = await watcher.next((m) => m.type === 'update' && m.channel === `trades:${ACME}`);
    assert.equal(update.seq, (snap.seq as number) + 1);
    const trades = update.trades as Msg[];
    assert.equal(trades[0]!.price, '99.10');
    assert.equal(trades[0]!.side, 'buy');
    await Promise.all([watcher.close(), trader.close(), other.close()]);
  });

  it('puts a request id only on the reports of the order the request named', async () => {
    const c = await WsClient.connect(gw.url);
    await login(c, makeWallet());
    const order = { op: 'new', instrument: ACME, orderType: 'limit', price: '97.30', quantity: '2' };
    await c.request({ ...order, clientOrderId: 'rest', side: 'sell' });
    await c.next((m) => m.clientOrderId === 'rest' && m.status === 'new');
    const taker = await c.request({ ...order, clientOrderId: 'take', side: 'buy', stp: 'cancel-oldest' });
    const stp = await c.next((m) => m.clientOrderId === 'rest' && m.status === 'canceled');
    assert.equal(stp.reason, 'stp');
    assert.equal(stp.id, undefined);
    const own = c.messages.find((m) => m.clientOrderId === 'take' && m.status === 'new')!;
    assert.equal(own.id, taker.id);
    await c.close();
  });

  it('replays missed market data from a sequence of the same epoch, and sends a snapshot for another', async () => {
    const channel = `book.5:${ACME}`;
    const first = await WsClient.connect(gw.url);
    const subscribed = await first.request({ op: 'subscribe', channel });
    const snap = await first.next((m) => m.type === 'snapshot' && m.channel === channel);
    await first.close();
    const trader = await WsClient.connect(gw.url);
    await login(trader, makeWallet());
    await trader.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'e1',
      side: 'buy',
      orderType: 'limit',
      price: '93.11',
      quantity: '1',
    });
    await trader.next((m) => m.clientOrderId === 'e1' && m.status === 'new');

    const again = await WsClient.connect(gw.url);
    await again.request({ op: 'subscribe', channel, fromSeq: snap.seq, epoch: subscribed.epoch });
    const replayed = await again.next((m) => m.channel === channel && m.type !== 'heartbeat');
    assert.equal(replayed.type, 'update');
    assert.equal(replayed.seq, (snap.seq as number) + 1);
    assert.ok((replayed.bids as string[][]).some(([p, q]) => p === '93.11' && q === '1'));

    const stale = await WsClient.connect(gw.url);
    await stale.request({
      op: 'subscribe',
      channel,
      fromSeq: snap.seq,
      epoch: (subscribed.epoch as number) - 1,
    });
    const fresh = await stale.next((m) => m.channel === channel && m.type !== 'heartbeat');
    assert.equal(fresh.type, 'snapshot');
    await Promise.all([trader.close(), again.close(), stale.close()]);
  });
});
