/**
 * A settlement daemon's view of the engine shard owning its venue, across NATS (a connectors
 * `EnginePort`):
 * - what it reads of the engine (listings, trades pending) from a follower of the shard's
 *   command stream;
 * - the venue's trades and granted withdrawals from the shard's event stream through a durable
 *   consumer that every daemon of the venue shares: each message goes to one of them, and one
 *   that is not acked is delivered again (to any of them) once its ack wait runs out. A message
 *   is acked once no trade or withdrawal in it is pending in the engine any more, so a daemon
 *   that dies leaves nothing behind;
 * - verdicts and ledger changes back as commands under ids that make a resend count once:
 *   `settle:<trade>`, `settle-withdrawal:<withdrawal>` and `change:<venue>:<ref>`. A change is recorded as being sent before it
 *   goes out; after a crash, the command stream is searched for it, so it counts once even
 *   after the deduplication window.
 */
import { AckPolicy, DeliverPolicy, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Logger, retry } from '../common/index.ts';
import { consume } from './consume.ts';
import type { ChangeSink, EnginePort, LedgerChange, Progress, VerdictCommand } from '../connectors/index.ts';
import { changeCommand, isWithdrawalRequest } from '../connectors/index.ts';
import type {
  InstrumentSpec,
  PendingSettlementView,
  PendingWithdrawalView,
  PublishedEvent,
} from '../engine/index.ts';
import { CommandBus } from './bus.ts';
import type { ClusterConfig } from './config.ts';
import { ShardFollower } from './follower.ts';
import { answered, jetStreamReady } from './nats.ts';
import type { Topology } from './topology.ts';
import { eventsOf } from './wire-format.ts';
import { eventObjectsOnce, type StoredEvents, withEvents } from './large-events.ts';
import { makeError } from './errors.ts';

export interface DaemonPortOptions {
  nc: NatsConnection;
  topology: Topology;
  config: Pick<ClusterConfig, 'replicas' | 'ackWaitSeconds'>;
  /** The venue the daemon settles. */
  venue: string;
  risk: boolean;
  log: Logger;
  /** The port stopped on an error it cannot get past: the process should exit and be restarted. */
  onError: (err: Error) => void;
}

type Subscriber = (seq: number, events: readonly PublishedEvent[]) => void;

interface Unacked {
  msg: JsMsg;
  seq: number;
  trades: number[];
  withdrawals: number[];
}

export class DaemonPort implements EnginePort {
  readonly shard: number;
  readonly follower: ShardFollower;
  readonly changes: ChangeSink;
  #o: DaemonPortOptions;
  #bus: CommandBus;
  #consumerName: string;
  /** The durable consumer was made now: trades from before it are the engine's pending ones. */
  #fresh: boolean;
  #consuming: { done: Promise<void>; stop(): void } | null = null;
  #loop: Promise<void> | null = null;
  #unacked: Unacked[] = [];
  #sweeper: NodeJS.Timeout;
  #lastWorking = Date.now();
  /** Ends the verdicts' retries at close. */
  #stop = new AbortController();
  #closed = false;
  /** Verdicts the engine holds (sent and stored), for metrics. */
  verdictsSent = 0;

  private constructor(
    o: DaemonPortOptions,
    shard: number,
    follower: ShardFollower,
    name: string,
    fresh: boolean,
  ) {
    this.#o = o;
    this.shard = shard;
    this.follower = follower;
    this.#bus = new CommandBus(jetstream(o.nc), o.topology);
    this.#consumerName = name;
    this.#fresh = fresh;
    this.changes = this.#changeSink();
    this.#sweeper = setInterval(() => this.#sweep(), 100);
    this.#sweeper.unref();
  }

  /** Follows the venue's shard up to the end of its stream, and makes the shared consumer where missing. */
  static async open(o: DaemonPortOptions): Promise<DaemonPort> {
    const shard = o.topology.shardOfVenue(o.venue);
    if (shard === undefined)
      throw makeError(`no shard owns venue ${o.venue} (cluster.shards)`, 'NO_OWNER', { venue: o.venue });
    const follower = await ShardFollower.open({
      nc: o.nc,
      topology: o.topology,
      shard,
      risk: o.risk,
      replicas: o.config.replicas,
      log: o.log,
      onError: o.onError,
    });
    follower.start();
    await follower.caughtUp();
    const jsm = await jetStreamReady(o.nc);
    const stream = o.topology.eventStream(shard);
    const name = `settle-${o.venue.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    let fresh = false;
    try {
      await answered(() => jsm.consumers.info(stream, name));
    } catch {
      await answered(() =>
        jsm.consumers.add(stream, {
          durable_name: name,
          // Its trades and withdrawals: messages of orders only go under it (`.orders`), not delivered.
          filter_subject: o.topology.eventSubject(shard, o.venue, true),
          ack_policy: AckPolicy.Explicit,
          ack_wait: o.config.ackWaitSeconds * 1e9,
          max_ack_pending: 20_000,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: follower.seq + 1,
        }),
      );
      fresh = true;
      o.log.info(`${o.venue}: consumer ${name} made on ${stream} from event ${follower.seq + 1}`);
    }
    return new DaemonPort(o, shard, follower, name, fresh);
  }

  instruments(): readonly string[] {
    return this.follower.engine.instruments();
  }

  specOf(instrument: string): Readonly<InstrumentSpec> | undefined {
    return this.follower.engine.instrument(instrument)?.spec;
  }

  /**
   * At the first start only, the trades the engine matched before the consumer existed; after
   * that the consumer delivers again whatever was not finished.
   */
  pendingSettlements(): readonly PendingSettlementView[] {
    return this.#fresh ? this.follower.engine.pendingSettlements() : [];
  }

  /** Withdrawals granted before the consumer existed, at its first start only (as `pendingSettlements`). */
  pendingWithdrawals(): readonly PendingWithdrawalView[] {
    return this.#fresh ? this.follower.engine.pendingWithdrawals() : [];
  }

  /**
   * As the follower has it. A cluster takes no links yet (its gateways refuse them), so this is
   * the account's own name.
   */
  partyOf(account: string, venue: string): string {
    return this.follower.engine.partyOf(account, venue);
  }

  settle(command: VerdictCommand): void {
    const [what, id] =
      command.type === 'settle'
        ? [`trade ${command.tradeId}`, `settle:${command.tradeId}`]
        : command.type === 'settle-leg'
          ? [
              `the ${command.leg} leg of trade ${command.tradeId}`,
              `settle-leg:${command.tradeId}:${command.leg}:${command.state}`,
            ]
          : [`withdrawal ${command.withdrawalId}`, `settle-withdrawal:${command.withdrawalId}`];
    // Sent again under the same id until the stream holds it (stored once whatever the tries).
    retry(() => this.#bus.send(this.shard, command, id), {
      initialMs: 500,
      capMs: 10_000,
      signal: this.#stop.signal,
      onRetry: (err) =>
        this.#o.log.warn(
          `${this.#o.venue}: verdict on ${what} not sent (${(err as Error).message}); retrying`,
        ),
    }).then(
      () => this.verdictsSent++,
      (err: Error) => {
        if (this.#closed) return;
        this.#o.log.error(`${this.#o.venue}: verdict on ${what} cannot be sent: ${err.message}`);
        this.#o.onError(err);
      },
    );
  }

  /** Starts taking the venue's trade events from the shared consumer. */
  onEvents(subscriber: Subscriber): void {
    if (this.#loop !== null) throw makeError('one subscriber only', 'MISUSE');
    this.#loop = this.#consume(subscriber).catch((err: Error) => {
      if (this.#closed) return;
      this.#o.log.error(`${this.#o.venue}: trade events stopped: ${err.message}`);
      this.#o.onError(err);
    });
  }

  /** Stops taking events (unacked ones go to another daemon), stops following. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#stop.abort();
    this.#consuming?.stop();
    await this.#loop;
    await this.follower.close();
  }

  async #consume(subscriber: Subscriber): Promise<void> {
    const js = jetstream(this.#o.nc);
    const stream = this.#o.topology.eventStream(this.shard);
    const objects = eventObjectsOnce(js, this.#o.topology);
    const take = (msg: JsMsg, stored: StoredEvents) => {
      const events = eventsOf(stored, `${this.#o.venue}: event ${msg.seq} of ${stream}`);
      const trades = events.filter((e) => e.kind === 'trade').map((e) => e.tradeId);
      const withdrawals = events.filter(isWithdrawalRequest).map((e) => e.withdrawalId);
      subscriber(msg.seq, events);
      if (trades.length + withdrawals.length === 0) msg.ack();
      else this.#unacked.push({ msg, seq: msg.seq, trades, withdrawals });
    };
    this.#consuming = consume({
      get: () => js.consumers.get(stream, this.#consumerName),
      handle: (msg) => withEvents(msg, objects, (whole) => take(msg, whole)),
      batch: 1_000,
      behind: async () => {
        const jsm = await jetstreamManager(this.#o.nc);
        return (await jsm.consumers.info(stream, this.#consumerName)).num_pending > 0;
      },
      name: `${this.#o.venue}: trade events`,
      log: this.#o.log,
    });
    await this.#consuming.done;
  }

  /** Acks the messages whose trades and withdrawals the engine (as followed) no longer holds pending. */
  #sweep(): void {
    const engine = this.follower.engine;
    const at = this.follower.seq;
    const keep: Unacked[] = [];
    for (const u of this.#unacked) {
      const done =
        u.trades.every((id) => engine.pendingSettlement(id) === undefined) &&
        u.withdrawals.every((id) => engine.pendingWithdrawal(id) === undefined);
      if (u.seq <= at && done) u.msg.ack();
      else keep.push(u);
    }
    this.#unacked = keep;
    // Still working on the rest: keep them from going to another daemon meanwhile.
    if (Date.now() - this.#lastWorking > (this.#o.config.ackWaitSeconds * 1000) / 3) {
      this.#lastWorking = Date.now();
      for (const u of keep) u.msg.working();
    }
  }

  #changeSink(): ChangeSink {
    const { venue, topology } = this.#o;
    const idOf = (ref: string) => `change:${venue}:${ref}`;
    return {
      reconcile: async (progress: Progress) => {
        const open = progress.unconfirmedChanges();
        if (open.length === 0) return 0;
        const found = await this.#findIds(
          Math.min(...open.map((c) => c.after)) + 1,
          topology.commandSubject(this.shard, venue),
        );
        let again = 0;
        for (const { ref } of open) {
          const seq = found.get(idOf(ref));
          if (seq === undefined) {
            progress.forgetChange(ref);
            again++;
          } else {
            progress.recordChange(ref, seq);
          }
        }
        return again;
      },
      apply: async (change: LedgerChange, progress: Progress) => {
        if (progress.changeSeq(change.ref) !== undefined) return false;
        progress.recordChangeSending(change.ref, this.follower.seq);
        const sent = await this.#bus.send(this.shard, changeCommand(change), idOf(change.ref));
        progress.recordChange(change.ref, sent.seq);
        return true;
      },
    };
  }

  /** The message ids on `subject` from sequence `from` on, with their sequences. */
  async #findIds(from: number, subject: string): Promise<Map<string, number>> {
    const js = jetstream(this.#o.nc);
    const stream = this.#o.topology.commandStream(this.shard);
    const jsm = await jetStreamReady(this.#o.nc);
    const { first_seq: first } = (await answered(() => jsm.streams.info(stream))).state;
    if (first > from) {
      this.#o.log.warn(
        `${this.#o.venue}: changes sent after command ${from - 1} are looked for from ${first} (the stream no longer holds the ones before); ` +
          'older ones rely on the deduplication window',
      );
    }
    const consumer = await js.consumers.get(stream, {
      filter_subjects: subject,
      opt_start_seq: Math.max(from, 1),
      headers_only: true,
    });
    const ids = new Map<string, number>();
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1_000, expires: 1_000 });
      let last: JsMsg | null = null;
      for await (const m of batch) {
        const id = m.headers?.get('Nats-Msg-Id');
        if (id) ids.set(id, m.seq);
        last = m;
      }
      if (last === null || last.info.pending === 0) return ids;
    }
  }
}
