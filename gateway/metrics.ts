/**
 * Prometheus metrics of the exchange, on their own registry (several exchanges can share a
 * process in tests). Counters are bumped where things happen; gauges that mirror state are read
 * at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Exchange } from './exchange.ts';
import type { MarketData } from './feed/index.ts';
import type { LimitSharing } from './limit-sharing.ts';
import type { Limits } from './limits.ts';
import type { Settlements } from './settlements.ts';
import type { Withdrawals } from './withdrawals.ts';

export class Metrics {
  readonly registry = new Registry();
  readonly orders: Counter;
  readonly messages: Counter;
  readonly errors: Counter<'code'>;
  readonly rateLimited: Counter;
  readonly sessions: Gauge;
  readonly ackLatency: Histogram;
  #second = 0;
  #current = 0;
  #previous = 0;

  constructor(
    exchange: Exchange,
    feed: MarketData,
    settlements: Settlements,
    withdrawals: Withdrawals,
    limits: Limits,
    sharing: LimitSharing,
    loggedIn: () => number,
  ) {
    const registers = [this.registry];
    this.orders = new Counter({ name: 'mosaic_orders_total', help: 'New orders submitted', registers });
    this.messages = new Counter({
      name: 'mosaic_ws_messages_total',
      help: 'WebSocket frames received',
      registers,
    });
    this.errors = new Counter({
      name: 'mosaic_ws_errors_total',
      help: 'Requests answered with an error, by code',
      labelNames: ['code'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'mosaic_rate_limited_total',
      help: 'WebSocket messages answered RATE_LIMITED (by any limit)',
      registers,
    });
    const byLabel = (name: string, help: string, label: string, read: () => Record<string, number>) =>
      new Counter({
        name,
        help,
        labelNames: [label],
        registers,
        collect(this: Counter<string>) {
          this.reset();
          for (const [key, n] of Object.entries(read())) this.inc({ [label]: key }, n);
        },
      });
    byLabel(
      'mosaic_limit_refusals_total',
      'Requests and connections refused by a limit (docs/ws-protocol.md#limits), by limit',
      'limit',
      () => limits.refused,
    );
    byLabel(
      'mosaic_ws_closed_total',
      'WebSocket connections the server closed, by reason',
      'reason',
      () => limits.closed,
    );
    this.sessions = new Gauge({
      name: 'mosaic_ws_connections',
      help: 'Open WebSocket connections',
      registers,
    });
    this.ackLatency = new Histogram({
      name: 'mosaic_order_ack_seconds',
      help: 'From receiving a request to sending its first engine report (journaled and executed)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    /** A counter whose total is kept elsewhere, read at scrape time. */
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    gauge('mosaic_sessions_logged_in', 'Logged-in sessions', loggedIn);
    gauge('mosaic_orders_per_second', 'New orders over the last second', () => this.ordersPerSecond());
    gauge('mosaic_engine_command_seq', 'Last command sequence', () => exchange.view.commandSeq);
    gauge('mosaic_engine_live_orders', 'Live orders in all books', () => exchange.view.liveOrders);
    gauge(
      'mosaic_ws_unsent_bytes',
      'Bytes written to WebSocket connections and not yet taken by their clients, over all of them',
      () => limits.unsentBytes,
    );
    gauge(
      'mosaic_ws_unsent_bytes_peak',
      'The most mosaic_ws_unsent_bytes has been since start',
      () => limits.unsentPeak,
    );
    gauge(
      'mosaic_limit_peer_sessions',
      'Sessions logged in at the other gateways of a cluster, as they last reported (for sessionsPerAccount)',
      () => sharing.peerSessions,
    );
    counter(
      'mosaic_limit_peer_messages_total',
      "Messages the other gateways of a cluster reported, charged to their accounts' limits",
      () => sharing.peerMessages,
    );
    gauge('mosaic_feed_channels', 'Market-data channels', () => feed.stats().channels);
    gauge('mosaic_feed_subscriptions', 'Market-data subscriptions', () => feed.stats().subscriptions);
    const stats = () => feed.stats();
    counter(
      'mosaic_feed_frames_sent_total',
      'Market-data frames sent (all subscribers)',
      () => stats().framesSent,
    );
    gauge(
      'mosaic_feed_conflated',
      'Subscriptions on conflated updates now (slow consumers)',
      () => stats().conflated,
    );
    counter(
      'mosaic_feed_conflations_total',
      'Subscriptions switched to conflated updates',
      () => stats().conflations,
    );
    counter(
      'mosaic_feed_withheld_total',
      'Market-data frames not sent to conflated subscriptions',
      () => stats().withheld,
    );
    counter('mosaic_feed_dropped_total', 'Connections closed as slow consumers', () => stats().dropped);
    gauge(
      'mosaic_feed_retained_bytes',
      'Bytes of market data retained for resubscription',
      () => feed.stats().retainedBytes,
    );
    this.#settlement(settlements, withdrawals, registers);
  }

  /** Settlement and withdrawals per venue, read from the verdicts at scrape time: counts, gas and fees. */
  #settlement(settlements: Settlements, withdrawals: Withdrawals, registers: Registry[]): void {
    const perVenueOf =
      <P extends { venue: string }>(rows: () => P[]) =>
      (name: string, help: string, read: (p: P) => number, type: typeof Gauge | typeof Counter = Counter) =>
        new type({
          name,
          help,
          labelNames: ['venue'],
          registers,
          // Both kinds can be rebuilt from the totals: reset, then add each venue's.
          collect(this: Gauge<'venue'> | Counter<'venue'>) {
            this.reset();
            for (const p of rows()) this.inc({ venue: p.venue }, read(p));
          },
        });
    const perVenue = perVenueOf(() => settlements.pipelines());
    perVenue('mosaic_settlement_pending', 'Trades waiting for their ledger', (p) => p.pending, Gauge);
    perVenue('mosaic_settlement_settled_total', 'Trades settled on their ledger', (p) => p.settled);
    perVenue('mosaic_settlement_failed_total', 'Trades their ledger refused', (p) => p.failed);
    perVenue(
      'mosaic_settlement_gas_total',
      "Gas used settling trades (their shares of the batches; a cross-ledger trade's on each leg's ledger), on ledgers that charge gas",
      (p) => p.gas,
    );
    perVenue(
      'mosaic_settlement_fee_total',
      "Fees paid settling trades (a cross-ledger trade's on each leg's ledger), in the ledger's native base units (wei)",
      (p) => Number(p.gasFee),
    );
    perVenue(
      'mosaic_settlement_costed_total',
      'Settled or failed trades, and steps of cross-ledger legs, whose cost the ledger reported (divide gas or fee by it for a per-verdict figure)',
      (p) => p.costed,
    );
    new Counter({
      name: 'mosaic_settlement_legs_total',
      help: "Steps of cross-ledger trades' legs their ledgers reported (locked, claimed, refunded, refused), by the leg's venue",
      labelNames: ['venue', 'state'],
      registers,
      collect(this: Counter<'venue' | 'state'>) {
        this.reset();
        for (const l of settlements.legSteps()) this.inc({ venue: l.venue, state: l.state }, l.steps);
      },
    });
    new Gauge({
      name: 'mosaic_settlement_fees_collected',
      help: "The exchange's fees of the trades settled since the gateway started, paid to the venue's fee account, in the quote currency",
      labelNames: ['venue', 'asset'],
      registers,
      collect(this: Gauge<'venue' | 'asset'>) {
        this.reset();
        for (const p of settlements.pipelines())
          for (const f of p.fees) this.set({ venue: p.venue, asset: f.asset }, Number(f.collected));
      },
    });
    const perVenueW = perVenueOf(() => withdrawals.pipelines());
    perVenueW('mosaic_withdrawal_pending', 'Withdrawals waiting for their release', (p) => p.pending, Gauge);
    perVenueW('mosaic_withdrawal_released_total', 'Withdrawals released on their ledger', (p) => p.released);
    perVenueW('mosaic_withdrawal_refused_total', 'Withdrawals their ledger refused', (p) => p.refused);
    perVenueW(
      'mosaic_withdrawal_gas_total',
      'Gas used releasing withdrawals (their shares of the transactions), on ledgers that charge gas',
      (p) => p.gas,
    );
    perVenueW(
      'mosaic_withdrawal_fee_total',
      "Fees paid releasing withdrawals, in the ledger's native base units (wei)",
      (p) => Number(p.fee),
    );
    perVenueW(
      'mosaic_withdrawal_costed_total',
      'Withdrawals whose release cost the ledger reported (divide gas or fee by it for a per-withdrawal figure)',
      (p) => p.costed,
    );
  }

  /** Counts a new order. */
  order(now: number): void {
    this.orders.inc();
    this.#roll(now);
    this.#current++;
  }

  /** New orders in the last whole second. */
  ordersPerSecond(now = Date.now()): number {
    this.#roll(now);
    return this.#previous;
  }

  #roll(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.#second) return;
    this.#previous = second === this.#second + 1 ? this.#current : 0;
    this.#current = 0;
    this.#second = second;
  }
}
