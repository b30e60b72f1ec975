/**
 * The cluster benchmark: orders end to end through NATS JetStream (a gateway publishes each
 * order on its shard's command stream, the shard executes it and sends the account's events
 * back to the gateway), against the embedded exchange (`mosaic start`: gateway, engine and
 * journal in one process), with one shard and two. Every part is its own process, the load in
 * this one:
 *
 *   npm run bench:cluster -- [--seconds N] [--runs N] [--rate N] [--scale-rate N] [--only PARTS] [--profile DIR] [--json]
 *
 * Beside the orders of each gateway, a client watches the book (10 levels) and trades of their
 * instruments there, as a trading screen would.
 * - throughput: closed loop, 8 connections x 64 orders in flight, crossing orders of 1 lot at
 *   100.00 (risk off, so no ledger is involved); engine reports per second, median of `--runs`.
 *   With two shards the load is split over an instrument of each (ACME@evm:31337 on shard 0,
 *   ACME@fabric:bank-net on shard 1), through one gateway and then through two; with one shard
 *   and two gateways, half of it through each. Each process's CPU over the timed part, per order,
 *   and each gateway's per order of its own clients (against 1 shard and 1 gateway's: whether it
 *   stays flat with a second gateway or a second shard beside it).
 * - scaling: open loop at `--scale-rate` orders/s per gateway (default 2,000): one shard and one
 *   gateway; a second gateway carrying the same load beside it; a second shard (the gateway's
 *   load split over both); a second gateway without clients (what following the exchange costs a
 *   gateway none of whose clients trade or watch: its listings, trades and verdicts). A
 *   gateway's CPU per order of its own clients, medians of `--runs`.
 * - latency: open loop at `--rate` orders/s (default 1,000), scheduled send to engine report;
 *   p50 and p99 each the median of `--runs`.
 * - NATS alone: JetStream publishes of a command's size (with a message id) on a fresh
 *   nats-server, 1,000 in flight: the rate a stream takes here, beside the cluster's.
 * `--only` names the parts to run (comma-separated: throughput, scaling, latency, nats; all by
 * default). `--profile DIR` writes a CPU profile of every mosaic process into DIR (`node --cpu-prof`).
 */
import fs from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connectNats, formatHeaders, type NatsNode, startNats } from '../../cluster/index.ts';
import { encodeCommand, MAX_COMMAND_BYTES } from '../../journal/index.ts';
import { benchCli } from '../cli.ts';
import { BenchSocket } from '../gateway/client.ts';
import { median } from '../engine/stats.ts';
import { roundTrip } from '../gateway/roundtrip.ts';
import type { ServerStats } from '../gateway/server.ts';
import { throughput } from '../gateway/throughput.ts';
import { UNLIMITED } from '../gateway/unlimited.ts';
import { CLUSTER_READY, cpuMs, type MosaicChild, spawnMosaic, START_READY } from '../../app/children.ts';

const USAGE =
  'usage: npm run bench:cluster -- [--seconds N] [--runs N] [--rate N] [--scale-rate N] [--only PARTS] [--profile DIR] [--json]';
const PARTS = ['throughput', 'scaling', 'latency', 'nats'] as const;
const EVM = 'ACME@evm:31337';
const FABRIC = 'ACME@fabric:bank-net';

interface Setup {
  name: string;
  shards: number;
  gateways: number;
  /** Gateways with clients (scaling rows; all by default): the others only read the event streams. */
  loaded?: number;
}

interface Row {
  setup: string;
  ordersPerSec: number;
  runsOrdersPerSec: number[];
  /** Closed-loop time in flight, median run. */
  p50Us: number;
  p99Us: number;
  /** CPU per process over the median run's timed part, 100 = one core. */
  cpu: Record<string, number>;
  /** CPU microseconds per order, per process, in the median run. */
  cpuUsPerOrder: Record<string, number>;
  /** Each gateway with clients: its CPU microseconds per order of its own clients, in the median run. */
  gatewayUsPerOwnOrder: number[];
}

interface ScalingRow {
  setup: string;
  /** Orders/s offered to each gateway. */
  ratePerGateway: number;
  /** Each gateway with clients: its CPU microseconds per order of its own clients, median of the runs. */
  gatewayUsPerOrder: number[];
  runsGatewayUsPerOrder: number[][];
  /** A gateway without clients: its CPU microseconds per order of the exchange (what reading the event streams costs). */
  idleGatewayUsPerOrder?: number;
  /** CPU microseconds per order (all gateways' orders), per process, in the median run. */
  cpuUsPerOrder: Record<string, number>;
  /** The first gateway's CPU per order against the one shard, one gateway row's. */
  ratioToOne: number;
}

interface LatencyRow {
  setup: string;
  rate: number;
  /** Medians of the runs' p50 and p99. */
  p50Us: number;
  p99Us: number;
  pendingP50Us: number;
  pendingP99Us: number;
  runs: Array<{ p50Us: number; p99Us: number }>;
}

/** The processes of one setup, started on a fresh data folder (and a fresh NATS for a cluster). */
class Deployment {
  readonly children: Array<{ name: string; c: MosaicChild }> = [];
  nats: NatsNode[] = [];

  private constructor(readonly dir: string) {}

  static async start(setup: Setup, profile: string | undefined): Promise<Deployment> {
    const d = new Deployment(fs.mkdtempSync(path.join(tmpdir(), 'mosaic-bench-cluster-')));
    const config: Record<string, unknown> = {
      dataDir: path.join(d.dir, 'data'),
      risk: false,
      port: 0,
      logLevel: 'info',
      demo: { instruments: true, marketMaker: false, fundAccounts: false },
      connectors: [],
      limits: { ...UNLIMITED, maxFrameBytes: 65_536, maxConnections: 10_000 },
    };
    const nodeArgs = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
    try {
      if (setup.shards > 0) {
        d.nats = await startNats({ dir: path.join(d.dir, 'nats') });
        config.cluster = {
          servers: d.nats.map((n) => n.url),
          shards: setup.shards === 1 ? [{ venues: ['*'] }] : [{ venues: ['evm:31337'] }, { venues: ['*'] }],
          tickMs: 0,
        };
      }
      const file = path.join(d.dir, 'mosaic.json');
      fs.writeFileSync(file, JSON.stringify(config));
      const run = async (name: string, args: string[], ready: RegExp) =>
        d.children.push({ name, c: await spawnMosaic([...args, '--config', file], ready, { nodeArgs }) });
      if (setup.shards === 0) await run('exchange', ['start'], START_READY);
      for (let s = 0; s < setup.shards; s++)
        await run(`shard ${s}`, ['engine', '--shard', String(s), '--port', '0'], CLUSTER_READY);
      for (let g = 0; g < (setup.shards > 0 ? setup.gateways : 0); g++) {
        await run(`gateway ${g}`, ['gateway'], CLUSTER_READY);
      }
    } catch (err) {
      await d.stop();
      throw err;
    }
    return d;
  }

  /** Gateway (or exchange) URLs, as WebSocket addresses. */
  get urls(): string[] {
    return this.children
      .filter((x) => x.name.startsWith('gateway') || x.name === 'exchange')
      .map((x) => `${x.c.url.replace(/^http/, 'ws')}/ws`);
  }

  /** CPU ms so far of every process, by name (NATS included). */
  cpu(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { name, c } of this.children) out[name] = cpuMs(c.child.pid!);
    this.nats.forEach((n, i) => (out[`nats ${i}`] = n.pid === null ? 0 : cpuMs(n.pid)));
    return out;
  }

  /** Runs `work`; each process's CPU over it: percent of a core, and microseconds per `orders(result)`. */
  async timed<T>(
    work: () => Promise<T>,
  ): Promise<{ result: T; pct: Record<string, number>; ms: Record<string, number>; wallMs: number }> {
    const before = this.cpu();
    const t0 = performance.now();
    const result = await work();
    const wallMs = performance.now() - t0;
    const after = this.cpu();
    const pct: Record<string, number> = {};
    const ms: Record<string, number> = {};
    for (const k of Object.keys(after)) {
      ms[k] = after[k]! - (before[k] ?? 0);
      pct[k] = Math.round((ms[k] / wallMs) * 100);
    }
    return { result, pct, ms, wallMs };
  }

  async stop(): Promise<void> {
    for (const { c } of this.children.reverse()) {
      const gone = new Promise((resolve) => c.child.once('exit', resolve));
      if (c.child.exitCode === null) c.child.kill('SIGTERM');
      await gone;
    }
    await Promise.all(this.nats.map((n) => n.stop()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A `mark` for the load drivers: this benchmark measures CPU itself, around the runs. */
function marker(url: string) {
  const none: ServerStats = {
    wallMs: 0,
    cpuPct: 0,
    sysPct: 0,
    rssMB: 0,
    commands: 0,
    journalBatches: 0,
    feedFramesSent: 0,
    feedConflated: 0,
    feedDropped: 0,
    bookLevels: 0,
  };
  return { url, mark: async () => none };
}

/**
 * A client watching the book and trades of the instruments a gateway's orders go to, as a
 * trading screen beside them would: the gateway serves their market data (a cluster's gateway
 * follows the instruments its clients watch only). Frames are not parsed after the answers.
 */
async function watch(url: string, instruments: readonly string[]): Promise<BenchSocket> {
  const s = await BenchSocket.connect(url);
  for (const id of instruments) {
    await s.request({ op: 'subscribe', channel: `book.10:${id}` }, 'subscribed');
    await s.request({ op: 'subscribe', channel: `trades:${id}` }, 'subscribed');
  }
  return s;
}

/** Watchers of each gateway's instruments (`instrumentsAt(g)`), for the time of `run`. */
async function watched<T>(
  urls: readonly string[],
  instrumentsAt: (g: number) => readonly string[],
  run: () => Promise<T>,
): Promise<T> {
  const watchers = await Promise.all(urls.map((url, g) => watch(url, instrumentsAt(g))));
  try {
    return await run();
  } finally {
    await Promise.all(watchers.map((w) => w.close()));
  }
}

/** Microseconds of CPU per order, per process. */
function perOrder(ms: Record<string, number>, orders: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(ms)) out[k] = orders > 0 ? Math.round((v * 1000) / orders) : 0;
  return out;
}

async function measure(setup: Setup, seconds: number, runs: number, profile?: string): Promise<Row> {
  const d = await Deployment.start(setup, profile);
  try {
    const urls = d.urls.slice(0, setup.loaded ?? d.urls.length);
    // One driver per instrument (an instrument per shard) and per gateway with clients, whichever are more.
    const instruments = setup.shards === 2 ? [EVM, FABRIC] : [EVM];
    const drivers = Array.from({ length: Math.max(instruments.length, urls.length) }, (_, i) => ({
      gateway: i % urls.length,
      instrument: instruments[i % instruments.length]!,
    }));
    const gatewayName = (g: number) => (setup.shards === 0 ? 'exchange' : `gateway ${g}`);
    const results: Array<Omit<Row, 'setup' | 'ordersPerSec' | 'runsOrdersPerSec'> & { perSec: number }> = [];
    for (let r = 0; r < runs; r++) {
      const {
        result: out,
        pct,
        ms,
      } = await watched(
        urls,
        (g) => [...new Set(drivers.filter((x) => x.gateway === g).map((x) => x.instrument))],
        () =>
          d.timed(() =>
            Promise.all(
              drivers.map((x) =>
                throughput(marker(urls[x.gateway]!), seconds, 8 / drivers.length, 64, 1, x.instrument),
              ),
            ),
          ),
      );
      const refused = out.find((x) => x.errors > 0);
      if (refused !== undefined) {
        throw new Error(
          `${setup.name}: ${refused.errors} orders refused, the first: ${refused.firstError ?? ''}`,
        );
      }
      // The timed part includes each driver's warm-up second: CPU per order counts the orders of both.
      const perSec = out.reduce((n, x) => n + x.ordersPerSec, 0);
      const ownOrders = (g: number) =>
        drivers.reduce((n, x, i) => n + (x.gateway === g ? out[i]!.ordersPerSec * (seconds + 1) : 0), 0);
      results.push({
        perSec,
        p50Us: Math.max(...out.map((x) => x.latency.p50Us)),
        p99Us: Math.max(...out.map((x) => x.latency.p99Us)),
        cpu: pct,
        cpuUsPerOrder: perOrder(ms, perSec * (seconds + 1)),
        gatewayUsPerOwnOrder: urls.map((_, g) => Math.round((ms[gatewayName(g)]! * 1000) / ownOrders(g))),
      });
    }
    const mid = median(results, (x) => x.perSec);
    const { perSec, ...rest } = mid;
    return {
      setup: setup.name,
      ordersPerSec: perSec,
      runsOrdersPerSec: results.map((x) => x.perSec),
      ...rest,
    };
  } finally {
    await d.stop();
  }
}

/**
 * Each gateway of the setup carries `rate` orders/s of its own clients (open loop; with two
 * shards, half on each shard's instrument): its CPU per order, median of `runs`.
 */
async function scaling(
  setup: Setup,
  rate: number,
  seconds: number,
  runs: number,
  profile?: string,
): Promise<Omit<ScalingRow, 'ratioToOne'>> {
  const d = await Deployment.start(setup, profile);
  try {
    const urls = d.urls.slice(0, setup.loaded ?? d.urls.length);
    const gateways = urls.map((_, g) => `gateway ${g}`);
    const idle = d.urls.length > urls.length ? `gateway ${urls.length}` : undefined;
    const instruments = setup.shards === 2 ? [EVM, FABRIC] : [EVM];
    const runsUs: number[][] = [];
    const runsIdle: number[] = [];
    const byProcess: Array<Record<string, number>> = [];
    for (let r = 0; r < runs; r++) {
      const { result, ms } = await watched(
        urls,
        () => instruments,
        () =>
          d.timed(() =>
            Promise.all(
              urls.flatMap((url) =>
                instruments.map((id) => roundTrip(marker(url), [rate / instruments.length], seconds, id)),
              ),
            ),
          ),
      );
      const answered = result.map((x) => x[0]!);
      const bad = answered.find((x) => x.errors > 0 || x.answered < x.orders);
      if (bad !== undefined) {
        throw new Error(
          `${setup.name}: ${bad.answered} of ${bad.orders} orders answered, ${bad.errors} errors`,
        );
      }
      // A round trip runs a warm-up second at its rate before its timed seconds: both count here.
      const ordersPerGateway = rate * (seconds + 1);
      runsUs.push(gateways.map((g) => Math.round((ms[g]! * 1000) / ordersPerGateway)));
      if (idle !== undefined)
        runsIdle.push(Math.round((ms[idle]! * 1000) / (ordersPerGateway * urls.length)));
      byProcess.push(perOrder(ms, ordersPerGateway * urls.length));
    }
    const mid = median(
      runsUs.map((_, i) => i),
      (i) => runsUs[i]![0]!,
    );
    const middle = (xs: number[]) => median(xs, (x) => x);
    return {
      setup: setup.name,
      ratePerGateway: rate,
      gatewayUsPerOrder: gateways.map((_, g) => middle(runsUs.map((x) => x[g]!))),
      runsGatewayUsPerOrder: runsUs,
      ...(idle === undefined ? {} : { idleGatewayUsPerOrder: middle(runsIdle) }),
      cpuUsPerOrder: byProcess[mid]!,
    };
  } finally {
    await d.stop();
  }
}

async function latencyAt(
  setup: Setup,
  rate: number,
  seconds: number,
  runs: number,
  profile?: string,
): Promise<LatencyRow> {
  const each: Array<{ p50Us: number; p99Us: number; pendingP50Us: number; pendingP99Us: number }> = [];
  for (let i = 0; i < runs; i++) {
    const d = await Deployment.start(setup, profile);
    try {
      const [r] = await watched(
        [d.urls[0]!],
        () => [EVM],
        () => roundTrip(marker(d.urls[0]!), [rate], seconds),
      );
      each.push({
        p50Us: r!.engine.p50Us,
        p99Us: r!.engine.p99Us,
        pendingP50Us: r!.pending.p50Us,
        pendingP99Us: r!.pending.p99Us,
      });
    } finally {
      await d.stop();
    }
  }
  return {
    setup: setup.name,
    rate,
    p50Us: median(each, (r) => r.p50Us).p50Us,
    p99Us: median(each, (r) => r.p99Us).p99Us,
    pendingP50Us: median(each, (r) => r.pendingP50Us).pendingP50Us,
    pendingP99Us: median(each, (r) => r.pendingP99Us).pendingP99Us,
    runs: each.map(({ p50Us, p99Us }) => ({ p50Us, p99Us })),
  };
}

/**
 * JetStream alone: `n` publishes of a command's size (a `new` order as the journal encodes it,
 * with a message id) to a stream on a fresh nats-server, 1,000 in flight; messages/s, median of `runs`.
 */
async function natsAlone(
  runs: number,
  n = 50_000,
): Promise<{ messageBytes: number; perSec: number; runs: number[] }> {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'mosaic-bench-nats-'));
  const [node] = await startNats({ dir });
  const nc = await connectNats({ servers: [node!.url] }, 'bench');
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'], storage: StorageType.File });
    const js = jetstream(nc);
    const buf = Buffer.alloc(MAX_COMMAND_BYTES);
    const command = {
      type: 'new',
      ts: 0,
      instrument: EVM,
      account: '0x8ba1f109551bD432803012645Ac136ddd64DBA72',
      clientOrderId: 'o-123456',
      side: 'buy',
      orderType: 'limit',
      price: 10_000,
      quantity: 1,
    } as const;
    const size = encodeCommand(command, buf, 0);
    const data = Uint8Array.prototype.slice.call(buf, 0, size);
    const rates: number[] = [];
    let id = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const inFlight = new Set<Promise<unknown>>();
      for (let i = 0; i < n; i++) {
        const p = js.publish('bench.cmd', data, { msgID: `m-${++id}`, headers: formatHeaders() });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        if (inFlight.size >= 1_000) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      rates.push(Math.round(n / ((performance.now() - t0) / 1000)));
    }
    return {
      messageBytes: size,
      perSec: median(rates, (x) => x),
      runs: rates,
    };
  } finally {
    await nc.close();
    await node!.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { usage, count } = benchCli(USAGE);
  let values: {
    seconds?: string;
    runs?: string;
    rate?: string;
    'scale-rate'?: string;
    only?: string;
    profile?: string;
    json?: boolean;
  };
  try {
    values = parseArgs({
      options: {
        seconds: { type: 'string' },
        runs: { type: 'string' },
        rate: { type: 'string' },
        'scale-rate': { type: 'string' },
        only: { type: 'string' },
        profile: { type: 'string' },
        json: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
  const seconds = count(values.seconds, 'seconds', 5);
  const runs = count(values.runs, 'runs', 3);
  const rate = count(values.rate, 'rate', 1000);
  const scaleRate = count(values['scale-rate'], 'scale-rate', 2000);
  const only = new Set(values.only === undefined ? PARTS : values.only.split(','));
  const unknown = [...only].filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0)
    return usage(`--only: unknown part ${unknown.join(', ')} (parts: ${PARTS.join(', ')})`);
  const profile = values.profile === undefined ? undefined : path.resolve(values.profile);
  if (profile !== undefined) fs.mkdirSync(profile, { recursive: true });
  const setups: Setup[] = [
    { name: 'embedded (mosaic start)', shards: 0, gateways: 1 },
    { name: 'cluster: 1 shard, 1 gateway', shards: 1, gateways: 1 },
    { name: 'cluster: 1 shard, 2 gateways', shards: 1, gateways: 2 },
    { name: 'cluster: 2 shards, 1 gateway', shards: 2, gateways: 1 },
    { name: 'cluster: 2 shards, 2 gateways', shards: 2, gateways: 2 },
    // The load at the first gateway: the second only reads the event stream (its cost per order of the exchange).
    { name: 'cluster: 1 shard, 2 gateways, the second without clients', shards: 1, gateways: 2, loaded: 1 },
  ];
  const scaleSetups: Setup[] = [
    { name: 'cluster: 1 shard, 1 gateway', shards: 1, gateways: 1 },
    { name: 'cluster: 1 shard, 2 gateways', shards: 1, gateways: 2 },
    { name: 'cluster: 2 shards, 1 gateway', shards: 2, gateways: 1 },
    { name: 'cluster: 1 shard, 2 gateways, the second without clients', shards: 1, gateways: 2, loaded: 1 },
  ];
  const load = loadavg()[0]!;
  const rows: Row[] = [];
  for (const s of only.has('throughput') ? setups : []) {
    process.stderr.write(`${s.name}: ${runs} runs of ${seconds} s\n`);
    rows.push(await measure(s, seconds, runs, profile));
  }
  const scaled: ScalingRow[] = [];
  for (const s of only.has('scaling') ? scaleSetups : []) {
    process.stderr.write(
      `scaling, ${s.name}: ${scaleRate} orders/s per gateway, ${runs} runs of ${seconds} s\n`,
    );
    const row = await scaling(s, scaleRate, seconds, runs, profile);
    const base = scaled[0]?.gatewayUsPerOrder[0] ?? row.gatewayUsPerOrder[0]!;
    scaled.push({ ...row, ratioToOne: Math.round((row.gatewayUsPerOrder[0]! / base) * 100) / 100 });
  }
  const latency: LatencyRow[] = [];
  for (const s of only.has('latency') ? setups.slice(0, 2) : []) {
    process.stderr.write(`latency, ${s.name}: ${rate} orders/s, ${runs} runs of ${seconds} s\n`);
    latency.push(await latencyAt(s, rate, seconds, runs, profile));
  }
  let nats: Awaited<ReturnType<typeof natsAlone>> | null = null;
  if (only.has('nats')) {
    process.stderr.write(`NATS alone: JetStream publishes, ${runs} runs\n`);
    nats = await natsAlone(runs);
  }
  const embedded = rows[0]?.ordersPerSec ?? Number.NaN;
  const report = {
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    loadAvg: { start: load, end: loadavg()[0]! },
    throughput: rows.map((r) => ({
      ...r,
      ratioToEmbedded: Math.round((r.ordersPerSec / embedded) * 100) / 100,
      // A gateway's CPU per own order against the one of 1 shard and 1 gateway (the second row).
      gatewayRatioToOne: r.gatewayUsPerOwnOrder.map(
        (us) => Math.round((us / (rows[1]?.gatewayUsPerOwnOrder[0] ?? us)) * 100) / 100,
      ),
    })),
    scaling: scaled,
    latency,
    natsAlone: nats,
  };
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const each = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ');
  const table = (head: string[], rows: string[]) => (rows.length === 0 ? [] : ['', ...head, ...rows]);
  const lines = [
    `node ${report.node}, ${report.cpu}, load ${report.loadAvg.start.toFixed(2)} -> ${report.loadAvg.end.toFixed(2)}`,
    ...table(
      [
        '| setup | orders/s (median) | ratio to embedded | runs | p50 µs | p99 µs | CPU % by process | CPU µs per order | gateway CPU µs per own order (ratio to 1 shard, 1 gateway) |',
        '| --- | ---: | ---: | --- | ---: | ---: | --- | --- | --- |',
      ],
      report.throughput.map(
        (r) =>
          `| ${r.setup} | ${fmt(r.ordersPerSec)} | ${r.ratioToEmbedded} | ${r.runsOrdersPerSec.map(fmt).join(', ')} | ${fmt(r.p50Us)} | ${fmt(r.p99Us)} | ${each(r.cpu)} | ${each(r.cpuUsPerOrder)} | ${r.gatewayUsPerOwnOrder.map((us, g) => `${fmt(us)} (${r.gatewayRatioToOne[g]})`).join(', ')} |`,
      ),
    ),
    ...table(
      [
        `| scaling at ${fmt(scaleRate)} orders/s per gateway | gateway CPU µs per own order | ratio to 1 shard, 1 gateway | runs | CPU µs per order by process |`,
        '| --- | --- | ---: | --- | --- |',
      ],
      scaled.map(
        (r) =>
          `| ${r.setup} | ${r.gatewayUsPerOrder.map(fmt).join(', ')}${r.idleGatewayUsPerOrder === undefined ? '' : `; without clients ${fmt(r.idleGatewayUsPerOrder)} per order of the other`} | ${r.ratioToOne} | ${r.runsGatewayUsPerOrder.map((x) => x.join('/')).join(', ')} | ${each(r.cpuUsPerOrder)} |`,
      ),
    ),
    ...table(
      [
        `| open loop at ${fmt(rate)} orders/s | p50 µs | p99 µs | pending-new p50 / p99 µs | runs p50/p99 µs |`,
        '| --- | ---: | ---: | ---: | --- |',
      ],
      latency.map(
        (l) =>
          `| ${l.setup} | ${fmt(l.p50Us)} | ${fmt(l.p99Us)} | ${fmt(l.pendingP50Us)} / ${fmt(l.pendingP99Us)} | ${l.runs.map((r) => `${fmt(r.p50Us)}/${fmt(r.p99Us)}`).join(', ')} |`,
      ),
    ),
    ...(nats === null
      ? []
      : [
          '',
          `NATS alone: ${fmt(nats.perSec)} JetStream publishes/s of ${nats.messageBytes} bytes (runs ${nats.runs.map(fmt).join(', ')})`,
        ]),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
