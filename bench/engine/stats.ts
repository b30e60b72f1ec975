/** Latency percentiles (nearest rank) over per-op samples in milliseconds, reported in microseconds. */

export interface Latency {
  ops: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

/** Nearest-rank percentile of an ascending array. */
function rank(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Microseconds from milliseconds, to the nanosecond. */
function us(ms: number): number {
  return Math.round(ms * 1e6) / 1e3;
}

/** Percentiles of `samples` (milliseconds); sorts a copy. */
export function latency(samples: Float64Array): Latency {
  const sorted = Float64Array.from(samples).sort();
  return {
    ops: sorted.length,
    p50Us: us(rank(sorted, 0.5)),
    p99Us: us(rank(sorted, 0.99)),
    p999Us: us(rank(sorted, 0.999)),
    maxUs: us(sorted.length === 0 ? 0 : sorted[sorted.length - 1]!),
  };
}

/** Percentiles per kind: `kinds[i]` names the bucket of `samples[i]`. */
export function latencyByKind(
  samples: Float64Array,
  kinds: Uint8Array,
  names: readonly string[],
): Record<string, Latency> {
  const counts = new Int32Array(names.length);
  for (let i = 0; i < kinds.length; i++) counts[kinds[i]!]!++;
  const buckets = names.map((_, k) => new Float64Array(counts[k]!));
  const fill = new Int32Array(names.length);
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[i]!;
    buckets[k]![fill[k]!++] = samples[i]!;
  }
  const out: Record<string, Latency> = {};
  names.forEach((name, k) => {
    if (counts[k]! > 0) out[name] = latency(buckets[k]!);
  });
  return out;
}

/** The element with the median value of `key` (the lower middle when the count is even). */
export function median<T>(items: readonly T[], key: (t: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
