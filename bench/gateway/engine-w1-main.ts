/**
 * W1 on Mosaic's engine once (bench/engine's generator and driver), in a process of its own
 * (forked by engine-w1.ts): sends the figures and exits.
 */
import { MosaicAdapter } from '../engine/adapter-mosaic.ts';
import { runOnce } from '../engine/driver.ts';
import { generate } from '../engine/workloads.ts';
import { childArgs } from './child.ts';
import type { EngineW1 } from './engine-w1.ts';

const { ops } = childArgs<{ ops: number }>();
const w = generate('W1');
const r = runOnce(w, (wl, live) => new MosaicAdapter(wl, live), { timedOps: ops, label: 'engine W1' });
const figures: EngineW1 = {
  ops: r.ops,
  opsPerSec: r.opsPerSec,
  p50Us: r.p50Us,
  p99Us: r.p99Us,
  otherCpuPct: r.otherCpuPct,
};
process.send!(figures, () => process.exit(0));
