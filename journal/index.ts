/**
 * journal/: durability for the engine. A write-ahead command journal on local disk (binary
 * records with CRC32, group commit, segments), snapshots, recovery, and `DurableEngine`, which
 * answers a command only once it is on disk. The engine itself stays pure; a distributed log can
 * take the journal's place behind the same calls. `journalCommand` is `mosaic journal`: verify,
 * replay or inspect a journal folder without changing it.
 */
export { JOURNAL_USAGE, journalCommand, UsageError } from './cli.ts';
export {
  CodecError,
  checkFormatVersion,
  COMMAND_TAGS,
  decodeCommand,
  encodeCommand,
  FORMAT_VERSION,
  FormatVersionError,
  MAX_COMMAND_BYTES,
  ORDER_TYPE_TAGS,
  SIDE_TAGS,
  LEG_STATE_TAGS,
  LEG_TAGS,
  STATUS_TAGS,
  STP_TAGS,
  TIF_TAGS,
} from './codec.ts';
export type { PublishedEvent } from '../engine/index.ts';
export { EventBatchWriter, readEventBatch } from './event-codec.ts';
export { type CommandResult, DurableEngine, type DurableOptions } from './durable.ts';
export {
  FileJournal,
  type FileJournalOptions,
  JournalCorruptError,
  type JournalEntry,
  listSegments,
  scanJournal,
} from './file-journal.ts';
export { decodeSnapshot, encodeSnapshot, listSnapshots, readSnapshot, writeSnapshot } from './snapshots.ts';
export type { CommandLog, CommandLogHooks, EventReader, EventSubscriber } from './ports.ts';
