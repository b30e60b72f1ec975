/**
 * The gateway's parts wired together over an exchange: login, order entry, the market-data feed
 * and metrics, then the fastify server with one plugin per feature. `close` takes it down in
 * order (no new connections, sockets closed, then what the caller closes: connectors, exchange).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { stdoutLogger } from '../common/index.ts';
import { Authenticator } from './auth/index.ts';
import type { GatewayConfig } from './config.ts';
import type { Exchange } from './exchange.ts';
import { MarketData } from './feed/index.ts';
import { LimitSharing } from './limit-sharing.ts';
import { Limits } from './limits.ts';
import { Metrics } from './metrics.ts';
import dashboardPlugin from './plugins/dashboard.ts';
import docsPlugin, { registerOpenApi } from './plugins/docs.ts';
import candlesPlugin from './plugins/candles.ts';
import historyPlugin from './plugins/history.ts';
import opsPlugin, { installErrorHandlers } from './plugins/ops.ts';
import restPlugin from './plugins/rest.ts';
import wsPlugin from './plugins/ws.ts';
import { Settlements } from './settlements.ts';
import { Trading } from './trading.ts';
import type { VenueLedger } from './venue-access.ts';
import { Withdrawals } from './withdrawals.ts';

export interface Gateway<E extends Exchange = Exchange> {
  readonly config: GatewayConfig;
  readonly exchange: E;
  readonly trading: Trading;
  readonly feed: MarketData;
  readonly metrics: Metrics;
  readonly limits: Limits;
  /** The account limits' reports to and from the other gateways of a cluster. */
  readonly sharing: LimitSharing;
  readonly settlements: Settlements;
  readonly withdrawals: Withdrawals;
  readonly app: FastifyInstance;
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  close(): Promise<void>;
}

/** A fastify server as the gateway runs it. */
export function makeApp(config: GatewayConfig): FastifyInstance {
  return Fastify({
    // Synchronous lines (`stdoutLogger`): a process whose standard output is gone still exits.
    ...(config.logLevel === 'silent'
      ? { logger: false }
      : { loggerInstance: stdoutLogger(config.logLevel) as FastifyBaseLogger }),
    bodyLimit: 64 * 1024,
    // A request (headers and body) must arrive in full within the limit, checked every second:
    // a client sending a body a byte at a time holds a connection for that long at most.
    requestTimeout: config.limits.requestTimeoutMs,
    http: {
      headersTimeout: config.limits.requestTimeoutMs,
      requestTimeout: config.limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.limits.requestTimeoutMs),
    },
    // One log line per request would drown everything else at `info`.
    logController: new LogController({ disableRequestLogging: true }),
    // Refuse unknown fields rather than silently dropping them (fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false } },
  });
}

/**
 * The gateway over an exchange that is ready (recovered, or following its shards): login,
 * order entry, market data, metrics and the server. `close` stops the server, then runs
 * `o.close` (connectors, the exchange).
 */
export async function serveExchange<E extends Exchange>(
  config: GatewayConfig,
  exchange: E,
  o: {
    app?: FastifyInstance;
    settlements?: Settlements;
    withdrawals?: Withdrawals;
    onLogin?: (account: string, canSee: (venue: string) => boolean) => void;
    /** An identity was linked to an account (demo funding of the identity on its ledgers). */
    onLink?: (account: string, identity: string, canSee: (venue: string) => boolean) => void;
    /** The ledger each venue settles on (the login's `access`). */
    ledgerOf?: (venue: string) => VenueLedger | undefined;
    close: () => Promise<void>;
  },
): Promise<Gateway<E>> {
  const app = o.app ?? makeApp(config);
  exchange.onFailure((err) => app.log.fatal({ err }, 'the exchange failed; it accepts nothing more'));
  const settlements = o.settlements ?? new Settlements(exchange);
  const withdrawals = o.withdrawals ?? new Withdrawals(exchange);
  const auth = new Authenticator({ msps: config.msps, perAddress: config.limits.challengeBurst });
  const limits = new Limits(config.limits);
  const feed = new MarketData(
    exchange.market,
    { ...config.feed, hardBytes: config.limits.maxUnsentBytes },
    exchange.history,
  );
  exchange.onPublished(feed.publish);
  let metrics: Metrics | null = null;
  const trading = new Trading(exchange, auth, withdrawals, limits, {
    ...(o.onLogin === undefined ? {} : { onLogin: o.onLogin }),
    ...(o.onLink === undefined ? {} : { onLink: o.onLink }),
    ...(o.ledgerOf === undefined ? {} : { ledgerOf: o.ledgerOf }),
    onOrder() {
      metrics?.order(Date.now());
    },
    onAck(ms) {
      metrics?.ackLatency.observe(ms / 1000);
    },
  });
  const sharing = new LimitSharing(limits, () => trading.sessionsByAccount());
  metrics = new Metrics(exchange, feed, settlements, withdrawals, limits, sharing, () => trading.sessions);
  const tick = setInterval(() => feed.tick(), 100);
  tick.unref();
  const gateway: Gateway<E> = {
    config,
    exchange,
    trading,
    feed,
    metrics,
    limits,
    sharing,
    settlements,
    withdrawals,
    app,
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
  await app.register(candlesPlugin, { gateway });
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
