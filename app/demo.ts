/**
 * What `npm start` puts on an empty exchange so there is something to look at and trade
 * against: one security listed on an EVM chain and on a Fabric network (its consolidated book
 * spans both), a bond on a permissioned Fabric venue, demo balances for new accounts, and a
 * market maker that quotes a ladder and now and then trades. The market maker can be switched
 * off (`MOSAIC_MARKET_MAKER=0`).
 */
import { XorShift32 } from '../bench/index.ts';
import type { InstrumentSpec } from '../engine/index.ts';
import type { Connector } from '../connectors/index.ts';
import type { LocalExchange } from './local-exchange.ts';

/** What the demo uses of a settlement connector: its faucet and its demo accounts. */
type VenueConnector = Pick<Connector, 'venue' | 'fund' | 'demoAccounts'>;

const EQUITY = {
  tickSize: '0.01',
  lotSize: '1',
  priceDecimals: 2,
  quantityDecimals: 0,
  minQty: 1,
  maxQty: 100_000,
  maxPrice: 10_000_000,
  referencePrice: 10_000,
  bandBps: 1000,
  quote: 'USD',
  quoteUnit: '0.01',
} as const;

export const DEMO_LISTINGS: InstrumentSpec[] = [
  { id: 'ACME@evm:31337', ...EQUITY, makerFeeBps: -1, takerFeeBps: 5 },
  { id: 'ACME@fabric:bank-net', ...EQUITY, makerFeeBps: 0, takerFeeBps: 3 },
  {
    id: 'GILT@fabric:club-net',
    ...EQUITY,
    referencePrice: 9_850,
    bandBps: 300,
    makerFeeBps: 0,
    takerFeeBps: 2,
  },
  // Cross-ledger: a bond on the Fabric network, paid for in the EVM chain's USD.
  {
    id: 'BOND@fabric:bank-net',
    ...EQUITY,
    referencePrice: 9_900,
    bandBps: 500,
    makerFeeBps: 0,
    takerFeeBps: 2,
    quoteVenue: 'evm:31337',
  },
];

/** The market maker's accounts on a venue without a connector. */
const DEMO_ACCOUNTS = ['demo-maker', 'demo-taker'] as const;

/** Demo balances: this many lots of each security and cash units (cents) of each cash asset. */
const SECURITY_LOTS = 1_000_000;
const CASH_UNITS = 10_000_000_000;

/**
 * Credits a new account demo balances of every asset it may trade and makes it eligible on
 * every venue it may see. Where a connector settles the venue, its faucet funds the account on
 * the ledger instead (the engine then hears of it from the ledger, like any deposit). Does
 * nothing for an account the engine already knows.
 */
export function fundAccount(
  exchange: LocalExchange,
  account: string,
  canSee: (venue: string) => boolean,
  connectors: readonly VenueConnector[] = [],
): void {
  const engine = exchange.engine;
  if (!engine.risk || engine.balances(account).length > 0 || engine.standing(account).length > 0) return;
  fundIdentity(account, canSee, connectors);
  const venues = new Set<string>();
  const cash = new Set<string>();
  for (const id of engine.instruments()) {
    const venue = id.slice(id.indexOf('@') + 1);
    if (!canSee(venue) || connectors.some((c) => c.venue === venue)) continue;
    venues.add(venue);
    cash.add(`${engine.instrument(id)?.spec.quote ?? 'USD'}@${venue}`);
    exchange.submit({ type: 'deposit', account, asset: id, amount: SECURITY_LOTS });
  }
  for (const asset of cash) exchange.submit({ type: 'deposit', account, asset, amount: CASH_UNITS });
  for (const venue of venues) exchange.submit({ type: 'set-account', account, venue, eligible: true });
}

/**
 * Funds an identity just linked to an account on the ledgers of the venues the account may see,
 * through their connectors' faucets (each funds the identities of its ledger's kind, once); the
 * engine hears of it from the ledgers, as the account's.
 */
export function fundIdentity(
  identity: string,
  canSee: (venue: string) => boolean,
  connectors: readonly VenueConnector[],
): void {
  for (const c of connectors) if (canSee(c.venue)) c.fund?.(identity);
}

/**
 * A market maker for the demo: every `intervalMs` it requotes five levels a side around a mid
 * that wanders, and with some chance a second account takes liquidity, so trades happen.
 */
export class DemoMarketMaker {
  #exchange: LocalExchange;
  #rng = new XorShift32(2026);
  #timer: NodeJS.Timeout | null = null;
  #n = 0;
  #mids = new Map<string, number>();
  #instruments: string[];

  /**
   * Maker and taker account per venue (a connector's demo accounts, else `demo-maker` and
   * `demo-taker`), and per cross-ledger instrument (the cash venue's, each with an identity of
   * the security venue's ledger linked to it).
   */
  #accounts = new Map<string, readonly [string, string]>();

  constructor(exchange: LocalExchange, instruments: string[], connectors: readonly VenueConnector[] = []) {
    this.#exchange = exchange;
    this.#instruments = instruments;
    const all = () => true;
    for (const a of DEMO_ACCOUNTS) fundAccount(exchange, a, all, connectors);
    for (const c of connectors) {
      if (c.demoAccounts === null) continue;
      this.#accounts.set(c.venue, c.demoAccounts);
      for (const a of c.demoAccounts) c.fund?.(a);
    }
    for (const id of instruments) this.#crossLedger(id, connectors);
  }

  /**
   * A cross-ledger instrument settled by connectors on both its venues: quoted by the cash
   * venue's demo accounts, each linked (once) to an identity of the security venue's ledger named
   * after that venue's demo account (`MosaicMSP:demo-maker-x`), which its faucet funds there.
   */
  #crossLedger(id: string, connectors: readonly VenueConnector[]): void {
    const engine = this.#exchange.engine;
    const quoteVenue = engine.instrument(id)?.spec.quoteVenue;
    if (quoteVenue === undefined) return;
    const security = connectors.find((c) => c.venue === id.slice(id.indexOf('@') + 1));
    const cash = connectors.find((c) => c.venue === quoteVenue);
    const [ofSecurity, ofCash] = [security?.demoAccounts ?? null, cash?.demoAccounts ?? null];
    if (security === undefined || ofSecurity === null || ofCash === null) return;
    ofCash.forEach((account, i) => {
      const identity = `${ofSecurity[i]}-x`;
      if (engine.ownerOf(identity) !== account) this.#exchange.submit({ type: 'link', account, identity });
      security.fund?.(identity);
    });
    this.#accounts.set(id, ofCash);
  }

  start(intervalMs = 500): void {
    this.#timer ??= setInterval(() => this.step(), intervalMs);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One round of quoting (and perhaps a trade) on every instrument. */
  step(): void {
    for (const id of this.#instruments) {
      const inst = this.#exchange.engine.instrument(id);
      if (inst === undefined) continue;
      // One mid per security across its venues, so that their consolidated book stays uncrossed.
      const symbol = id.slice(0, id.indexOf('@'));
      const [maker, taker] =
        this.#accounts.get(id) ?? this.#accounts.get(id.slice(id.indexOf('@') + 1)) ?? DEMO_ACCOUNTS;
      const ref = inst.lastPrice || inst.spec.referencePrice;
      const mid = Math.max(100, (this.#mids.get(symbol) ?? ref) + this.#rng.int(-3, 3));
      this.#mids.set(symbol, mid);
      this.#exchange.submit({ type: 'cancel-all', account: maker, instrument: id });
      for (let level = 1; level <= 5; level++) {
        for (const side of ['buy', 'sell'] as const) {
          this.#exchange.submit({
            type: 'new',
            instrument: id,
            account: maker,
            clientOrderId: `mm-${Date.now()}-${++this.#n}`,
            side,
            orderType: 'limit',
            price: side === 'buy' ? mid - level * 2 : mid + level * 2,
            quantity: 10 * level + this.#rng.int(0, 9),
          });
        }
      }
      if (this.#rng.int(0, 2) === 0) {
        this.#exchange.submit({
          type: 'new',
          instrument: id,
          account: taker,
          clientOrderId: `tk-${Date.now()}-${++this.#n}`,
          side: this.#rng.int(0, 1) === 0 ? 'buy' : 'sell',
          orderType: 'market',
          quantity: this.#rng.int(1, 15),
        });
      }
    }
  }
}
