/**
 * A settlement daemon's progress, kept in LMDB so that a restart never settles a trade twice
 * and never skips one. Each instruction is in exactly one state: queued, in a batch sent to the
 * ledger (in flight), or done with its outcome. Every change is one synchronous, durable LMDB
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
import type { SettlementInstruction, SettlementOutcome } from './ledger.ts';

export type TradeState = 'queued' | 'inflight' | 'done';

interface TradeRecord {
  instruction: SettlementInstruction;
  state: TradeState;
  batch?: number;
  outcome?: SettlementOutcome;
}

/** A batch taken from the queue and sent (or about to be sent) to the ledger. */
export interface Batch {
  id: number;
  instructions: SettlementInstruction[];
}

export class Progress {
  #root: RootDatabase;
  #trades: Database<TradeRecord, number>;
  #queued: Database<true, number>;
  #inflight: Database<number[], number>;
  #meta: Database<number | string, string>;
  #changes: Database<number, string>;
  #ledger: Database<unknown, string>;

  private constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.#root = open({ path: dir, maxDbs: 8, compression: false });
    this.#trades = this.#root.openDB<TradeRecord, number>({ name: 'trades' });
    this.#queued = this.#root.openDB<true, number>({ name: 'queued' });
    this.#inflight = this.#root.openDB<number[], number>({ name: 'inflight' });
    this.#meta = this.#root.openDB<number | string, string>({ name: 'meta' });
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

  /**
   * Takes in the instructions of the events up to `seq`, atomically with the cursor. A trade id
   * seen before is ignored (events read again after a restart); returns how many were new.
   */
  enqueue(seq: number, instructions: readonly SettlementInstruction[]): number {
    return this.#root.transactionSync(() => {
      let added = 0;
      for (const instruction of instructions) {
        if (this.#trades.get(instruction.tradeId) !== undefined) continue;
        this.#trades.putSync(instruction.tradeId, { instruction, state: 'queued' });
        this.#queued.putSync(instruction.tradeId, true);
        added++;
      }
      if (seq > this.cursor) this.#meta.putSync('cursor', seq);
      return added;
    });
  }

  /** Takes up to `max` queued instructions, in trade-id order, into a new batch; null if none. */
  nextBatch(max: number): Batch | null {
    return this.#root.transactionSync(() => {
      const ids: number[] = [];
      for (const { key } of this.#queued.getRange({ limit: max })) ids.push(key);
      if (ids.length === 0) return null;
      const id = ((this.#meta.get('batch') as number | undefined) ?? 0) + 1;
      this.#meta.putSync('batch', id);
      const instructions: SettlementInstruction[] = [];
      for (const tradeId of ids) {
        const record = this.#trades.get(tradeId)!;
        this.#trades.putSync(tradeId, { ...record, state: 'inflight', batch: id });
        this.#queued.removeSync(tradeId);
        instructions.push(record.instruction);
      }
      this.#inflight.putSync(id, ids);
      return { id, instructions };
    });
  }

  /** Batches taken but not finished, oldest first: after a restart, send them again as they were. */
  inflight(): Batch[] {
    const out: Batch[] = [];
    for (const { key, value } of this.#inflight.getRange()) {
      out.push({ id: key, instructions: value.map((tradeId) => this.#trades.get(tradeId)!.instruction) });
    }
    return out;
  }

  /**
   * Records the ledger's outcomes of a batch and ends it. Every instruction of the batch needs an
   * outcome (else nothing is written and it throws); a trade done before keeps its first outcome.
   */
  finish(batchId: number, outcomes: readonly SettlementOutcome[]): void {
    this.#root.transactionSync(() => {
      const ids = this.#inflight.get(batchId);
      if (ids === undefined) throw new Error(`batch ${batchId} is not in flight`);
      const byId = new Map(outcomes.map((o) => [o.tradeId, o]));
      const missing = ids.filter((tradeId) => !byId.has(tradeId));
      if (missing.length > 0) {
        throw new Error(`batch ${batchId}: no outcome for trade ${missing.slice(0, 5).join(', ')}`);
      }
      for (const tradeId of ids) {
        const record = this.#trades.get(tradeId)!;
        if (record.state === 'done') continue;
        this.#trades.putSync(tradeId, {
          ...record,
          state: 'done',
          batch: batchId,
          outcome: byId.get(tradeId)!,
        });
      }
      this.#inflight.removeSync(batchId);
    });
  }

  /** Instructions waiting for a batch. */
  queuedCount(): number {
    return this.#queued.getCount();
  }

  /** Where a trade stands, or undefined if the daemon never saw it. */
  state(tradeId: number): TradeState | undefined {
    return this.#trades.get(tradeId)?.state;
  }

  /** A finished trade's outcome. */
  outcome(tradeId: number): SettlementOutcome | undefined {
    return this.#trades.get(tradeId)?.outcome;
  }

  /** Trades per state (for metrics and tests). */
  counts(): Record<TradeState, number> {
    const counts = { queued: 0, inflight: 0, done: 0 };
    for (const { value } of this.#trades.getRange()) counts[value.state]++;
    return counts;
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

  /** Writes a ledger's record (undefined removes it), durably, in one transaction of its own. */
  setLedgerRecord(key: string, value: unknown): void {
    if (value === undefined) this.#ledger.removeSync(key);
    else this.#ledger.putSync(key, value);
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
