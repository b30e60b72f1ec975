/**
 * The abuse scenario's witness, in a process of its own so that the attackers' work cannot delay
 * it: a legitimate trader (one Ethereum key, from its own address) that places an order far from
 * the market and cancels it every period, a `/health` poller, a probe that opens a WebSocket
 * connection from the trader's address each period, and the server's resident memory (VmRSS
 * from /proc) sampled every `rssEveryMs`. `mark` answers with what was seen since the last mark.
 */
import fs from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { makeWallet } from '../../test/support/identities.ts';
import { childArgs } from './child.ts';
import { BenchSocket, INSTRUMENT, type Msg } from './client.ts';
import type { FromWatch, ToWatch, WatchArgs, WatchStats } from './abuse-watch.ts';

/** A trader's request not answered within this long has failed (its round trip counts as a failure). */
const GIVE_UP_MS = 5000;
/** The round trip a legitimate trader expects at most. */
const OK_MS = 1000;
const HEALTH_EVERY_MS = 250;
const HEALTH_TIMEOUT_MS = 1000;

const args = childArgs<WatchArgs>();
const httpUrl = args.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
const wallet = makeWallet();
let stopping = false;

/** What is gathered until the next mark. */
function fresh(): WatchStats {
  return {
    wallMs: 0,
    trader: { ops: 0, ok: 0, latenciesMs: [], reconnects: 0 },
    health: { polls: 0, timeouts: 0, failures: 0, maxMs: 0 },
    connects: { tries: 0, opened: 0, refused: {} },
    rssKB: [],
  };
}
let stats = fresh();
let since = performance.now();

// ---- server memory ------------------------------------------------------------------------

function rssKB(): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${args.serverPid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}
const sampler = setInterval(() => stats.rssKB.push(rssKB()), args.rssEveryMs);

// ---- the trader ---------------------------------------------------------------------------

let socket: BenchSocket | undefined;
let waiting: { coid: string; id: number; kind: 'new' | 'cancel'; done: (ok: boolean) => void } | undefined;
let firstError: string | undefined;

function onFrame(data: Buffer): void {
  const w = waiting;
  if (w === undefined) return;
  const m = JSON.parse(data.toString()) as Msg;
  if (m.type === 'exec' && m.clientOrderId === w.coid) {
    if (w.kind === 'new' && m.status !== 'pending-new') w.done(m.status === 'new');
    else if (w.kind === 'cancel' && m.status === 'canceled') w.done(true);
  } else if ((m.type === 'error' || m.type === 'reject') && m.id === w.id) {
    firstError ??= JSON.stringify(m);
    w.done(false);
  }
}

async function connectTrader(): Promise<BenchSocket> {
  const s = await BenchSocket.trader(args.url, args.traderAddress, wallet);
  s.onFrame = onFrame;
  return s;
}

/** Sends one request and times it to the engine's answer; it is ok when answered as asked within 1 s. */
async function roundTrip(kind: 'new' | 'cancel', coid: string, id: number, text: string): Promise<void> {
  const s = socket;
  if (s === undefined || s.ws.readyState !== WebSocket.OPEN) {
    stats.trader.ops++;
    return;
  }
  const sent = performance.now();
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), GIVE_UP_MS);
    const close = () => resolve(false);
    s.ws.once('close', close);
    waiting = {
      coid,
      id,
      kind,
      done: (v) => {
        clearTimeout(timer);
        s.ws.off('close', close);
        resolve(v);
      },
    };
    s.send(text);
  });
  waiting = undefined;
  // Counted when done, so that a request and its answer fall in the same mark's figures.
  stats.trader.ops++;
  const ms = performance.now() - sent;
  if (ok) stats.trader.latenciesMs.push(ms);
  if (ok && ms <= OK_MS) stats.trader.ok++;
}

async function trade(): Promise<void> {
  for (let n = 1; !stopping; n++) {
    const started = performance.now();
    if (socket === undefined || socket.ws.readyState !== WebSocket.OPEN) {
      try {
        socket = await connectTrader();
        stats.trader.reconnects++;
      } catch (err) {
        firstError ??= (err as Error).message;
      }
    }
    const coid = `t${n}`;
    await roundTrip(
      'new',
      coid,
      2 * n,
      JSON.stringify({
        op: 'new',
        id: 2 * n,
        instrument: INSTRUMENT,
        clientOrderId: coid,
        side: 'buy',
        orderType: 'limit',
        quantity: '1',
        price: '95.00',
        tif: 'GTC',
      }),
    );
    await roundTrip(
      'cancel',
      coid,
      2 * n + 1,
      JSON.stringify({ op: 'cancel', id: 2 * n + 1, clientOrderId: coid }),
    );
    await sleep(Math.max(0, args.periodMs - (performance.now() - started)));
  }
}

// ---- /health and new connections from the trader's address ----------------------------------

function health(): Promise<void> {
  const started = performance.now();
  let timedOut = false;
  return new Promise((resolve) => {
    const req = http.get(`${httpUrl}/health`, { localAddress: args.traderAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        stats.health.maxMs = Math.max(stats.health.maxMs, performance.now() - started);
        if (res.statusCode !== 200) stats.health.failures++;
        resolve();
      });
    });
    req.setTimeout(HEALTH_TIMEOUT_MS, () => {
      timedOut = true;
      stats.health.timeouts++;
      req.destroy();
    });
    req.on('error', () => {
      if (!timedOut) stats.health.failures++;
      resolve();
    });
    stats.health.polls++;
  });
}

async function pollHealth(): Promise<void> {
  while (!stopping) {
    const started = performance.now();
    await health();
    await sleep(Math.max(0, HEALTH_EVERY_MS - (performance.now() - started)));
  }
}

function probe(): Promise<void> {
  stats.connects.tries++;
  const refused = (why: string) => {
    stats.connects.refused[why] = (stats.connects.refused[why] ?? 0) + 1;
  };
  return new Promise((resolve) => {
    const ws = new WebSocket(args.url, { localAddress: args.traderAddress, perMessageDeflate: false });
    const timer = setTimeout(() => {
      refused('timeout');
      ws.terminate();
      resolve();
    }, 2000);
    ws.once('open', () => {
      clearTimeout(timer);
      stats.connects.opened++;
      ws.close();
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      refused(`HTTP ${res.statusCode}`);
      ws.terminate();
      resolve();
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      refused((err as NodeJS.ErrnoException).code ?? 'error');
      resolve();
    });
  });
}

async function probeConnects(): Promise<void> {
  while (!stopping) {
    const started = performance.now();
    await probe();
    await sleep(Math.max(0, args.periodMs - (performance.now() - started)));
  }
}

// ---- the parent ---------------------------------------------------------------------------

const send = (m: FromWatch) => process.send!(m);
const loops: Array<Promise<void>> = [];

process.on('message', (msg: ToWatch) => {
  if (msg.op === 'mark') {
    const now = performance.now();
    const out = { ...stats, wallMs: now - since, ...(firstError === undefined ? {} : { firstError }) };
    stats = fresh();
    firstError = undefined;
    since = now;
    send({ op: 'watch', stats: out });
  } else if (msg.op === 'stop') void stop();
});
process.on('disconnect', () => void stop());

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(sampler);
  await Promise.race([Promise.all(loops), sleep(GIVE_UP_MS + 1000)]);
  if (socket !== undefined) await Promise.race([socket.close(), sleep(1000)]);
  process.exit(0);
}

async function main(): Promise<void> {
  socket = await connectTrader();
  loops.push(trade(), pollHealth(), probeConnects());
  send({ op: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`abuse watcher: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
