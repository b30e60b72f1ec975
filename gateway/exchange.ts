/**
 * The exchange behind the gateway: what it reads of the exchange's state, where it sends
 * commands, the events of the accounts it follows (execution reports) and each durable command's
 * events for market data, settlements and metrics. The gateway never reads book state except
 * through here, and never sends the engine a command that did not pass its own checks first.
 * app/ makes the two there are: the embedded one (the durable engine in this process, its
 * journal, the sequencer's clock) and a cluster's, which holds no engine: it sends commands over
 * NATS, receives its accounts' events, asks the shards for reads and keeps what it shows from
 * their event streams.
 */
import type {
  BalanceView,
  InstrumentSpec,
  OrderView,
  PendingSettlementView,
  PendingWithdrawalView,
  Unstamped,
} from '../engine/index.ts';
import type { HistoryReader } from '../history/index.ts';
import type { PublishedEvent } from '../journal/index.ts';
import type { GatewayConfig } from './config.ts';
import type { MarketSource } from './feed/index.ts';
import { InstrumentCodec } from './instrument-codec.ts';

/** Names a command sent, in the events it produced: its sequence (embedded) or its command id (cluster). */
export type CommandRef = number | string;

/** A command sent: its reference, and its sequence once the engine's log holds it. */
export interface Submitted {
  ref: CommandRef;
  /** The sequence now, or once the log has confirmed it (rejects when it could not confirm it). */
  seq: number | Promise<number>;
}

/** Receives every durable command's events in order, with the command's reference. */
export type ExchangeSubscriber = (seq: number, events: readonly PublishedEvent[], ref: CommandRef) => void;

/**
 * What the gateway reads of the exchange's state as it is now: the embedded engine itself, or
 * what a cluster's gateway keeps from its shards' event streams.
 */
export interface ExchangeView {
  instruments(): string[];
  /** An instrument's listing, status and last price (ticks; 0 before any trade), or undefined. */
  instrument(id: string): { spec: Readonly<InstrumentSpec>; status: string; lastPrice: number } | undefined;
  /** An asset's unit (pre-trade risk), or undefined when no balance is kept in it. */
  assetUnit(asset: string): string | undefined;
  /** Withdrawals waiting for their ledger. */
  pendingWithdrawals(): PendingWithdrawalView[];
  /** Orders live in the books (a cluster's gateway: as its shards last said). */
  readonly liveOrders: number;
  /** Commands executed (over every shard of a cluster) that the view reflects. */
  readonly commandSeq: number;
}

/** An account's state when the gateway starts following it (over every shard of a cluster). */
export interface AccountSeed {
  /** Its live orders: resting, and stops waiting. */
  orders: OrderView[];
  /** Its standing on the venues it has one on. */
  standing: Array<{ venue: string; eligible: boolean; frozen: boolean }>;
  /** Its withdrawals waiting for their ledger. */
  withdrawals: PendingWithdrawalView[];
}

/**
 * Receives the events of one durable command that concern one followed account (a trade both
 * of its accounts'), in order, each command's once per account, after the account's seed.
 */
export type AccountSubscriber = (
  seq: number,
  events: readonly PublishedEvent[],
  ref: CommandRef,
  account: string,
) => void;

/** Who logs in to which account (`engine/identities.ts`). */
export interface IdentityDirectory {
  /** The account an identity (named as accounts are) logs in to: the one it is linked to, else its own. */
  ownerOf(identity: string): string;
  /** The identities linked to an account, in link order. */
  identities(account: string): string[];
}

export interface Exchange {
  /** What the gateway reads of the exchange's state. */
  readonly view: ExchangeView;
  readonly venues: GatewayConfig['venues'];
  /** Why the exchange stopped accepting commands, or null while it is healthy. */
  readonly error: Error | null;
  /** Told when the exchange fails and accepts nothing more. */
  onFailure(handler: (err: Error) => void): void;
  /**
   * Sends a command; throws, sending nothing, a `GatewayError` for one it cannot take. `venue`:
   * the venue of the order a cancel or replace by client order id names (a cluster routes by it).
   */
  send(command: Unstamped, venue?: string): Submitted;
  /**
   * Receives every durable command's events, in order: valid during the call only (views of
   * pooled records on the embedded engine); whoever keeps one keeps `keepEvent(e)`. A cluster's
   * gateway passes on the kinds market data, settlements and withdrawals need only (orders'
   * events reach it for its accounts, through `onAccountEvents`).
   */
  onEvents(subscriber: ExchangeSubscriber): void;
  /**
   * Starts following an account (one not followed): resolves with its state, the events after
   * which go to the `onAccountEvents` subscribers until `unfollow`. A cluster's gateway receives
   * the events of the accounts it follows only.
   */
  follow(account: string): Promise<AccountSeed>;
  unfollow(account: string): void;
  onAccountEvents(subscriber: AccountSubscriber): void;
  /**
   * Where market data's books come from: the embedded engine (every instrument's, at once), or a
   * cluster's gateway's shards (an instrument's on its first use, `followBook`).
   */
  readonly market: MarketSource;
  /**
   * Receives the events as published for market data, in order, from the engine's state now on
   * (the embedded engine's events: every instrument's; a cluster's gateway: the instruments'
   * it follows, and listings).
   */
  onPublished(subscriber: (seq: number, events: readonly PublishedEvent[]) => void): void;
  /** The key REST bearer tokens are signed with (a cluster's gateways share one, so a token is good at each). */
  readonly tokenKey: Uint8Array;
  /** Whether the engine checks orders before they match (pre-trade risk). */
  readonly risk: boolean;
  /** An account's live orders (resting, and stops waiting), as the engine holds them now (a cluster: its shards). */
  openOrders(account: string): Promise<OrderView[]>;
  /** An account's balances, as the engine holds them now (a cluster: its shards). */
  balances(account: string): Promise<BalanceView[]>;
  /** An account's standing on each venue it has one on, as the engine holds it now (a cluster: its shards). */
  standing(account: string): Promise<AccountSeed['standing']>;
  /**
   * Linked identities as the engine holds them now: the account an identity logs in to, and the
   * identities linked to an account. Null where links are not taken (a cluster, so far).
   */
  readonly identities: IdentityDirectory | null;
  /**
   * Whether the account used this client order id, when the exchange knows it at once: the
   * embedded engine knows every id it remembers; a cluster's gateway knows none (the shard finds
   * a used one and refuses the order).
   */
  clientOrderIdUsed(account: string, clientOrderId: string): boolean;
  /**
   * A live order of the account named by id or client order id, when the exchange knows it at
   * once: the embedded engine (ahead of the events the gateway has seen); a cluster's gateway
   * knows only the orders of its accounts' events (Trading tracks them).
   */
  liveOrder(
    account: string,
    ref: { orderId?: number; clientOrderId?: string },
  ): { instrument: string } | undefined;
  /** Decimal conversion for an instrument, or undefined if it is not listed. */
  codec(instrument: string): InstrumentCodec | undefined;
  /** Whether an identity's member names (MSP id or address) give it sight of a venue. */
  canSee(venue: string, memberNames: readonly string[]): boolean;
  /** Trades waiting for their ledger's verdict. */
  pendingSettlements(): ReadonlyArray<Pick<PendingSettlementView, 'tradeId' | 'instrument'>>;
  /** Every account's fills and finished orders, kept across restarts. */
  readonly history: HistoryReader;
  /** How it stands, for `/health` (durability, shards). */
  health(): Record<string, unknown>;
  close(): Promise<void>;
}

/** Decimal conversion per listed instrument, made on first use. */
export class Codecs {
  #codecs = new Map<string, InstrumentCodec>();
  #engine: ExchangeView;

  constructor(engine: ExchangeView) {
    this.#engine = engine;
  }

  get(instrument: string): InstrumentCodec | undefined {
    let codec = this.#codecs.get(instrument);
    if (codec === undefined) {
      const inst = this.#engine.instrument(instrument);
      if (inst === undefined) return undefined;
      codec = new InstrumentCodec(inst.spec);
      this.#codecs.set(instrument, codec);
    }
    return codec;
  }
}

/** Whether member names see a venue: anyone a public one, members a permissioned one. */
export function canSeeVenue(
  venues: GatewayConfig['venues'],
  venue: string,
  memberNames: readonly string[],
): boolean {
  const v = venues[venue];
  if (v === undefined || !v.permissioned) return true;
  return memberNames.some((name) => v.members.some((m) => m.toLowerCase() === name.toLowerCase()));
}
