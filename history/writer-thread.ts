/**
 * The history's writer on a thread of its own (see threaded.ts): takes batches of durable
 * commands' events as bytes, records each in one transaction (sync-writer.ts) and tells how far
 * it has come. A batch starts only while the process is not exiting, and says when it is under
 * way (`WriterData.state`), so that the exit waits for it. Its log lines go to the thread that
 * started it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogFn, Logger } from '../common/index.ts';
import { SyncHistoryWriter } from './sync-writer.ts';
import { BUSY, type FromWriter, STOP, type ToWriter, type WriterData } from './writer-messages.ts';

const port = parentPort!;
const post = (m: FromWriter) => port.postMessage(m);
const level =
  (name: 'info' | 'warn' | 'error'): LogFn =>
  (a: string | Record<string, unknown>, b?: string) =>
    post({
      op: 'log',
      level: name,
      fields: typeof a === 'string' ? {} : a,
      message: typeof a === 'string' ? a : (b ?? ''),
    });
const log: Logger = { info: level('info'), warn: level('warn'), error: level('error') };

const { dir, shard, state } = workerData as WriterData;
const writer = new SyncHistoryWriter(dir, shard, log);
let failed = false;

/** Runs `write` unless the process is exiting, saying meanwhile that a transaction is under way. */
function guarded(write: () => void): void {
  // Busy first, then the exit's flag: the exiting thread sets its flag, then waits while busy.
  Atomics.store(state, BUSY, 1);
  try {
    if (Atomics.load(state, STOP) === 0) write();
  } finally {
    Atomics.store(state, BUSY, 0);
    Atomics.notify(state, BUSY);
  }
}

port.on('message', (m: ToWriter) => {
  if (m.op === 'close') {
    guarded(() => writer.close());
    post({ op: 'closed', ...writer.position });
    port.close();
    return;
  }
  if (failed) return;
  try {
    guarded(() => writer.write(m.bytes));
    post({ op: 'commit', ...writer.position });
  } catch (err) {
    failed = true;
    post({ op: 'failed', message: `a write failed (${(err as Error).message})` });
  }
});
