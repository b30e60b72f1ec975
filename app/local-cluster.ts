/**
 * `mosaic start` with `cluster.enabled`: the exchange as a cluster on this machine, each part its
 * own process on NATS JetStream, as a deployment runs them (docs/deployment.md): a nats-server
 * (with `cluster.startNats`), an engine per shard, a connector process per ledger kind with an
 * enabled connector (`mosaic connector <kind>`) and a gateway, all on one configuration file. A
 * part that exits unexpectedly is started again; Ctrl-C stops them in order (gateway, daemons,
 * shards, NATS).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type NatsNode, startNats } from '../cluster/index.ts';
import { LEDGER_KINDS } from '../connectors/index.ts';
import type { Config } from './config.ts';
import { CLUSTER_READY, type MosaicChild, spawnMosaic } from './children.ts';

interface Part {
  name: string;
  args: string[];
  child: MosaicChild | null;
}

export interface LocalCluster {
  /** The gateway's address. */
  readonly url: string;
  /** One line per part: what runs. */
  readonly parts: string[];
  stop(): Promise<void>;
}

export async function startLocalCluster(
  config: Config,
  configFile: string | undefined,
  log: (line: string) => void,
): Promise<LocalCluster> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  let nats: NatsNode[] = [];
  let settings = config;
  if (config.cluster.startNats) {
    // Port 0: nats-server binds any free one, and the parts are told which.
    const port = Number(/:(\d+)$/.exec(config.cluster.servers[0]!)![1]);
    nats = await startNats({
      dir: path.join(config.dataDir, 'nats'),
      ...(port === 0 ? {} : { ports: [port] }),
    });
    log(`nats-server up at ${nats[0]!.url}`);
    if (port === 0) {
      const servers = [nats[0]!.url, ...config.cluster.servers.slice(1)];
      settings = { ...config, cluster: { ...config.cluster, servers } };
    }
  }
  // The parts read the same settings: the file given, or those in force now (defaults, variables
  // and the port nats-server picked).
  let file = configFile;
  if (file === undefined || settings !== config) {
    file = path.join(config.dataDir, 'cluster-config.json');
    fs.writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  }
  const parts: Part[] = [
    // Operations ports: any free ones (each part's /health is in the banner).
    ...config.cluster.shards.map((_, i) => ({
      name: `engine shard ${i}`,
      args: ['engine', '--shard', String(i), '--port', '0'],
      child: null,
    })),
    // A connector process per kind of ledger: it runs the kind's enabled connectors.
    ...LEDGER_KINDS.filter((k) => config.connectors.some((c) => c.kind === k.name && c.enabled)).map((k) => ({
      name: `${k.name} connector`,
      args: ['connector', k.name, '--port', '0'],
      child: null,
    })),
    { name: 'gateway', args: ['gateway'], child: null },
  ];
  let stopping = false;
  const run = async (p: Part): Promise<void> => {
    p.child = await spawnMosaic([...p.args, '--config', file], CLUSTER_READY, {
      started: (c) => watch(p, c),
      keep: false,
    });
    log(`${p.name} up (pid ${p.child.child.pid})`);
    // Its log lines go to this process's output, as they come.
    p.child.child.stdout!.on('data', (b: Buffer) => process.stdout.write(b));
    p.child.child.stderr!.on('data', (b: Buffer) => process.stderr.write(b));
  };
  const watch = (p: Part, c: ChildProcess) =>
    c.once('exit', (code, signal) => {
      if (stopping) return;
      log(`${p.name} exited (${signal ?? code}); starting it again`);
      setTimeout(() => void run(p).catch((err: Error) => log(`${p.name}: ${err.message}`)), 1_000);
    });
  const stop = async () => {
    stopping = true;
    for (const p of [...parts].reverse()) {
      await p.child?.process.stop();
    }
    for (const n of nats) await n.stop();
  };
  try {
    for (const p of parts) await run(p);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: parts.at(-1)!.child!.url,
    parts: [
      ...nats.map((n) => `nats-server (JetStream) ${n.url}, store ${n.dir}`),
      ...parts.map((p) => `${p.name}: pid ${p.child!.child.pid}, /health ${p.child!.url}/health`),
    ],
    stop,
  };
}
