/**
 * Stateless gateways on a cluster, each its own process (`mosaic gateway`), with two engine
 * shards (`mosaic engine`): an order entered at one gateway goes to the shard owning its
 * instrument, the other gateway's clients see its fills and the same books; a gateway killed
 * with SIGKILL and started again follows the shards anew, and its clients find their orders; a
 * REST token from one gateway is good at the other; a read of an account while a shard is down is
 * refused UNAVAILABLE, and answered once it is back.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ID_SPAN, requestFunding, serveFaucet } from '../../cluster/index.ts';
import { clusterConfigFile, READY, type TestNats, testNats } from '../support/cluster.ts';
import { killAll, MosaicProcess } from '../support/exchange-process.ts';
import { metric } from '../support/gateway.ts';
import { until } from '../support/wait.ts';
import { makeWallet } from '../support/identities.ts';
import { login, WsClient } from '../support/ws-client.ts';
import { silentLogger } from '../../common/index.ts';

const EVM = 'ACME@evm:31337';
const FABRIC = 'ACME@fabric:bank-net';

describe('stateless gateways on a cluster', { timeout: 180_000 }, () => {
  const running = new Set<ChildProcess>();
  const clients: WsClient[] = [];
  let nats: TestNats;
  let config: string;
  const seller = makeWallet();
  const buyer = makeWallet();
  const shards: MosaicProcess[] = [];

  before(async () => {
    nats = await testNats(1, { shards: [{ venues: ['evm:31337'] }, { venues: ['*'] }] });
    config = clusterConfigFile(nats, { demo: { instruments: true, marketMaker: false, fundAccounts: true } });
    // Two engine shards, each its own process (the EVM venue, and the rest)
    shards.push(await spawn(['engine', '--shard', '0', '--port', '0']));
    shards.push(await spawn(['engine', '--shard', '1', '--port', '0']));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await killAll(running);
    await nats?.stop();
  });

  const spawn = (args: string[]) => MosaicProcess.spawn([...args, '--config', config], READY, running);
  const connect = async (url: string) => {
    const c = await WsClient.connect(url);
    clients.push(c);
    return c;
  };
  const book = async (url: string, id: string) => {
    const res = await fetch(`${url}/api/instruments/${id}/book?depth=10`);
    assert.equal(res.status, 200);
    const { bids, asks, checksum } = (await res.json()) as Record<string, unknown>;
    return { bids, asks, checksum };
  };
  /** What a gateway says it follows (`/health`). */
  const following = async (url: string) =>
    ((await (await fetch(`${url}/health`)).json()) as { following: unknown }).following;
  const order = (side: 'buy' | 'sell', clientOrderId: string, instrument = EVM, quantity = '5') => ({
    op: 'new',
    instrument,
    side,
    orderType: 'limit',
    price: '100.00',
    quantity,
    clientOrderId,
  });
  const exec = (c: WsClient, clientOrderId: string, status: string) =>
    c.next((m) => m.type === 'exec' && m.clientOrderId === clientOrderId && m.status === status, 20_000);

  it("ask the venues' faucets over NATS to fund an account that logs in, on the venues it may see", async () => {
    // Given a faucet for each Fabric venue, answering as a daemon on a devnet would
    const nc = await nats.connect();
    const funded: string[] = [];
    for (const venue of ['fabric:bank-net', 'fabric:club-net']) {
      serveFaucet(nc, nats.topology, venue, (account) => funded.push(`${venue} ${account}`), silentLogger);
    }
    // When an account logs in at a gateway
    const gw = await spawn(['gateway']);
    const wallet = makeWallet();
    await login(await connect(gw.url), wallet);
    // Then the public venue's faucet is asked to fund it, the permissioned one's is not: the
    // gateway asks in login order, so the request for an account logged in next comes after any
    // it made for the first
    const next = makeWallet();
    await login(await connect(gw.url), next);
    await until('the funding request for the next account', () =>
      funded.includes(`fabric:bank-net ${next.address}`),
    );
    assert.deepEqual(funded, [`fabric:bank-net ${wallet.address}`, `fabric:bank-net ${next.address}`]);
    // And a malformed account is refused by the faucet; a venue without one answers nothing
    assert.equal(await requestFunding(nc, nats.topology, 'fabric:bank-net', 'bad account'), false);
    assert.equal(await requestFunding(nc, nats.topology, 'evm:31337', wallet.address), false);
    assert.equal(funded.length, 2);
    await gw.kill('SIGTERM');
  });

  it('route each order to its shard and show both gateways the same fills and books; a restarted gateway follows again', async () => {
    // Given two shards and two gateways, each its own process
    let a = await spawn(['gateway']);
    const b = await spawn(['gateway']);
    const [s, bu] = [await connect(a.url), await connect(b.url)];
    await login(s, seller);
    await login(bu, buyer);
    // Then neither follows any instrument's market data while no client asked for one
    assert.deepEqual(await following(a.url), { accounts: 1, instruments: 0 });
    const watch = await connect(b.url);
    const sub = await watch.request({ op: 'subscribe', channel: `trades:${EVM}` });
    assert.equal(sub.type, 'subscribed');
    // And a subscription makes its gateway follow that instrument only
    assert.deepEqual(await following(b.url), { accounts: 1, instruments: 1 });

    // When the seller rests 5 at gateway a and the buyer takes 2 at gateway b
    s.send(order('sell', 's1'));
    const pending = await exec(s, 's1', 'pending-new');
    assert.equal(typeof pending.seq, 'number', 'the request is answered with its sequence');
    await exec(s, 's1', 'new');
    bu.send(order('buy', 'b1', EVM, '2'));
    const fill = await exec(bu, 'b1', 'filled');
    // Then the seller, on the other gateway, hears of the fill, and b's trade feed shows it
    const partial = await exec(s, 's1', 'partially-filled');
    assert.equal(partial.tradeId, fill.tradeId);
    await watch.next((m) => m.channel === `trades:${EVM}` && m.type === 'update', 20_000);
    // And both gateways serve the same book (a reads it from the shard on this first use)
    const bookA = await book(a.url, EVM);
    assert.deepEqual(bookA.asks, [['100.00', '3']]);
    assert.deepEqual(await book(b.url, EVM), bookA);
    assert.deepEqual(await following(a.url), { accounts: 1, instruments: 1 });

    // When the buyer rests an order on the Fabric venue (shard 1) and cancels it by client id
    bu.send(order('buy', 'f1', FABRIC, '1'));
    const rested = await exec(bu, 'f1', 'new');
    assert.ok((rested.orderId as number) > ID_SPAN, `shard 1 numbered order ${rested.orderId}`);
    const ack = await bu.request({ op: 'cancel', clientOrderId: 'f1' }, 20_000);
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    await exec(bu, 'f1', 'canceled');
    // And no gateway followed the Fabric instrument: nobody watched it
    assert.deepEqual(await following(b.url), { accounts: 1, instruments: 1 });

    // When gateway a is killed outright and started again
    assert.equal(await a.kill('SIGKILL'), null);
    a = await spawn(['gateway']);
    // Then it follows the shards again: same book, and the seller finds its open order there
    assert.deepEqual(await book(a.url, EVM), bookA);
    const again = await connect(a.url);
    const { token } = await login(again, seller);
    const res = await fetch(`${a.url}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    const open = (await res.json()) as Array<Record<string, unknown>>;
    assert.deepEqual(
      open.map((o) => [o.clientOrderId, o.leavesQty]),
      [['s1', '3']],
    );
    // And its REST token is good at the other gateway too (the gateways share the key that signs it)
    const atB = await fetch(`${b.url}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(atB.status, 200);
    assert.deepEqual(await atB.json(), open);
    // And a trade at the other gateway reaches the seller on the restarted one
    bu.send(order('buy', 'b2', EVM, '3'));
    await exec(again, 's1', 'filled');
    await a.kill('SIGTERM');
    await b.kill('SIGTERM');
  });

  it('refuse a client order id used through the other gateway, also when both are sent at once, without a rejected report', async () => {
    // Given two gateways and one account logged in at both
    const [a, b] = [await spawn(['gateway']), await spawn(['gateway'])];
    const trader = makeWallet();
    const [ca, cb] = [await connect(a.url), await connect(b.url)];
    await login(ca, trader);
    await login(cb, trader);
    const noRejects = (c: WsClient) => c.messages.filter((m) => m.type === 'exec' && m.status === 'rejected');

    // When an order rests through gateway a and is canceled there
    ca.send(order('buy', 'once', EVM, '1'));
    await exec(ca, 'once', 'new');
    assert.equal((await ca.request({ op: 'cancel', clientOrderId: 'once' }, 20_000)).type, 'ack');
    await exec(cb, 'once', 'canceled');
    // Then gateway b refuses the same id for the account: its shard finds it used (the gateway
    // holds no engine), so the refusal may come after the request's pending-new
    const id = cb.newId();
    cb.send({ ...order('buy', 'once', EVM, '1'), id });
    await until('the reused id refused', () => cb.messages.some((m) => m.id === id && m.type === 'error'));
    const answers = cb.messages.filter((m) => m.id === id).map((m) => m.code ?? m.status);
    assert.equal(answers.at(-1), 'DUPLICATE_CLIENT_ORDER_ID', JSON.stringify(answers));
    assert.ok(
      answers.length === 1 || (answers.length === 2 && answers[0] === 'pending-new'),
      JSON.stringify(answers),
    );

    // When a new id is sent through both gateways at the same moment
    const [ida, idb] = [ca.newId(), cb.newId()];
    ca.send({ ...order('buy', 'twice', EVM, '1'), id: ida });
    cb.send({ ...order('buy', 'twice', EVM, '1'), id: idb });
    // Then one of the requests makes the order and the other is refused as a duplicate
    const errors = () =>
      [...ca.messages.filter((m) => m.id === ida), ...cb.messages.filter((m) => m.id === idb)].filter(
        (m) => m.type === 'error',
      );
    await until('the duplicate refused', () => errors().length > 0);
    await exec(ca, 'twice', 'new');
    await Promise.all([ca.ping(), cb.ping()]);
    assert.deepEqual(
      errors().map((m) => m.code),
      ['DUPLICATE_CLIENT_ORDER_ID'],
    );
    const { token } = await login(await connect(a.url), trader);
    const res = await fetch(`${a.url}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    const orders = (await res.json()) as Array<Record<string, unknown>>;
    assert.equal(orders.filter((o) => o.clientOrderId === 'twice').length, 1, 'one order with the id');
    // And no session of the account saw an execution report refusing an order for its id
    assert.deepEqual([...noRejects(ca), ...noRejects(cb)], []);
    await a.kill('SIGTERM');
    await b.kill('SIGTERM');
  });

  it("count an account's orders through one gateway against its order limit at the other", async () => {
    // Given two gateways whose account order limit is 30 at once, then 1 a second
    const limited = clusterConfigFile(nats, {
      demo: { instruments: true, marketMaker: false, fundAccounts: true },
      limits: { accountOrdersPerSecond: 1, accountOrderBurst: 30 },
    });
    const start = () => MosaicProcess.spawn(['gateway', '--config', limited], READY, running);
    const [a, b] = [await start(), await start()];
    const trader = makeWallet();
    const [ca, cb] = [await connect(a.url), await connect(b.url)];
    await login(ca, trader);
    await login(cb, trader);
    // When the account spends its 30 orders at gateway a, and gateway b has seen them
    for (let i = 0; i < 30; i++) ca.send(order('buy', `spent-${i}`, EVM, '1'));
    await until('gateway b reported the 30 orders', () =>
      cb.messages.some((m) => m.type === 'exec' && m.clientOrderId === 'spent-29' && m.status === 'new'),
    );
    assert.equal(ca.messages.filter((m) => m.type === 'error').length, 0);
    // Then gateway b refuses its next orders (10 of them would need 10 s to earn)
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => cb.request(order('buy', `more-${i}`, EVM, '1'), 20_000)),
    );
    const refused = answers.filter((m) => m.code === 'RATE_LIMITED');
    assert.ok(refused.length > 0, JSON.stringify(answers));
    assert.match(refused[0]!.message as string, /orders, cancels and replaces\/s \(burst 30\) per account/);
    assert.equal(typeof refused[0]!.retryAfterMs, 'number');
    await a.kill('SIGTERM');
    await b.kill('SIGTERM');
  });

  it("count an account's sessions and messages at one gateway against its limits at the other", async () => {
    // Given two gateways allowing an account 2 sessions and 20 messages at once, then 1 a second
    const limited = clusterConfigFile(nats, {
      demo: { instruments: true, marketMaker: false, fundAccounts: true },
      limits: { sessionsPerAccount: 2, accountMessagesPerSecond: 1, accountBurst: 20 },
    });
    const start = () => MosaicProcess.spawn(['gateway', '--config', limited], READY, running);
    const [a, b] = [await start(), await start()];
    const trader = makeWallet();
    // When the account logs in twice at gateway a, and gateway b has heard of it
    const [ca1, ca2] = [await connect(a.url), await connect(a.url)];
    await login(ca1, trader);
    await login(ca2, trader);
    await until(
      'gateway b counting the sessions at a',
      async () => (await metric(b.url, 'mosaic_limit_peer_sessions')) === 2,
    );
    // Then a session at gateway b is refused
    const cb = await connect(b.url);
    await assert.rejects(login(cb, trader), /TOO_MANY_SESSIONS/);
    // When one session at a closes, then b hears of it, b lets the account log in
    await ca2.close();
    await until(
      'gateway b counting one session at a',
      async () => (await metric(b.url, 'mosaic_limit_peer_sessions')) === 1,
    );
    await login(cb, trader);

    // When the account sends 30 messages at gateway a (past its 20: a refuses the last ones, which count too),
    // and b has heard of them
    for (let i = 0; i < 30; i++) ca1.send({ op: 'ping', id: `p${i}` });
    await until(
      'gateway b charged the messages sent at a',
      async () => (await metric(b.url, 'mosaic_limit_peer_messages_total')) >= 30,
    );
    const answered = () => ca1.messages.filter((m) => typeof m.id === 'string' && m.id.startsWith('p'));
    await until('gateway a answering the 30', () => answered().length === 30);
    const pongs = answered().filter((m) => m.type === 'pong').length;
    assert.ok(pongs >= 20 && pongs < 30, `${pongs} pongs`);
    // Then gateway b refuses the account's next message, naming the per-account limit
    const refused = await cb.request({ op: 'ping' }, 20_000);
    assert.equal(refused.code, 'RATE_LIMITED', JSON.stringify(refused));
    assert.match(refused.message as string, /messages\/s \(burst 20\) per account over all its sessions/);
    await a.kill('SIGTERM');
    await b.kill('SIGTERM');
  });

  it("answer a read of an account UNAVAILABLE while a shard does not answer, and the account's orders once it is back", async () => {
    // Given a gateway and an account logged in there
    const a = await spawn(['gateway']);
    const { token } = await login(await connect(a.url), makeWallet());
    const orders = () => fetch(`${a.url}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    // When shard 1 is killed, a read of the account's orders (on every shard) waits, then is refused
    assert.equal(await shards[1]!.kill('SIGKILL'), null);
    const refused = await orders();
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { code: string }).code, 'UNAVAILABLE');
    // When the shard is back, the read is answered
    shards[1] = await spawn(['engine', '--shard', '1', '--port', '0']);
    const answered = await orders();
    assert.equal(answered.status, 200);
    assert.deepEqual(await answered.json(), []);
    await a.kill('SIGTERM');
  });
});
