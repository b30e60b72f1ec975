/**
 * Errors of the journal: one string-literal code per kind of failure. All are permanent: a
 * journal that is damaged, out of step or opened with other settings does not get better by
 * trying again, and the exchange stops taking commands instead (`CodecError` and
 * `JournalCorruptError` are two of them, kept as classes for the callers that tell them apart).
 */
import { CodedError, errorMaker, type Retry } from '../common/index.ts';

const RETRY = {
  BAD_COMMAND: 'permanent', // a command or record the codec cannot encode or decode (`CodecError`)
  CORRUPT: 'permanent', // a journal file damaged before its last record (`JournalCorruptError`)
  GAP: 'permanent', // commands missing between the newest snapshot and the journal
  OUT_OF_STEP: 'permanent', // the engine and the journal (or a reader) disagree on a sequence
  BAD_CONFIG: 'permanent', // the folder's configuration is unreadable or does not match the settings
  SNAPSHOT_DAMAGED: 'permanent', // a snapshot file that does not read back (an older one is tried)
  CLOSED: 'permanent', // the journal was closed
  MISUSE: 'permanent', // a call the code should never make
} as const satisfies Record<string, Retry>;

export type JournalErrorCode = keyof typeof RETRY;

/** Makes a journal error. */
export const makeError = errorMaker<JournalErrorCode>(RETRY);

/** The base of the journal's error classes: a permanent error of `code`. */
export class JournalError extends CodedError<JournalErrorCode> {
  constructor(message: string, code: JournalErrorCode, options?: { cause?: unknown }) {
    super(message, code, RETRY[code], {}, options?.cause);
  }
}
