/**
 * Ledger changes (deposits, an account's standing) into the engine, each exactly
 * once, without the engine having to remember ledger references. How depends on where the
 * engine is, so it is a `ChangeSink`: `localChanges` for an engine in this process (below), the
 * cluster's for a shard across NATS. The watcher reads the ledger from its checkpoint, which
 * moves only after the changes before it are sent; the sink skips what was sent before.
 */
import { Backoff, lineLogger, type Logger, permanentCause } from '../common/index.ts';
import type { DepositCommand, SetAccountCommand } from '../engine/index.ts';
import { makeError } from './errors.ts';
import type { LedgerChange } from './ledger.ts';
import type { Progress } from './progress.ts';

export type ChangeCommand = Omit<DepositCommand, 'ts'> | Omit<SetAccountCommand, 'ts'>;

/** How ledger changes reach the engine, each exactly once. */
export interface ChangeSink {
  /**
   * At start, before any change is sent: settles what a crash left open. Returns how many
   * changes recorded as sent will be read from the ledger and sent again.
   */
  reconcile(progress: Progress): Promise<number>;
  /** Sends a change unless it was sent before; resolves whether it was sent now. */
  apply(change: LedgerChange, progress: Progress): Promise<boolean>;
}

/**
 * The sink of an engine in this process. Before a change is sent, the progress store records
 * the command sequence it will get (the next one: sending is synchronous, so nothing can come
 * between). `reconcile`, run on the recovered engine before it takes any new command, forgets
 * the changes recorded beyond the sequence it recovered (the crash lost them).
 */
export function localChanges(engine: {
  /** The engine's last command sequence. */
  lastSeq(): number;
  /** Sends a command to the engine; returns its sequence. */
  send(command: ChangeCommand): number;
}): ChangeSink {
  return {
    // Both run synchronously up to their return: nothing can reach the engine in between.
    async reconcile(progress) {
      return progress.forgetChangesAfter(engine.lastSeq());
    },
    async apply(change, progress) {
      if (progress.changeSeq(change.ref) !== undefined) return false;
      const next = engine.lastSeq() + 1;
      progress.recordChange(change.ref, next);
      const sent = engine.send(changeCommand(change));
      if (sent !== next)
        throw makeError(
          `change ${change.ref}: expected command ${next}, the engine gave ${sent}`,
          'BAD_PROGRESS',
          { ref: change.ref, expected: next, got: sent },
        );
      return true;
    },
  };
}

/** The engine command a ledger change becomes. */
export function changeCommand(change: LedgerChange): ChangeCommand {
  switch (change.kind) {
    case 'deposit':
      return { type: 'deposit', account: change.account, asset: change.asset, amount: change.amount };
    case 'standing': {
      const c: Omit<SetAccountCommand, 'ts'> = {
        type: 'set-account',
        account: change.account,
        venue: change.venue,
      };
      if (change.eligible !== undefined) c.eligible = change.eligible;
      if (change.frozen !== undefined) c.frozen = change.frozen;
      return c;
    }
  }
}

/**
 * Where ledger changes come from: everything after a checkpoint (null: from the start), final.
 * A ledger of blocks writes its checkpoints with `blockCheckpoint` (the last block read and its
 * hash), so that a start can see whether the ledger still has that block (`checkLedgerKept`).
 */
export interface ChangeSource {
  readonly venue: string;
  poll(after: string | null): Promise<{ changes: LedgerChange[]; checkpoint: string }>;
}

/** A block as a change checkpoint names it; `hash` null in one written before hashes were kept. */
export interface BlockCheckpoint {
  block: number;
  hash: string | null;
}

/** The checkpoint of a ledger of blocks: `N:hash`. */
export function blockCheckpoint(block: number | bigint, hash: string): string {
  return `${block}:${hash}`;
}

/** The block a checkpoint names (null for none); the number alone is an older checkpoint. */
export function readBlockCheckpoint(checkpoint: string | null): BlockCheckpoint | null {
  if (checkpoint === null) return null;
  const at = checkpoint.indexOf(':');
  return at < 0
    ? { block: Number(checkpoint), hash: null }
    : { block: Number(checkpoint.slice(0, at)), hash: checkpoint.slice(at + 1) };
}

/** The name of a venue's change checkpoint in the daemon's progress. */
export function changesCheckpoint(venue: string): string {
  return `changes:${venue}`;
}

/**
 * Polls a ledger for changes and applies each to the engine once; the checkpoint moves only
 * after the changes before it are applied, so a crash at any point reads them again (and skips
 * those already applied).
 */
export class ChangeWatcher {
  #source: ChangeSource;
  #progress: Progress;
  #sink: ChangeSink;
  #pollMs: number;
  #log: Logger;
  #onFailure: ((err: Error) => void) | undefined;
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #stopped = false;
  applied = 0;

  constructor(options: {
    source: ChangeSource;
    progress: Progress;
    sink: ChangeSink;
    pollMs?: number;
    log?: Logger;
    /** Told when a poll fails for good (a permanent error): the watcher has stopped. */
    onFailure?: (err: Error) => void;
  }) {
    this.#source = options.source;
    this.#progress = options.progress;
    this.#sink = options.sink;
    this.#pollMs = options.pollMs ?? 500;
    this.#log = options.log ?? lineLogger((line) => process.stderr.write(`${line}\n`));
    this.#onFailure = options.onFailure;
  }

  /** One poll: applies what is new and moves the checkpoint. */
  async poll(): Promise<number> {
    const name = changesCheckpoint(this.#source.venue);
    const { changes, checkpoint } = await this.#source.poll(this.#progress.checkpoint(name));
    let n = 0;
    for (const change of changes) if (await this.#sink.apply(change, this.#progress)) n++;
    this.#progress.setCheckpoint(name, checkpoint);
    this.applied += n;
    return n;
  }

  /**
   * Polls every `pollMs`; after a failure, waits longer each time (backoff up to 30 s), logging
   * once per change of error. A permanent failure stops it (`onFailure`).
   */
  start(): void {
    const venue = this.#source.venue;
    const backoff = new Backoff({ initialMs: 2 * this.#pollMs, capMs: Math.max(30_000, 2 * this.#pollMs) });
    let wait = this.#pollMs;
    let lastError = '';
    const tick = () => {
      this.#polling = this.poll()
        .then(
          () => {
            if (lastError !== '')
              this.#log.info({ venue }, `${venue}: polling for ledger changes works again`);
            lastError = '';
            backoff.reset();
            wait = this.#pollMs;
          },
          (err: Error) => {
            if (permanentCause(err) !== null) {
              this.#stopped = true;
              this.#log.error({ venue, err }, `${venue}: polling for ledger changes stopped: ${err.message}`);
              this.#onFailure?.(err);
              return;
            }
            if (err.message !== lastError) {
              this.#log.warn(
                { venue, err },
                `${venue}: polling for ledger changes failed: ${err.message}; retrying`,
              );
            }
            lastError = err.message;
            wait = backoff.next();
          },
        )
        .finally(() => {
          this.#polling = null;
          if (!this.#stopped) this.#timer = setTimeout(tick, wait);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#polling;
  }
}
