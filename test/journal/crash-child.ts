/**
 * The process crash.test.ts kills. `node crash-child.js DIR SEED [--history]` opens a DurableEngine on DIR,
 * prints `recovered <seq> <stateHash>`, lists the instrument if the engine has none, then
 * submits a seeded stream of commands as fast as it can (up to IN_FLIGHT unanswered) and prints
 * `ack <seq> <type>:<clientOrderId>` for each command once `submit` has resolved, until killed.
 * Small snapshot and segment sizes make the kills land in snapshots and rotations too. With
 * `--history`, a history in DIR/history reads the events with its writer on a thread of its own,
 * as the embedded exchange runs it (test/history/crash.test.ts), and
 * only one snapshot is kept, so that compaction leans on what the store has made durable; it
 * prints `checkpoint <seq>` when the store's durable position moves on past what it recovered.
 */
import path from 'node:path';
import { XorShift32 } from '../../bench/prng.ts';
import { ThreadedHistory } from '../../history/index.ts';
import { DurableEngine } from '../../journal/index.ts';
import { commandKey, Workload } from './support.ts';
import { lineLogger } from '../../common/index.ts';

const CHILD_OPTIONS = { snapshotEvery: 300, keepSnapshots: 2, journal: { segmentBytes: 16 * 1024 } };
const IN_FLIGHT = 1000;
/** A child nobody kills stops by itself. */
const LIFETIME_MS = 30_000;

function main(dir: string, seed: number, history: boolean): void {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const store = history
    ? ThreadedHistory.open({ dir: path.join(dir, 'history'), log: lineLogger(log) })
    : null;
  const d = DurableEngine.open({
    dir,
    ...CHILD_OPTIONS,
    log: lineLogger(log),
    ...(store === null ? {} : { keepSnapshots: 1, readers: [store] }),
  });
  // Told from the first checkpoint past what this life recovered: the history's writer thread
  // may checkpoint within the commands it is catching up on, which compacts nothing.
  let checkpoint = Math.max(store?.durableSeq ?? 0, d.recovery.lastSeq);
  process.stdout.write(`recovered ${d.recovery.lastSeq} ${d.recovery.stateHash}\n`);
  const w = new Workload(seed);
  let inFlight = 0;
  let out: string[] = [];
  let scheduled = false;

  // Commands go in chunks of seeded random size, one chunk a turn, so that new commands pile up
  // while a batch is being written and batches come in all sizes.
  const chunks = new XorShift32(seed * 7 + 1);
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  };
  const pump = (): void => {
    scheduled = false;
    // The history's position became durable: told, so a test can let the life go on past it.
    if (store !== null && store.durableSeq > checkpoint) {
      checkpoint = store.durableSeq;
      out.push(`checkpoint ${checkpoint}`);
    }
    if (out.length > 0) {
      process.stdout.write(`${out.join('\n')}\n`);
      out = [];
    }
    const n = Math.min(IN_FLIGHT - inFlight, chunks.int(1, 300));
    for (let i = 0; i < n; i++) {
      const ts = d.engine.commandSeq + 1;
      const command = d.engine.instruments().length === 0 ? Workload.listing(ts) : w.next(ts);
      const key = commandKey(command);
      inFlight++;
      d.submit(command).then(
        (r) => {
          inFlight--;
          out.push(`ack ${r.seq} ${key}`);
          schedule();
        },
        (err: Error) => {
          process.stderr.write(`crash-child: submit failed: ${err.stack}\n`);
          process.exit(1);
        },
      );
    }
    if (inFlight < IN_FLIGHT) schedule();
  };
  pump();
  setTimeout(() => process.exit(3), LIFETIME_MS).unref();
}

const [dir, seed, flag] = process.argv.slice(2);
if (dir === undefined || !/^[1-9]\d*$/.test(seed ?? '') || (flag !== undefined && flag !== '--history')) {
  process.stderr.write('usage: node crash-child.js DIR SEED [--history]\n');
  process.exit(2);
}
main(dir, Number(seed), flag === '--history');
