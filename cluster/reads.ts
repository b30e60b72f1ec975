/**
 * Reads of a shard's engine over NATS request/reply (`<name>.read.<shard>`): what a gateway
 * needs of an account's state and holds no engine to know. The shard answers from its engine
 * as of the last command it executed, and names that command (`seq`): the account's events
 * after it reach the gateway on the account's subject (accounts.ts), the ones up to it are in
 * the answer. One instance of a shard answers each request (a queue group).
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Engine, OrderView, PendingWithdrawalView } from '../engine/index.ts';
import { askShard } from './nats.ts';
import type { Topology } from './topology.ts';

/** An account's state on one shard, as of its command `seq`. */
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

type ReadRequest = { op: 'account'; account: string };
type ReadAnswer = AccountState | { error: string };

/** How long a gateway waits for a shard's answer (a shard restarting takes a few seconds). */
const REQUEST_MS = 10_000;

/** A shard's side: answers reads from its engine. */
export function serveReads(
  nc: NatsConnection,
  topology: Topology,
  shard: number,
  engine: Engine,
): Subscription {
  return nc.subscribe(topology.readSubject(shard), {
    queue: 'read',
    callback: (err, msg) => {
      if (err !== null) return;
      let answer: ReadAnswer;
      try {
        const r = msg.json<ReadRequest>();
        if (r.op !== 'account' || typeof r.account !== 'string')
          throw new Error(`unknown read ${JSON.stringify(r.op)}`);
        answer = {
          shard,
          seq: engine.commandSeq,
          orders: engine.openOrders(r.account),
          standing: engine.standing(r.account),
          withdrawals: engine.pendingWithdrawals().filter((w) => w.account === r.account),
        };
      } catch (e) {
        answer = { error: (e as Error).message };
      }
      msg.respond(JSON.stringify(answer));
    },
  });
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
    const request: ReadRequest = { op: 'account', account };
    return askShard<ReadAnswer>(this.#nc, this.#topology.readSubject(shard), shard, request, REQUEST_MS);
  }
}
