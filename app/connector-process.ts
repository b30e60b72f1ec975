/**
 * `mosaic connector <kind>`: settlement daemons as their own process, on a cluster. Each
 * venue's daemon follows the shard owning the venue, takes the venue's trades from the shared
 * durable consumer (several daemons of a venue share the work, one message each), and sends
 * verdicts, deposits, withdrawals and eligibility back as commands.
 */
import { parseArgs } from 'node:util';
import { Gauge, Registry } from 'prom-client';
import { closeNats, DaemonPort, serveFaucet, Topology } from '../cluster/index.ts';
import { type Connector, LEDGER_KINDS, ledgerKind } from '../connectors/index.ts';
import { wholeNumber } from './engine-process.ts';
import {
  joinCluster,
  type Ops,
  processConfig,
  processLogger,
  serveOps,
  StartError,
  stopOnSignals,
} from './process.ts';
import { startConnector } from './settlement.ts';

const KINDS = LEDGER_KINDS.map((k) => k.name).join('|');

export const CONNECTOR_USAGE = `usage: mosaic connector ${KINDS} [--config FILE] [--port PORT] [--venue VENUE]

  Runs the settlement daemon of each enabled connector of that kind of ledger in the config's
  "connectors" (--venue picks one), on the cluster in the config's "cluster" section.
  /health and /metrics on PORT (default ${LEDGER_KINDS.map((k) => `${k.opsPort} for ${k.name}`).join(', ')}).`;

export async function runConnector(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, port: { type: 'string' }, venue: { type: 'string' } },
  });
  const [name, extra] = positionals;
  const ledger = ledgerKind(name);
  if (ledger === undefined) throw new StartError(`name the ledger: mosaic connector ${KINDS}`);
  const kind = ledger.name;
  if (extra !== undefined) throw new StartError(`unexpected argument "${extra}"`);
  const config = processConfig(values.config);
  const entries = config.connectors.filter(
    (c) => c.kind === kind && c.enabled && (values.venue === undefined || c.venue === values.venue),
  );
  if (entries.length === 0) {
    throw new StartError(
      values.venue === undefined
        ? `no ${kind} connector is enabled in connectors`
        : `--venue ${values.venue}: no enabled ${kind} connector settles it (connectors)`,
    );
  }
  const venues = entries.map((c) => c.venue);
  const topology = new Topology(config.cluster);
  for (const v of venues) {
    if (topology.shardOfVenue(v) === undefined)
      throw new StartError(`no shard owns venue ${v} (cluster.shards)`);
  }
  const port = values.port === undefined ? ledger.opsPort : wholeNumber(values.port, '--port');
  const log = processLogger(config, { role: 'connector', ledger: kind });
  const member = await joinCluster(config, `mosaic-connector-${kind}`);
  const { nc } = member;
  const running: Array<{ port: DaemonPort; connector: Connector }> = [];
  let ops: Ops | null = null;
  let failed: Error | null = null;
  const stopper = stopOnSignals(log, async () => {
    await ops?.close();
    for (const r of running) {
      await r.connector.close();
      await r.port.close();
    }
    await closeNats(nc);
  });
  for (const venue of venues) {
    const enginePort = await DaemonPort.open({
      nc,
      topology,
      config: config.cluster,
      venue,
      risk: config.risk,
      log: log.child({ venue }),
      onError: (err) => {
        failed = err;
        stopper.fatal(err);
      },
    });
    const settings = entries.find((c) => c.venue === venue)!;
    const connector = await startConnector(config, settings, enginePort, log, (err) => {
      failed = err;
      stopper.fatal(err);
    });
    running.push({ port: enginePort, connector });
    if (config.demo.fundAccounts && connector.fund !== null) {
      serveFaucet(nc, topology, venue, connector.fund, log.child({ venue }));
    }
    log.info({ venue, shard: enginePort.shard }, `settling ${venue}: ${connector.describe}`);
  }
  const registry = new Registry();
  type Running = (typeof running)[number];
  const stat = (key: 'settled' | 'failed' | 'batches' | 'retries' | 'gas' | 'changes') => (r: Running) =>
    r.connector.daemon.stats()[key];
  const perVenue: Array<[name: string, help: string, read: (r: Running) => number]> = [
    ['mosaic_daemon_settled_total', 'Trades settled on the ledger', stat('settled')],
    ['mosaic_daemon_failed_total', 'Trades the ledger refused', stat('failed')],
    ['mosaic_daemon_batches_total', 'Batches settled', stat('batches')],
    ['mosaic_daemon_retries_total', 'Ledger errors retried', stat('retries')],
    ['mosaic_daemon_gas_total', 'Gas spent settling', stat('gas')],
    ['mosaic_daemon_changes_total', 'Ledger changes sent to the engine', stat('changes')],
    ['mosaic_daemon_verdicts_sent_total', 'Verdicts the command stream holds', (r) => r.port.verdictsSent],
    ['mosaic_daemon_engine_seq', 'Last command message of the shard followed', (r) => r.port.follower.seq],
  ];
  for (const [name, help, read] of perVenue) {
    new Gauge({
      name,
      help,
      labelNames: ['venue'],
      registers: [registry],
      collect() {
        for (const r of running) this.set({ venue: r.connector.venue }, read(r));
      },
    });
  }
  const served = await serveOps({
    host: config.host,
    port,
    registry,
    member,
    failure: () => failed,
    details: () => ({
      venues: running.map(({ port: p, connector }) => ({
        venue: connector.venue,
        shard: p.shard,
        engineSeq: p.follower.seq,
        ...connector.daemon.stats(),
        fee: connector.daemon.stats().fee.toString(),
      })),
    }),
  });
  ops = served;
  log.info({ ops: served.url }, `${kind} connector running`);
}
