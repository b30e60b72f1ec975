/**
 * `mosaic engine --shard N`: one engine shard of a cluster deployment, as its own process. It
 * recovers from the shard's snapshot and command stream (on this machine or any other), then
 * executes the stream and publishes the events; it keeps the history of its venues in
 * `history-shard-N` of the data folder (rebuilt from the event stream on a fresh machine); at its
 * start it lists the configured instruments of its venues that are not listed yet (and the
 * demo's, when the configuration asks for them).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { closeNats, CommandBus, Shard } from '../cluster/index.ts';
import { listings } from './config.ts';
import { makeError } from '../gateway/index.ts';
import {
  joinCluster,
  type Ops,
  processConfig,
  processLogger,
  readGauges,
  serveOps,
  StartError,
  stopOnSignals,
} from './process.ts';

export const ENGINE_USAGE = `usage: mosaic engine --shard N [--config FILE] [--port PORT]

  Runs engine shard N of the cluster in the config's "cluster" section. /health and /metrics
  on PORT (default 9300 + N).`;

export async function runEngine(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { shard: { type: 'string' }, config: { type: 'string' }, port: { type: 'string' } },
  });
  const shardNo = wholeNumber(values.shard, '--shard');
  const config = processConfig(values.config);
  // A cluster does not settle cross-ledger instruments yet (docs/settlement.md).
  const crossLedger = config.instruments.find((i) => i.quoteVenue !== undefined);
  if (crossLedger !== undefined) {
    throw makeError(
      `instruments: ${crossLedger.id} is cross-ledger (quoteVenue); a cluster does not settle cross-ledger instruments yet`,
      'BAD_CONFIG',
    );
  }
  const shards = config.cluster.shards.length;
  if (shardNo >= shards) {
    throw new StartError(`--shard ${shardNo}: the configuration has ${shards} shard(s), numbered from 0`);
  }
  const port = values.port === undefined ? 9300 + shardNo : wholeNumber(values.port, '--port');
  const log = processLogger(config, { role: 'engine', shard: shardNo });
  const member = await joinCluster(config, `mosaic-engine-${shardNo}`);
  const { nc, topology } = member;
  let shard: Shard | null = null;
  let ops: Ops | null = null;
  const stopper = stopOnSignals(log, async () => {
    await ops?.close();
    await shard?.close();
    await closeNats(nc);
  });
  let failed: Error | null = null;
  shard = await Shard.start({
    nc,
    topology,
    config: config.cluster,
    shard: shardNo,
    risk: config.risk,
    log,
    onError: (err) => {
      failed = err;
      stopper.fatal(err);
    },
    historyDir: path.join(config.dataDir, `history-shard-${shardNo}`),
  });
  await shard.follower.caughtUp();
  const s = shard;
  // The demo's cross-ledger instruments are left out (a configured one was refused above).
  const toList = listings(config).filter((spec) => spec.quoteVenue === undefined);
  if (toList.length > 0) {
    const bus = new CommandBus(jetstream(nc), topology);
    for (const spec of toList) {
      const owned = topology.shardOfVenue(spec.id.slice(spec.id.indexOf('@') + 1)) === shardNo;
      if (owned && s.follower.engine.instrument(spec.id) === undefined) {
        await bus.send(shardNo, { type: 'list-instrument', spec }, `list:${spec.id}`);
      }
    }
  }
  const registry = new Registry();
  registry.setDefaultLabels({ shard: String(shardNo) });
  readGauges(registry, [
    ['mosaic_shard_command_seq', 'Last command executed', () => s.stats.seq],
    [
      'mosaic_shard_published_seq',
      'Last command whose events the event stream holds',
      () => s.stats.published,
    ],
    ['mosaic_shard_snapshot_seq', 'Command the stored snapshot covers', () => s.stats.snapshotSeq],
    ['mosaic_shard_snapshots_total', 'Snapshots stored since start', () => s.stats.snapshots],
    ['mosaic_shard_ticks_total', 'Ticks sent since start', () => s.stats.ticks],
    ['mosaic_shard_history_seq', 'Last command in the history store', () => s.history?.store.appliedSeq ?? 0],
    ['mosaic_engine_live_orders', 'Live orders in all books', () => s.follower.engine.liveOrders],
  ]);
  const served = await serveOps({
    host: config.host,
    port,
    registry,
    member,
    failure: () => failed,
    details: () => ({ shard: shardNo, ...s.stats, instruments: s.follower.engine.instruments().length }),
  });
  ops = served;
  log.info(
    { ops: served.url, venues: config.cluster.shards[shardNo]!.venues },
    `engine shard ${shardNo} running`,
  );
}

/** A whole number from a flag, or a `StartError` naming the flag. */
export function wholeNumber(raw: string | undefined, flag: string): number {
  if (raw === undefined) throw new StartError(`${flag} is required`);
  if (!/^\d{1,9}$/.test(raw)) throw new StartError(`${flag} must be a whole number, got "${raw}"`);
  return Number(raw);
}
