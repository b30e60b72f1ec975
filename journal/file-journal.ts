/**
 * The write-ahead command journal on local disk: segment files named by their first sequence
 * number, appended with group commit. Commands accumulate in memory while the previous batch is
 * being written and fsynced; each batch is one write and one fdatasync, and `onDurable(seq)`
 * reports the highest sequence on disk. A batch is cut at `maxBatchBytes`; `lingerMs` may hold a
 * batch open briefly to grow it. Segments rotate at `segmentBytes` and are pruned below a
 * snapshot. Each segment holds one format version, named in its header: appends go on in the last
 * segment only when it is in the current version, else into a new one.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from '../engine/index.ts';
import {
  checkFormatVersion,
  decodeCommand,
  encodeCommand,
  FORMAT_VERSION,
  MAX_COMMAND_BYTES,
} from './codec.ts';
import type { CommandLog } from './ports.ts';
import {
  HEADER_BYTES,
  type RecordRef,
  SEGMENT_HEADER_BYTES,
  type SegmentScan,
  SEQ_BYTES,
  scanSegment,
  sealRecord,
  segmentHeader,
} from './records.ts';
import { JournalError, makeError } from './errors.ts';
import { lineLogger, type Logger } from '../common/index.ts';

const SEGMENT = /^(\d{20})\.wal$/;

export interface FileJournalOptions {
  /** The sequence a snapshot covers: with no segment on disk, numbering continues after it. */
  baseSeq?: number;
  /** Cut a batch at this many bytes (default 1 MiB). */
  maxBatchBytes?: number;
  /** Hold a batch open up to this long for more commands (default 0: write as soon as possible). */
  lingerMs?: number;
  /** Start a new segment once the current one reaches this size (default 64 MiB). */
  segmentBytes?: number;
  /** Called with the highest durable sequence after each batch. */
  onDurable?: (seq: number) => void;
  /** Called once when a write or fsync fails: the journal stops accepting commands. */
  onError?: (err: Error) => void;
  /** Where recovery notes go (default: standard error). */
  log?: Logger;
}

/** A sequenced command read back from the journal. */
export interface JournalEntry {
  seq: number;
  command: Command;
}

export class JournalCorruptError extends JournalError {
  override name = 'JournalCorruptError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CORRUPT', options);
  }
}

export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, '0')}.wal`;
}

/** Segment files of a directory, by first sequence. */
export function listSegments(dir: string): Array<{ file: string; firstSeq: number }> {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((f) => SEGMENT.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: path.join(dir, m[0]), firstSeq: Number(m[1]) }))
    .sort((a, b) => a.firstSeq - b.firstSeq);
}

/**
 * Scans every segment of `dir`; throws JournalCorruptError on corruption and FormatVersionError
 * on a segment in a format version this release does not know; reports a torn tail.
 */
export function scanJournal(dir: string): {
  segments: Array<{ file: string; firstSeq: number; buf: Buffer; scan: SegmentScan }>;
  lastSeq: number;
} {
  const segments = listSegments(dir).map((s) => ({
    ...s,
    buf: fs.readFileSync(s.file),
    scan: undefined as unknown as SegmentScan,
  }));
  let lastSeq = 0;
  segments.forEach((s, i) => {
    if (lastSeq !== 0 && s.firstSeq !== lastSeq + 1) {
      throw new JournalCorruptError(
        `${path.basename(s.file)} starts at ${s.firstSeq}, but the journal before it ends at ${lastSeq}`,
      );
    }
    s.scan = scanSegment(s.buf, s.firstSeq);
    if (s.scan.version !== null) checkFormatVersion(s.scan.version, `${s.file} (header, byte 4)`);
    const stop = s.scan.stop;
    const last = i === segments.length - 1;
    if (stop !== null && (stop.kind === 'corrupt' || !last)) {
      throw new JournalCorruptError(
        `${path.basename(s.file)} is corrupt at byte ${stop.at}: ${stop.why}; recovery stops here rather than skip records`,
      );
    }
    const n = s.scan.records.length;
    if (n > 0) lastSeq = s.scan.records[n - 1]!.seq;
    else if (lastSeq === 0) lastSeq = s.firstSeq - 1;
  });
  return { segments, lastSeq };
}

/** Decodes the entries of a scanned segment with seq > `after`. */
export function* entries(buf: Buffer, records: RecordRef[], after: number): Generator<JournalEntry> {
  for (const r of records)
    if (r.seq > after) yield { seq: r.seq, command: decodeCommand(buf, r.start, r.end) };
}

export class FileJournal implements CommandLog {
  readonly dir: string;
  #opts: Required<Omit<FileJournalOptions, 'onDurable' | 'onError' | 'baseSeq'>> &
    Pick<FileJournalOptions, 'onDurable' | 'onError'>;
  #fd = -1;
  #segmentSize = 0;
  /** Commands appended, not yet handed to a write. */
  #pending: Buffer;
  #pendingBytes = 0;
  /** The batch being written. */
  #spare: Buffer;
  #lastSeq: number;
  /** Sequence of the first command in the pending batch. */
  #batchFirstSeq = 0;
  #durableSeq: number;
  #writing = false;
  #timer: NodeJS.Immediate | NodeJS.Timeout | null = null;
  /** Whether `#timer` is a linger timeout (rather than an immediate). */
  #lingering = false;
  #failed: Error | null = null;
  #closed = false;
  /** Callers of `flush` waiting for a sequence to be durable. */
  #waiting: Array<{ seq: number; resolve: () => void; reject: (err: Error) => void }> = [];
  /** Segments read at open, kept for replay until `releaseRecovered`. */
  #recovered: ReturnType<typeof scanJournal>['segments'] = [];
  /** Statistics: batches written (one fdatasync each) and bytes written. */
  readonly stats = { batches: 0, bytes: 0, records: 0 };

  /**
   * Opens (creating if needed) the journal in `dir`, cutting off a torn tail, and positions it
   * to append after the last valid record. Throws JournalCorruptError on corruption.
   */
  constructor(dir: string, options: FileJournalOptions = {}) {
    this.dir = dir;
    this.#opts = {
      maxBatchBytes: options.maxBatchBytes ?? 1024 * 1024,
      lingerMs: options.lingerMs ?? 0,
      segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
      log: options.log ?? lineLogger((line) => process.stderr.write(`${line}\n`)),
      onDurable: options.onDurable,
      onError: options.onError,
    };
    fs.mkdirSync(dir, { recursive: true });
    const { segments, lastSeq } = scanJournal(dir);
    this.#recovered = segments;
    const last = segments.at(-1);
    if (last?.scan.stop) {
      const { at, why } = last.scan.stop;
      this.#opts.log.warn(
        { file: last.file, at, why },
        `journal: ${path.basename(last.file)} has a torn tail at byte ${at} (${why}); cutting ${last.buf.length - at} bytes`,
      );
      fs.truncateSync(last.file, at);
    }
    const base = options.baseSeq ?? 0;
    if (segments.length > 0 && lastSeq < base) {
      throw new JournalCorruptError(`the journal ends at ${lastSeq}, before the snapshot's sequence ${base}`);
    }
    this.#lastSeq = Math.max(lastSeq, base);
    this.#durableSeq = this.#lastSeq;
    this.#pending = Buffer.allocUnsafe(
      this.#opts.maxBatchBytes + MAX_COMMAND_BYTES + HEADER_BYTES + SEQ_BYTES,
    );
    this.#spare = Buffer.allocUnsafe(this.#pending.length);
    // A segment without a header (written before headers, or cut to nothing) gets no more
    // records: the next write starts a segment with one (reusing the name of an empty one).
    if (last?.scan.version === FORMAT_VERSION) {
      this.#fd = fs.openSync(last.file, 'a');
      this.#segmentSize = last.scan.validEnd;
    }
  }

  /** Sequence of the first command on disk at open (lastSeq + 1 when there was none). */
  get firstSeq(): number {
    return this.#recovered[0]?.firstSeq ?? this.#lastSeq + 1;
  }

  /** The commands found on disk at open with sequence > `after`, in order. */
  *recovered(after: number): Generator<JournalEntry> {
    for (const s of this.#recovered) yield* entries(s.buf, s.scan.records, after);
  }

  /** Drops the segments read at open (after replay). */
  releaseRecovered(): void {
    this.#recovered = [];
  }

  /** Sequence of the last command appended. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Highest sequence known to be on disk. */
  get durableSeq(): number {
    return this.#durableSeq;
  }

  /**
   * Appends a command as sequence `lastSeq + 1`, returning that sequence. Throws CodecError,
   * before anything is written, for a command that cannot be journaled exactly.
   */
  append(command: Command): number {
    if (this.#failed) throw this.#failed;
    if (this.#closed) throw makeError('the journal is closed', 'CLOSED');
    const seq = this.#lastSeq + 1;
    const at = this.#pendingBytes;
    if (at + HEADER_BYTES + SEQ_BYTES + MAX_COMMAND_BYTES > this.#pending.length) this.#grow();
    const buf = this.#pending;
    buf.writeDoubleLE(seq, at + HEADER_BYTES);
    const end = encodeCommand(command, buf, at + HEADER_BYTES + SEQ_BYTES);
    sealRecord(buf, at, end);
    if (at === 0) this.#batchFirstSeq = seq;
    this.#pendingBytes = end;
    this.#lastSeq = seq;
    this.stats.records++;
    this.#schedule();
    return seq;
  }

  /** Bytes appended and not yet handed to a write: a caller can hold back while this is large. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Resolves once every command appended so far is durable. */
  flush(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const seq = this.#lastSeq;
    if (this.#durableSeq >= seq) return Promise.resolve();
    if (this.#lingering) this.#schedule(true);
    return new Promise((resolve, reject) => this.#waiting.push({ seq, resolve, reject }));
  }

  /** Flushes and closes the current segment. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
  }

  /** Deletes segments that hold only sequences <= `seq` (they are covered by a snapshot). */
  prune(seq: number): string[] {
    const segments = listSegments(this.dir);
    const gone: string[] = [];
    for (let i = 0; i + 1 < segments.length; i++) {
      if (segments[i + 1]!.firstSeq - 1 > seq) break;
      fs.unlinkSync(segments[i]!.file);
      gone.push(segments[i]!.file);
    }
    if (gone.length > 0) syncDir(this.dir);
    return gone;
  }

  /** Arranges the next write: at once (`now`, a full batch, or no linger), else after the linger. */
  #schedule(now = false): void {
    now ||= this.#pendingBytes >= this.#opts.maxBatchBytes || this.#opts.lingerMs === 0;
    if (now && this.#lingering) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      this.#timer = null;
      this.#lingering = false;
    }
    if (this.#writing || this.#timer !== null) return;
    const write = () => {
      this.#timer = null;
      this.#lingering = false;
      this.#write();
    };
    this.#lingering = !now;
    this.#timer = now ? setImmediate(write) : setTimeout(write, this.#opts.lingerMs);
  }

  #write(): void {
    if (this.#pendingBytes === 0 || this.#writing) return;
    const batch = this.#pending;
    const pending = this.#pendingBytes;
    // Cut the batch after the record that reaches maxBatchBytes; the rest waits for the next.
    let bytes = 0;
    let last = 0;
    while (bytes < pending && bytes < this.#opts.maxBatchBytes) {
      last = bytes;
      bytes += HEADER_BYTES + batch.readUInt32LE(bytes);
    }
    const seq = batch.readDoubleLE(last + HEADER_BYTES);
    const firstSeq = this.#batchFirstSeq;
    this.#pending = this.#spare.length >= batch.length ? this.#spare : Buffer.allocUnsafe(batch.length);
    this.#spare = batch;
    this.#pendingBytes = pending - bytes;
    if (this.#pendingBytes > 0) {
      batch.copy(this.#pending, 0, bytes, pending);
      this.#batchFirstSeq = seq + 1;
    }
    this.#writing = true;
    try {
      if (this.#fd < 0 || this.#segmentSize >= this.#opts.segmentBytes) this.#rotate(firstSeq);
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    writeAll(this.#fd, batch, bytes, (err) => {
      if (err) return this.#fail(err);
      fs.fdatasync(this.#fd, (err2) => {
        if (err2) return this.#fail(err2);
        this.#writing = false;
        this.#segmentSize += bytes;
        this.#durableSeq = seq;
        this.stats.batches++;
        this.stats.bytes += bytes;
        this.#opts.onDurable?.(seq);
        if (this.#waiting.length > 0) {
          const done = this.#waiting.filter((w) => w.seq <= seq);
          this.#waiting = this.#waiting.filter((w) => w.seq > seq);
          for (const w of done) w.resolve();
        }
        // What a cut left behind, or what came in meanwhile, has waited long enough.
        if (this.#pendingBytes > 0) this.#schedule(true);
      });
    });
  }

  /**
   * Closes the current segment and starts one whose first record is `firstSeq`, with its header
   * (made durable by the batch's fdatasync; a crash before leaves a header cut short: a torn tail).
   */
  #rotate(firstSeq: number): void {
    if (this.#fd >= 0) {
      fs.fsyncSync(this.#fd);
      fs.closeSync(this.#fd);
    }
    this.#fd = fs.openSync(path.join(this.dir, segmentName(firstSeq)), 'a');
    fs.writeSync(this.#fd, segmentHeader());
    this.#segmentSize = SEGMENT_HEADER_BYTES;
    this.stats.bytes += SEGMENT_HEADER_BYTES;
    syncDir(this.dir);
  }

  /** Doubles the pending buffer (a write is slow and commands keep coming). */
  #grow(): void {
    const bigger = Buffer.allocUnsafe(this.#pending.length * 2);
    this.#pending.copy(bigger, 0, 0, this.#pendingBytes);
    this.#pending = bigger;
  }

  #fail(err: Error): void {
    this.#failed = err;
    this.#writing = false;
    for (const w of this.#waiting.splice(0)) w.reject(err);
    this.#opts.onError?.(err);
  }
}

function writeAll(fd: number, buf: Buffer, bytes: number, done: (err: Error | null) => void, from = 0): void {
  fs.write(fd, buf, from, bytes - from, null, (err, written) => {
    if (err) return done(err);
    if (from + written < bytes) writeAll(fd, buf, bytes, done, from + written);
    else done(null);
  });
}

/** fsync a directory, so that a created, renamed or deleted entry is durable. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
