/**
 * A small promise-based WebSocket client for the gateway suites: it keeps every message it is
 * sent (and every frame that was not a JSON object with a `type`, so a suite can assert there
 * were none), waits for the next message matching a predicate with a timeout, and logs in with
 * an ethers wallet or a Fabric certificate through challenge and login.
 */
import net from 'node:net';
import type { Wallet } from 'ethers';
import WebSocket from 'ws';
import { evmLogin, type FabricMember, type ReceivedChallenge, x509Login } from './identities.ts';

/** A server message: a JSON object with a `type`. */
export interface Msg {
  type: string;
  id?: string | number;
  [key: string]: unknown;
}

/** How to connect. */
export interface ConnectOptions {
  /** The address to connect from, e.g. `127.0.0.2` (any 127.x.y.z is this host): another client address. */
  localAddress?: string;
  /** Whether to answer the server's pings (default true, as every client does). */
  autoPong?: boolean;
}

/** How the connection closed. */
export interface Closed {
  code: number;
  reason: string;
}

interface Waiter {
  from: number;
  match: (m: Msg) => boolean;
  resolve: (m: Msg) => void;
}

export class WsClient {
  /** Every well-formed message, in order of arrival. */
  readonly messages: Msg[] = [];
  /** Frames that were not a JSON object with a string `type` (text as received). */
  readonly malformed: string[] = [];
  /** Resolves when the connection has closed. */
  readonly closed: Promise<Closed>;
  /** How it closed, once it has. */
  closedWith: Closed | null = null;
  #ws: WebSocket;
  #socket: net.Socket;
  #cursor = 0;
  #nextId = 1;
  #waiters = new Set<Waiter>();

  private constructor(ws: WebSocket, socket: net.Socket) {
    this.#ws = ws;
    this.#socket = socket;
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString('utf8') };
        resolve(this.closedWith);
      }),
    );
    ws.on('error', () => {}); // a refused frame or reset shows as the close code
    ws.on('message', (data: Buffer, isBinary) => this.#receive(data, isBinary));
  }

  /**
   * Connects to a gateway's `/ws` (`base` is its http URL, e.g. `http://127.0.0.1:8080`). A
   * refused upgrade rejects with `Unexpected server response: <status>`.
   */
  static connect(base: string, options: ConnectOptions = {}): Promise<WsClient> {
    let socket: net.Socket | undefined;
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`, {
      perMessageDeflate: false,
      autoPong: options.autoPong ?? true,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      // Our own socket, so that `sendBatch` can cork it.
      createConnection: ((o: net.NetConnectOpts) => (socket = net.connect(o))) as typeof net.createConnection,
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws, socket!)));
      ws.once('error', reject);
    });
  }

  /** Bytes queued on the socket but not yet sent. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Stops reading from the socket (a slow consumer); `resume` reads again. */
  pause(): void {
    this.#ws.pause();
  }

  resume(): void {
    this.#ws.resume();
  }

  /** A fresh request id (integers, unique on this client). */
  newId(): number {
    return this.#nextId++;
  }

  /** Sends a value as one JSON text frame. */
  send(value: unknown): void {
    this.#ws.send(JSON.stringify(value));
  }

  /**
   * Sends values as JSON text frames in one go (the socket corked meanwhile): they reach the
   * server together, as from a client that pipelines, so it reads many frames at once.
   */
  sendBatch(values: readonly unknown[]): void {
    this.#socket.cork();
    for (const value of values) this.#ws.send(JSON.stringify(value));
    this.#socket.uncork();
  }

  /** Sends a frame as it is: text unless `binary`. */
  sendRaw(data: string | Buffer, binary = false): void {
    this.#ws.send(data, { binary });
  }

  /**
   * The next message matching `match`, from the read cursor on (messages already received
   * count); moves the cursor past it. Rejects after `timeoutMs`.
   */
  next(match: (m: Msg) => boolean = () => true, timeoutMs = 5000): Promise<Msg> {
    for (let i = this.#cursor; i < this.messages.length; i++) {
      const m = this.messages[i]!;
      if (match(m)) {
        this.#cursor = i + 1;
        return Promise.resolve(m);
      }
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { from: this.messages.length, match, resolve };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no matching message within ${timeoutMs} ms; last: ${this.#tail()}`));
      }, timeoutMs);
      waiter.resolve = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.add(waiter);
    });
  }

  /** The first reply carrying request id `id` (from the cursor on). */
  reply(id: string | number, timeoutMs = 5000): Promise<Msg> {
    return this.next((m) => m.id === id, timeoutMs);
  }

  /** Sends `message` with a fresh id and waits for the first reply to it. */
  async request(message: Record<string, unknown>, timeoutMs = 5000): Promise<Msg> {
    const id = this.newId();
    this.send({ ...message, id });
    return this.reply(id, timeoutMs);
  }

  /** A ping and its pong: the connection is alive and everything sent before is answered. */
  async ping(timeoutMs = 5000): Promise<Msg> {
    const id = this.newId();
    this.send({ op: 'ping', id });
    return this.next((m) => m.type === 'pong' && m.id === id, timeoutMs);
  }

  /** Messages received from index `from` on (default: all). */
  since(from = 0): Msg[] {
    return this.messages.slice(from);
  }

  /** Closes the connection and waits until it is closed. */
  async close(): Promise<Closed> {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) {
      this.#ws.close(1000);
    }
    return this.closed;
  }

  #receive(data: Buffer, isBinary: boolean): void {
    const text = data.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (
      isBinary ||
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value) ||
      typeof (value as { type?: unknown }).type !== 'string'
    ) {
      this.malformed.push(text);
      return;
    }
    const m = value as Msg;
    this.messages.push(m);
    const index = this.messages.length - 1;
    for (const w of this.#waiters) {
      if (index >= w.from && w.match(m)) {
        this.#waiters.delete(w);
        this.#cursor = Math.max(this.#cursor, index + 1);
        w.resolve(m);
      }
    }
  }

  #tail(): string {
    return JSON.stringify(this.messages.slice(-3)).slice(0, 500);
  }
}

/** What a successful login answered. */
export interface LoggedIn {
  account: string;
  venues: string[];
  /** Bearer token for REST. */
  token: string;
}

/** Execution reports received so far for a client order id, in order. */
export function reports(client: WsClient, clientOrderId: string): Msg[] {
  return client.messages.filter((m) => m.type === 'exec' && m.clientOrderId === clientOrderId);
}

/** Challenge, then login with `wallet`; throws with the server's error if it refuses. */
export function login(
  client: WsClient,
  wallet: Wallet,
  scheme: 'eip191' | 'eip712' = 'eip191',
  extra: Record<string, unknown> = {},
): Promise<LoggedIn> {
  return loginWith(client, (challenge) => ({ ...evmLogin(wallet, challenge, scheme), ...extra }));
}

/** Challenge, then login with a Fabric member certificate; throws if the server refuses. */
export function loginFabric(
  client: WsClient,
  member: FabricMember,
  extra: Record<string, unknown> = {},
): Promise<LoggedIn> {
  return loginWith(client, (challenge) => ({ ...x509Login(member, challenge), ...extra }));
}

async function loginWith(
  client: WsClient,
  prove: (challenge: ReceivedChallenge) => Record<string, unknown>,
): Promise<LoggedIn> {
  const challenge = await client.request({ op: 'challenge' });
  if (challenge.type !== 'challenge') throw new Error(`challenge refused: ${JSON.stringify(challenge)}`);
  const reply = await client.request(prove(challenge as unknown as ReceivedChallenge));
  if (reply.type !== 'login') throw new Error(`login refused: ${JSON.stringify(reply)}`);
  return { account: reply.account as string, venues: reply.venues as string[], token: reply.token as string };
}
