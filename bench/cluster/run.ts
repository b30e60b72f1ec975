/**
 * The cluster benchmark: orders end to end through NATS JetStream (a gateway publishes each
 * order on its shard's command stream, the gateway's follower of that stream executes it and
 * answers), against the embedded exchange (`mosaic start`: gateway, engine and journal in one
 * process), with one shard and two. Every part is its own process, the load in this one:
 *
 *   npm run bench:cluster -- [--seconds N] [--runs N] [--rate N] [--json]
 *
 * - throughput: closed loop, 8 connections x 64 orders in flight, crossing orders of 1 lot at
 *   100.00 (risk off, so no ledger is involved); engine reports per second, median of `--runs`.
 *   With two shards the load is split over an instrument of each (ACME@evm:31337 on shard 0,
 *   ACME@fabric:bank-net on shard 1), through one gateway and then through two.
 * - latency: open loop at `--rate` orders/s (default 1,000), scheduled send to engine report.
 * CPU of each process over the timed part is reported beside each figure (100 = one core).
 */
import fs from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type NatsNode, startNats } from '../../cluster/index.ts';
import { benchCli } from '../cli.ts';
import { median } from '../engine/stats.ts';
import { roundTrip } from '../gateway/roundtrip.ts';
import type { ServerStats } from '../gateway/server.ts';
import { throughput } from '../gateway/throughput.ts';
import { UNLIMITED } from '../gateway/unlimited.ts';
import { CLUSTER_READY, cpuMs, type MosaicChild, spawnMosaic, START_READY } from '../../app/children.ts';

const USAGE = 'usage: npm run bench:cluster -- [--seconds N] [--runs N] [--rate N] [--json]';
const EVM = 'ACME@evm:31337';
const FABRIC = 'ACME@fabric:bank-net';

interface Setup {
  name: string;
  shards: number;
  gateways: number;
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
}

interface LatencyRow {
  setup: string;
  rate: number;
  p50Us: number;
  p99Us: number;
  pendingP50Us: number;
}

/** The processes of one setup, started on a fresh data folder (and a fresh NATS for a cluster). */
class Deployment {
  readonly children: Array<{ name: string; c: MosaicChild }> = [];
  nats: NatsNode[] = [];

  private constructor(readonly dir: string) {}

  static async start(setup: Setup): Promise<Deployment> {
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
        d.children.push({ name, c: await spawnMosaic([...args, '--config', file], ready) });
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

async function measure(setup: Setup, seconds: number, runs: number): Promise<Row> {
  const d = await Deployment.start(setup);
  try {
    const urls = d.urls;
    const results: Array<{ perSec: number; p50: number; p99: number; cpu: Record<string, number> }> = [];
    for (let r = 0; r < runs; r++) {
      const before = d.cpu();
      const t0 = performance.now();
      // One driver per instrument when there are two shards, each at its own gateway if there are two.
      const instruments = setup.shards === 2 ? [EVM, FABRIC] : [EVM];
      const out = await Promise.all(
        instruments.map((id, i) =>
          throughput(marker(urls[i % urls.length]!), seconds, 8 / instruments.length, 64, 1, id),
        ),
      );
      const wall = performance.now() - t0;
      const after = d.cpu();
      const cpu: Record<string, number> = {};
      for (const k of Object.keys(after)) cpu[k] = Math.round(((after[k]! - (before[k] ?? 0)) / wall) * 100);
      const refused = out.find((x) => x.errors > 0);
      if (refused !== undefined) {
        throw new Error(
          `${setup.name}: ${refused.errors} orders refused, the first: ${refused.firstError ?? ''}`,
        );
      }
      results.push({
        perSec: out.reduce((n, x) => n + x.ordersPerSec, 0),
        p50: Math.max(...out.map((x) => x.latency.p50Us)),
        p99: Math.max(...out.map((x) => x.latency.p99Us)),
        cpu,
      });
    }
    const mid = median(results, (x) => x.perSec);
    return {
      setup: setup.name,
      ordersPerSec: mid.perSec,
      runsOrdersPerSec: results.map((x) => x.perSec),
      p50Us: mid.p50,
      p99Us: mid.p99,
      cpu: mid.cpu,
    };
  } finally {
    await d.stop();
  }
}

async function latencyAt(setup: Setup, rate: number, seconds: number): Promise<LatencyRow> {
  const d = await Deployment.start(setup);
  try {
    const [r] = await roundTrip(marker(d.urls[0]!), [rate], seconds);
    return {
      setup: setup.name,
      rate,
      p50Us: r!.engine.p50Us,
      p99Us: r!.engine.p99Us,
      pendingP50Us: r!.pending.p50Us,
    };
  } finally {
    await d.stop();
  }
}

async function main(): Promise<void> {
  const { usage, count } = benchCli(USAGE);
  let values: { seconds?: string; runs?: string; rate?: string; json?: boolean };
  try {
    values = parseArgs({
      options: {
        seconds: { type: 'string' },
        runs: { type: 'string' },
        rate: { type: 'string' },
        json: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
  const seconds = count(values.seconds, 'seconds', 5);
  const runs = count(values.runs, 'runs', 3);
  const rate = count(values.rate, 'rate', 1000);
  const setups: Setup[] = [
    { name: 'embedded (mosaic start)', shards: 0, gateways: 1 },
    { name: 'cluster: 1 shard, 1 gateway', shards: 1, gateways: 1 },
    { name: 'cluster: 2 shards, 1 gateway', shards: 2, gateways: 1 },
    { name: 'cluster: 2 shards, 2 gateways', shards: 2, gateways: 2 },
  ];
  const load = loadavg()[0]!;
  const rows: Row[] = [];
  for (const s of setups) {
    process.stderr.write(`${s.name}: ${runs} runs of ${seconds} s\n`);
    rows.push(await measure(s, seconds, runs));
  }
  const latency = [await latencyAt(setups[0]!, rate, seconds), await latencyAt(setups[1]!, rate, seconds)];
  const report = {
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    loadAvg: { start: load, end: loadavg()[0]! },
    throughput: rows,
    latency,
  };
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines = [
    `node ${report.node}, ${report.cpu}, load ${report.loadAvg.start.toFixed(2)} -> ${report.loadAvg.end.toFixed(2)}`,
    '',
    '| setup | orders/s (median) | runs | p50 µs | p99 µs | CPU % by process |',
    '| --- | ---: | --- | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.setup} | ${fmt(r.ordersPerSec)} | ${r.runsOrdersPerSec.map(fmt).join(', ')} | ${fmt(r.p50Us)} | ${fmt(r.p99Us)} | ${Object.entries(
          r.cpu,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} |`,
    ),
    '',
    `| open loop at ${fmt(rate)} orders/s | p50 µs | p99 µs | pending-new p50 µs |`,
    '| --- | ---: | ---: | ---: |',
    ...latency.map((l) => `| ${l.setup} | ${fmt(l.p50Us)} | ${fmt(l.p99Us)} | ${fmt(l.pendingP50Us)} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
