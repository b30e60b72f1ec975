/**
 * A lean WebSocket client for the load generators: connect, log in with a fresh ethers wallet
 * (demo funding credits every new account), then hand every frame, as the raw Buffer, to one
 * handler. Setup requests wait for their answer by id; the hot path never parses JSON it does
 * not have to (see `execReport`).
 */
import WebSocket from 'ws';
import { evmLogin, makeWallet } from '../../test/support/identities.ts';

export type Msg = Record<string, unknown>;

export class BenchSocket {
  readonly ws: WebSocket;
  account = '';
  /** The hot-path handler; setup answers are looked for first while requests are pending. */
  onFrame: (data: Buffer) => void = () => {};
  #pending = new Map<number, (m: Msg) => void>();
  #next = 1_000_000_000;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      if (this.#pending.size > 0) {
        const m = JSON.parse(data.toString()) as Msg;
        const done = typeof m.id === 'number' ? this.#pending.get(m.id) : undefined;
        if (done !== undefined) {
          this.#pending.delete(m.id as number);
          done(m);
          return;
        }
      }
      this.onFrame(data);
    });
  }

  /** `localAddress`: the address to connect from (the server limits each address on its own). */
  static connect(url: string, localAddress?: string): Promise<BenchSocket> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => ws.terminate());
        resolve(new BenchSocket(ws));
      });
      ws.once('error', reject);
    });
  }

  /** Connects and logs in as a new wallet (a new, demo-funded account). */
  static async trader(url: string, localAddress?: string, wallet = makeWallet()): Promise<BenchSocket> {
    const s = await BenchSocket.connect(url, localAddress);
    const challenge = await s.request({ op: 'challenge' }, 'challenge');
    const login = evmLogin(wallet, challenge as unknown as Parameters<typeof evmLogin>[1], 'eip191');
    const reply = await s.request({ ...login }, 'login');
    s.account = reply.account as string;
    return s;
  }

  /** Sends `msg` with a fresh id; resolves with the answer of type `type`, rejects on an error. */
  request(msg: Msg, type: string, ms = 10_000): Promise<Msg> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} for ${String(msg.op)} in ${ms} ms`)), ms);
      this.#pending.set(id, (m) => {
        clearTimeout(timer);
        if (m.type === type) resolve(m);
        else reject(new Error(`${String(msg.op)}: ${JSON.stringify(m)}`));
      });
      this.ws.send(JSON.stringify({ ...msg, id }));
    });
  }

  send(text: string): void {
    this.ws.send(text);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** Connects `n` sockets, at most `parallel` handshakes at a time. */
export async function connectMany<T>(
  n: number,
  parallel: number,
  open: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await open(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, lane));
  return out;
}

// ---- execution reports on the hot path ------------------------------------------------------

const EXEC = Buffer.from('{"type":"exec","status":"');
const COID = Buffer.from('"clientOrderId":"o');
const ACK = Buffer.from('{"type":"ack",');
const PENDING_NEW = Buffer.from('pending-new"');
const QUOTE = 0x22;

/** `execReport` results. */
export const NOT_OURS = 0;
/** `pending-new`: the gateway took the order and passed it to the sequencer. */
export const PENDING = 1;
/** Any other status (`new`, `filled`, `rejected`...): the engine's answer, after journaling. */
export const ENGINE = 2;
/** An `error` frame (kept in `parsed.error`). */
export const ERROR = 3;

/** Scratch output of `execReport`: the order number of the report just classified. */
export const parsed = { order: -1, error: '' };

/**
 * Classifies a frame without JSON parsing when it has the gateway's usual shape
 * (`{"type":"exec","status":"…",…,"clientOrderId":"o123",…}`); anything else is parsed in full,
 * so a change of key order costs speed, not correctness. Sets `parsed.order` for our reports.
 */
export function execReport(data: Buffer): number {
  if (data.compare(EXEC, 0, EXEC.length, 0, EXEC.length) === 0) {
    const at = data.indexOf(COID, EXEC.length);
    if (at > 0) {
      let n = 0;
      let i = at + COID.length;
      for (let c = data[i]!; c !== QUOTE; c = data[++i]!) n = n * 10 + (c - 48);
      parsed.order = n;
      return data.compare(
        PENDING_NEW,
        0,
        PENDING_NEW.length,
        EXEC.length,
        EXEC.length + PENDING_NEW.length,
      ) === 0
        ? PENDING
        : ENGINE;
    }
  }
  if (data.compare(ACK, 0, ACK.length, 0, ACK.length) === 0) return NOT_OURS;
  const m = JSON.parse(data.toString()) as Msg;
  if (m.type === 'error') {
    parsed.error = JSON.stringify(m);
    return ERROR;
  }
  if (m.type !== 'exec' || typeof m.clientOrderId !== 'string' || !/^o\d+$/.test(m.clientOrderId))
    return NOT_OURS;
  parsed.order = Number(m.clientOrderId.slice(1));
  return m.status === 'pending-new' ? PENDING : ENGINE;
}

/** The instrument every gateway scenario trades, and the market-data channels fan-out watches. */
export const INSTRUMENT = 'ACME@evm:31337';
export const BOOK = `book.10:${INSTRUMENT}`;
export const TRADES = `trades:${INSTRUMENT}`;

/** The `new` frame of order number `n` (client order id `o<n>`), a GTC limit on `instrument`. */
export function newOrder(
  instrument: string,
  n: number,
  side: 'buy' | 'sell',
  price: string,
  qty: string,
): string {
  return (
    `{"op":"new","instrument":"${instrument}","clientOrderId":"o${n}","side":"${side}",` +
    `"orderType":"limit","quantity":"${qty}","price":"${price}","tif":"GTC"}`
  );
}

/**
 * Order `i` of a crossing stream: 1 lot at 100.00, buys on even `i` and sells on odd, so every
 * buy that rests is taken by the next sell (and the other way round) and the book stays at one
 * level.
 */
export function crossingOrder(instrument: string, n: number, i: number): string {
  return newOrder(instrument, n, i % 2 === 0 ? 'buy' : 'sell', '100.00', '1');
}

/**
 * What a load generator sends to the bare `ws` echo server in place of order `n`: the size of an
 * order, shaped like the engine's report, so that its echo is timed by the same code (`execReport`).
 */
export function echoFrame(n: number): string {
  return (
    `{"type":"exec","status":"new","clientOrderId":"o${n}","instrument":"${INSTRUMENT}",` +
    `"side":"buy","orderType":"limit","quantity":"1","price":"100.00","tif":"GTC"}`
  );
}
