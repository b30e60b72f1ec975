/**
 * One WebSocket connection: who is behind it (nobody until a login), its rate limit, and how to
 * send to it. It is also the market-data feed's client, so the feed can check its send buffer.
 *
 * What a turn of the event loop sends to a connection leaves in one write: the frames are
 * collected, then framed into one buffer once the turn's work is done. One system call per
 * connection per turn (the kernel write was half the server's time when every frame was a write
 * of its own), and one queued chunk per turn when the client does not read (a chunk queued per
 * frame costs the server hundreds of bytes of bookkeeping each). What a client leaves unsent is
 * capped: past `maxUnsentBytes` it is sent nothing more and closed (1008), so one client cannot
 * grow the server's memory by not reading.
 */
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { NamedIdentity } from './auth/index.ts';
import type { FeedClient } from './feed/index.ts';
import { TokenBucket } from './token-bucket.ts';

let nextId = 1;

/** Sessions with frames to send at the end of this turn. */
const pending = new Set<Session>();
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  for (const session of pending) session.flush();
  pending.clear();
}

/** The header of an unmasked, final text frame of `length` bytes (RFC 6455 5.2). */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(out: Buffer, at: number, length: number): number {
  out[at] = 0x81;
  if (length < 126) {
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 65_536) {
    out[at + 1] = 126;
    out.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  out[at + 1] = 127;
  out.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2);
  out.writeUInt32BE(length >>> 0, at + 6);
  return at + 10;
}

export interface SessionLimits {
  messagesPerSecond: number;
  burst: number;
  maxUnsentBytes: number;
}

export class Session implements FeedClient {
  readonly id = nextId++;
  readonly bucket: TokenBucket;
  /** The address it is limited by (`addressKey` of the peer). */
  readonly address: string;
  /** Who logged in: the identity a signature proved, or as a bearer token names it. */
  identity: NamedIdentity | null = null;
  account: string | null = null;
  /** A login of this connection waits for its account to be followed: its next frames wait too. */
  loggingIn = false;
  /** Told when a login is answered, so that the frames that waited for it are handled. */
  afterLogin: () => void = () => {};
  /** What venue membership is checked against: MSP id or address. */
  memberNames: string[] = [];
  cancelOnDisconnect = false;
  /** Whether it answered (or sent anything) since the last ping. */
  alive = true;
  /** Messages answered RATE_LIMITED, each less than a second after the one before. */
  refusedInARow = 0;
  /** When the last one was (ms since the epoch). */
  lastRefusedAt = 0;
  /** Whether it subscribed to market data (a reason to stay connected without a login). */
  subscribed = false;
  #ws: WebSocket;
  #socket: Duplex;
  #maxUnsent: number;
  /** This turn's frames: serialized once for many (Buffer), or one session's own JSON (string). */
  #frames: Array<Buffer | string> = [];
  /** Closed by the server: nothing more is written. */
  #closing = false;
  #onSlow: () => void;
  #canSee: (venue: string, names: readonly string[]) => boolean;

  constructor(
    ws: WebSocket,
    socket: Duplex,
    address: string,
    limits: SessionLimits,
    canSee: (venue: string, names: readonly string[]) => boolean,
    onSlow: () => void,
  ) {
    this.#ws = ws;
    this.#socket = socket;
    this.address = address;
    this.#canSee = canSee;
    this.#maxUnsent = limits.maxUnsentBytes;
    this.#onSlow = onSlow;
    this.bucket = new TokenBucket(limits.messagesPerSecond, limits.burst, Date.now());
  }

  /** Whether this session may see a venue's instruments and market data. */
  readonly canSee = (venue: string): boolean => this.#canSee(venue, this.memberNames);

  get open(): boolean {
    return this.#ws.readyState === 1 && !this.#closing;
  }

  /** Bytes written in earlier turns that the client has not taken yet. */
  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  /** Sends a frame serialized once for many (market data). */
  send(frame: Buffer): void {
    this.#queue(frame);
  }

  /** Sends one message of this session's own. */
  reply(message: object): void {
    // Kept as text: encoded once, straight into the turn's buffer.
    this.#queue(JSON.stringify(message));
  }

  /** Writes this turn's frames, in one buffer (called once per turn for each session written to). */
  flush(): void {
    const frames = this.#frames;
    if (frames.length === 0) return;
    this.#frames = [];
    if (!this.open) return;
    const lengths = new Array<number>(frames.length);
    let size = 0;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      const length = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
      lengths[i] = length;
      size += headerLength(length) + length;
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      at = writeHeader(out, at, lengths[i]!);
      at += typeof frame === 'string' ? out.write(frame, at, 'utf8') : frame.copy(out, at);
    }
    this.#socket.write(out);
    if (this.#socket.writableLength > this.#maxUnsent) this.slow();
  }

  /**
   * Closes with `code` after what this turn has sent; cut if the client has not closed in a
   * second. A close with 1008 (the feed's, or `slow`) is counted as a slow consumer's.
   */
  close(code: number, reason: string): void {
    if (this.#closing) return;
    if (code === 1008) this.#onSlow();
    this.flush();
    this.#closing = true;
    this.#ws.close(code, reason);
    // Nothing more is read from it: a client flooding the server would otherwise fill its memory
    // for the second it has to answer the close (the close frame has gone out all the same).
    this.#ws.pause();
    setTimeout(() => this.#ws.terminate(), 1000).unref();
  }

  /** Asks the client for a pong (the `ws` library answers for it). */
  ping(): void {
    if (this.open) this.#ws.ping();
  }

  /** Stops reading the client's frames until `resume`. */
  pause(): void {
    this.#ws.pause();
  }

  /** Reads the client's frames again (not once the server closes it). */
  resume(): void {
    if (!this.#closing) this.#ws.resume();
  }

  /** Cuts the connection at once, with nothing more sent. */
  terminate(): void {
    this.#closing = true;
    this.#ws.terminate();
  }

  #queue(frame: Buffer | string): void {
    if (!this.open) return;
    if (this.#socket.writableLength > this.#maxUnsent) return this.slow();
    if (this.#frames.length === 0) {
      pending.add(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    }
    this.#frames.push(frame);
  }

  /** The client leaves more than it may unsent: nothing more for it, and closed (1008). */
  slow(): void {
    if (this.#closing) return;
    this.#frames = [];
    this.close(1008, 'slow consumer');
  }
}
