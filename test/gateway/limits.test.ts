/**
 * The gateway's limits against abusive clients (docs/ws-protocol.md#limits), each over real
 * sockets against a real exchange whose limits are set small: what the abusive client sees, that
 * a well-behaved client beside it is still served, and the count in `/metrics`. Clients connect
 * from other loopback addresses (127.0.0.x) to stand for other hosts.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import type { Embedded } from '../../app/index.ts';
import { frame, openRaw } from '../../bench/gateway/raw-ws.ts';
import { metric as metricAt, testGateway } from '../support/gateway.ts';
import { evmLogin, makeWallet, type ReceivedChallenge } from '../support/identities.ts';
import { within, until } from '../support/wait.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';

const TICKER = 'ticker:ACME@evm:31337';
/** Session rates out of the way, for the tests of other limits. */
const UNLIMITED_SESSION = { messagesPerSecond: 10_000_000, burst: 10_000_000 };

/** A value of `gw`'s `/metrics`. */
const metric = (gw: Embedded, series: string) => metricAt(gw.url, series);

/** A POST with a JSON body from `localAddress`, on a connection of its own. */
function post(
  gw: Embedded,
  path: string,
  body: unknown,
  localAddress: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${gw.url}${path}`,
      { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The replies to the requests with `ids`, in that order (waiting for each). */
async function replies(client: WsClient, ids: ReadonlyArray<string | number>): Promise<Msg[]> {
  const out: Msg[] = [];
  for (const id of ids) out.push(await client.reply(id, 30_000));
  return out;
}

/** A login that cannot pass: an unknown nonce and a random signature. */
function bogusLogin(id: string): Record<string, unknown> {
  return {
    op: 'login',
    id,
    scheme: 'eip191',
    nonce: randomBytes(32).toString('hex'),
    address: makeWallet().address,
    signature: `0x${randomBytes(65).toString('hex')}`,
  };
}

/**
 * Sends pings on `slow`, which reads nothing, until the server closes a slow consumer (once the
 * answers fill the kernel's buffers, they pile up on the server); `normal`, which reads, must be
 * answered meanwhile. Gives the number of pings sent.
 */
async function floodUnread(gw: Embedded, slow: WsClient, normal: WsClient): Promise<number> {
  slow.pause();
  let sent = 0;
  let served: Promise<Msg> | undefined;
  await until(
    'the server to close the client that does not read',
    () => {
      if (gw.limits.closed.slowConsumer > 0) return true;
      assert.ok(sent < 2_000_000, `still open after ${sent} pings left unread`);
      if (slow.bufferedAmount === 0) {
        slow.sendBatch(Array.from({ length: 5000 }, (_, i) => ({ op: 'ping', id: sent + i })));
        sent += 5000;
        served ??= normal.ping(30_000);
      }
      return false;
    },
    () => `${sent} pings sent`,
  );
  await served;
  return sent;
}

describe('limits on what one connection costs', () => {
  let gw: Embedded;
  before(async () => {
    gw = await testGateway((c) => {
      c.limits = { ...c.limits, ...UNLIMITED_SESSION, maxUnsentBytes: 65_536 };
      c.feed = { ...c.feed, slowBytes: 16_384 };
    });
  });
  after(() => gw.close());

  it('closes a client that sends requests and never reads the answers (maxUnsentBytes), and forgets it', async () => {
    const normal = await WsClient.connect(gw.url);
    await normal.ping();
    const sessions = await metric(gw, 'mosaic_ws_connections');
    const tracked = gw.limits.tracked;

    // Given a client that asks for pongs and never reads them.
    const slow = await WsClient.connect(gw.url, { localAddress: '127.0.0.2' });
    const sent = await floodUnread(gw, slow, normal);
    console.log(`closed as a slow consumer after ${sent} pings sent`);

    // Then the other client was served meanwhile and still is.
    await normal.ping();
    assert.equal(gw.limits.closed.slowConsumer, 1);
    assert.equal(await metric(gw, 'mosaic_ws_closed_total{reason="slowConsumer"}'), 1);
    // And once it is cut, nothing of it stays on the server.
    await until('the slow client to be gone', () => gw.limits.connections === 1);
    assert.equal(await metric(gw, 'mosaic_ws_connections'), sessions);
    assert.equal(gw.limits.tracked, tracked);
    assert.ok(normal.open);
    await normal.close();
  });
});

describe('a limit on unsent bytes over all connections', () => {
  const MAX_UNSENT = 512 * 1024 * 1024;
  let gw: Embedded;
  before(async () => {
    gw = await testGateway((c) => {
      c.limits = {
        ...c.limits,
        ...UNLIMITED_SESSION,
        maxUnsentBytes: MAX_UNSENT,
        totalUnsentBytes: 1024 * 1024,
      };
    });
  });
  after(() => gw.close());

  it('closes the connection with the most unsent once all together pass totalUnsentBytes', async () => {
    const normal = await WsClient.connect(gw.url);
    await normal.ping();
    const slow = await WsClient.connect(gw.url, { localAddress: '127.0.0.2' });
    const sent = await floodUnread(gw, slow, normal);
    // Far below its own cap: the pongs of every ping sent would not reach it.
    assert.ok(sent * 64 < MAX_UNSENT);
    await normal.ping();
    assert.equal(await metric(gw, 'mosaic_ws_closed_total{reason="slowConsumer"}'), 1);
    await until('the slow client to be gone', () => gw.limits.connections === 1);
    assert.ok(normal.open);
    await normal.close();
  });
});

describe('frames per turn', () => {
  // One frame of a connection a turn: the strictest setting, where each read resumed after a pause
  // finds the connection's budget spent already.
  const FRAMES_PER_TURN = 1;
  let gw: Embedded;
  before(async () => {
    gw = await testGateway((c) => {
      c.limits = {
        ...c.limits,
        ...UNLIMITED_SESSION,
        accountMessagesPerSecond: 10_000_000,
        accountBurst: 10_000_000,
        accountOrdersPerSecond: 10_000_000,
        accountOrderBurst: 10_000_000,
        framesPerTurn: FRAMES_PER_TURN,
      };
    });
  });
  after(() => gw.close());

  it("answers a flood in order, and another client's frame in the turn it arrives, not after the flood", async () => {
    const flooder = await WsClient.connect(gw.url);
    const other = await WsClient.connect(gw.url);
    await login(flooder, makeWallet());
    await login(other, makeWallet());

    // Given 5,000 cancel-alls sent at once (about 175 kB: the server reads them in several pieces,
    // the connection paused in between; each gets the engine's next sequence number), then
    // another client's cancel-all.
    const ids = Array.from({ length: 5000 }, (_, i) => `f${i}`);
    flooder.sendBatch(ids.map((id) => ({ op: 'cancel-all', id })));
    other.send({ op: 'cancel-all', id: 'other' });

    // Then every frame of the flood is answered, in order.
    const acks = await replies(flooder, ids);
    const seqs = acks.map((m) => {
      assert.equal(m.type, 'ack', JSON.stringify(m));
      return m.seq as number;
    });
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `acks out of order at ${i}`);
    // And the other client's frame, read in the same turn as the flood's first piece, was
    // handled after at most one turn's share of the flood (the whole piece without the limit).
    const seq = (await other.reply('other')).seq as number;
    const before = seqs.filter((s) => s < seq).length;
    assert.ok(
      before <= FRAMES_PER_TURN,
      `${before} of the flood's frames were handled before another client's (at most ${FRAMES_PER_TURN} a turn)`,
    );
    await flooder.close();
    await other.close();
  });
});

describe('limits on connections', () => {
  let gw: Embedded;
  before(async () => {
    gw = await testGateway((c) => {
      c.limits = { ...c.limits, connectionsPerAddress: 3, maxConnections: 5 };
    });
  });
  after(() => gw.close());

  it('refuses an address its fourth connection with 429 while another address connects, until one closes', async () => {
    const from1 = [];
    for (let i = 0; i < 3; i++) from1.push(await WsClient.connect(gw.url, { localAddress: '127.0.0.1' }));
    await assert.rejects(
      WsClient.connect(gw.url, { localAddress: '127.0.0.1' }),
      /Unexpected server response: 429/,
    );
    const from2 = await WsClient.connect(gw.url, { localAddress: '127.0.0.2' });
    await from2.ping();
    assert.equal(gw.limits.refused.connectionsPerAddress, 1);
    assert.equal(await metric(gw, 'mosaic_limit_refusals_total{limit="connectionsPerAddress"}'), 1);

    // When one of the three closes, its slot is free again.
    await from1.shift()!.close();
    await until('the closed connection to be released', () => gw.limits.connections === 3);
    from1.push(await WsClient.connect(gw.url, { localAddress: '127.0.0.1' }));
    await from1.at(-1)!.ping();
    for (const c of [...from1, from2]) await c.close();
    await until('every connection to be released', () => gw.limits.connections === 0);
    assert.equal(gw.limits.tracked, 0);
  });

  it('refuses connections past maxConnections with 503, until one closes', async () => {
    const open = [];
    for (const address of ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14', '127.0.0.15']) {
      open.push(await WsClient.connect(gw.url, { localAddress: address }));
    }
    await assert.rejects(
      WsClient.connect(gw.url, { localAddress: '127.0.0.16' }),
      /Unexpected server response: 503/,
    );
    assert.equal(gw.limits.refused.maxConnections, 1);
    assert.equal(await metric(gw, 'mosaic_limit_refusals_total{limit="maxConnections"}'), 1);

    await open.shift()!.close();
    await until('the closed connection to be released', () => gw.limits.connections === 4);
    open.push(await WsClient.connect(gw.url, { localAddress: '127.0.0.16' }));
    await open.at(-1)!.ping();
    for (const c of open) await c.close();
    await until('every connection to be released', () => gw.limits.connections === 0);
  });
});

describe('a client that goes on sending while rate limited', () => {
  let gw: Embedded;
  before(async () => {
    gw = await testGateway((c) => {
      c.limits = { ...c.limits, messagesPerSecond: 1, burst: 5, refusedBeforeClose: 10 };
    });
  });
  after(() => gw.close());

  it('is closed (4029) after refusedBeforeClose refusals not a second apart; one that waits as told is not', async () => {
    // Given a client that spends its burst, is refused once and waits as the answer says
    const patient = await WsClient.connect(gw.url, { localAddress: '127.0.0.2' });
    for (let i = 0; i < 5; i++) assert.equal((await patient.ping()).type, 'pong');
    const refused = await patient.request({ op: 'ping' });
    assert.equal(refused.code, 'RATE_LIMITED');
    await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs as number));
    // Then its next message passes
    assert.equal((await patient.ping()).type, 'pong');

    // When another sends 30 at once
    const flood = await WsClient.connect(gw.url, { localAddress: '127.0.0.3' });
    flood.sendBatch(Array.from({ length: 30 }, (_, i) => ({ op: 'ping', id: i })));
    // Then 5 pass, 10 are refused, and it is closed
    const closed = await within('the flooding client to be closed', flood.closed);
    assert.equal(closed.code, 4029);
    assert.match(closed.reason, /rate limited: 10 messages refused, not a second apart/);
    const answers = flood.messages.filter((m) => m.id !== undefined);
    assert.deepEqual(
      answers.map((m) => m.type),
      [...Array<string>(5).fill('pong'), ...Array<string>(10).fill('error')],
    );
    assert.equal(gw.limits.closed.rateLimited, 1);
    assert.equal(await metric(gw, 'mosaic_ws_closed_total{reason="rateLimited"}'), 1);
    assert.ok(patient.open);
    await patient.close();
  });
  it('reads nothing more from a client it closed (4029): the rest of its flood stays with the client', async () => {
    // Given a client that writes pings as fast as its socket takes them, reading nothing
    const raw = await openRaw(`${gw.url}/ws`, '127.0.0.4');
    assert.equal(raw.status, 101);
    const chunk = Buffer.concat(
      Array.from({ length: 4096 }, (_, i) => frame(JSON.stringify({ op: 'ping', id: i }))),
    );
    const LIMIT = 256 * 1024 * 1024;
    let offered = 0;
    // When the server closes it (4029), it goes on writing until its socket is cut
    await new Promise<void>((resolve) => {
      raw.socket.once('close', () => resolve());
      const pump = () => {
        while (offered < LIMIT && raw.ended.error === undefined) {
          offered += chunk.length;
          if (!raw.socket.write(chunk)) return void raw.socket.once('drain', pump);
        }
      };
      pump();
    });
    // Then the server took no more than the kernel's buffers hold from the moment it closed it:
    // what it read it would have had to hold or parse for the second the client has to answer
    const taken = raw.socket.bytesWritten - raw.socket.writableLength;
    console.log(
      `the closed flooding client got ${(taken / 1e6).toFixed(1)} MB into the kernel; ${(offered / 1e6).toFixed(1)} MB offered`,
    );
    assert.ok(taken < 16 * 1024 * 1024, `${taken} bytes taken`);
    assert.ok(gw.limits.closed.rateLimited >= 1);
  });
});

describe('limits on idle and dead connections', () => {
  const LOGIN_TIMEOUT_MS = 1000;
  let gw: Embedded;
  before(async () => {
    gw = await testGateway((c) => {
      c.limits = { ...c.limits, loginTimeoutMs: LOGIN_TIMEOUT_MS, pingIntervalMs: 300 };
    });
  });
  after(() => gw.close());

  it('closes a connection that neither logs in nor subscribes (4001), not one that did either', async () => {
    const loggedIn = await WsClient.connect(gw.url);
    await login(loggedIn, makeWallet());
    const subscriber = await WsClient.connect(gw.url);
    await subscriber.request({ op: 'subscribe', channel: TICKER });
    // Opened last, its deadline comes after theirs: once it is closed, theirs have passed.
    const idle = await WsClient.connect(gw.url);

    const closed = await within('the idle connection to be closed', idle.closed);
    assert.equal(closed.code, 4001);
    assert.match(closed.reason, /login timeout: log in or subscribe within 1000 ms/);
    await loggedIn.ping();
    await subscriber.ping();
    assert.equal(gw.limits.closed.loginTimeout, 1);
    assert.equal(await metric(gw, 'mosaic_ws_closed_total{reason="loginTimeout"}'), 1);
    await loggedIn.close();
    await subscriber.close();
  });

  it('cuts a connection that does not answer pings, not one that does', async () => {
    const answers = await WsClient.connect(gw.url);
    await answers.request({ op: 'subscribe', channel: TICKER });
    // Subscribed, so that the login deadline does not close it first; then silent.
    const silent = await WsClient.connect(gw.url, { autoPong: false });
    await silent.request({ op: 'subscribe', channel: TICKER });

    const closed = await within('the silent connection to be cut', silent.closed);
    assert.equal(closed.code, 1006, 'cut without a close frame');
    // The pinger checked the other connection at every round, the last one included.
    await answers.ping();
    assert.ok(answers.open);
    assert.equal(gw.limits.closed.pingTimeout, 1);
    assert.equal(await metric(gw, 'mosaic_ws_closed_total{reason="pingTimeout"}'), 1);
    await answers.close();
  });
});

describe('limits on accounts and addresses', () => {
  let gw: Embedded;
  before(async () => {
    gw = await testGateway((c) => {
      c.limits = {
        ...c.limits,
        ...UNLIMITED_SESSION,
        accountMessagesPerSecond: 1,
        accountBurst: 10,
        accountOrdersPerSecond: 1,
        accountOrderBurst: 3,
        sessionsPerAccount: 2,
        challengesPerSecond: 1,
        challengeBurst: 4,
        loginsPerSecond: 1,
        loginBurst: 3,
        requestTimeoutMs: 500,
        // The challenge flood below goes on through its refusals on purpose.
        refusedBeforeClose: 10_000_000,
      };
    });
  });
  after(() => gw.close());

  it("shares an account's message burst between its sessions", async () => {
    const wallet = makeWallet();
    const one = await WsClient.connect(gw.url, { localAddress: '127.0.0.21' });
    const two = await WsClient.connect(gw.url, { localAddress: '127.0.0.22' });
    await login(one, wallet);
    await login(two, wallet);

    // Six pings on each session: each session's own limit would take them all; the account's
    // burst of 10 takes ten.
    const ids = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
    one.sendBatch(ids.map((id) => ({ op: 'ping', id })));
    two.sendBatch(ids.map((id) => ({ op: 'ping', id })));
    const all = [...(await replies(one, ids)), ...(await replies(two, ids))];
    const refused = all.filter((m) => m.type === 'error');
    assert.equal(all.filter((m) => m.type === 'pong').length, 10);
    assert.equal(refused.length, 2, JSON.stringify(refused));
    for (const m of refused) {
      assert.equal(m.code, 'RATE_LIMITED');
      assert.match(m.message as string, /1 messages\/s \(burst 10\) per account over all its sessions/);
      assert.ok((m.retryAfterMs as number) > 0);
    }
    assert.equal(gw.limits.refused.account, 2);
    assert.equal(gw.limits.refused.session, 0);
    assert.equal(await metric(gw, 'mosaic_limit_refusals_total{limit="account"}'), 2);
    await one.close();
    await two.close();
  });

  it("refuses an account's orders past its order burst while its other messages pass", async () => {
    const c = await WsClient.connect(gw.url, { localAddress: '127.0.0.23' });
    await login(c, makeWallet());
    const ids = ['c0', 'c1', 'c2', 'c3', 'c4'];
    c.sendBatch([...ids.map((id) => ({ op: 'cancel-all', id })), { op: 'ping', id: 'p' }]);
    const answers = await replies(c, ids);
    assert.deepEqual(
      answers.map((m) => m.type),
      ['ack', 'ack', 'ack', 'error', 'error'],
    );
    for (const m of answers.slice(3)) {
      assert.equal(m.code, 'RATE_LIMITED');
      assert.match(m.message as string, /orders, cancels and replaces\/s \(burst 3\) per account/);
      assert.ok((m.retryAfterMs as number) > 0);
    }
    assert.equal((await c.reply('p')).type, 'pong');
    assert.equal(gw.limits.refused.accountOrders, 2);
    assert.equal(await metric(gw, 'mosaic_limit_refusals_total{limit="accountOrders"}'), 2);
    await c.close();
  });

  it('refuses a login past sessionsPerAccount (TOO_MANY_SESSIONS) until a session closes', async () => {
    const wallet = makeWallet();
    const clients = [];
    for (const address of ['127.0.0.31', '127.0.0.32', '127.0.0.33']) {
      clients.push(await WsClient.connect(gw.url, { localAddress: address }));
    }
    const [first, second, third] = clients as [WsClient, WsClient, WsClient];
    await login(first, wallet);
    await login(second, wallet);
    await assert.rejects(login(third, wallet), /TOO_MANY_SESSIONS.*2 sessions logged in/);
    assert.equal(gw.limits.refused.sessionsPerAccount, 1);

    const loggedIn = gw.trading.sessions;
    await first.close();
    await until('the closed session to be forgotten', () => gw.trading.sessions === loggedIn - 1);
    const session = await login(third, wallet);
    assert.equal(session.account, wallet.address);
    await second.close();
    await third.close();
  });

  it('limits the challenges of an address over WebSocket and REST together, not those of another', async () => {
    const ws = await WsClient.connect(gw.url, { localAddress: '127.0.0.41' });
    // A burst of four: two over the WebSocket, two over REST.
    assert.equal((await ws.request({ op: 'challenge' })).type, 'challenge');
    assert.equal((await ws.request({ op: 'challenge' })).type, 'challenge');
    assert.equal((await post(gw, '/api/challenge', {}, '127.0.0.41')).status, 200);
    assert.equal((await post(gw, '/api/challenge', {}, '127.0.0.41')).status, 200);

    const rest = await post(gw, '/api/challenge', {}, '127.0.0.41');
    assert.equal(rest.status, 429);
    assert.equal(rest.body.code, 'RATE_LIMITED');
    assert.ok((rest.body.retryAfterMs as number) > 0);
    assert.match(rest.body.message as string, /1 login challenges\/s \(burst 4\) from one address/);
    const refused = await ws.request({ op: 'challenge' });
    assert.equal(refused.code, 'RATE_LIMITED');
    assert.ok((refused.retryAfterMs as number) > 0);
    assert.equal(gw.limits.refused.challenge, 2);

    // Another address has its own allowance.
    assert.equal((await post(gw, '/api/challenge', {}, '127.0.0.42')).status, 200);
    const other = await WsClient.connect(gw.url, { localAddress: '127.0.0.42' });
    assert.equal((await other.request({ op: 'challenge' })).type, 'challenge');
    await ws.close();
    await other.close();
  });

  it("does not let a flood of challenges from one address expire another's", async () => {
    const wallet = makeWallet();
    const patient = await WsClient.connect(gw.url, { localAddress: '127.0.0.43' });
    const challenge = await patient.request({ op: 'challenge' });
    assert.equal(challenge.type, 'challenge');

    // More challenges than the server keeps (100,000), asked for at once by another address.
    const flooder = await WsClient.connect(gw.url, { localAddress: '127.0.0.44' });
    flooder.sendBatch(Array.from({ length: 100_001 }, (_, id) => ({ op: 'challenge', id })));
    await flooder.ping(60_000);
    const issued = flooder.messages.filter((m) => m.type === 'challenge').length;
    console.log(`a flood of 100,001 challenges: ${issued} issued`);

    const reply = await patient.request(
      evmLogin(wallet, challenge as unknown as ReceivedChallenge, 'eip191') as unknown as Record<
        string,
        unknown
      >,
    );
    assert.equal(reply.type, 'login', JSON.stringify(reply));
    await patient.close();
    await flooder.close();
  });

  it('refuses logins past the burst of an address before it checks their signature', async () => {
    const wallet = makeWallet();
    const c = await WsClient.connect(gw.url, { localAddress: '127.0.0.51' });
    const challenge = (await c.request({ op: 'challenge' })) as unknown as ReceivedChallenge;
    const proof = evmLogin(wallet, challenge, 'eip191');

    // Three bogus logins use up the burst; they fail on their proof.
    const ids = ['b0', 'b1', 'b2'];
    c.sendBatch(ids.map(bogusLogin));
    for (const m of await replies(c, ids)) {
      assert.equal(m.type, 'error');
      assert.notEqual(m.code, 'RATE_LIMITED', JSON.stringify(m));
    }
    // Then a good proof is refused for the rate alone.
    const refused = await c.request(proof as unknown as Record<string, unknown>);
    assert.equal(refused.code, 'RATE_LIMITED', JSON.stringify(refused));
    assert.match(refused.message as string, /1 logins\/s \(burst 3\) from one address/);
    assert.ok((refused.retryAfterMs as number) > 0);
    assert.equal(gw.limits.refused.login, 1);
    assert.equal(await metric(gw, 'mosaic_limit_refusals_total{limit="login"}'), 1);

    // Its nonce was not used up: the signature was never checked. It logs in from another address.
    const elsewhere = await WsClient.connect(gw.url, { localAddress: '127.0.0.52' });
    const reply = await elsewhere.request(proof as unknown as Record<string, unknown>);
    assert.equal(reply.type, 'login', JSON.stringify(reply));
    await c.close();
    await elsewhere.close();
  });

  it('closes an HTTP request whose body comes too slowly (requestTimeoutMs)', async () => {
    const socket = net.connect({
      host: '127.0.0.1',
      port: Number(new URL(gw.url).port),
      localAddress: '127.0.0.61',
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => {}); // a reset shows as the close
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const length = 10_000;
    socket.write(
      `POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
    );
    // A byte every 50 ms: the body would take 500 s.
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(sent++ === 0 ? '{' : ' ');
    }, 50);
    try {
      await within('the server to close the slow request', closed, () => `${sent} bytes sent: ${received}`);
    } finally {
      clearInterval(trickle);
    }
    assert.ok(sent < length);
    assert.ok(received === '' || received.startsWith('HTTP/1.1 408'), received);
  });
});
