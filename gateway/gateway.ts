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
import { type Exchange, LocalExchange } from './exchange.ts';
import { MarketData } from './feed/index.ts';
import { Metrics } from './metrics.ts';
import dashboardPlugin from './plugins/dashboard.ts';
import docsPlugin, { registerOpenApi } from './plugins/docs.ts';
import historyPlugin from './plugins/history.ts';
import opsPlugin, { installErrorHandlers } from './plugins/ops.ts';
import restPlugin from './plugins/rest.ts';
import wsPlugin from './plugins/ws.ts';
import { Settlements, type VenueConnector } from './settlements.ts';
import { Trading } from './trading.ts';
import { Withdrawals } from './withdrawals.ts';

export interface Gateway<E extends Exchange = LocalExchange> {
  readonly config: Config;
  readonly exchange: E;
  readonly trading: Trading;
  readonly feed: MarketData;
  readonly metrics: Metrics;
  readonly settlements: Settlements;
  readonly withdrawals: Withdrawals;
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
  connect?: (exchange: LocalExchange, log: (line: string) => void) => Promise<VenueConnector[]>;
}

/** Starts the exchange and its gateway from a validated configuration. */
export async function startGateway(config: Config, options: StartOptions = {}): Promise<Gateway> {
  const app = makeApp(config);
  const log = options.log ?? ((line: string) => app.log.info(line));
  const exchange = new LocalExchange({
    dataDir: config.dataDir,
    risk: config.risk,
    log,
    venues: config.venues,
  });
  // Before the connectors start: verdicts they send at start (trades settled and withdrawals
  // released before a restart) must find their trades and withdrawals.
  const settlements = new Settlements(exchange);
  const withdrawals = new Withdrawals(exchange);
  let connectors: VenueConnector[];
  try {
    connectors = (await options.connect?.(exchange, log)) ?? [];
  } catch (err) {
    await exchange.close();
    throw err;
  }
  if (config.demo.instruments) exchange.list(DEMO_LISTINGS);
  const gateway = await serveExchange(config, exchange, {
    app,
    settlements,
    withdrawals,
    connectors,
    onLogin(account, canSee) {
      if (config.demo.fundAccounts) fundAccount(exchange, account, canSee, connectors);
    },
    async close() {
      for (const c of connectors) await c.close();
      await exchange.close();
    },
  });
  if (config.demo.marketMaker) {
    const publicIds = exchange.engine
      .instruments()
      .filter((id) => exchange.canSee(id.slice(id.indexOf('@') + 1), []));
    const maker = new DemoMarketMaker(exchange, publicIds, connectors);
    maker.start();
    const close = gateway.close;
    return {
      ...gateway,
      maker,
      async close() {
        maker.stop();
        await close();
      },
    };
  }
  return gateway;
}

/** A fastify server as the gateway runs it. */
function makeApp(config: Config): FastifyInstance {
  return Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    bodyLimit: 64 * 1024,
    // One log line per request would drown everything else at `info`.
    logController: new LogController({ disableRequestLogging: true }),
    // Refuse unknown fields rather than silently dropping them (fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false } },
  });
}

/**
 * The gateway over an exchange that is ready (recovered, or following its shards): login,
 * order entry, market data, metrics and the server. `close` stops the server, then runs
 * `o.close` (connectors, the exchange). Also how a cluster's gateway process serves.
 */
export async function serveExchange<E extends Exchange>(
  config: Config,
  exchange: E,
  o: {
    app?: FastifyInstance;
    settlements?: Settlements;
    withdrawals?: Withdrawals;
    connectors?: VenueConnector[];
    onLogin?: (account: string, canSee: (venue: string) => boolean) => void;
    close: () => Promise<void>;
  },
): Promise<Gateway<E>> {
  const app = o.app ?? makeApp(config);
  exchange.onFailure((err) => app.log.fatal({ err }, 'the exchange failed; it accepts nothing more'));
  const settlements = o.settlements ?? new Settlements(exchange);
  const withdrawals = o.withdrawals ?? new Withdrawals(exchange);
  const auth = new Authenticator({ msps: config.msps });
  const feed = new MarketData(exchange.engine, config.feed);
  exchange.onPublished(feed.publish);
  let metrics: Metrics | null = null;
  const trading = new Trading(exchange, auth, withdrawals, {
    ...(o.onLogin === undefined ? {} : { onLogin: o.onLogin }),
    onOrder() {
      metrics?.order(Date.now());
    },
    onAck(ms) {
      metrics?.ackLatency.observe(ms / 1000);
    },
  });
  metrics = new Metrics(exchange, feed, settlements, withdrawals, () => trading.sessions);
  const tick = setInterval(() => feed.tick(), 100);
  tick.unref();
  const gateway: Gateway<E> = {
    config,
    exchange,
    trading,
    feed,
    metrics,
    settlements,
    withdrawals,
    app,
    maker: null,
    connectors: o.connectors ?? [],
    url: '',
    async close() {
      clearInterval(tick);
      await app.close();
      await o.close();
    },
  };
  installErrorHandlers(app);
  await registerOpenApi(app);
  await app.register(docsPlugin, { gateway });
  await app.register(opsPlugin, { gateway });
  await app.register(restPlugin, { gateway });
  await app.register(historyPlugin, { gateway });
  await app.register(dashboardPlugin, { gateway });
  await app.register(wsPlugin, { gateway });
  try {
    (gateway as { url: string }).url = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    clearInterval(tick);
    await o.close();
    throw err;
  }
  return gateway;
}
