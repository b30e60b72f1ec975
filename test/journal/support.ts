/**
 * Shared by the journal suites: fresh temporary folders, byte images of a folder (to prove that
 * something left it unchanged), the built `mosaic` CLI run as a child process, a life of the
 * crash child ended by SIGKILL, and a seeded stream of trading commands that the durable and
 * crash suites replay.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { XorShift32 } from '../../bench/prng.ts';
import type { Command } from '../../engine/index.ts';
import {
  type CommandResult,
  type DurableEngine,
  decodeCommand,
  type JournalEntry,
  scanJournal,
} from '../../journal/index.ts';
import { spec } from '../support/engine.ts';
import { within } from '../support/wait.ts';

/** The instrument every workload trades. */
export const INSTRUMENT = spec().id;

/** A fresh empty folder under the system temporary folder, removed when the test ends. */
export function tempDir(t: TestContext, label = 'journal'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mosaic-${label}-`));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file of a folder (not recursive) by name, with its bytes. */
export function folderImage(dir: string): Map<string, Buffer> {
  const image = new Map<string, Buffer>();
  for (const name of fs.readdirSync(dir).sort()) image.set(name, fs.readFileSync(path.join(dir, name)));
  return image;
}

/** Journal segment file names of a folder, in sequence order. */
export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{20}\.wal$/.test(f))
    .sort();
}

/** Snapshot file names of a folder, oldest first. */
export function snapshotFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{20}\.snap$/.test(f))
    .sort();
}

/**
 * Every command in the journal of `dir`, read without changing anything (a torn tail is left
 * out, corruption throws).
 */
export function journalEntries(dir: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const s of scanJournal(dir).segments) {
    for (const r of s.scan.records) out.push({ seq: r.seq, command: decodeCommand(s.buf, r.start, r.end) });
  }
  return out;
}

/** Where each record of a segment begins and ends, read without changing anything. */
export function recordBounds(
  dir: string,
  segment: number,
): Array<{ seq: number; start: number; end: number }> {
  const s = scanJournal(dir).segments.at(segment);
  if (s === undefined) throw new Error(`no segment ${segment} in ${dir}`);
  return s.scan.records.map((r) => ({ seq: r.seq, start: r.start - RECORD_PREFIX, end: r.end }));
}

/** Bytes of a segment's header before its first record: `MWAL`, u32 format version. */
export const SEGMENT_HEADER = 8;

/** Bytes before a record's command: u32 length, u32 CRC32, f64 sequence. */
export const RECORD_PREFIX = 16;

/** What one life of crash-child.ts printed before it was killed. */
export interface Life {
  recovered: { seq: number; hash: string };
  acks: Array<{ seq: number; key: string }>;
  stderr: string;
}

const CRASH_CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

/**
 * Starts crash-child.ts on `dir` (with `args` after its own) and kills it with SIGKILL once it has
 * acknowledged `liveAcks` commands: a moment set by how far the child got, not by how fast this
 * machine ran it (the child goes on writing while the kill is on its way). With
 * `afterCheckpoint`, the acknowledgements are counted from the child's first `checkpoint` line
 * (a history child's store made its position durable), so the life reaches one however fast
 * this machine runs it.
 */
export async function liveAndDie(
  dir: string,
  seed: number,
  liveAcks: number,
  args: string[] = [],
  afterCheckpoint = false,
): Promise<Life> {
  const child = spawn(process.execPath, [CRASH_CHILD, dir, String(seed), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let acked = 0;
  let counting = !afterCheckpoint;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!; // a line the kill may cut short is not counted
    for (const line of parts) {
      if (line.startsWith('checkpoint ')) {
        counting = true;
        continue;
      }
      lines.push(line);
      if (line.startsWith('ack ') && counting && ++acked === liveAcks) child.kill('SIGKILL');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const { code, signal } = await within(
    `${liveAcks} acknowledgements of the crash child`,
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    ),
    () => `${acked} so far; ${stderr}`,
  ).finally(() => child.kill('SIGKILL'));
  assert.ok(acked >= liveAcks, `the child ended after ${acked} acknowledgements (exit ${code}): ${stderr}`);
  assert.equal(signal, 'SIGKILL', `the child ended by itself (exit ${code}): ${stderr}`);

  const [head, ...rest] = lines;
  const m = /^recovered (\d+) ([0-9a-f]+)$/.exec(head ?? '');
  assert.ok(m, `the child's first line: ${head}`);
  const acks = rest.map((line) => {
    const a = /^ack (\d+) (\S+)$/.exec(line);
    assert.ok(a, `an ack line: ${line}`);
    return { seq: Number(a[1]), key: a[2]! };
  });
  return { recovered: { seq: Number(m[1]), hash: m[2]! }, acks, stderr };
}

/** Restores a folder to an image taken by `folderImage`: extra files go, the others are rewritten. */
export function restoreFolder(dir: string, image: Map<string, Buffer>): void {
  for (const name of fs.readdirSync(dir))
    if (!image.has(name)) fs.rmSync(path.join(dir, name), { recursive: true });
  for (const [name, bytes] of image) fs.writeFileSync(path.join(dir, name), bytes);
}

/** Flips every bit of one byte of a file. */
export function flipByte(file: string, at: number): void {
  const buf = fs.readFileSync(file);
  buf[at] = buf[at]! ^ 0xff;
  fs.writeFileSync(file, buf);
}

const run = promisify(execFile);
/** The built CLI, beside this file once compiled: dist/bin/mosaic.js. */
export const CLI = fileURLToPath(new URL('../../bin/mosaic.js', import.meta.url));

/** Runs `mosaic ...args` as a user would: its exit code and output. */
export async function mosaic(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The state hash and last sequence printed by `mosaic journal replay`, or throws with its output. */
export async function replayHash(dir: string, fromSnapshot = false): Promise<{ seq: number; hash: string }> {
  const r = await mosaic('journal', 'replay', dir, ...(fromSnapshot ? ['--from-snapshot'] : []));
  const m = /; at (\d+); state hash ([0-9a-f]+)$/m.exec(r.stdout);
  if (r.code !== 0 || m === null) {
    throw new Error(`mosaic journal replay exited ${r.code}: ${r.stdout}${r.stderr}`);
  }
  return { seq: Number(m[1]), hash: m[2]! };
}

/**
 * A seeded stream of trading commands on INSTRUMENT across a few accounts: limit and market
 * orders, cancels and replaces of the account's recent orders, now and then a cancel-all. Client order ids carry `prefix`,
 * so that streams started with different prefixes never collide.
 */
export class Workload {
  #rng: XorShift32;
  #prefix: string;
  #n = 0;
  /** Recent client order ids per account, for cancels and replaces. */
  #recent: string[][];
  readonly accounts: string[];

  constructor(seed: number, prefix = `s${seed}`, accounts = 4) {
    this.#rng = new XorShift32(seed);
    this.#prefix = prefix;
    this.accounts = Array.from({ length: accounts }, (_, i) => `acct-${i}`);
    this.#recent = this.accounts.map(() => []);
  }

  /** The command that lists INSTRUMENT. */
  static listing(ts: number): Command {
    return { type: 'list-instrument', ts, spec: spec() };
  }

  /** The next command, stamped `ts`. */
  next(ts: number): Command {
    const r = this.#rng;
    const a = r.int(0, this.accounts.length - 1);
    const account = this.accounts[a]!;
    const recent = this.#recent[a]!;
    const pick = r.int(1, 100);
    if (pick === 100 && r.int(1, 5) === 1) {
      recent.length = 0;
      return { type: 'cancel-all', ts, account };
    }
    if (recent.length > 0 && pick <= 30) {
      const clientOrderId = recent[r.int(0, recent.length - 1)]!;
      if (pick <= 20) return { type: 'cancel', ts, account, clientOrderId };
      return r.int(0, 1) === 0
        ? { type: 'replace', ts, account, clientOrderId, quantity: r.int(1, 60) }
        : { type: 'replace', ts, account, clientOrderId, price: 10_000 + r.int(-40, 40) };
    }
    const clientOrderId = `${this.#prefix}-${++this.#n}`;
    recent.push(clientOrderId);
    if (recent.length > 32) recent.shift();
    const side = r.int(0, 1) === 0 ? 'buy' : 'sell';
    const quantity = r.int(1, 100);
    if (pick <= 45) {
      return {
        type: 'new',
        ts,
        instrument: INSTRUMENT,
        account,
        clientOrderId,
        side,
        orderType: 'market',
        quantity,
      };
    }
    const price = 10_000 + r.int(-20, 20);
    return {
      type: 'new',
      ts,
      instrument: INSTRUMENT,
      account,
      clientOrderId,
      side,
      orderType: 'limit',
      quantity,
      price,
    };
  }
}

/** The client order id a command names, or '-'. */
export function commandKey(c: Command): string {
  const id = 'clientOrderId' in c ? c.clientOrderId : undefined;
  return `${c.type}:${id ?? '-'}`;
}

/**
 * Submits `n` commands of `w` to a durable engine, `inFlight` at a time, each stamped one past
 * the engine's last sequence (so timestamps never go back, across restarts too); lists the
 * instrument first when the engine has none. Resolves with every result, in order; the commands
 * sent are pushed to `sent`.
 */
export async function drive(
  d: DurableEngine,
  w: Workload,
  n: number,
  inFlight = 50,
  sent: Command[] = [],
): Promise<CommandResult[]> {
  const results: CommandResult[] = [];
  for (let i = 0; i < n; i += inFlight) {
    const batch: Array<Promise<CommandResult>> = [];
    for (let k = i; k < Math.min(n, i + inFlight); k++) {
      const ts = d.engine.commandSeq + 1;
      const command = d.engine.instruments().length === 0 ? Workload.listing(ts) : w.next(ts);
      sent.push(command);
      batch.push(d.submit(command));
    }
    results.push(...(await Promise.all(batch)));
  }
  return results;
}
