/**
 * The settlement daemon's loop, the same for every ledger: take in the venue's trades from the
 * engine's durable events, batch them by size and time, hand each batch to the ledger, record
 * the outcomes, and send the engine its verdicts (`settle` commands). Progress is in LMDB
 * (`Progress`), so after a crash the batches in flight are sent again as they were (the ledger
 * is idempotent per trade id) and verdicts not yet heard by the engine are sent again (the engine
 * refuses a second verdict on a trade). Trades the engine matched while the daemon was down
 * come from `engine.pendingSettlements()` at start.
 */
import type { InstrumentSpec, PendingSettlementView, SettleCommand } from '../engine/index.ts';
import { instructionOf, isTrade } from './instructions.ts';
import type { Ledger, SettlementInstruction, SettlementOutcome } from './ledger.ts';
import type { Batch, Progress } from './progress.ts';

export interface SettlerOptions {
  ledger: Ledger;
  progress: Progress;
  /** An instrument's listing, to turn its trades into instructions. */
  specOf: (instrument: string) => Readonly<InstrumentSpec> | undefined;
  /** Sends a verdict to the engine (the exchange stamps and journals it). */
  send: (command: Omit<SettleCommand, 'ts'>) => void;
  /** Trades a batch holds at most (default 100). */
  batchSize?: number;
  /** A trade waits at most this long for its batch to fill (default 200 ms). */
  batchMs?: number;
  /** First wait after a ledger error, doubled up to 30 s (default 500 ms). */
  retryMs?: number;
  log?: (line: string) => void;
}

export interface SettlerStats {
  batches: number;
  settled: number;
  failed: number;
  /** Ledger errors retried. */
  retries: number;
  /** What settlement cost on the ledger, over all trades (where it charges): gas and fee. */
  gas: number;
  fee: bigint;
  /** Trades whose cost the ledger reported. */
  costed: number;
}

export class Settler {
  readonly venue: string;
  #o: Required<Omit<SettlerOptions, 'log'>> & { log: (line: string) => void };
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;
  #abandoned = false;
  /** Ends the wait before a retry (at stop). */
  #wake: (() => void) | null = null;
  #stats: SettlerStats = { batches: 0, settled: 0, failed: 0, retries: 0, gas: 0, fee: 0n, costed: 0 };

  constructor(options: SettlerOptions) {
    this.venue = options.ledger.venue;
    this.#o = {
      batchSize: 100,
      batchMs: 200,
      retryMs: 500,
      log: (line: string) => process.stderr.write(`${line}\n`),
      ...options,
    };
  }

  get stats(): SettlerStats {
    return { ...this.#stats };
  }

  /**
   * Reconciles with what the engine holds pending (trades matched while the daemon was down,
   * verdicts it has not heard), then sends the batches left in flight.
   */
  start(pending: readonly PendingSettlementView[]): void {
    const { progress, send } = this.#o;
    const missed: SettlementInstruction[] = [];
    for (const t of pending) {
      if (t.instrument.slice(t.instrument.indexOf('@') + 1) !== this.venue) continue;
      const state = progress.state(t.tradeId);
      if (state === undefined) missed.push({ ...t, venue: this.venue, matchedAt: 0 });
      else if (state === 'done') send(verdict(progress.outcome(t.tradeId)!));
    }
    if (missed.length > 0) {
      progress.enqueue(progress.cursor, missed);
      this.#o.log(`${this.venue}: ${missed.length} trades matched while the daemon was down, queued`);
    }
    this.#kick(true);
  }

  /** Takes in one durable command's events (pass to `exchange.onEvents`). */
  readonly onEvents = (seq: number, events: ReadonlyArray<Record<string, unknown>>): void => {
    const { progress, specOf, send } = this.#o;
    // Events seen before (a restart, a redelivery) are harmless: the progress store skips a trade it knows.
    if (this.#stopped) return;
    const instructions: SettlementInstruction[] = [];
    for (const e of events) {
      if (!isTrade(e)) continue;
      const instruction = instructionOf(e, specOf(e.instrument)!);
      if (instruction.venue !== this.venue) continue;
      // A trade delivered again (a shared event stream) whose verdict may not have reached the engine.
      if (progress.state(instruction.tradeId) === 'done')
        send(verdict(progress.outcome(instruction.tradeId)!));
      else instructions.push(instruction);
    }
    if (instructions.length === 0) return;
    progress.enqueue(seq, instructions);
    this.#kick(progress.queuedCount() >= this.#o.batchSize);
  };

  /**
   * Stops taking batches. The batch in flight may finish within `graceMs` (default 2 s); if it
   * does not, or the ledger fails meanwhile, it is left in flight as a crash would leave it, and
   * sent again at the next start (the ledger settles a trade id once).
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.();
    if (this.#running === null) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.#running, late]);
    clearTimeout(timer);
    // What the ledger answers from now on is not recorded: the store is about to close.
    this.#abandoned = true;
  }

  /** Runs the loop now (`now`) or once the batch time is up. */
  #kick(now: boolean): void {
    if (this.#stopped || this.#running !== null) return;
    if (now) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      this.#running = this.#loop().finally(() => {
        this.#running = null;
        if (this.#o.progress.queuedCount() > 0) this.#kick(false);
      });
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        this.#kick(true);
      }, this.#o.batchMs);
    }
  }

  /** Batches in flight first (after a restart), then full batches, then what waited long enough. */
  async #loop(): Promise<void> {
    const { progress, batchSize } = this.#o;
    for (const batch of progress.inflight()) {
      if (this.#stopped) return;
      await this.#settle(batch);
    }
    for (let batch = progress.nextBatch(batchSize); batch !== null; batch = progress.nextBatch(batchSize)) {
      if (this.#stopped) return;
      await this.#settle(batch);
    }
  }

  async #settle(batch: Batch): Promise<void> {
    const { ledger, progress, send, retryMs } = this.#o;
    let wait = retryMs;
    for (;;) {
      let outcomes: SettlementOutcome[];
      try {
        outcomes = await ledger.settle(batch.instructions);
      } catch (err) {
        if (this.#stopped) {
          this.#o.log(
            `${this.venue}: batch ${batch.id} left in flight at stop; it is sent again at the next start`,
          );
          return;
        }
        this.#stats.retries++;
        this.#o.log(
          `${this.venue}: batch ${batch.id} failed (${(err as Error).message}); retrying in ${wait} ms`,
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = null;
        wait = Math.min(wait * 2, 30_000);
        if (this.#stopped) return;
        continue;
      }
      if (this.#abandoned) return;
      progress.finish(batch.id, outcomes);
      this.#stats.batches++;
      for (const o of outcomes) {
        if (o.ok) this.#stats.settled++;
        else this.#stats.failed++;
        if (o.gas !== undefined) {
          this.#stats.gas += o.gas;
          this.#stats.fee += BigInt(o.fee ?? '0');
          this.#stats.costed++;
        }
        send(verdict(o));
      }
      return;
    }
  }
}

/** The engine's command for an outcome: the verdict with its ledger reference and cost, for the record. */
function verdict(o: SettlementOutcome): Omit<SettleCommand, 'ts'> {
  const c: Omit<SettleCommand, 'ts'> = { type: 'settle', tradeId: o.tradeId, ok: o.ok };
  if (!o.ok) c.reason = o.reason;
  if (o.ref !== undefined) c.ref = o.ref;
  if (o.gas !== undefined) c.gas = o.gas;
  if (o.fee !== undefined) c.gasFee = o.fee;
  return c;
}
