/**
 * `mosaic start`: the whole exchange in one process. The durable engine is recovered first, then
 * the settlement connectors start on it (they reconcile with what it recovered before it takes a
 * new command), then the demo listings, the gateway and the demo market maker. `close` takes it
 * down in the opposite order.
 */
import type { ChildLogger } from '../common/index.ts';
import type { Connector } from '../connectors/index.ts';
import { type Gateway, makeApp, serveExchange, Settlements, Withdrawals } from '../gateway/index.ts';
import { type Config, listings } from './config.ts';
import { ledgerOf } from './connector-config.ts';
import { DemoMarketMaker, fundAccount, fundIdentity } from './demo.ts';
import { DEMO_MSP, demoInvestorsMsp } from './demo-investors.ts';
import { LocalExchange } from './local-exchange.ts';

/** The exchange running in this process: its gateway, with the connectors and demo beside it. */
export interface Embedded extends Gateway<LocalExchange> {
  readonly config: Config;
  /** The settlement connectors running with it. */
  readonly connectors: readonly Connector[];
  readonly maker: DemoMarketMaker | null;
}

export interface StartOptions {
  /** Recovery notes, the connectors' logs and the like (default: the server's pino logger, JSON on stdout). */
  log?: ChildLogger;
  /**
   * Starts the settlement connectors on the recovered exchange, before it takes any new command
   * (they reconcile with what it recovered first).
   */
  connect?: (exchange: LocalExchange, log: ChildLogger) => Promise<Connector[]>;
  /** The sequencer's clock, ms since the epoch (default `Date.now`): tests choose the times of commands with it. */
  now?: () => number;
}

/** Starts the exchange and its gateway from a validated configuration. */
export async function startExchange(config: Config, options: StartOptions = {}): Promise<Embedded> {
  // With the demo settings, the demo investors' Fabric identities may log in (`mosaic demo-identity`).
  if (config.demo.fundAccounts && !config.msps.some((m) => m.mspId === DEMO_MSP)) {
    config = { ...config, msps: [...config.msps, demoInvestorsMsp(config.dataDir)] };
  }
  const app = makeApp(config);
  const log: ChildLogger = options.log ?? app.log;
  const engineLog = log.child({ part: 'engine' });
  const exchange = new LocalExchange({
    dataDir: config.dataDir,
    risk: config.risk,
    log: engineLog,
    venues: config.venues,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  // Before the connectors start: verdicts they send at start (trades settled and withdrawals
  // released before a restart) must find their trades and withdrawals.
  const settlements = new Settlements(exchange);
  const withdrawals = new Withdrawals(exchange);
  let connectors: Connector[];
  try {
    connectors = (await options.connect?.(exchange, log.child({ part: 'settlement' }))) ?? [];
  } catch (err) {
    await exchange.close();
    throw err;
  }
  // A daemon stopped on a permanent failure (it logged why) makes /health answer 503.
  exchange.reportHealth(() => {
    const stopped = connectors.filter((c) => c.daemon.failure !== null);
    if (stopped.length === 0) return {};
    return {
      failed: stopped.map((c) => `settlement of ${c.venue} stopped: ${c.daemon.failure!.message}`).join('; '),
    };
  });
  exchange.list(listings(config));
  let maker: DemoMarketMaker | null = null;
  const gateway = await serveExchange(config, exchange, {
    app,
    settlements,
    withdrawals,
    ledgerOf: ledgerOf(config.connectors),
    onLogin(account, canSee) {
      if (config.demo.fundAccounts) fundAccount(exchange, account, canSee, connectors);
    },
    onLink(account, identity, canSee) {
      if (!config.demo.fundAccounts) return;
      // Not where the account already stands: it settles there as another identity.
      const held = new Set(exchange.engine.standing(account).map((s) => s.venue));
      fundIdentity(identity, (v) => canSee(v) && !held.has(v), connectors);
    },
    async close() {
      maker?.stop();
      for (const c of connectors) await c.close();
      await exchange.close();
    },
  });
  if (config.demo.marketMaker) {
    const publicIds = exchange.engine
      .instruments()
      .filter((id) => exchange.canSee(id.slice(id.indexOf('@') + 1), []));
    maker = new DemoMarketMaker(exchange, publicIds, connectors);
    maker.start();
  }
  return { ...gateway, config, connectors, maker };
}
