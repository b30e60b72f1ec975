/**
 * A settlement daemon's progress, kept in LMDB so that a restart never settles a trade (or
 * releases a withdrawal) twice and never skips one. Each instruction is in exactly one state:
 * queued, in a batch sent to the ledger (in flight), or done with its outcome. Every change is one synchronous, durable LMDB
 * transaction, so a crash leaves a state from before or after it, never between. A ledger keeps
 * its own records here too (`ledgerRecord`: an EVM operator's nonce and the transaction it has
 * out), so that the daemon's state is one store that a crash cannot split.
 *
 * Why LMDB: an embedded, transactional B-tree that survives a crash at any point (copy-on-write
 * pages, no recovery step), memory-mapped reads without copies, one writer at a time (which is
 * what a daemon is), and prebuilt binaries on npm (`@lmdb/lmdb-linux-x64`), so nothing compiles
 * or downloads at install. SQLite would do too, but its Node packages build or download a binary
 * at install (better-sqlite3), or are WebAssembly without durable file writes.
 */
import fs from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import {
  type InstructionKind,
  type SettlementInstruction,
  type SettlementOutcome,
  TRADES,
  type WithdrawalInstruction,
  type WithdrawalOutcome,
  WITHDRAWALS,
} from './ledger.ts';
import { makeError } from './errors.ts';

export type ItemState = 'queued' | 'inflight' | 'done';

interface ItemRecord<I, O> {
  instruction: I;
  state: ItemState;
  batch?: number;
  outcome?: O;
}

/** A batch taken from a queue and sent (or about to be sent) to the ledger. */
export interface Batch<I> {
  id: number;
  instructions: I[];
}

/**
 * One kind of instruction on its way through the daemon (trades to settle, withdrawals to
 * release), each queued, in flight or done, keyed by its id. Its own LMDB databases and batch
 * numbers; the event cursor is the daemon's, shared.
 */
export class Queue<I, O> {
  #root: RootDatabase;
  #kind: InstructionKind<I, O>;
  #items: Database<ItemRecord<I, O>, number>;
  #queued: Database<true, number>;
  #inflight: Database<number[], number>;
  #meta: Database<number | string, string>;
  #batchKey: string;

  constructor(
    root: RootDatabase,
    meta: Database<number | string, string>,
    kind: InstructionKind<I, O>,
    names: { items: string; queued: string; inflight: string; batch: string },
  ) {
    this.#root = root;
    this.#kind = kind;
    this.#meta = meta;
    this.#items = root.openDB<ItemRecord<I, O>, number>({ name: names.items });
    this.#queued = root.openDB<true, number>({ name: names.queued });
    this.#inflight = root.openDB<number[], number>({ name: names.inflight });
    this.#batchKey = names.batch;
  }

  /**
   * Takes in the instructions of the events up to `seq`, atomically with the cursor. An id seen
   * before is ignored (events read again after a restart); returns how many were new.
   */
  enqueue(seq: number, instructions: readonly I[]): number {
    return this.#root.transactionSync(() => {
      let added = 0;
      for (const instruction of instructions) {
        const id = this.#kind.idOf(instruction);
        if (this.#items.get(id) !== undefined) continue;
        this.#items.putSync(id, { instruction, state: 'queued' });
        this.#queued.putSync(id, true);
        added++;
      }
      if (seq > ((this.#meta.get('cursor') as number | undefined) ?? 0)) this.#meta.putSync('cursor', seq);
      return added;
    });
  }

  /** Takes up to `max` queued instructions, in id order, into a new batch; null if none. */
  nextBatch(max: number): Batch<I> | null {
    return this.#root.transactionSync(() => {
      const ids: number[] = [];
      for (const { key } of this.#queued.getRange({ limit: max })) ids.push(key);
      if (ids.length === 0) return null;
      const id = ((this.#meta.get(this.#batchKey) as number | undefined) ?? 0) + 1;
      this.#meta.putSync(this.#batchKey, id);
      const instructions: I[] = [];
      for (const itemId of ids) {
        const record = this.#items.get(itemId)!;
        this.#items.putSync(itemId, { ...record, state: 'inflight', batch: id });
        this.#queued.removeSync(itemId);
        instructions.push(record.instruction);
      }
      this.#inflight.putSync(id, ids);
      return { id, instructions };
    });
  }

  /** Batches taken but not finished, oldest first: after a restart, send them again as they were. */
  inflight(): Array<Batch<I>> {
    const out: Array<Batch<I>> = [];
    for (const { key, value } of this.#inflight.getRange()) {
      out.push({ id: key, instructions: value.map((id) => this.#items.get(id)!.instruction) });
    }
    return out;
  }

  /**
   * Records the ledger's outcomes of a batch and ends it. Every instruction of the batch needs an
   * outcome (else nothing is written and it throws); one done before keeps its first outcome.
   */
  finish(batchId: number, outcomes: readonly O[]): void {
    const noun = this.#kind.noun;
    this.#root.transactionSync(() => {
      const ids = this.#inflight.get(batchId);
      if (ids === undefined) throw makeError(`${noun} batch ${batchId} is not in flight`, 'BAD_PROGRESS');
      const byId = new Map(outcomes.map((o) => [this.#kind.idOf(o), o]));
      const missing = ids.filter((id) => !byId.has(id));
      if (missing.length > 0) {
        throw makeError(
          `${noun} batch ${batchId}: no outcome for ${noun} ${missing.slice(0, 5).join(', ')}`,
          'BAD_PROGRESS',
        );
      }
      for (const id of ids) {
        const record = this.#items.get(id)!;
        if (record.state === 'done') continue;
        this.#items.putSync(id, { ...record, state: 'done', batch: batchId, outcome: byId.get(id)! });
      }
      this.#inflight.removeSync(batchId);
    });
  }

  /** Instructions waiting for a batch. */
  queuedCount(): number {
    return this.#queued.getCount();
  }

  /** Where an instruction stands, or undefined if the daemon never saw it. */
  state(id: number): ItemState | undefined {
    return this.#items.get(id)?.state;
  }

  /** A finished instruction's outcome. */
  outcome(id: number): O | undefined {
    return this.#items.get(id)?.outcome;
  }

  /** Instructions per state (for metrics and tests). */
  counts(): Record<ItemState, number> {
    const counts = { queued: 0, inflight: 0, done: 0 };
    for (const { value } of this.#items.getRange()) counts[value.state]++;
    return counts;
  }
}

export class Progress {
  /** Matched trades to settle. */
  readonly trades: Queue<SettlementInstruction, SettlementOutcome>;
  /** Granted withdrawals to release. */
  readonly withdrawals: Queue<WithdrawalInstruction, WithdrawalOutcome>;
  #root: RootDatabase;
  #meta: Database<number | string, string>;
  #changes: Database<number, string>;
  #ledger: Database<unknown, string>;

  private constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.#root = open({ path: dir, maxDbs: 12, compression: false });
    this.#meta = this.#root.openDB<number | string, string>({ name: 'meta' });
    this.trades = new Queue(this.#root, this.#meta, TRADES, {
      items: 'trades',
      queued: 'queued',
      inflight: 'inflight',
      batch: 'batch',
    });
    this.withdrawals = new Queue(this.#root, this.#meta, WITHDRAWALS, {
      items: 'withdrawals',
      queued: 'withdrawals-queued',
      inflight: 'withdrawals-inflight',
      batch: 'withdrawal-batch',
    });
    this.#changes = this.#root.openDB<number, string>({ name: 'changes' });
    this.#ledger = this.#root.openDB<unknown, string>({ name: 'ledger' });
  }

  /** Opens (or creates) the progress kept in `dir`. */
  static open(dir: string): Progress {
    return new Progress(dir);
  }

  /** Sequence of the last engine event the daemon has taken in. */
  get cursor(): number {
    return (this.#meta.get('cursor') as number | undefined) ?? 0;
  }

  /** The engine command sequence a ledger change was (to be) applied at, if it was sent. */
  changeSeq(ref: string): number | undefined {
    return this.#changes.get(ref);
  }

  /** Records that the change `ref` goes to the engine as command `seq` (before it is sent). */
  recordChange(ref: string, seq: number): void {
    this.#changes.putSync(ref, seq);
  }

  /**
   * Records that the change `ref` is being sent to an engine across a network, after its
   * command `after` (the sequence it will get is known only once the engine holds it: then
   * `recordChange`). Kept as `-(after + 1)`, so it reads as sent.
   */
  recordChangeSending(ref: string, after: number): void {
    this.#changes.putSync(ref, -(after + 1));
  }

  /** Changes being sent whose sequence was never recorded (a crash came between), with where to look. */
  unconfirmedChanges(): Array<{ ref: string; after: number }> {
    const out: Array<{ ref: string; after: number }> = [];
    for (const { key, value } of this.#changes.getRange())
      if (value < 0) out.push({ ref: key, after: -value - 1 });
    return out;
  }

  /** Forgets a change, which will be sent again when the ledger is read from its checkpoint. */
  forgetChange(ref: string): void {
    this.#changes.removeSync(ref);
  }

  /** Forgets the changes recorded at a sequence above `seq`; returns how many. */
  forgetChangesAfter(seq: number): number {
    return this.#root.transactionSync(() => {
      const lost: string[] = [];
      for (const { key, value } of this.#changes.getRange()) if (value > seq) lost.push(key);
      for (const key of lost) this.#changes.removeSync(key);
      return lost.length;
    });
  }

  /** A ledger watcher's checkpoint (null before the first). */
  checkpoint(name: string): string | null {
    return (this.#meta.get(`checkpoint:${name}`) as string | undefined) ?? null;
  }

  setCheckpoint(name: string, value: string): void {
    this.#meta.putSync(`checkpoint:${name}`, value);
  }

  /** A ledger's own record under `key` (undefined if none); the caller names the type it stored. */
  ledgerRecord<T>(key: string): T | undefined {
    return this.#ledger.get(key) as T | undefined;
  }

  /**
   * Writes a ledger's records, each under its key (undefined removes it), durably, in one
   * transaction of their own.
   */
  setLedgerRecords(records: Readonly<Record<string, unknown>>): void {
    this.#root.transactionSync(() => this.#putLedgerRecords(records));
  }

  /** As `setLedgerRecords`, committed off the event loop: resolves once the records are on disk. */
  async writeLedgerRecords(records: Readonly<Record<string, unknown>>): Promise<void> {
    await this.#root.transaction(() => this.#putLedgerRecords(records));
    await this.#root.flushed;
  }

  #putLedgerRecords(records: Readonly<Record<string, unknown>>): void {
    for (const [key, value] of Object.entries(records)) {
      if (value === undefined) this.#ledger.remove(key);
      else this.#ledger.put(key, value);
    }
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
