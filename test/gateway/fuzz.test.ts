/**
 * A seeded fuzz of the WebSocket endpoint: 100,000+ frames from two connections, one anonymous
 * and one logged in as an account that is neither funded nor eligible (so the engine's
 * pre-trade risk stage refuses every order it sends and no book can change). Frames are random
 * bytes, random JSON, valid messages of every op with one field mutated, truncated frames and
 * deep nesting. Afterwards the server must still serve, every book and live order must be as it
 * was, and every reply must have been a JSON object with a `type`.
 *
 * The seed is printed; rerun one with `MOSAIC_FUZZ_SEED=<seed>`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { XorShift32 } from '../../bench/prng.ts';
import { defaultConfig } from '../../app/config.ts';
import { fundAccount } from '../../app/demo.ts';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { makeWallet } from '../support/identities.ts';
import { until } from '../support/wait.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';
import { UNLIMITED } from '../../bench/gateway/unlimited.ts';

const SEED = Number(process.env.MOSAIC_FUZZ_SEED ?? 20_260_415);
const MESSAGES = 100_000;
const BATCH = 250;
/** Each connection is synced (ping, pong) this often, which bounds what is in flight. */
const SYNC_EVERY = 4_000;
const MAX_BUFFERED = 512 * 1024;
/** The frame size limit of the default configuration; every fuzz frame stays within it. */
const FRAME_BYTES = defaultConfig().limits.maxFrameBytes;

const ACME = 'ACME@evm:31337';
const ACME_BANK = 'ACME@fabric:bank-net';
const GILT = 'GILT@fabric:club-net';
const INSTRUMENTS = [ACME, ACME_BANK, GILT, 'NOPE@evm:31337', 'ACME@evm:1', 'acme@evm:31337'];
const SYMBOLS = ['ACME', 'GILT', 'NOPE', ''];
const OPS = [
  'ping',
  'challenge',
  'login',
  'new',
  'cancel',
  'replace',
  'cancel-all',
  'subscribe',
  'unsubscribe',
];
const DECIMALS = [
  '1',
  '10',
  '99.50',
  '100.00',
  '101.25',
  '0.01',
  '1.5',
  '0',
  '100.001',
  '-1',
  '1e3',
  '',
  '9'.repeat(20),
];
const GOOD_DECIMALS = ['1', '2', '10', '98.00', '99.50', '100.00', '101.25'];
const WEIRD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', ''];
const UNICODE = [
  'é',
  '漢',
  '😀',
  '\u200b',
  '\u202e',
  '\u0000',
  '\ud800',
  '\udfff',
  'a\u0301',
  '\n',
  '"',
  '\\',
  '𝔘',
];

// ---- random values ----------------------------------------------------------------------------

class Gen {
  readonly rng: XorShift32;

  constructor(seed: number) {
    this.rng = new XorShift32(seed);
  }

  int(lo: number, hi: number): number {
    return this.rng.int(lo, hi);
  }

  chance(p: number): boolean {
    return this.rng.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.rng.int(0, items.length - 1)]!;
  }

  /** A string of random characters: ASCII, unicode oddities, or both. */
  string(max = 40): string {
    const n = this.int(0, max);
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = this.rng.next();
      if (r < 0.6) s += String.fromCharCode(this.int(32, 126));
      else if (r < 0.8) s += this.pick(UNICODE);
      else s += String.fromCodePoint(this.chance(0.5) ? this.int(0, 0xffff) : this.int(0, 0x10ffff));
    }
    return s;
  }

  number(): number {
    return this.pick([
      0,
      -0,
      1,
      -1,
      this.int(0, 100),
      this.int(-1e9, 1e9),
      this.rng.next(),
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 2,
      2 ** 64,
      5e-324,
    ]);
  }

  /** A random JSON value, at most `depth` levels deep. */
  value(depth = 3): unknown {
    const r = this.int(0, depth > 0 ? 7 : 5);
    switch (r) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.number();
      case 3:
      case 4:
        return this.string();
      case 5:
        return this.pick(OPS);
      case 6: {
        const n = this.int(0, 4);
        return Array.from({ length: n }, () => this.value(depth - 1));
      }
      default: {
        const o: Record<string, unknown> = {};
        const n = this.int(0, 4);
        for (let i = 0; i < n; i++) {
          const key = this.chance(0.3) ? this.pick(['op', 'id', ...WEIRD_KEYS]) : this.string(8);
          define(o, key, key === 'op' ? this.pick(OPS) : this.value(depth - 1));
        }
        return o;
      }
    }
  }

  /** A value nested as deep as fits in `bytes` (arrays or objects). */
  nested(bytes: number): string {
    if (this.chance(0.5)) {
      const depth = this.int(1000, Math.floor(bytes / 2));
      return `${'['.repeat(depth)}${this.chance(0.5) ? '1' : ''}${']'.repeat(depth)}`;
    }
    const depth = this.int(1000, Math.floor(bytes / 6));
    return `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`;
  }

  decimal(): string {
    const r = this.rng.next();
    if (r < 0.6) return this.pick(GOOD_DECIMALS);
    return r < 0.9 ? this.pick(DECIMALS) : this.string(12);
  }

  channel(): string {
    if (this.chance(0.2)) return `consolidated.${this.pick([1, 5, 10, 3])}:${this.pick(SYMBOLS)}`;
    const kind = this.pick(['book.1', 'book.10', 'book.100', 'book.7', 'trades', 'ticker', 'quotes']);
    return `${kind}:${this.pick(INSTRUMENTS)}`;
  }

  id(): unknown {
    return this.chance(0.5) ? this.int(0, 1_000_000) : `r-${this.int(0, 1_000_000)}`;
  }

  /** A valid-looking message of a random op. */
  message(address: string): Record<string, unknown> {
    const op = this.pick(OPS);
    const m: Record<string, unknown> = { op };
    if (this.chance(0.8)) m.id = this.id();
    switch (op) {
      case 'login':
        m.scheme = this.pick(['eip191', 'eip712', 'x509']);
        m.nonce = this.chance(0.5) ? 'ab'.repeat(32) : this.string(70);
        if (m.scheme === 'x509') {
          m.mspId = this.pick(['ClubMSP', 'BankAMSP', 'x']);
          m.certificate = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
          m.signature = 'MEUCIQ==';
        } else {
          m.address = this.chance(0.5) ? address : `0x${'1'.repeat(40)}`;
          m.signature = `0x${'1b'.repeat(65)}`;
        }
        if (this.chance(0.3)) m.cancelOnDisconnect = this.chance(0.5);
        break;
      case 'new': {
        const type = this.pick(['limit', 'market', 'stop', 'stop-limit']);
        Object.assign(m, {
          instrument: this.chance(0.6) ? this.pick([ACME, ACME_BANK]) : this.pick(INSTRUMENTS),
          clientOrderId: `f-${this.int(0, 50)}`,
          side: this.pick(['buy', 'sell']),
          orderType: type,
          quantity: this.decimal(),
        });
        if (type === 'limit' || type === 'stop-limit' || this.chance(0.1)) m.price = this.decimal();
        if (type === 'stop' || type === 'stop-limit' || this.chance(0.1)) m.stopPrice = this.decimal();
        if (this.chance(0.3)) m.tif = this.pick(['GTC', 'GTD', 'IOC', 'FOK']);
        if (this.chance(0.2)) m.expireAt = Date.now() + this.int(-10_000, 100_000);
        if (this.chance(0.2)) m.postOnly = this.chance(0.5);
        if (this.chance(0.2))
          m.stp = this.pick(['cancel-newest', 'cancel-oldest', 'cancel-both', 'decrement-and-cancel']);
        break;
      }
      case 'cancel':
      case 'replace':
        if (this.chance(0.5)) m.orderId = this.int(1, 60);
        if (this.chance(0.5))
          m.clientOrderId = this.chance(0.5) ? `seed-${this.int(0, 20)}` : `f-${this.int(0, 50)}`;
        if (op === 'replace') {
          if (this.chance(0.6)) m.price = this.decimal();
          if (this.chance(0.6)) m.quantity = this.decimal();
        }
        break;
      case 'cancel-all':
        if (this.chance(0.5)) m.instrument = this.pick(INSTRUMENTS);
        break;
      case 'subscribe':
        m.channel = this.channel();
        if (this.chance(0.2)) m.fromSeq = this.int(0, 100);
        break;
      case 'unsubscribe':
        m.channel = this.channel();
        break;
    }
    return m;
  }

  /** One field of `m` changed: wrong type, huge, negative, unicode, deleted, extra, nested or a prototype key. */
  mutate(m: Record<string, unknown>): void {
    const keys = Object.keys(m);
    const key = this.pick(keys);
    switch (this.int(0, 8)) {
      case 0: {
        const v = m[key];
        let w = this.value(1);
        while (typeof w === typeof v && w !== null) w = this.value(1);
        m[key] = w;
        return;
      }
      case 1:
        m[key] = this.chance(0.5)
          ? 'x'.repeat(this.int(65, 20_000))
          : this.pick([1e308, 2 ** 64, Number.MAX_SAFE_INTEGER + 2]);
        return;
      case 2:
        m[key] = this.chance(0.5) ? -this.int(1, 1e9) : `-${this.int(1, 1e6)}`;
        return;
      case 3:
        m[key] = this.string(30);
        return;
      case 4:
        delete m[key];
        return;
      case 5:
        define(
          m,
          this.chance(0.5) ? this.string(10) : this.pick(['extra', 'account', 'ts', 'seq']),
          this.value(2),
        );
        return;
      case 6:
        m[key] = this.chance(0.5) ? this.value(4) : [m[key], { [key]: m[key] }];
        return;
      case 7:
        define(m, this.pick(WEIRD_KEYS), this.chance(0.5) ? { polluted: true, op: 'ping' } : this.value(2));
        return;
      default:
        return; // unmutated: a valid message
    }
  }

  /** One frame to send: text or binary. */
  frame(address: string): { data: string | Buffer; binary: boolean } {
    const r = this.rng.next();
    if (r < 0.05) {
      const bytes = Buffer.alloc(this.int(0, 200));
      for (let i = 0; i < bytes.length; i++) bytes[i] = this.int(0, 255);
      return { data: bytes, binary: true };
    }
    if (r < 0.1) return { data: this.string(200), binary: false };
    if (r < 0.25) return { data: JSON.stringify(this.value(4)) ?? 'undefined', binary: false };
    if (r < 0.35) {
      const text = JSON.stringify(this.message(address));
      return { data: text.slice(0, this.int(0, text.length - 1)), binary: false };
    }
    if (r < 0.355) {
      const where = this.pick(['id', 'orderId', 'channel', 'extra', 'top']);
      const nested = this.nested(FRAME_BYTES - 100);
      if (where === 'top') return { data: nested, binary: false };
      const m = this.message(address);
      const op =
        where === 'id' ? m.op : where === 'extra' ? m.op : where === 'orderId' ? 'cancel' : 'subscribe';
      return { data: `{"op":${JSON.stringify(op)},${JSON.stringify(where)}:${nested}}`, binary: false };
    }
    const m = this.message(address);
    this.mutate(m);
    return { data: JSON.stringify(m), binary: false };
  }
}

/** Sets an own enumerable property, even `__proto__`, so that JSON.stringify writes it. */
function define(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---- the run ----------------------------------------------------------------------------------

interface Snapshot {
  depth: Record<string, unknown>;
  feed: Record<string, unknown>;
  liveOrders: number;
}

async function snapshot(gw: Embedded): Promise<Snapshot> {
  const engine = gw.exchange.engine;
  const depth: Record<string, unknown> = {};
  const feed: Record<string, unknown> = {};
  for (const id of engine.instruments()) {
    depth[id] = engine.depth(id, 1000);
    const { bids, asks, checksum } = await gw.feed.book(id, 100);
    feed[id] = { bids, asks, checksum };
  }
  return { depth, feed, liveOrders: engine.liveOrders };
}

async function drain(client: WsClient): Promise<void> {
  while (client.bufferedAmount > MAX_BUFFERED) await new Promise((r) => setImmediate(r));
}

describe(`WebSocket fuzz (seed ${SEED}, ${MESSAGES} messages)`, () => {
  let gw: Embedded;
  let anon: WsClient;
  let fuzzer: WsClient;
  let account: string;
  let before0: Snapshot;
  let sent = 0;
  const processErrors: unknown[] = [];
  const onProcessError = (err: unknown) => processErrors.push(err);

  before(async () => {
    console.log(`fuzz seed ${SEED} (rerun with MOSAIC_FUZZ_SEED=${SEED})`);
    gw = await testGateway((config) => {
      config.demo.fundAccounts = false;
      config.limits = {
        ...config.limits,
        ...UNLIMITED,
        // Its random logins and challenges come from one address, as fast as it can send them.
        challengesPerSecond: 1_000_000,
        challengeBurst: 1_000_000,
        loginsPerSecond: 1_000_000,
        loginBurst: 1_000_000,
        refusedBeforeClose: 10_000_000,
      };
    });

    // Resting orders on every instrument, from an account the fuzz cannot log in as.
    const seed = 'fuzz-seed';
    fundAccount(gw.exchange, seed, () => true);
    let n = 0;
    for (const instrument of gw.exchange.engine.instruments()) {
      for (let level = 1; level <= 3; level++) {
        for (const side of ['buy', 'sell'] as const) {
          gw.exchange.submit({
            type: 'new',
            instrument,
            account: seed,
            clientOrderId: `seed-${n++}`,
            side,
            orderType: 'limit',
            price: side === 'buy' ? 9_800 - level * 10 : 9_900 + level * 10,
            quantity: 5 * level,
          });
        }
      }
    }
    await gw.exchange.durable.flush();
    before0 = await snapshot(gw);
    assert.equal(before0.liveOrders, 24, 'the seed orders rest: six on each of the four demo instruments');

    [anon, fuzzer] = await Promise.all([WsClient.connect(gw.url), WsClient.connect(gw.url)]);
    account = (await login(fuzzer, makeWallet())).account;
    assert.deepEqual(gw.exchange.engine.balances(account), [], 'the fuzz account is not funded');
    process.on('uncaughtException', onProcessError);
    process.on('unhandledRejection', onProcessError);
  });

  after(async () => {
    process.off('uncaughtException', onProcessError);
    process.off('unhandledRejection', onProcessError);
    await Promise.all([anon?.close(), fuzzer?.close()]);
    await gw?.close();
  });

  it(`sends ${MESSAGES} frames and gets every answer`, { timeout: 55_000 }, async () => {
    const gen = new Gen(SEED);
    const address = makeWallet().address;
    const clients = [anon, fuzzer];
    const started = performance.now();
    while (sent < MESSAGES) {
      for (let i = 0; i < BATCH && sent < MESSAGES; i++, sent++) {
        const client = clients[sent & 1]!;
        const { data, binary } = gen.frame(address);
        assert.ok(Buffer.byteLength(data) <= FRAME_BYTES, 'fuzz frames stay within the size limit');
        client.sendRaw(data, binary);
      }
      await Promise.all(clients.map(drain));
      await new Promise((r) => setImmediate(r));
      if (sent % SYNC_EVERY < BATCH) {
        assert.deepEqual([anon.closedWith, fuzzer.closedWith], [null, null], `closed by frame ~${sent}`);
        await Promise.all(clients.map((c) => c.ping(20_000)));
      }
    }
    await Promise.all(clients.map((c) => c.ping(20_000)));
    assert.ok(sent >= 100_000);
    // Execution reports come once a command is durable, which may be after the last pong.
    const acks = () => fuzzer.messages.filter((m) => m.type === 'exec' && m.status === 'pending-new').length;
    const finals = () =>
      fuzzer.messages.filter((m) => m.type === 'exec' && m.status !== 'pending-new').length;
    await gw.exchange.durable.flush();
    const seconds = (performance.now() - started) / 1000;

    const codes = new Map<string, number>();
    for (const m of [...anon.messages, ...fuzzer.messages]) {
      const key = m.type === 'error' ? String(m.code) : `(${m.type})`;
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
    const table = [...codes].sort((a, b) => b[1] - a[1]);
    console.log(`fuzz: ${sent} frames in ${seconds.toFixed(1)} s; replies by error code or (type):`);
    for (const [code, count] of table) console.log(`  ${code.padEnd(28)} ${count}`);
    await until(
      'a final report for every acknowledged order',
      () => finals() >= acks() || gw.exchange.error !== null,
      () => `${finals()} final reports, ${acks()} acknowledgements`,
      20_000,
    );
    assert.equal(finals(), acks(), 'every order that reached the engine got its final report');
  });

  it('every reply was a JSON object with a type, and errors carry a code and a message', () => {
    assert.deepEqual(anon.malformed, []);
    assert.deepEqual(fuzzer.malformed, []);
    for (const m of [...anon.messages, ...fuzzer.messages]) {
      if (m.type !== 'error') continue;
      assert.equal(typeof m.code, 'string', JSON.stringify(m));
      assert.ok(typeof m.message === 'string' && m.message.length > 0, JSON.stringify(m));
    }
  });

  it('no frame caused an internal error', () => {
    const internal = [...anon.messages, ...fuzzer.messages].filter((m) => m.code === 'UNAVAILABLE');
    assert.equal(
      internal.length,
      0,
      `${internal.length} UNAVAILABLE replies, e.g. ${JSON.stringify(internal[0])}`,
    );
  });

  it('the server still serves: both connections open, a new one pings, /health is 200', async () => {
    assert.deepEqual([anon.closedWith, fuzzer.closedWith], [null, null], 'no fuzz connection was closed');
    const fresh = await WsClient.connect(gw.url);
    assert.equal((await fresh.ping()).type, 'pong');
    await fresh.close();
    const res = await fetch(`${gw.url}/health`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
    assert.equal(gw.exchange.error, null);
    assert.equal(gw.exchange.engine.listenerErrors, 0);
    assert.deepEqual(processErrors, []);
  });

  it('every book, feed book and live order is as it was', async () => {
    const now = await snapshot(gw);
    assert.deepEqual(now.depth, before0.depth);
    assert.deepEqual(now.feed, before0.feed);
    assert.equal(now.liveOrders, before0.liveOrders);
  });

  it('the unfunded account never had an order accepted, and the anonymous one got no reports', () => {
    const statuses = new Set(fuzzer.messages.filter((m) => m.type === 'exec').map((m) => m.status));
    assert.deepEqual(
      [...statuses].filter((s) => s !== 'pending-new' && s !== 'rejected'),
      [],
    );
    assert.equal(anon.messages.filter((m: Msg) => m.type === 'exec' || m.type === 'login').length, 0);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(gw.exchange.engine.openOrders(account), []);
  });
});
