/**
 * The settlement daemon's loop, the same for every ledger: take in the venue's trades and granted
 * withdrawals from the engine's durable events, batch each kind by size and time, hand each
 * batch to the ledger (trades to settle, withdrawals to release; up to `inFlight` batches at
 * once, so the next goes out while the ones before wait for their blocks), record the outcomes,
 * and send the engine its verdicts (`settle` and `settle-withdrawal` commands). Progress is in LMDB
 * (`Progress`), so after a crash the batches in flight are sent again as they were (the ledger
 * is idempotent per trade id and per withdrawal id) and verdicts not yet heard by the engine are
 * sent again (the engine refuses a second verdict). Trades and withdrawals the engine took while
 * the daemon was down come from `engine.pendingSettlements()` and `pendingWithdrawals()` at start.
 */
import type {
  InstrumentSpec,
  PendingSettlementView,
  PendingWithdrawalView,
  PublishedEvent,
  SettleCommand,
  SettleLegCommand,
  SettleWithdrawalCommand,
} from '../engine/index.ts';
import { lineLogger, type Logger, permanentCause, retry } from '../common/index.ts';
import { instructionOf, isTrade, isWithdrawalRequest } from './instructions.ts';
import {
  type InstructionKind,
  type Ledger,
  type SettlementInstruction,
  type SettlementOutcome,
  TRADES,
  type WithdrawalInstruction,
  type WithdrawalOutcome,
  WITHDRAWALS,
} from './ledger.ts';
import type { Batch, Progress, Queue } from './progress.ts';

/** A ledger's verdict as the engine takes it. */
export type VerdictCommand =
  Omit<SettleCommand, 'ts'> | Omit<SettleWithdrawalCommand, 'ts'> | Omit<SettleLegCommand, 'ts'>;

export interface SettlerOptions {
  ledger: Ledger;
  progress: Progress;
  /** An instrument's listing, to turn its trades into instructions. */
  specOf: (instrument: string) => Readonly<InstrumentSpec> | undefined;
  /**
   * The ledger identity an account settles as on this venue: its own name, or an identity linked
   * to it (default: its own name, for an engine without links).
   */
  partyOf?: (account: string, venue: string) => string;
  /** Sends a verdict to the engine (the exchange stamps and journals it). */
  send: (command: VerdictCommand) => void;
  /** Instructions a batch holds at most (default 100). */
  batchSize?: number;
  /** An instruction waits at most this long for its batch to fill (default 200 ms). */
  batchMs?: number;
  /**
   * Batches handed to the ledger at once, at most (default 1): the next goes out while the ones
   * before wait for their blocks. Each still settles once: a batch is recorded in flight before
   * it goes out, and the ledger settles a trade id, and releases a withdrawal id, once.
   */
  inFlight?: number;
  /** The bound of the first wait after a ledger error, doubled up to 30 s, with jitter (default 500 ms). */
  retryMs?: number;
  log?: Logger;
  /**
   * Told once when a batch fails for good (the ledger refuses the daemon as its operator, say):
   * the settler has stopped, and trying again could not have helped.
   */
  onFailure?: (err: Error) => void;
}

export interface SettlerStats {
  batches: number;
  settled: number;
  failed: number;
  /** Withdrawals released and refused. */
  released: number;
  refused: number;
  /** Ledger errors retried. */
  retries: number;
  /** What settling trades cost on the ledger, over all trades (where it charges): gas and fee. */
  gas: number;
  fee: bigint;
  /** Trades whose cost the ledger reported. */
  costed: number;
}

/** What the ledger is handed: trades to settle, withdrawals to release. */
type Instruction = SettlementInstruction | WithdrawalInstruction;

/** A batch ready to go to the ledger: sends it. */
type Send = () => Promise<void>;

/** One kind of instruction through the loop: its queue, how the ledger takes a batch, what its outcomes count. */
interface Lane<I, O> {
  kind: InstructionKind<I, O>;
  queue: Queue<I, O>;
  submit(batch: readonly I[]): Promise<O[]>;
  count(o: O): void;
}

export class Settler {
  readonly venue: string;
  #o: Required<Omit<SettlerOptions, 'onFailure' | 'partyOf'>> & Pick<SettlerOptions, 'onFailure'>;
  /** An account's identity on this ledger. */
  #party: (account: string) => string;
  #trades: Lane<SettlementInstruction, SettlementOutcome>;
  #withdrawals: Lane<WithdrawalInstruction, WithdrawalOutcome>;
  #timer: NodeJS.Timeout | null = null;
  /** The batches handed to the ledger and not yet answered. */
  #running = new Set<Promise<void>>();
  /** Batches left in flight by the daemon before (sent again first, in order), until taken. */
  #resend: Send[] = [];
  /** The next kind to take a batch of: trades and withdrawals take turns. */
  #turn = 0;
  #stopped = false;
  #abandoned = false;
  /** Ends the wait before a retry (at stop). */
  #stop = new AbortController();
  #failure: Error | null = null;
  #stats: SettlerStats = {
    batches: 0,
    settled: 0,
    failed: 0,
    released: 0,
    refused: 0,
    retries: 0,
    gas: 0,
    fee: 0n,
    costed: 0,
  };

  constructor(options: SettlerOptions) {
    this.venue = options.ledger.venue;
    this.#o = {
      batchSize: 100,
      batchMs: 200,
      inFlight: 1,
      retryMs: 500,
      log: stderrLogger,
      ...options,
    };
    const { ledger, progress } = this.#o;
    const partyOf = options.partyOf;
    this.#party = partyOf === undefined ? (account) => account : (account) => partyOf(account, this.venue);
    const stats = this.#stats;
    this.#trades = {
      kind: TRADES,
      queue: progress.trades,
      submit: (batch) => ledger.settle(batch),
      count(o) {
        if (o.ok) stats.settled++;
        else stats.failed++;
        if (o.gas !== undefined) {
          stats.gas += o.gas;
          stats.fee += BigInt(o.fee ?? '0');
          stats.costed++;
        }
      },
    };
    this.#withdrawals = {
      kind: WITHDRAWALS,
      queue: progress.withdrawals,
      submit: (batch) => ledger.release(batch),
      count(o) {
        if (o.ok) stats.released++;
        else stats.refused++;
      },
    };
  }

  get stats(): SettlerStats {
    return { ...this.#stats };
  }

  /** The permanent failure that stopped it, or null. */
  get failure(): Error | null {
    return this.#failure;
  }

  /**
   * Reconciles with what the engine holds pending (trades matched and withdrawals granted while
   * the daemon was down, verdicts it has not heard), then sends the batches left in flight.
   */
  start(pending: readonly PendingSettlementView[], withdrawals: readonly PendingWithdrawalView[] = []): void {
    const here = (asset: string) => asset.slice(asset.indexOf('@') + 1) === this.venue;
    this.#reconcile(
      this.#trades,
      pending
        // A cross-ledger trade's legs are the `LegKeeper`'s.
        .filter((t) => here(t.instrument) && t.legs === undefined)
        .map((t) => this.#parties({ ...t, venue: this.venue, matchedAt: 0 })),
      'trades matched',
    );
    this.#reconcile(
      this.#withdrawals,
      withdrawals
        .filter((w) => here(w.asset))
        .map((w) => ({ ...w, account: this.#party(w.account), venue: this.venue })),
      'withdrawals granted',
    );
    this.#resend = [
      ...this.#trades.queue.inflight().map((b) => this.#send(this.#trades, b)),
      ...this.#withdrawals.queue.inflight().map((b) => this.#send(this.#withdrawals, b)),
    ];
    this.#kick(true);
  }

  /** Takes in one durable command's events (pass to `exchange.onEvents`). */
  readonly onEvents = (seq: number, events: readonly PublishedEvent[]): void => {
    // Events seen before (a restart, a redelivery) are harmless: the progress store skips what it knows.
    if (this.#stopped) return;
    const trades: SettlementInstruction[] = [];
    const withdrawals: WithdrawalInstruction[] = [];
    for (const e of events) {
      if (isTrade(e)) {
        const spec = this.#o.specOf(e.instrument)!;
        // A cross-ledger trade's legs are the `LegKeeper`'s.
        if (spec.quoteVenue !== undefined) continue;
        const instruction = instructionOf(e, spec);
        if (instruction.venue === this.venue) trades.push(this.#parties(instruction));
      } else if (isWithdrawalRequest(e)) {
        const venue = e.asset.slice(e.asset.indexOf('@') + 1);
        if (venue === this.venue) {
          const { withdrawalId, account, asset, amount } = e;
          withdrawals.push({ withdrawalId, account: this.#party(account), asset, amount, venue });
        }
      }
    }
    const full = [this.#take(this.#trades, seq, trades), this.#take(this.#withdrawals, seq, withdrawals)];
    if (full.some((n) => n >= this.#o.batchSize)) this.#kick(true);
    else if (trades.length + withdrawals.length > 0) this.#kick(false);
  };

  /**
   * A trade's instruction as the ledger takes it: buyer and seller as the identities their
   * accounts settle as here (an account's parties cannot change while it has a trade pending).
   */
  #parties(i: SettlementInstruction): SettlementInstruction {
    const buyer = this.#party(i.buyer);
    const seller = this.#party(i.seller);
    return buyer === i.buyer && seller === i.seller ? i : { ...i, buyer, seller };
  }

  /**
   * Stops taking batches. The batches in flight may finish within `graceMs` (default 2 s); those
   * that do not, or fail meanwhile, are left in flight as a crash would leave them, and sent
   * again at the next start (the ledger settles a trade id, and releases a withdrawal id, once).
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#stop.abort();
    if (this.#running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(this.#running), late]);
    clearTimeout(timer);
    // What the ledger answers from now on is not recorded: the store is about to close.
    this.#abandoned = true;
  }

  /** At start: queues what the daemon never saw; sends again the verdicts of what it finished. */
  #reconcile<I, O extends SettlementOutcome | WithdrawalOutcome>(
    lane: Lane<I, O>,
    pending: readonly I[],
    what: string,
  ): void {
    const missed: I[] = [];
    for (const i of pending) {
      const id = lane.kind.idOf(i);
      const state = lane.queue.state(id);
      if (state === undefined) missed.push(i);
      else if (state === 'done') this.#o.send(verdict(lane.queue.outcome(id)!));
    }
    if (missed.length > 0) {
      lane.queue.enqueue(this.#o.progress.cursor, missed);
      this.#o.log.info(
        { venue: this.venue, count: missed.length },
        `${this.venue}: ${missed.length} ${what} while the daemon was down, queued`,
      );
    }
  }

  /**
   * Queues instructions of the events up to `seq`, except those done already (delivered again by
   * a shared event stream), whose verdicts may not have reached the engine: sent again. Returns
   * how many the queue holds.
   */
  #take<I, O extends SettlementOutcome | WithdrawalOutcome>(
    lane: Lane<I, O>,
    seq: number,
    instructions: readonly I[],
  ): number {
    const fresh: I[] = [];
    for (const i of instructions) {
      const id = lane.kind.idOf(i);
      if (lane.queue.state(id) === 'done') this.#o.send(verdict(lane.queue.outcome(id)!));
      else fresh.push(i);
    }
    if (fresh.length > 0) lane.queue.enqueue(seq, fresh);
    return lane.queue.queuedCount();
  }

  /** Hands the ledger batches now (`now`) or once the batch time is up. */
  #kick(now: boolean): void {
    if (this.#stopped) return;
    if (now) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      this.#pump();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        this.#kick(true);
      }, this.#o.batchMs);
    }
  }

  /**
   * Hands the ledger batches until `inFlight` are out: those left in flight by the daemon before
   * first, in order, then what is queued, a batch of each kind in turn (a ledger on which
   * batches that touch the same state must not overlap, as on Fabric, orders them itself). Each
   * answered batch makes room for the next; what is queued but short of a batch waits for the
   * batch time.
   */
  #pump(): void {
    const { batchSize, inFlight } = this.#o;
    while (!this.#stopped && this.#running.size < inFlight) {
      const send = this.#resend.shift() ?? this.#nextBatch(batchSize);
      if (send === null) return;
      const running = send().finally(() => {
        this.#running.delete(running);
        if (this.#resend.length > 0 || this.#queued() >= batchSize) this.#kick(true);
        else if (this.#queued() > 0) this.#kick(this.#running.size === 0);
      });
      this.#running.add(running);
    }
  }

  /** A batch of the next kind that has one ready, taken from its queue (now in flight). */
  #nextBatch(size: number): Send | null {
    for (let tries = 0; tries < 2; tries++) {
      const send =
        this.#turn++ % 2 === 0 ? this.#batchOf(this.#trades, size) : this.#batchOf(this.#withdrawals, size);
      if (send !== null) return send;
    }
    return null;
  }

  /** A batch of `lane`'s, taken from its queue. */
  #batchOf<I extends Instruction, O extends SettlementOutcome | WithdrawalOutcome>(
    lane: Lane<I, O>,
    size: number,
  ): Send | null {
    const batch = lane.queue.nextBatch(size);
    return batch === null ? null : this.#send(lane, batch);
  }

  #send<I extends Instruction, O extends SettlementOutcome | WithdrawalOutcome>(
    lane: Lane<I, O>,
    batch: Batch<I>,
  ): Send {
    return () => this.#run(lane, batch);
  }

  #queued(): number {
    return this.#trades.queue.queuedCount() + this.#withdrawals.queue.queuedCount();
  }

  /**
   * Hands one batch to the ledger until it gives its outcomes (retrying with backoff), records
   * them, sends the verdicts. A permanent failure stops the settler: the batch stays in flight
   * for the next start, once someone has fixed what the error names.
   */
  async #run<I, O extends SettlementOutcome | WithdrawalOutcome>(
    lane: Lane<I, O>,
    batch: Batch<I>,
  ): Promise<void> {
    const noun = lane.kind.noun;
    const { venue } = this;
    let outcomes: O[];
    try {
      outcomes = await retry(() => lane.submit(batch.instructions), {
        initialMs: this.#o.retryMs,
        capMs: 30_000,
        signal: this.#stop.signal,
        onRetry: (err, waitMs) => {
          this.#stats.retries++;
          this.#o.log.warn(
            { venue, batch: batch.id, kind: noun, err, waitMs },
            `${venue}: ${noun} batch ${batch.id} failed (${(err as Error).message}); retrying in ${waitMs} ms`,
          );
        },
      });
    } catch (err) {
      if (this.#stopped) {
        this.#o.log.info(
          { venue, batch: batch.id, kind: noun },
          `${venue}: ${noun} batch ${batch.id} left in flight at stop; it is sent again at the next start`,
        );
        return;
      }
      this.#fail(err as Error, noun, batch.id);
      return;
    }
    if (this.#abandoned) return;
    lane.queue.finish(batch.id, outcomes);
    this.#stats.batches++;
    for (const o of outcomes) {
      lane.count(o);
      this.#o.send(verdict(o));
    }
  }

  /** Stops on a failure no retry can get past, and says so once. */
  #fail(err: Error, noun: string, batchId: number): void {
    this.#stopped = true;
    this.#stop.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#failure = err;
    const code = permanentCause(err)?.code;
    this.#o.log.error(
      { venue: this.venue, batch: batchId, kind: noun, err, ...(code === undefined ? {} : { code }) },
      `${this.venue}: settlement stopped: ${noun} batch ${batchId} failed for good (${err.message}); ` +
        'it stays in flight and is sent again at the next start',
    );
    this.#o.onFailure?.(err);
  }
}

/** Where a settler logs when it is given no logger: standard error, one line a message. */
const stderrLogger: Logger = lineLogger((line) => process.stderr.write(`${line}\n`));

/** The engine's command for an outcome: the verdict with its ledger reference and cost, for the record. */
function verdict(o: SettlementOutcome | WithdrawalOutcome): VerdictCommand {
  const c: VerdictCommand =
    'tradeId' in o
      ? { type: 'settle', tradeId: o.tradeId, ok: o.ok }
      : { type: 'settle-withdrawal', withdrawalId: o.withdrawalId, ok: o.ok };
  if (!o.ok) c.reason = o.reason;
  if (o.ref !== undefined) c.ref = o.ref;
  if (o.gas !== undefined) c.gas = o.gas;
  if (o.fee !== undefined) c.gasFee = o.fee;
  return c;
}
