/**
 * Reads of a shard's engine over NATS request/reply (`<name>.read.<shard>`): what a gateway
 * needs of an account's state and holds no engine to know. The shard answers from its engine
 * as of the last command message it executed, and names that message (`seq`): the account's events
 * after it reach the gateway on the account's subject (keyed.ts), the ones up to it are in
 * the answer. One instance of a shard answers each request (a queue group).
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type {
  BalanceView,
  Engine,
  InstrumentSpec,
  OrderView,
  PendingWithdrawalView,
} from '../engine/index.ts';
import type { ShardFollower } from './follower.ts';
import { askShard } from './nats.ts';
import type { Topology } from './topology.ts';

/** An account's state on one shard, as of its command message `seq`. */
export interface AccountState {
  shard: number;
  seq: number;
  /** Its live orders (resting, and stops waiting). */
  orders: OrderView[];
  /** Its standing on the shard's venues it has one on. */
  standing: ReturnType<Engine['standing']>;
  /** Its withdrawals waiting for their ledger. */
  withdrawals: PendingWithdrawalView[];
}

/** An instrument's listing as the shard holds it: terms, status, last price. */
export interface InstrumentListing {
  spec: Readonly<InstrumentSpec>;
  status: string;
  lastPrice: number;
}

/** An instrument as the shard holds it, with its book ([price, qty, count] best first). */
export interface InstrumentState extends InstrumentListing {
  bids: Array<[number, number, number]>;
  asks: Array<[number, number, number]>;
}

/**
 * An instrument of a shard (null: not listed there) as of its command message `seq`, and the
 * shard's assets: its market data after `seq` goes on the instrument's subject (keyed.ts).
 */
export interface InstrumentRead {
  shard: number;
  seq: number;
  instrument: InstrumentState | null;
  assets: Array<[string, string]>;
}

/** What a shard holds that a gateway shows, as of its command message `seq`: its start, before its event stream from `seq + 1`. */
export interface ShardOverview {
  shard: number;
  seq: number;
  instruments: InstrumentListing[];
  /** Assets balances are kept in, with their units. */
  assets: Array<[asset: string, unit: string]>;
  /** Trades waiting for their ledger's verdict. */
  pendingSettlements: Array<{ tradeId: number; instrument: string }>;
  pendingWithdrawals: PendingWithdrawalView[];
  liveOrders: number;
}

type ReadRequest =
  | { op: 'account' | 'orders' | 'balances'; account: string }
  | { op: 'overview' }
  | { op: 'instrument'; id: string };
type ReadAnswer =
  | AccountState
  | { orders: OrderView[] }
  | { balances: BalanceView[] }
  | ShardOverview
  | InstrumentRead
  | { error: string };

/** How long a gateway waits for a shard's answer (a shard restarting takes a few seconds). */
const REQUEST_MS = 10_000;

/** A shard's side: answers reads from its engine. */
export function serveReads(
  nc: NatsConnection,
  topology: Topology,
  shard: number,
  follower: Pick<ShardFollower, 'engine' | 'seq'>,
): Subscription {
  return nc.subscribe(topology.readSubject(shard), {
    queue: 'read',
    callback: (err, msg) => {
      if (err !== null) return;
      let answer: ReadAnswer;
      try {
        answer = read(msg.json<ReadRequest>(), shard, follower);
      } catch (e) {
        answer = { error: (e as Error).message };
      }
      msg.respond(JSON.stringify(answer));
    },
  });
}

function instrumentState(engine: Engine, id: string): InstrumentState | null {
  const inst = engine.instrument(id);
  if (inst === undefined) return null;
  const { bids, asks } = engine.depth(id, Number.MAX_SAFE_INTEGER);
  return { spec: inst.spec, status: inst.status, lastPrice: inst.lastPrice, bids, asks };
}

function read(r: ReadRequest, shard: number, follower: Pick<ShardFollower, 'engine' | 'seq'>): ReadAnswer {
  const { engine, seq } = follower;
  if (r.op === 'overview') {
    return {
      shard,
      seq,
      instruments: engine.instruments().map((id) => engine.instrument(id)!),
      assets: engine.assets(),
      pendingSettlements: engine
        .pendingSettlements()
        .map((t) => ({ tradeId: t.tradeId, instrument: t.instrument })),
      pendingWithdrawals: engine.pendingWithdrawals(),
      liveOrders: engine.liveOrders,
    };
  }
  if (r.op === 'instrument') {
    if (typeof r.id !== 'string') throw new Error('an instrument read names an instrument');
    return { shard, seq, instrument: instrumentState(engine, r.id), assets: engine.assets() };
  }
  if (typeof r.account !== 'string') throw new Error('a read names an account');
  switch (r.op) {
    case 'account':
      return {
        shard,
        seq,
        orders: engine.openOrders(r.account),
        standing: engine.standing(r.account),
        withdrawals: engine.pendingWithdrawals().filter((w) => w.account === r.account),
      };
    case 'orders':
      return { orders: engine.openOrders(r.account) };
    case 'balances':
      return { balances: engine.balances(r.account) };
    default:
      throw new Error(`unknown read ${JSON.stringify((r as { op: unknown }).op)}`);
  }
}

/** A gateway's side: asks a shard. */
export class ShardReads {
  #nc: NatsConnection;
  #topology: Topology;

  constructor(nc: NatsConnection, topology: Topology) {
    this.#nc = nc;
    this.#topology = topology;
  }

  /** The account's state on `shard`; UNAVAILABLE when the shard does not answer in time. */
  account(shard: number, account: string): Promise<AccountState> {
    return this.#ask(shard, { op: 'account', account }) as Promise<AccountState>;
  }

  /** The account's live orders on every shard. */
  async orders(account: string): Promise<OrderView[]> {
    const answers = await this.#all({ op: 'orders', account });
    return answers.flatMap((a) => (a as { orders: OrderView[] }).orders);
  }

  /** The account's balances on every shard. */
  async balances(account: string): Promise<BalanceView[]> {
    const answers = await this.#all({ op: 'balances', account });
    return answers.flatMap((a) => (a as { balances: BalanceView[] }).balances);
  }

  /** The account's standing on every shard's venues. */
  async standing(account: string): Promise<AccountState['standing']> {
    const answers = await this.#all({ op: 'account', account });
    return answers.flatMap((a) => (a as AccountState).standing);
  }

  /** What shard `shard` holds that a gateway shows, as of a command. */
  overview(shard: number): Promise<ShardOverview> {
    return this.#ask(shard, { op: 'overview' }) as Promise<ShardOverview>;
  }

  /** An instrument of shard `shard` (null: not listed there) with its book, and the shard's assets. */
  instrument(shard: number, id: string): Promise<InstrumentRead> {
    return this.#ask(shard, { op: 'instrument', id }) as Promise<InstrumentRead>;
  }

  #all(request: ReadRequest) {
    return Promise.all(
      Array.from({ length: this.#topology.shards }, (_, shard) => this.#ask(shard, request)),
    );
  }

  #ask(shard: number, request: ReadRequest) {
    return askShard<ReadAnswer>(this.#nc, this.#topology.readSubject(shard), shard, request, REQUEST_MS);
  }
}
