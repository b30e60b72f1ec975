/**
 * One WebSocket connection: who is behind it (nobody until a login), its rate limit, and how to
 * send to it. It is also the market-data feed's client, so the feed can check its send buffer.
 */
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { Identity } from './auth/index.ts';
import type { FeedClient } from './feed/index.ts';
import { TokenBucket } from './token-bucket.ts';

let nextId = 1;

/**
 * Sessions written to in this turn of the event loop. A session's socket is corked at its first
 * write and uncorked once the turn's work is done, so all its frames of the turn leave in one
 * system call (one `writev`) instead of one each: the kernel write was half the server's time
 * when every frame was a write of its own.
 */
const corked = new Set<Session>();
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const session of corked) session.uncork();
  corked.clear();
}

export class Session implements FeedClient {
  readonly id = nextId++;
  readonly bucket: TokenBucket;
  identity: Identity | null = null;
  account: string | null = null;
  /** What venue membership is checked against: MSP id or address. */
  memberNames: string[] = [];
  cancelOnDisconnect = false;
  #ws: WebSocket;
  #socket: Duplex;
  /** Bytes written in this turn, held by the cork: not a sign of a slow reader. */
  #turnBytes = 0;
  #canSee: (venue: string, names: readonly string[]) => boolean;

  constructor(
    ws: WebSocket,
    socket: Duplex,
    limits: { messagesPerSecond: number; burst: number },
    canSee: (venue: string, names: readonly string[]) => boolean,
  ) {
    this.#ws = ws;
    this.#socket = socket;
    this.#canSee = canSee;
    this.bucket = new TokenBucket(limits.messagesPerSecond, limits.burst, Date.now());
  }

  /** Whether this session may see a venue's instruments and market data. */
  readonly canSee = (venue: string): boolean => this.#canSee(venue, this.memberNames);

  get open(): boolean {
    return this.#ws.readyState === 1;
  }

  /** Bytes waiting from earlier turns: what the client has not taken yet. */
  get bufferedAmount(): number {
    return Math.max(0, this.#ws.bufferedAmount - this.#turnBytes);
  }

  /** Sends a frame serialized once for many (market data). */
  send(frame: Buffer): void {
    if (this.#ws.readyState !== 1) return;
    this.#cork(frame.length);
    this.#ws.send(frame, { binary: false });
  }

  /** Sends one message of this session's own. */
  reply(message: object): void {
    if (this.#ws.readyState !== 1) return;
    const text = JSON.stringify(message);
    this.#cork(text.length);
    this.#ws.send(text);
  }

  /** Lets this turn's frames go (called once per turn for each corked session). */
  uncork(): void {
    this.#turnBytes = 0;
    this.#socket.uncork();
  }

  #cork(bytes: number): void {
    this.#turnBytes += bytes;
    if (corked.has(this)) return;
    this.#socket.cork();
    corked.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  }

  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }
}
