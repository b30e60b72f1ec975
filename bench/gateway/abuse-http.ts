/**
 * The abuse scenario's attacks over plain HTTP, from the attacker's address: request bodies sent
 * a byte a second, and a flood of login challenges with bogus logins over them; and the wait of
 * a new user for its demo balance after the faucet flood.
 */
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TypedDataEncoder } from 'ethers';
import { evmLogin, makeWallet, type ReceivedChallenge } from '../../test/support/identities.ts';
import {
  ATTACKER,
  type AttackContext,
  type AttackResult,
  count,
  httpRequest,
  medianMax,
  NEWCOMER,
} from './abuse-common.ts';

/**
 * `n` connections that each begin a `POST /api/login` with a `Content-Length` just under the body
 * limit (64 KiB; over it the server answers 413 at once) and send its body one byte a second.
 * Each is timed from its first byte to the server's close; it lasts until every one is closed, or
 * the time is up (then the rest are counted as still open and cut).
 */
export async function slowBodies(ctx: AttackContext, n: number): Promise<AttackResult> {
  const u = new URL(ctx.httpUrl);
  const refusals: Record<string, number> = {};
  const closeMs: number[] = [];
  const sockets: net.Socket[] = [];
  let sent = 0;
  let cutting = false;
  const started = performance.now();
  const all = Array.from(
    { length: n },
    () =>
      new Promise<void>((resolve) => {
        const socket = net.connect({ host: u.hostname, port: Number(u.port), localAddress: ATTACKER });
        sockets.push(socket);
        let at = 0;
        let answer = '';
        let timer: NodeJS.Timeout | undefined;
        socket.once('connect', () => {
          at = performance.now();
          socket.write(
            `POST /api/login HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\n` +
              'Content-Length: 60000\r\n\r\n{',
          );
          sent++;
          timer = setInterval(() => {
            socket.write(' ');
            sent++;
          }, 1000);
        });
        socket.on('data', (d: Buffer) => {
          if (answer.length < 64) answer += d.toString('latin1');
        });
        socket.on('error', (err) => count(refusals, (err as NodeJS.ErrnoException).code ?? 'error'));
        socket.once('close', () => {
          clearInterval(timer);
          const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
          if (!cutting) count(refusals, status === undefined ? 'closed without an answer' : `HTTP ${status}`);
          if (at > 0) closeMs.push(performance.now() - at);
          resolve();
        });
      }),
  );
  await Promise.race([Promise.all(all), sleep(ctx.seconds * 1000)]);
  const stillOpen = n - closeMs.length;
  cutting = true;
  for (const s of sockets) s.destroy();
  await Promise.all(all);
  return {
    sent,
    unit: 'requests',
    refusals,
    detail: {
      connections: n,
      closedByServer: n - stillOpen,
      stillOpenAtEnd: stillOpen,
      closedAfterMs: medianMax(closeMs.slice(0, n - stillOpen)),
      tookMs: Math.round(performance.now() - started),
    },
  };
}

/**
 * `lanes` keep-alive connections asking for `POST /api/challenge` back to back, and one lane
 * sending logins over the challenges got, each signed by another key than the one it claims
 * (EIP-712): a signature check that fails. Counts the answers by status.
 */
export async function challengeFlood(ctx: AttackContext, lanes: number): Promise<AttackResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: lanes });
  const challenges: Record<string, number> = {};
  const logins: Record<string, number> = {};
  let latest: ReceivedChallenge | undefined;
  let sent = 0;
  const end = performance.now() + ctx.seconds * 1000;
  const ask = async () => {
    while (performance.now() < end) {
      const a = await httpRequest(`${ctx.httpUrl}/api/challenge`, {
        method: 'POST',
        localAddress: ATTACKER,
        agent,
        timeoutMs: 5000,
      });
      sent++;
      count(challenges, a.status === 0 ? a.body : `HTTP ${a.status}`);
      if (a.status === 200) latest = JSON.parse(a.body) as ReceivedChallenge;
      else if (a.status === 0) await sleep(10);
    }
  };
  const signer = makeWallet();
  const claimed = makeWallet().address;
  const bogus = async () => {
    while (performance.now() < end) {
      const c = latest;
      if (c === undefined) {
        await sleep(5);
        continue;
      }
      latest = undefined;
      const { domain, types, message } = c.typedData;
      const signature = signer.signingKey.sign(TypedDataEncoder.hash(domain, types, message)).serialized;
      const a = await httpRequest(`${ctx.httpUrl}/api/login`, {
        method: 'POST',
        localAddress: ATTACKER,
        agent,
        timeoutMs: 5000,
        body: JSON.stringify({ scheme: 'eip712', nonce: c.nonce, address: claimed, signature }),
      });
      sent++;
      count(logins, a.status === 0 ? a.body : `HTTP ${a.status}`);
    }
  };
  try {
    await Promise.all([...Array.from({ length: lanes }, ask), bogus()]);
  } finally {
    agent.destroy();
  }
  const refusals: Record<string, number> = {};
  for (const [k, v] of [...Object.entries(challenges), ...Object.entries(logins)]) {
    if (k !== 'HTTP 200') count(refusals, k, v);
  }
  return { sent, unit: 'requests', refusals, detail: { lanes, challenges, bogusLogins: logins } };
}

/**
 * A new key logs in over REST from an address of its own, then reads its balances every 20 ms
 * until the demo funding shows: how long the next new user waits (at most `timeoutMs`).
 */
export async function newcomerWait(httpUrl: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const started = performance.now();
  const c = await httpRequest(`${httpUrl}/api/challenge`, { method: 'POST', localAddress: NEWCOMER });
  if (c.status !== 200) return { error: `challenge: HTTP ${c.status} ${c.body}` };
  const { op: _op, ...proof } = evmLogin(makeWallet(), JSON.parse(c.body) as ReceivedChallenge, 'eip191');
  const l = await httpRequest(`${httpUrl}/api/login`, {
    method: 'POST',
    localAddress: NEWCOMER,
    body: JSON.stringify(proof),
  });
  if (l.status !== 200) return { error: `login: HTTP ${l.status} ${l.body}` };
  const loginMs = Math.round(performance.now() - started);
  const { token } = JSON.parse(l.body) as { token: string };
  const loggedIn = performance.now();
  while (performance.now() - loggedIn < timeoutMs) {
    const b = await httpRequest(`${httpUrl}/api/balances`, {
      localAddress: NEWCOMER,
      headers: { authorization: `Bearer ${token}` },
    });
    const funded =
      b.status === 200 &&
      (JSON.parse(b.body) as Array<{ available: string }>).some((x) => Number(x.available) > 0);
    if (funded) return { loginMs, balanceAfterLoginMs: Math.round(performance.now() - loggedIn) };
    await sleep(20);
  }
  return { loginMs, balanceAfterLoginMs: null, error: `no demo balance within ${timeoutMs} ms` };
}
