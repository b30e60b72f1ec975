/**
 * A NATS (one node or a cluster) in a temporary folder, a cluster config pointing at it, and a
 * configuration file for `mosaic` processes on it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import {
  type ClusterConfig,
  connectNats,
  defaultCluster,
  ensureStreams,
  type NatsNode,
  startNats,
  Topology,
} from '../../cluster/index.ts';

export { CLUSTER_READY as READY } from '../../app/children.ts';

export interface TestNats {
  dir: string;
  nodes: NatsNode[];
  config: ClusterConfig;
  topology: Topology;
  /** A connection made for the test (closed by `stop`). */
  connect(name?: string): Promise<NatsConnection>;
  stop(): Promise<void>;
}

export async function testNats(nodes = 1, adjust: Partial<ClusterConfig> = {}): Promise<TestNats> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-nats-'));
  const started = await startNats({ dir, nodes });
  const config: ClusterConfig = {
    ...defaultCluster(),
    servers: started.map((n) => n.url),
    replicas: nodes >= 3 ? 3 : 1,
    ...adjust,
  };
  const topology = new Topology(config);
  const connections: NatsConnection[] = [];
  const connect = async (name = 'test') => {
    const nc = await connectNats(config, name);
    connections.push(nc);
    return nc;
  };
  await ensureStreams(await connect('setup'), topology, config);
  return {
    dir,
    nodes: started,
    config,
    topology,
    connect,
    async stop() {
      for (const nc of connections) await nc.close().catch(() => {});
      await Promise.all(started.map((n) => n.stop()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes `mosaic.json` in the NATS folder for `mosaic engine|gateway|connector` processes on
 * this cluster: data under `data/`, risk off, no ledgers, the demo listings without the market
 * maker or funding; `settings` replace top-level sections. Returns the file's path.
 */
export function clusterConfigFile(nats: TestNats, settings: Record<string, unknown> = {}): string {
  const file = path.join(nats.dir, 'mosaic.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      dataDir: path.join(nats.dir, 'data'),
      risk: false,
      port: 0,
      logLevel: 'info',
      demo: { instruments: true, marketMaker: false, fundAccounts: false },
      connectors: [],
      cluster: nats.config,
      ...settings,
    }),
  );
  return file;
}
