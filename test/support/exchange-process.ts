/**
 * The exchange as its users run it, for the fault suites: `mosaic start --config FILE` (or any
 * other `mosaic` command) as a child process, a seller and a buyer trading and asking for
 * withdrawals over WebSocket and reading their balances and withdrawals over REST, and what is
 * left running of it.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import BigNumber from 'bignumber.js';
import { spawnMosaic, START_READY } from '../../app/children.ts';
import { until } from './wait.ts';
import { WsClient } from './ws-client.ts';

/** How long an order's execution report may take on a slow machine. */
const REPLY_MS = 20_000;

/** `mosaic start --config FILE` run as a child process, its output kept. */
export class MosaicProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly #output: { text: string };
  readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, url: string, output: { text: string }) {
    this.child = child;
    this.url = url;
    this.#output = output;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
  }

  /** Everything it printed so far, stdout and stderr. */
  get output(): string {
    return this.#output.text;
  }

  static start(configFile: string, running: Set<ChildProcess>): Promise<MosaicProcess> {
    return MosaicProcess.spawn(['start', '--config', configFile], START_READY, running);
  }

  /**
   * `mosaic ARGS...` as a child process, with `env` added to its environment; resolves once its
   * output matches `ready` (group 1 is its address).
   */
  static async spawn(
    args: string[],
    ready: RegExp,
    running: Set<ChildProcess>,
    env: Record<string, string> = {},
  ): Promise<MosaicProcess> {
    const { child, url, output } = await spawnMosaic(args, ready, {
      env,
      started(c) {
        running.add(c);
        c.once('exit', () => running.delete(c));
      },
    });
    return new MosaicProcess(child, url, output);
  }

  /** Sends `signal` and waits until the process has exited; its exit code (null if killed). */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

/** A seller and a buyer logged in over WebSocket (one gateway, or one each), trading an instrument at 100.00. */
export class Traders {
  #n = 0;
  readonly tradeIds: number[] = [];
  readonly bought: number[] = [];
  /** How long an order's execution report may take (longer while NATS elects a stream leader). */
  replyMs = REPLY_MS;

  private constructor(
    readonly urls: Record<'seller' | 'buyer', string>,
    readonly instrument: string,
    readonly seller: WsClient,
    readonly buyer: WsClient,
    readonly tokens: Record<'seller' | 'buyer', string>,
  ) {}

  /** Logs both in (`login` makes the session's proof); `from` carries an earlier pair's trades on. */
  static async connect(
    url: string | Record<'seller' | 'buyer', string>,
    instrument: string,
    login: (client: WsClient, who: 'seller' | 'buyer') => Promise<{ token: string }>,
    from?: Traders,
  ): Promise<Traders> {
    const urls = typeof url === 'string' ? { seller: url, buyer: url } : url;
    const [s, b] = [await WsClient.connect(urls.seller), await WsClient.connect(urls.buyer)];
    const [ls, lb] = [await login(s, 'seller'), await login(b, 'buyer')];
    const t = new Traders(urls, instrument, s, b, { seller: ls.token, buyer: lb.token });
    if (from !== undefined) {
      t.#n = from.#n;
      t.tradeIds.push(...from.tradeIds);
      t.bought.push(...from.bought);
    }
    return t;
  }

  /** One trade per quantity: the seller rests their total, the buyer takes it piece by piece. */
  async trade(quantities: readonly number[]): Promise<number[]> {
    const total = quantities.reduce((a, b) => a + b, 0);
    const order = { op: 'new', instrument: this.instrument, orderType: 'limit', price: '100.00' } as const;
    const sell = `s${++this.#n}`;
    this.seller.send({ ...order, clientOrderId: sell, side: 'sell', quantity: String(total) });
    const rested = await this.seller.next(
      (m) => m.type === 'exec' && m.clientOrderId === sell && m.status !== 'pending-new',
      this.replyMs,
    );
    assert.equal(rested.status, 'new', JSON.stringify(rested));
    const ids: number[] = [];
    for (const q of quantities) {
      const buy = `b${++this.#n}`;
      this.buyer.send({ ...order, clientOrderId: buy, side: 'buy', quantity: String(q) });
      // `new` comes first (accepted and durable), then the fill; a refusal ends it
      const fill = await this.buyer.next(
        (m) =>
          m.type === 'exec' &&
          m.clientOrderId === buy &&
          (m.tradeId !== undefined || m.status === 'rejected' || m.status === 'canceled'),
        this.replyMs,
      );
      assert.equal(fill.status, 'filled', JSON.stringify(fill));
      ids.push(fill.tradeId as number);
      this.bought.push(q);
    }
    this.tradeIds.push(...ids);
    return ids;
  }

  /** The caller's balances over REST, by asset. */
  async balances(who: 'seller' | 'buyer'): Promise<Map<string, Record<string, string>>> {
    const res = await fetch(`${this.urls[who]}/api/balances`, {
      headers: { authorization: `Bearer ${this.tokens[who]}` },
    });
    assert.equal(res.status, 200);
    const list = (await res.json()) as Array<Record<string, string>>;
    return new Map(list.map((b) => [b.asset!, b]));
  }

  /** Engine units of an asset the caller holds (available plus reserved). */
  async units(who: 'seller' | 'buyer', asset: string): Promise<bigint> {
    const b = (await this.balances(who)).get(asset);
    if (b === undefined) return 0n;
    return BigInt(new BigNumber(b.available!).plus(b.reserved!).div(b.unit!).toFixed());
  }

  /** A trade's settlement status over REST (`HTTP 404` if the exchange does not know it). */
  async status(id: number): Promise<string> {
    const res = await fetch(`${this.urls.seller}/api/trades/${id}/settlement`);
    return res.status === 200 ? ((await res.json()) as { status: string }).status : `HTTP ${res.status}`;
  }

  /**
   * Asks for a withdrawal over WebSocket (`amount` a decimal of the asset); the withdrawal id the
   * engine granted (asserts that it did).
   */
  async withdraw(who: 'seller' | 'buyer', asset: string, amount: string): Promise<number> {
    const c = this[who];
    const ack = await c.request({ op: 'withdraw', asset, amount }, this.replyMs);
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    const granted = await c.next((m) => m.id === ack.id && m.type !== 'ack', this.replyMs);
    assert.deepEqual([granted.type, granted.status], ['withdrawal', 'pending'], JSON.stringify(granted));
    return granted.withdrawalId as number;
  }

  /** A withdrawal of the caller's as REST shows it (`{ status: 'HTTP 404' }` if the exchange does not know it). */
  async withdrawal(who: 'seller' | 'buyer', id: number): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.urls[who]}/api/withdrawals/${id}`, {
      headers: { authorization: `Bearer ${this.tokens[who]}` },
    });
    return res.status === 200
      ? ((await res.json()) as Record<string, unknown>)
      : { status: `HTTP ${res.status}` };
  }

  /** Waits until a withdrawal of the caller's has its verdict over REST, asserts it was released; its view. */
  async released(
    who: 'seller' | 'buyer',
    id: number,
    context: () => string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>> {
    const w = await until(
      `withdrawal ${id} to be released`,
      async () => {
        const v = await this.withdrawal(who, id);
        return v.status !== 'pending' && v.status !== 'HTTP 404' && v;
      },
      context,
      timeoutMs,
    );
    assert.equal(w.status, 'released', JSON.stringify(w));
    return w;
  }

  /** Whether nothing the two hold waits for settlement (or for a withdrawal's release). */
  async drained(): Promise<boolean> {
    for (const who of ['seller', 'buyer'] as const) {
      for (const b of (await this.balances(who)).values())
        if (!new BigNumber(b.pendingIn!).isZero() || !new BigNumber(b.pendingOut!).isZero()) return false;
    }
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([this.seller.close(), this.buyer.close()]);
  }
}

/**
 * Processes whose environment holds `name=value` (a variable given only to an exchange started by
 * a test is inherited by everything it starts), with their command lines: what is left of it.
 */
export function processesWith(name: string, value: string): string[] {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const env = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${pid}/environ`)]);
      if (!env.includes(needle)) continue;
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Waits until nothing with `name=value` in its environment runs any more (a supervisor's pipe
 * reader ends a moment after the process it watched), naming what is left if it lasts.
 */
export async function nothingLeft(name: string, value: string, timeoutMs = 15_000): Promise<void> {
  let left: string[] = [];
  await until(
    'nothing left running',
    () => (left = processesWith(name, value)).length === 0,
    () => `processes left behind:\n${left.join('\n')}`,
    timeoutMs,
  );
}

/** Kills what is still running of the exchanges started (SIGKILL) and waits until each is gone. */
export async function killAll(running: Set<ChildProcess>): Promise<void> {
  for (const child of running) {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
}
