/**
 * The journaled run (`--journal DIR`): the same workload through `DurableEngine`, which appends
 * each command to the write-ahead journal, executes it, and acknowledges it once a group commit
 * (one write, one fdatasync) has put it on disk. Ops go in chunks of `chunk` per event-loop
 * turn, so that batches are written while the next ops run. Throughput is acknowledged ops per
 * second of wall time (to the last acknowledgement); latency is from submit to acknowledgement.
 * No snapshots are taken during the run: this measures the journal.
 *
 * With `rate` (ops/s), the run is paced instead (open loop, below saturation): each turn submits
 * the ops due by then, and an op's latency runs from the time it was due, so that a stall delays
 * the ops behind it in the figures as it would a client's (no coordinated omission).
 */
import fs from 'node:fs';
import type { Command } from '../../engine/index.ts';
import { DurableEngine, type FileJournal } from '../../journal/index.ts';
import { MosaicAdapter } from './adapter-mosaic.ts';
import { OpStepper } from './driver.ts';
import { LiveOrders } from './live-orders.ts';
import { latency } from './stats.ts';
import type { Workload } from './workloads.ts';
import { silentLogger } from '../../common/index.ts';

export interface JournaledResult {
  engine: string;
  ops: number;
  opsPerSec: number;
  /** Submit to acknowledgement (durable), over the timed ops. */
  ackP50Us: number;
  ackP99Us: number;
  ackP999Us: number;
  ackMaxUs: number;
  /** Offered ops/s of a paced run; null when ops went in as fast as they could (saturation). */
  rate: number | null;
  /** Group commits (each one write and one fdatasync) per second of the timed run. */
  fsyncsPerSec: number;
  /** Journal bytes per command, framing included. */
  bytesPerCommand: number;
  commandsPerBatch: number;
  chunk: number;
  liveOrders: number;
  stateHash: string;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runJournaled(
  w: Workload,
  dir: string,
  opts: { timedOps: number; chunk: number; label: string; rate?: number },
): Promise<JournaledResult> {
  fs.rmSync(dir, { recursive: true, force: true });
  const durable = DurableEngine.open({ dir, snapshotEvery: 0, log: silentLogger });
  const timed = Math.min(opts.timedOps, w.ops.n - w.warmup);
  const acks = new Float64Array(timed);
  let recording = false;
  let sent = 0;
  let acked = 0;
  let lastAck = 0;
  // Acknowledged as the exchange does it: by the subscribers, once per group commit; no promise.
  let firstTimedSeq = Infinity;
  const sentAt = new Float64Array(timed);
  durable.onEvents((seq) => {
    if (seq < firstTimedSeq) return;
    lastAck = performance.now();
    acks[seq - firstTimedSeq] = lastAck - sentAt[seq - firstTimedSeq]!;
    acked++;
  });
  let due = 0; // a paced op's due time
  const submit = (cmd: Command) => {
    if (!recording) {
      durable.submitNow(cmd);
      return;
    }
    const k = sent++;
    const t0 = opts.rate === undefined ? performance.now() : due;
    const seq = durable.submitNow(cmd);
    if (k === 0) firstTimedSeq = seq;
    sentAt[k] = t0;
  };
  const live = w.targets ? new LiveOrders(w.ops.n + 1, w.instruments.length) : null;
  const a = new MosaicAdapter(w, live, undefined, {
    engine: durable.engine,
    submit,
    name: 'mosaic (journaled)',
  });
  for (let i = 0; i < w.warmup; i++) {
    a.place(i, i);
    if (i % opts.chunk === 0) await turn();
  }
  await durable.flush();
  const journal = durable.journal as FileJournal;
  const before = { ...journal.stats };
  process.stderr.write(`${opts.label}: warm-up journaled\n`);

  recording = true;
  const stepper = new OpStepper(w, a, live);
  const start = performance.now();
  const end = w.warmup + timed;
  if (opts.rate === undefined) {
    for (let i = w.warmup; i < end; i++) {
      stepper.step(i);
      if ((i - w.warmup) % opts.chunk === opts.chunk - 1) await turn();
    }
  } else {
    // One Immediate per turn and no promise: the pacing loop allocates next to nothing itself.
    const perMs = opts.rate / 1000;
    let i = w.warmup;
    await new Promise<void>((resolve) => {
      const pump = () => {
        const dueNow = Math.min(end, w.warmup + Math.floor((performance.now() - start) * perMs) + 1);
        for (; i < dueNow; i++) {
          due = start + (i - w.warmup) / perMs;
          stepper.step(i);
        }
        if (i < end) setImmediate(pump);
        else resolve();
      };
      pump();
    });
  }
  await durable.flush();
  while (acked < sent) await turn();
  const wallMs = lastAck - start;
  const batches = journal.stats.batches - before.batches;
  const records = journal.stats.records - before.records;
  const lat = latency(acks.subarray(0, sent));
  const result: JournaledResult = {
    engine: a.name,
    ops: sent,
    opsPerSec: Math.round(sent / (wallMs / 1000)),
    ackP50Us: lat.p50Us,
    ackP99Us: lat.p99Us,
    ackP999Us: lat.p999Us,
    ackMaxUs: lat.maxUs,
    rate: opts.rate ?? null,
    fsyncsPerSec: Math.round(batches / (wallMs / 1000)),
    bytesPerCommand: Math.round(((journal.stats.bytes - before.bytes) / records) * 10) / 10,
    commandsPerBatch: Math.round(records / batches),
    chunk: opts.chunk,
    liveOrders: a.liveOrders(),
    stateHash: a.stateHash(),
  };
  await durable.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}
