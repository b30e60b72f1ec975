/**
 * `mosaic journal verify|replay|inspect DIR`: look at a journal folder without changing it.
 * - verify: every segment's records (length, CRC32, sequence continuity, decodable command)
 *   and every snapshot (whole, restorable, state hash as recorded);
 * - replay: rebuild the state from nothing (or `--from-snapshot`) and print its state hash,
 *   and with `--events` every event as one JSON line;
 * - inspect: print the journaled commands as JSON lines (`--from SEQ`, `--limit N`).
 * Exit code 0 when the folder is sound, 1 when it is not, 2 for a usage error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, eventToObject } from '../engine/index.ts';
import { entries, scanJournal } from './file-journal.ts';
import { type JournalConfig, readConfig } from './config.ts';
import { listSnapshots, loadNewestSnapshot, readSnapshot } from './snapshots.ts';
import { lineLogger } from '../common/index.ts';

export const JOURNAL_USAGE = `usage: mosaic journal verify DIR
       mosaic journal replay DIR [--from-snapshot] [--events]
       mosaic journal inspect DIR [--from SEQ] [--limit N]`;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Runs a journal subcommand; returns the exit code. */
export function journalCommand(argv: string[], out: (line: string) => void): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [action, dir, ...rest] = parsed.positionals;
  if (action === undefined || dir === undefined) throw new UsageError('name an action and a journal folder');
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const number = (name: 'from' | 'limit', fallback: number) => {
    const text = parsed.values[name];
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got "${text}"`);
    return Number(text);
  };
  switch (action) {
    case 'verify':
      return verify(dir, out);
    case 'replay':
      return replay(dir, parsed.values['from-snapshot'] === true, parsed.values.events === true, out);
    case 'inspect':
      return inspect(dir, number('from', 1), number('limit', Number.MAX_SAFE_INTEGER), out);
    default:
      throw new UsageError(`unknown action "${action}": verify, replay or inspect`);
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      'from-snapshot': { type: 'boolean' },
      events: { type: 'boolean' },
      from: { type: 'string' },
      limit: { type: 'string' },
    },
    allowPositionals: true,
  });
}

/** Scans the journal, or prints why it cannot be read and returns null. */
function scan(dir: string, out: (line: string) => void) {
  try {
    return scanJournal(dir);
  } catch (err) {
    out(`corrupt: ${(err as Error).message}`);
    return null;
  }
}

function verify(dir: string, out: (line: string) => void): number {
  let ok = true;
  const scanned = scan(dir, out);
  if (scanned === null) return 1;
  let records = 0;
  for (const s of scanned.segments) {
    let decoded = 0;
    try {
      for (const _ of entries(s.buf, s.scan.records, 0)) decoded++;
    } catch (err) {
      out(
        `corrupt: ${path.basename(s.file)}: record ${s.firstSeq + decoded} does not decode: ${(err as Error).message}`,
      );
      ok = false;
    }
    records += s.scan.records.length;
    const tail = s.scan.stop
      ? `, torn tail at byte ${s.scan.stop.at} (${s.scan.stop.why}): recovery will cut it`
      : '';
    out(`segment ${path.basename(s.file)}: ${s.scan.records.length} records, ${s.buf.length} bytes${tail}`);
  }
  const first = scanned.segments[0]?.firstSeq;
  out(
    first === undefined
      ? 'journal: empty'
      : `journal: ${records} records, sequences ${first} to ${scanned.lastSeq}`,
  );
  for (const { file, seq } of listSnapshots(dir)) {
    try {
      readSnapshot(file);
      out(`snapshot ${path.basename(file)}: valid, sequence ${seq}`);
    } catch (err) {
      out(`snapshot ${path.basename(file)}: damaged: ${(err as Error).message}`);
      ok = false;
    }
  }
  out(ok ? 'verify: ok' : 'verify: FAILED');
  return ok ? 0 : 1;
}

function replay(dir: string, fromSnapshot: boolean, events: boolean, out: (line: string) => void): number {
  const scanned = scan(dir, out);
  if (scanned === null) return 1;
  let config: JournalConfig | null;
  try {
    config = readConfig(dir);
  } catch (err) {
    out(`replay: ${(err as Error).message}`);
    return 1;
  }
  let engine = new Engine({ risk: config?.risk === true });
  let after = 0;
  if (fromSnapshot) {
    const found = loadNewestSnapshot(dir, 'fast', lineLogger(out));
    if (found === null) {
      out(
        listSnapshots(dir).length === 0
          ? 'replay: no snapshot in the folder'
          : 'replay: no valid snapshot in the folder',
      );
      return 1;
    }
    ({ engine, seq: after } = found);
  }
  const first = scanned.segments[0]?.firstSeq ?? after + 1;
  if (first > after + 1) {
    out(
      `replay: the journal starts at ${first}; commands 1 to ${first - 1} were pruned (use --from-snapshot)`,
    );
    return 1;
  }
  if (events) engine.addListener({ onEvent: (e) => out(JSON.stringify(eventToObject(e))) });
  let n = 0;
  for (const s of scanned.segments) {
    try {
      for (const { command } of entries(s.buf, s.scan.records, after)) {
        engine.execute(command);
        n++;
      }
    } catch (err) {
      out(
        `corrupt: ${path.basename(s.file)}: record ${after + n + 1} does not decode: ${(err as Error).message}`,
      );
      return 1;
    }
  }
  out(
    `replay: ${n} commands from sequence ${after + 1}; at ${engine.commandSeq}; state hash ${engine.stateHash()}`,
  );
  return 0;
}

function inspect(dir: string, from: number, limit: number, out: (line: string) => void): number {
  const scanned = scan(dir, out);
  if (scanned === null) return 1;
  let n = 0;
  for (const s of scanned.segments) {
    try {
      for (const { seq, command } of entries(s.buf, s.scan.records, from - 1)) {
        if (n++ >= limit) return 0;
        out(JSON.stringify({ seq, ...command }));
      }
    } catch (err) {
      out(`corrupt: ${path.basename(s.file)}: a record does not decode: ${(err as Error).message}`);
      return 1;
    }
  }
  return 0;
}
