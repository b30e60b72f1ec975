/**
 * The two ports of the durable engine. The embedded default is the file journal and in-process
 * subscribers; a distributed log (one stream for commands, one for events) can take their
 * place behind the same calls without touching the engine.
 */
import type { Command, PublishedEvent } from '../engine/index.ts';
import type { JournalEntry } from './file-journal.ts';
import type { Logger } from '../common/index.ts';

/** Where commands are made durable, in sequence. */
export interface CommandLog {
  /** Sequence of the last command appended. */
  readonly lastSeq: number;
  /** Highest sequence known to be durable. */
  readonly durableSeq: number;
  /** First sequence the log still holds (lastSeq + 1 when it holds none). */
  readonly firstSeq: number;
  /** Appends a command as `lastSeq + 1` and returns that sequence; throws, changing nothing, if it cannot. */
  append(command: Command): number;
  /** Resolves once everything appended so far is durable. */
  flush(): Promise<void>;
  /** The commands found at open with sequence > `after`, in order (for recovery). */
  recovered(after: number): Iterable<JournalEntry>;
  /** Drops what was kept for recovery. */
  releaseRecovered(): void;
  /** Forgets commands up to `seq` (a snapshot covers them); returns what it removed. */
  prune(seq: number): string[];
  close(): Promise<void>;
}

/** How a log reports back to the durable engine. */
export interface CommandLogHooks {
  /** Everything up to `seq` is durable. */
  onDurable(seq: number): void;
  /** The log failed and accepts nothing more. */
  onError(err: Error): void;
  /** Recovery notes. */
  log: Logger;
  /** The sequence a snapshot covers: with nothing held, numbering continues after it. */
  baseSeq: number;
}

/** Opens the command log of a durable engine. */
export type CommandLogFactory = (dir: string, hooks: CommandLogHooks) => CommandLog;

/**
 * A read model built from the durable events (the trading history) that keeps its own durable
 * position. Recovery hands it the events of every command after that position, replayed from a
 * snapshot at or before it, and compaction keeps the snapshot and the journal that replay needs:
 * a crash between a snapshot and the reader's own commit loses nothing.
 */
export interface EventReader {
  /** The last command whose events it holds durably (0: none). */
  readonly durableSeq: number;
  /**
   * Takes one durable command's events: in sequence order, each command once per process. The
   * events are valid during the call only (see `EventSubscriber`).
   */
  apply(seq: number, events: readonly PublishedEvent[]): void;
}

/**
 * Receives each durable command's events, in sequence order. They are views of pooled records,
 * valid during the call only: a subscriber that keeps an event keeps `keepEvent(e)`.
 */
export type EventSubscriber = (seq: number, events: readonly PublishedEvent[]) => void;
