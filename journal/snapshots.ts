/**
 * Snapshot files: a one-line JSON header (sequence, state hash, body length, body CRC32) and the
 * engine state as JSON. Written atomically: a temporary file, fsync, rename, fsync of the
 * folder. Loading takes the newest snapshot that is whole, restores it and checks its state
 * hash; a damaged one is reported and an older one tried.
 */
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { type BookKind, Engine, type EngineSnapshot } from '../engine/index.ts';
import { syncDir } from './file-journal.ts';
import { makeError } from './errors.ts';
import type { Logger } from '../common/index.ts';

const FILE = /^(\d{20})\.snap$/;
const FORMAT = 'mosaic-snapshot';

interface Header {
  format: typeof FORMAT;
  version: 1;
  seq: number;
  stateHash: string;
  bodyBytes: number;
  crc32: number;
}

export function listSnapshots(dir: string): Array<{ file: string; seq: number }> {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((f) => FILE.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: path.join(dir, m[0]), seq: Number(m[1]) }))
    .sort((a, b) => b.seq - a.seq);
}

/** A snapshot as bytes: the header line, then the state (the file's content; also what a shared store keeps). */
export function encodeSnapshot(seq: number, state: EngineSnapshot, stateHash: string): Buffer {
  const body = Buffer.from(JSON.stringify(state));
  const header: Header = {
    format: FORMAT,
    version: 1,
    seq,
    stateHash,
    bodyBytes: body.length,
    crc32: crc32(body),
  };
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]);
}

/** Writes a snapshot of the state at `seq` atomically; returns its path. */
export function writeSnapshot(dir: string, seq: number, state: EngineSnapshot, stateHash: string): string {
  const file = path.join(dir, `${String(seq).padStart(20, '0')}.snap`);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, encodeSnapshot(seq, state, stateHash));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncDir(dir);
  return file;
}

/** Reads and checks one snapshot file; throws an Error saying what is wrong with it. */
export function readSnapshot(file: string, book: BookKind = 'fast'): { seq: number; engine: Engine } {
  return decodeSnapshot(fs.readFileSync(file), book);
}

/** Checks and restores a snapshot's bytes; throws an Error saying what is wrong with them. */
export function decodeSnapshot(buf: Buffer, book: BookKind = 'fast'): { seq: number; engine: Engine } {
  const nl = buf.indexOf(10);
  if (nl < 0) throw makeError('no header line', 'SNAPSHOT_DAMAGED');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 0, nl)) as Header;
  } catch {
    throw makeError('the header is not JSON', 'SNAPSHOT_DAMAGED');
  }
  if (header.format !== FORMAT || header.version !== 1)
    throw makeError('not a version 1 Mosaic snapshot', 'SNAPSHOT_DAMAGED');
  const body = buf.subarray(nl + 1);
  if (body.length !== header.bodyBytes)
    throw makeError(`body is ${body.length} bytes, the header says ${header.bodyBytes}`, 'SNAPSHOT_DAMAGED');
  if (crc32(body) !== header.crc32) throw makeError('body checksum does not match', 'SNAPSHOT_DAMAGED');
  const engine = Engine.fromSnapshot(JSON.parse(body.toString('utf8')) as EngineSnapshot, { book });
  if (engine.commandSeq !== header.seq)
    throw makeError(`state is at ${engine.commandSeq}, the header says ${header.seq}`, 'SNAPSHOT_DAMAGED');
  if (engine.stateHash() !== header.stateHash)
    throw makeError('restored state hash differs from the recorded one', 'SNAPSHOT_DAMAGED');
  return { seq: header.seq, engine };
}

/**
 * The newest valid snapshot at or before `atMost`, or null when there is none; damaged ones are
 * logged and skipped.
 */
export function loadNewestSnapshot(
  dir: string,
  book: BookKind,
  log: Logger,
  atMost = Infinity,
): { seq: number; engine: Engine; file: string } | null {
  for (const { file, seq } of listSnapshots(dir)) {
    if (seq > atMost) continue;
    try {
      return { ...readSnapshot(file, book), file };
    } catch (err) {
      log.warn(
        { file, err },
        `snapshot: ${path.basename(file)} is damaged (${(err as Error).message}); trying an older one`,
      );
    }
  }
  return null;
}

/**
 * Deletes all but the newest `keep` snapshots, the newest one at or before `retain` (what a
 * reader of the events still needs to start from) and the oldest one after it (what it will
 * start from once its position passes that one: a reader whose position lags the engine by more
 * than a snapshot's worth of commands would otherwise never have one at or before it, and the
 * journal would never be compacted), and stray temporary files. Returns the snapshots kept,
 * newest first.
 */
export function pruneSnapshots(
  dir: string,
  keep: number,
  retain = Infinity,
): Array<{ file: string; seq: number }> {
  const all = listSnapshots(dir);
  const anchor = all.find((s) => s.seq <= retain);
  const next = all.findLast((s) => s.seq > retain);
  const kept = all.filter((s, i) => i < keep || s === anchor || s === next);
  for (const s of all) if (!kept.includes(s)) fs.unlinkSync(s.file);
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.snap.tmp')) fs.unlinkSync(path.join(dir, f));
  return kept;
}
