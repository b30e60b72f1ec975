/**
 * journal/: durability for the engine. A write-ahead command journal on local disk (binary
 * records with CRC32, group commit, segments), snapshots, recovery, and `DurableEngine`, which
 * answers a command only once it is on disk. The engine itself stays pure; a distributed log can
 * take the journal's place behind the same calls.
 */
export { CodecError, decodeCommand, encodeCommand, MAX_COMMAND_BYTES } from './codec.ts';
export {
  type CommandResult,
  DurableEngine,
  type DurableOptions,
  type PublishedEvent,
  type RecoveryReport,
} from './durable.ts';
export {
  FileJournal,
  type FileJournalOptions,
  JournalCorruptError,
  type JournalEntry,
  listSegments,
  scanJournal,
} from './file-journal.ts';
export {
  decodeSnapshot,
  encodeSnapshot,
  listSnapshots,
  loadNewestSnapshot,
  readSnapshot,
  writeSnapshot,
} from './snapshots.ts';
export type {
  CommandLog,
  CommandLogFactory,
  CommandLogHooks,
  EventReader,
  EventSubscriber,
} from './ports.ts';
