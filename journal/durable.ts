/**
 * The engine made durable. Each submitted command is sequenced and appended to the journal,
 * executed at once, and its events held back until the journal reports the command on disk:
 * only then are the events published (and a `submit` promise resolved). Held commands cost no
 * object each (journal/held.ts), and `submitNow` makes no promise: the subscribers are told, in
 * sequence order, once per group commit, with views of the pooled records (valid during the
 * call; `submit` resolves with copies). Nothing acknowledged can be
 * lost, and a crash loses only commands nobody heard back about. Opening recovers: the newest
 * valid snapshot, then the journal after it, replayed through the same engine code.
 */
import fs from 'node:fs';
import {
  type BookKind,
  type Command,
  Engine,
  eventToObject,
  keepEvent,
  type PublishedEvent,
} from '../engine/index.ts';
import { HeldCommands } from './held.ts';
import { settleConfig } from './config.ts';
import { FileJournal, type FileJournalOptions, listSegments } from './file-journal.ts';
import type {
  CommandLog,
  CommandLogFactory,
  CommandLogHooks,
  EventReader,
  EventSubscriber,
} from './ports.ts';
import { loadNewestSnapshot, pruneSnapshots, writeSnapshot } from './snapshots.ts';
import { makeError } from './errors.ts';
import { lineLogger, type Logger } from '../common/index.ts';

export interface DurableOptions {
  /** Folder of journal segments and snapshots (created if missing). */
  dir: string;
  book?: BookKind;
  /** Pre-trade risk on (default off); must match how the folder was first opened. */
  risk?: boolean;
  /** Snapshot after this many commands (0: only on demand; default 1,000,000). */
  snapshotEvery?: number;
  /** Snapshots kept; the journal is pruned below the oldest kept (default 2). */
  keepSnapshots?: number;
  journal?: Pick<FileJournalOptions, 'maxBatchBytes' | 'lingerMs' | 'segmentBytes'>;
  /** The command log to use instead of the file journal in `dir` (e.g. a distributed log). */
  commandLog?: CommandLogFactory;
  /** Recovery and snapshot notes (default: standard error). */
  log?: Logger;
  /**
   * Read models fed from the events (e.g. the trading history): each gets, at recovery, the
   * events of the commands after its durable position, then every durable command's events.
   */
  readers?: readonly EventReader[];
}

/** What a durable command produced. */
export interface CommandResult {
  seq: number;
  events: PublishedEvent[];
}

/** What recovery did. */
export interface RecoveryReport {
  snapshotSeq: number;
  replayed: number;
  lastSeq: number;
  stateHash: string;
}

interface Waiter {
  resolve: (r: CommandResult) => void;
  reject: (err: Error) => void;
}

export class DurableEngine {
  readonly engine: Engine;
  readonly journal: CommandLog;
  readonly recovery: RecoveryReport;
  #dir: string;
  #log: Logger;
  #every: number;
  #keep: number;
  #held = new HeldCommands();
  /** The `submit` calls waiting, by sequence. */
  #waiters = new Map<number, Waiter>();
  #subscribers: EventSubscriber[] = [];
  #failureHandlers: Array<(err: Error) => void> = [];
  #lastSnapshotSeq: number;
  #snapshotting: Promise<number> | null = null;
  #failed: Error | null = null;
  #readers: readonly EventReader[];

  private constructor(options: DurableOptions) {
    const { dir } = options;
    this.#dir = dir;
    this.#log = options.log ?? lineLogger((line) => process.stderr.write(`${line}\n`));
    this.#every = options.snapshotEvery ?? 1_000_000;
    this.#keep = Math.max(1, options.keepSnapshots ?? 2);
    fs.mkdirSync(dir, { recursive: true });
    const book = options.book ?? 'fast';
    const { risk } = settleConfig(dir, { risk: options.risk === true });
    this.#readers = options.readers ?? [];
    const from = this.#retained();
    const onDisk = options.commandLog ? 1 : (listSegments(dir)[0]?.firstSeq ?? 1);
    let snap = loadNewestSnapshot(dir, book, this.#log, from);
    if (snap === null && onDisk > 1 && from !== Infinity) {
      // The journal no longer reaches back to where a reader stands (it came after compaction).
      snap = loadNewestSnapshot(dir, book, this.#log);
      if (snap !== null) {
        this.#log.info(
          `readers: commands ${from + 1} to ${snap.seq} were compacted away; they start after ${snap.seq}`,
        );
      }
    }
    const base = snap?.seq ?? 0;
    const gap = (first: number) =>
      makeError(
        `the journal starts at ${first} but the newest valid snapshot covers only up to ${base}: ` +
          'commands in between are missing',
        'GAP',
      );
    // Checked before a file journal opens anything, so that a refused open leaves nothing open.
    const first = options.commandLog ? base + 1 : (listSegments(dir)[0]?.firstSeq ?? base + 1);
    if (first > base + 1) throw gap(first);
    const hooks: CommandLogHooks = {
      baseSeq: base,
      log: this.#log,
      onDurable: (seq) => this.#release(seq),
      onError: (err) => this.#fail(err),
    };
    this.journal = options.commandLog?.(dir, hooks) ?? new FileJournal(dir, { ...options.journal, ...hooks });
    if (this.journal.firstSeq > base + 1) {
      void this.journal.close();
      throw gap(this.journal.firstSeq);
    }
    this.engine = snap?.engine ?? new Engine({ book, risk });
    let replayed = 0;
    // Events are copied during replay only for the commands some reader has not made durable.
    let capture: PublishedEvent[] = [];
    const stop = this.engine.addListener({
      onEvent: (e) => {
        if (this.engine.commandSeq > from) capture.push(eventToObject(e));
      },
    });
    for (const { seq, command } of this.journal.recovered(base)) {
      capture = [];
      this.engine.execute(command);
      if (this.engine.commandSeq !== seq) {
        throw makeError(
          `replay out of step: journal sequence ${seq}, engine at ${this.engine.commandSeq}`,
          'OUT_OF_STEP',
        );
      }
      for (const r of this.#readers) if (seq > r.durableSeq) r.apply(seq, capture);
      replayed++;
    }
    stop();
    this.journal.releaseRecovered();
    for (const r of this.#readers) {
      if (r.durableSeq > this.engine.commandSeq) {
        void this.journal.close();
        throw makeError(
          `a reader of the events is at command ${r.durableSeq}, beyond the journal's last, ${this.engine.commandSeq}: it was built from another journal`,
          'OUT_OF_STEP',
        );
      }
    }
    this.#lastSnapshotSeq = base;
    this.recovery = {
      snapshotSeq: base,
      replayed,
      lastSeq: this.engine.commandSeq,
      stateHash: this.engine.stateHash(),
    };
    // The engine writes each command's events into the held records themselves.
    this.engine.recordEventsIn(this.#held);
    for (const r of this.#readers) this.onEvents((seq, events) => r.apply(seq, events));
  }

  /** Opens the durable engine in `options.dir`, recovering whatever is there. */
  static open(options: DurableOptions): DurableEngine {
    return new DurableEngine(options);
  }

  /**
   * Sequences, journals and executes a command. Resolves with its events once it is durable.
   * Rejects at once, having changed nothing, if the command cannot be journaled exactly.
   */
  submit(command: Command): Promise<CommandResult> {
    try {
      const seq = this.submitNow(command);
      return new Promise((resolve, reject) => this.#waiters.set(seq, { resolve, reject }));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sequences, journals and executes a command, and returns its sequence; its events reach the
   * subscribers (`onEvents`) once it is durable. A command that cannot be journaled (or an
   * engine that failed) throws here, synchronously, having changed nothing: a caller can tell a
   * refused command from a failure of the journal later on (`onFailure`).
   */
  submitNow(command: Command): number {
    if (this.#failed) throw this.#failed;
    const seq = this.journal.append(command);
    this.#held.begin(seq);
    this.engine.execute(command);
    if (this.engine.commandSeq !== seq) {
      this.#fail(makeError(`engine at ${this.engine.commandSeq}, journal at ${seq}`, 'OUT_OF_STEP'));
      throw this.#failed!;
    }
    if (this.#every > 0 && seq - this.#lastSnapshotSeq >= this.#every && this.#snapshotting === null) {
      this.snapshot().catch((err: Error) => this.#log.warn({ err }, `snapshot: failed: ${err.message}`));
    }
    return seq;
  }

  /** Told once if the journal fails: no command is accepted after that. */
  onFailure(handler: (err: Error) => void): void {
    this.#failureHandlers.push(handler);
  }

  /** Receives every durable command's events, in sequence order. */
  onEvents(subscriber: EventSubscriber): void {
    this.#subscribers.push(subscriber);
  }

  /**
   * Snapshots the state now (at the last sequence), once the journal holds it, then prunes
   * older snapshots and the journal segments below the oldest one kept. A reader's durable
   * position holds the pruning back: the newest snapshot at or before it, and the journal after
   * that snapshot, stay. Resolves with its seq.
   */
  snapshot(): Promise<number> {
    if (this.#snapshotting) return this.#snapshotting;
    const seq = this.engine.commandSeq;
    const state = this.engine.snapshot();
    const hash = this.engine.stateHash();
    this.#snapshotting = this.journal
      .flush()
      .then(() => {
        writeSnapshot(this.#dir, seq, state, hash);
        this.#lastSnapshotSeq = seq;
        const retain = this.#retained();
        const kept = pruneSnapshots(this.#dir, this.#keep, retain);
        // With no snapshot at or before a reader's position yet, replay starts from nothing.
        const anchor = kept.find((s) => s.seq <= retain);
        this.journal.prune(anchor === undefined ? 0 : kept.at(-1)!.seq);
        return seq;
      })
      .finally(() => {
        this.#snapshotting = null;
      });
    return this.#snapshotting;
  }

  /** Waits for every submitted command to be durable and answered, and any snapshot to finish. */
  async flush(): Promise<void> {
    await this.journal.flush();
    if (this.#snapshotting) await this.#snapshotting;
  }

  /** Flushes and closes the journal. */
  async close(): Promise<void> {
    await this.flush();
    await this.journal.close();
  }

  /** The lowest durable position of the readers (Infinity with none): what must stay replayable. */
  #retained(): number {
    return this.#readers.reduce((low, r) => Math.min(low, r.durableSeq), Infinity);
  }

  /** Publishes every command up to `seq`, now durable, and answers its `submit` if any. */
  #release(seq: number): void {
    this.#held.release(seq, this.#publish);
  }

  #publish = (seq: number, events: readonly PublishedEvent[]): void => {
    for (const s of this.#subscribers) {
      try {
        s(seq, events);
      } catch (err) {
        this.#log.error({ err, seq }, `events: a subscriber failed: ${(err as Error).message}`);
      }
    }
    if (this.#waiters.size === 0) return;
    const waiter = this.#waiters.get(seq);
    if (waiter === undefined) return;
    this.#waiters.delete(seq);
    waiter.resolve({ seq, events: events.map(keepEvent) });
  };

  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = err;
    this.#log.error({ err }, `journal: ${err.message}; no further commands are accepted`);
    this.#held.clear();
    for (const w of this.#waiters.values()) w.reject(err);
    this.#waiters.clear();
    for (const handler of this.#failureHandlers) handler(err);
  }
}
