/**
 * The abuse scenario's attacks over WebSocket, each from the attacker's address for a bounded
 * time, each closing every socket it opened before it returns: a client that sends cheap
 * requests and never reads the answers, sessions of one account flooding orders, idle sockets
 * that never log in, and market-data subscribers that never read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { evmLogin, makeWallet, type ReceivedChallenge } from '../../test/support/identities.ts';
import { ATTACKER, type AttackContext, type AttackResult, count, DRIVER, medianMax } from './abuse-common.ts';
import { BenchSocket, connectMany, INSTRUMENT } from './client.ts';
import { frame, openRaw, type RawSocket, writeAll } from './raw-ws.ts';

/** A subscription that keeps a connection past the login deadline (market data needs no login). */
const KEEP = frame(JSON.stringify({ op: 'subscribe', id: 0, channel: `ticker:${INSTRUMENT}` }));

/**
 * One connection that sends pings (and, one frame in eight, a subscription to a channel that
 * does not exist: an error to answer) as fast as it may and never reads. It subscribes first, so
 * only the cap on unsent bytes can stop it; when the server cuts it, it connects again.
 */
export async function unreadReplies(ctx: AttackContext): Promise<AttackResult> {
  const PER_CHUNK = 256;
  const chunk = Buffer.concat(
    Array.from({ length: PER_CHUNK }, (_, i) =>
      frame(
        i % 8 === 7
          ? JSON.stringify({ op: 'subscribe', id: i, channel: `nope.${i}` })
          : JSON.stringify({ op: 'ping', id: i }),
      ),
    ),
  );
  const stop = sleep(ctx.seconds * 1000);
  const end = performance.now() + ctx.seconds * 1000;
  const refusals: Record<string, number> = {};
  let sent = 0;
  let connections = 0;
  const lifetimesMs: number[] = [];
  while (performance.now() < end) {
    let s: RawSocket;
    try {
      s = await openRaw(ctx.url, ATTACKER);
    } catch (err) {
      count(refusals, (err as NodeJS.ErrnoException).code ?? 'connect failed');
      await sleep(100);
      continue;
    }
    if (s.status !== 101) {
      count(refusals, `HTTP ${s.status}`);
      s.socket.destroy();
      await sleep(100);
      continue;
    }
    connections++;
    const opened = performance.now();
    let open = await writeAll(s, KEEP, stop);
    while (open && performance.now() < end) {
      open = await writeAll(s, chunk, stop);
      if (open) sent += PER_CHUNK;
    }
    if (s.ended.error !== undefined) {
      count(refusals, `cut (${s.ended.error})`);
      lifetimesMs.push(performance.now() - opened);
    }
    s.socket.destroy();
  }
  return {
    sent,
    unit: 'frames',
    refusals,
    detail: { connections, cutAfterMs: medianMax(lifetimesMs) },
  };
}

/** Logs `s` in as `wallet`, asking again while refused RATE_LIMITED, until `end`; the error code otherwise. */
async function loginPatiently(
  s: BenchSocket,
  wallet: ReturnType<typeof makeWallet>,
  end: number,
  refusals: Record<string, number>,
): Promise<string | null> {
  while (performance.now() < end) {
    try {
      const challenge = await s.request({ op: 'challenge' }, 'challenge');
      const login = evmLogin(wallet, challenge as unknown as ReceivedChallenge, 'eip191');
      await s.request({ ...login }, 'login');
      return null;
    } catch (err) {
      const m = /"code":"([A-Z_]+)".*?(?:"retryAfterMs":(\d+))?/.exec((err as Error).message);
      const code = m?.[1] ?? (err as Error).message;
      count(refusals, code);
      if (code !== 'RATE_LIMITED') return code;
      await sleep(Math.min(2000, Number(m?.[2] ?? 200)));
    }
  }
  return 'no time left';
}

/** What a flooding session's answers were, counted without parsing most of them. */
function classify(tally: Record<string, number>, data: Buffer): void {
  const head = data.toString('latin1', 0, Math.min(data.length, 48));
  if (head.startsWith('{"type":"error"')) {
    const code = /"code":"([A-Z_]+)"/.exec(data.toString('latin1'))?.[1] ?? 'error';
    count(tally, code);
  } else {
    count(tally, /^\{"type":"([a-z-]+)"/.exec(head)?.[1] ?? 'other');
  }
}

/**
 * `sessions` connections logged in with one account (past the login limits by retrying, as far
 * as the session limit lets them), then every one sends new orders far below the market and
 * cancels of them as fast as it may, until `totalFrames` are sent or the time is up; a session
 * the server closes connects and logs in again, as a determined attacker would. Answers are read
 * and counted by type and error code.
 */
export async function orderFlood(
  ctx: AttackContext,
  sessions: number,
  totalFrames: number,
): Promise<AttackResult> {
  const refusals: Record<string, number> = {};
  const answers: Record<string, number> = {};
  const wallet = makeWallet();
  const loginEnd = performance.now() + Math.max(15_000, ctx.seconds * 1000);
  const loginStart = performance.now();
  const sockets: BenchSocket[] = [];
  let sent = 0;
  let reconnects = 0;
  let closing = false;
  /** A connection logged in as the account, or null when refused for a reason other than a rate. */
  const session = async (deadline: number): Promise<BenchSocket | null> => {
    let s: BenchSocket;
    try {
      s = await BenchSocket.connect(ctx.url, ATTACKER);
    } catch (err) {
      count(refusals, refusal(err));
      return null;
    }
    const failed = await loginPatiently(s, wallet, deadline, refusals);
    if (failed !== null) {
      await s.close();
      return null;
    }
    s.onFrame = (data) => classify(answers, data);
    s.ws.on('close', (code) => {
      if (!closing) count(refusals, `close ${code}`);
    });
    sockets.push(s);
    return s;
  };
  try {
    // Logins one after the other: the login limit per address would refuse most of a burst anyway.
    const first: BenchSocket[] = [];
    for (let i = 0; i < sessions && performance.now() < loginEnd; i++) {
      const s = await session(loginEnd);
      if (s !== null) first.push(s);
    }
    const loginMs = Math.round(performance.now() - loginStart);
    const end = performance.now() + ctx.seconds * 1000;
    const flood = async (s: BenchSocket, k: number) => {
      for (let n = 0; sent < totalFrames && performance.now() < end; n++) {
        if (s.ws.readyState !== WebSocket.OPEN) return;
        const coid = `f${k}_${reconnects}_${n}`;
        const price = (90 + ((n * 7 + k) % 500) / 100).toFixed(2);
        s.send(
          `{"op":"new","instrument":"${INSTRUMENT}","clientOrderId":"${coid}","side":"buy",` +
            `"orderType":"limit","quantity":"1","price":"${price}","tif":"GTC"}`,
        );
        s.send(`{"op":"cancel","clientOrderId":"${coid}"}`);
        sent += 2;
        // Keep what waits in this process small: the server's pace, not our memory, sets the rate.
        while (s.ws.bufferedAmount > 256 * 1024 && performance.now() < end) await sleep(1);
        if (n % 64 === 63) await new Promise<void>((r) => setImmediate(r));
      }
    };
    const slot = async (s: BenchSocket | null, k: number) => {
      while (sent < totalFrames && performance.now() < end) {
        if (s === null || s.ws.readyState !== WebSocket.OPEN) {
          s = await session(end);
          if (s === null) {
            await sleep(100);
            continue;
          }
          reconnects++;
        }
        await flood(s, k);
      }
    };
    await Promise.all(first.map((s, k) => slot(s, k)));
    return {
      sent,
      unit: 'frames',
      refusals,
      detail: { sessionsLoggedIn: first.length, sessionsAsked: sessions, loginMs, reconnects, answers },
    };
  } finally {
    closing = true;
    await Promise.all(sockets.map((s) => closeWithin(s.ws, 2000)));
  }
}

/** The refusal an error of `ws` stands for: `HTTP 429` for an upgrade refused, else its code. */
function refusal(err: unknown): string {
  const status = /Unexpected server response: (\d+)/.exec((err as Error).message)?.[1];
  return status !== undefined
    ? `HTTP ${status}`
    : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
}

/** Closes `ws` and waits for it to be closed, cutting it after `ms`. */
function closeWithin(ws: WebSocket, ms: number): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), ms);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close();
  });
}

/**
 * `n` connections (as many as this process may open, if fewer) that never log in nor subscribe,
 * opened 256 at a time; then it waits until each open one was closed by the server or the time
 * is up. Counts refusals of the upgrade and closes by code, and how long each lived.
 */
export async function idleSockets(ctx: AttackContext, n: number): Promise<AttackResult> {
  const want = Math.min(n, ctx.maxSockets);
  const refusals: Record<string, number> = {};
  const lifetimesMs: number[] = [];
  const open: WebSocket[] = [];
  const closed: Array<Promise<void>> = [];
  const started = performance.now();
  const end = started + ctx.seconds * 1000;
  await connectMany(want, 256, async () => {
    if (performance.now() > end) return;
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(ctx.url, { localAddress: ATTACKER, perMessageDeflate: false });
      let refused = false;
      ws.once('unexpected-response', (_req, res) => {
        refused = true;
        count(refusals, `HTTP ${res.statusCode}`);
        ws.terminate();
        resolve();
      });
      // Also after a refusal, when `terminate` ends the handshake: counted once, above.
      ws.once('error', (err) => {
        if (!refused) count(refusals, refusal(err));
        resolve();
      });
      ws.once('open', () => {
        const at = performance.now();
        open.push(ws);
        closed.push(
          new Promise((done) =>
            ws.once('close', (code) => {
              count(refusals, `close ${code}`);
              lifetimesMs.push(performance.now() - at);
              done();
            }),
          ),
        );
        resolve();
      });
    });
  });
  const openedMs = Math.round(performance.now() - started);
  const opened = open.length;
  await Promise.race([Promise.all(closed), sleep(Math.max(0, end - performance.now()))]);
  const closedByServer = lifetimesMs.length;
  await Promise.all(open.map((ws) => closeWithin(ws, 1000)));
  return {
    sent: want,
    unit: 'connections',
    refusals,
    detail: {
      asked: n,
      tried: want,
      ...(want < n ? { limitedBy: `this process may open ${ctx.maxSockets + 200} files (ulimit -n)` } : {}),
      opened,
      openedInMs: openedMs,
      closedByServer,
      closedAfterMs: medianMax(lifetimesMs.slice(0, closedByServer)),
    },
  };
}

/** Every public channel of the demo: 8 per instrument on two venues, and the consolidated books. */
export function publicChannels(): string[] {
  const depths = [1, 5, 10, 25, 50, 100];
  const out: string[] = [];
  for (const id of ['ACME@evm:31337', 'ACME@fabric:bank-net']) {
    out.push(...depths.map((d) => `book.${d}:${id}`), `trades:${id}`, `ticker:${id}`);
  }
  out.push(...depths.map((d) => `consolidated.${d}:ACME`));
  return out;
}

/**
 * `n` connections subscribed to every public channel that never read, while two driver sessions
 * (from their own address) rest and cancel orders at `ordersPerSec` between 95 and 105 so every
 * book keeps changing. Counts refused upgrades and the connections cut (a write or the close
 * shows it); the server's count of slow consumers comes from its metrics.
 */
export async function unreadMarketData(
  ctx: AttackContext,
  n: number,
  ordersPerSec: number,
): Promise<AttackResult> {
  const refusals: Record<string, number> = {};
  const subscribe = Buffer.concat(
    publicChannels().map((channel, i) => frame(JSON.stringify({ op: 'subscribe', id: i, channel }))),
  );
  const sockets: RawSocket[] = [];
  const drivers: BenchSocket[] = [];
  const stop = sleep(ctx.seconds * 1000);
  let orders = 0;
  try {
    const tries = Math.min(n, ctx.maxSockets);
    await connectMany(tries, 64, async () => {
      try {
        const s = await openRaw(ctx.url, ATTACKER);
        if (s.status === 101) {
          sockets.push(s);
          await writeAll(s, subscribe, stop);
        } else {
          count(refusals, `HTTP ${s.status}`);
          s.socket.destroy();
        }
      } catch (err) {
        count(refusals, (err as NodeJS.ErrnoException).code ?? 'connect failed');
      }
    });
    drivers.push(await BenchSocket.trader(ctx.url, DRIVER), await BenchSocket.trader(ctx.url, DRIVER));
    const end = performance.now() + ctx.seconds * 1000;
    const live: string[][] = [[], []];
    const TICK_MS = 20;
    let due = 0;
    const started = performance.now();
    while (performance.now() < end) {
      const target = Math.floor(((performance.now() - started) / 1000) * ordersPerSec);
      for (; due < target; due++) {
        const side = due % 2;
        const d = drivers[side]!;
        const mine = live[side]!;
        if (mine.length >= 100) d.send(`{"op":"cancel","clientOrderId":"${mine.shift()!}"}`);
        const coid = `m${due}`;
        const price = (95 + ((due * 37) % 1000) / 100).toFixed(2);
        d.send(
          `{"op":"new","instrument":"${INSTRUMENT}","clientOrderId":"${coid}","side":"${side === 0 ? 'buy' : 'sell'}",` +
            `"orderType":"limit","quantity":"1","price":"${price}","tif":"GTC"}`,
        );
        mine.push(coid);
        orders++;
      }
      await sleep(TICK_MS);
    }
    const cut = sockets.filter((s) => s.ended.error !== undefined).length;
    return {
      sent: sockets.length * publicChannels().length,
      unit: 'frames',
      refusals,
      detail: {
        tried: tries,
        subscribed: sockets.length,
        channelsEach: publicChannels().length,
        driverOrders: orders,
        cutSeenByClient: cut,
      },
    };
  } finally {
    for (const s of sockets) s.socket.destroy();
    await Promise.all(drivers.map((d) => closeWithin(d.ws, 2000)));
  }
}

/**
 * `n` new Ethereum keys logging in within `windowMs` from the attacker's address, each a new
 * account the demo faucet funds; none retries. Counts logins and refusals; the sockets are
 * closed at the end.
 */
export async function faucetFlood(ctx: AttackContext, n: number, windowMs: number): Promise<AttackResult> {
  const refusals: Record<string, number> = {};
  const sockets: BenchSocket[] = [];
  let loggedIn = 0;
  const one = async (): Promise<void> => {
    let s: BenchSocket;
    try {
      s = await BenchSocket.connect(ctx.url, ATTACKER);
    } catch (err) {
      count(refusals, refusal(err));
      return;
    }
    sockets.push(s);
    try {
      const challenge = await s.request({ op: 'challenge' }, 'challenge');
      await s.request(
        { ...evmLogin(makeWallet(), challenge as unknown as ReceivedChallenge, 'eip191') },
        'login',
      );
      loggedIn++;
    } catch (err) {
      count(refusals, /"code":"([A-Z_]+)"/.exec((err as Error).message)?.[1] ?? (err as Error).message);
    }
  };
  const started = performance.now();
  const all: Array<Promise<void>> = [];
  try {
    for (let i = 0; i < n; i++) {
      const at = started + (i * windowMs) / n;
      await sleep(Math.max(0, at - performance.now()));
      all.push(one());
    }
    await Promise.all(all);
    return {
      sent: n,
      unit: 'logins',
      refusals,
      detail: { loggedIn, tookMs: Math.round(performance.now() - started) },
    };
  } finally {
    await Promise.all(sockets.map((s) => closeWithin(s.ws, 2000)));
  }
}
