/**
 * The gateway's parts wired together: the exchange (durable engine), login, order entry, the
 * market-data feed and metrics, then the fastify server with one plugin per feature. `start`
 * brings it all up from a configuration; `close` takes it down in order (no new connections,
 * sockets closed, journal flushed).
 */
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { Authenticator } from './auth/index.ts';
import type { Config } from './config.ts';
import { DemoMarketMaker, DEMO_LISTINGS, fundAccount } from './demo.ts';
import { Exchange } from './exchange.ts';
import { MarketData } from './feed/index.ts';
import { Metrics } from './metrics.ts';
import dashboardPlugin from './plugins/dashboard.ts';
import docsPlugin, { registerOpenApi } from './plugins/docs.ts';
import opsPlugin, { installErrorHandlers } from './plugins/ops.ts';
import restPlugin from './plugins/rest.ts';
import wsPlugin from './plugins/ws.ts';
import { Settlements, type VenueConnector } from './settlements.ts';
import { Trading } from './trading.ts';

export interface Gateway {
  readonly config: Config;
  readonly exchange: Exchange;
  readonly trading: Trading;
  readonly feed: MarketData;
  readonly metrics: Metrics;
  readonly settlements: Settlements;
  readonly app: FastifyInstance;
  readonly maker: DemoMarketMaker | null;
  /** The settlement connectors running with it. */
  readonly connectors: readonly VenueConnector[];
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Recovery notes and the like (default: the server's logger). */
  log?: (line: string) => void;
  /**
   * Starts the settlement connectors on the recovered exchange, before it takes any new command
   * (they reconcile with what it recovered first).
   */
  connect?: (exchange: Exchange, log: (line: string) => void) => Promise<VenueConnector[]>;
}

/** Starts the exchange and its gateway from a validated configuration. */
export async function startGateway(config: Config, options: StartOptions = {}): Promise<Gateway> {
  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    bodyLimit: 64 * 1024,
    // One log line per request would drown everything else at `info`.
    logController: new LogController({ disableRequestLogging: true }),
    // Refuse unknown fields rather than silently dropping them (fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false } },
  });
  const log = options.log ?? ((line: string) => app.log.info(line));
  const exchange = new Exchange({ dataDir: config.dataDir, risk: config.risk, log, venues: config.venues });
  exchange.onFailure((err) => app.log.fatal({ err }, 'journal failed; the exchange accepts nothing more'));
  // Before the connectors start: verdicts they send at start (trades settled before a restart)
  // must find their trades.
  const settlements = new Settlements(exchange);
  let connectors: VenueConnector[];
  try {
    connectors = (await options.connect?.(exchange, log)) ?? [];
  } catch (err) {
    await exchange.close();
    throw err;
  }
  const closeAll = async () => {
    for (const c of connectors) await c.close();
    await exchange.close();
  };
  if (config.demo.instruments) exchange.list(DEMO_LISTINGS);
  const auth = new Authenticator({ msps: config.msps });
  const feed = new MarketData(exchange.engine, config.feed);
  exchange.onEvents(feed.publish);
  let metrics: Metrics | null = null;
  const trading = new Trading(exchange, auth, {
    onLogin(account, canSee) {
      if (config.demo.fundAccounts) fundAccount(exchange, account, canSee, connectors);
    },
    onOrder() {
      metrics?.order(Date.now());
    },
    onAck(ms) {
      metrics?.ackLatency.observe(ms / 1000);
    },
  });
  metrics = new Metrics(exchange, feed, settlements, () => trading.sessions);
  const tick = setInterval(() => feed.tick(), 100);
  tick.unref();

  let maker: DemoMarketMaker | null = null;
  if (config.demo.marketMaker) {
    const publicIds = exchange.engine
      .instruments()
      .filter((id) => exchange.canSee(id.slice(id.indexOf('@') + 1), []));
    maker = new DemoMarketMaker(exchange, publicIds, connectors);
    maker.start();
  }

  const gateway = {
    config,
    exchange,
    trading,
    feed,
    metrics,
    settlements,
    app,
    maker,
    connectors,
    url: '',
    async close() {
      maker?.stop();
      clearInterval(tick);
      await app.close();
      await closeAll();
    },
  };
  installErrorHandlers(app);
  await registerOpenApi(app);
  await app.register(docsPlugin, { gateway });
  await app.register(opsPlugin, { gateway });
  await app.register(restPlugin, { gateway });
  await app.register(dashboardPlugin, { gateway });
  await app.register(wsPlugin, { gateway });
  try {
    gateway.url = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await closeAll();
    throw err;
  }
  return gateway;
}
