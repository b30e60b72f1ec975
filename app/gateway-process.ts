/**
 * `mosaic gateway`: a stateless gateway of a cluster deployment, as its own process, with no
 * engine: it sends each command to the shard owning its instrument, receives the events of its
 * sessions' accounts and the market data of its clients' instruments, asks the shards for reads
 * and keeps listings and settlement status from their event streams. Run several behind any load
 * balancer: they hold nothing of their own.
 */
import { parseArgs } from 'node:util';
import { closeNats, requestFunding, shareLimits, venueOfId } from '../cluster/index.ts';
import { type Gateway, serveExchange } from '../gateway/index.ts';
import { ClusterExchange } from './cluster-exchange.ts';
import { ledgerOf } from './connector-config.ts';
import { joinCluster, processConfig, processLogger, StartError, stopOnSignals } from './process.ts';

export const GATEWAY_USAGE = `usage: mosaic gateway [--config FILE]

  Runs a gateway (WebSocket /ws, REST /api, dashboard /, /health, /metrics on host:port of the
  config) on the cluster in the config's "cluster" section. Demo funding (demo.fundAccounts) asks
  the settlement daemons' faucets; no demo market maker.`;

export async function runGateway(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' } },
  });
  if (positionals.length > 0) throw new StartError(`unexpected argument "${positionals[0]}"`);
  const config = processConfig(values.config);
  const log = processLogger(config, { role: 'gateway' });
  const member = await joinCluster(config, 'mosaic-gateway');
  const { nc, topology } = member;
  const exchange = await ClusterExchange.open({
    nc,
    topology,
    cluster: config.cluster,
    risk: config.risk,
    venues: config.venues,
    log,
    connected: () => member.connected,
  });
  let gateway: Gateway<ClusterExchange> | null = null;
  let sharing: { stop(): void } | null = null;
  const stopper = stopOnSignals(log, async () => {
    sharing?.stop();
    if (gateway !== null) await gateway.close();
    else await exchange.close();
    await closeNats(nc);
  });
  exchange.onFailure((err) => stopper.fatal(err));
  gateway = await serveExchange(config, exchange, {
    // Demo funding: the daemons of each venue the account sees fund it on their ledgers.
    ledgerOf: ledgerOf(config.connectors),
    onLogin(account, canSee) {
      if (!config.demo.fundAccounts) return;
      const venues = new Set(exchange.view.instruments().map((id) => venueOfId(id)));
      for (const venue of venues) if (canSee(venue)) void requestFunding(nc, topology, venue, account);
    },
    close: () => exchange.close(),
  });
  // Every part is listening: the shards' events may flow.
  exchange.start();
  // Account limits hold over all gateways: each tells the others what its clients did.
  sharing = shareLimits(nc, topology, gateway.sharing, log);
  log.info({ ops: gateway.url, shards: exchange.health().shards }, 'gateway running');
}
