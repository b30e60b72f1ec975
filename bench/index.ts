/**
 * bench/: throughput and latency benchmarks that drive Mosaic's public APIs with the seeded
 * workloads of bench/WORKLOADS.md. Other folders use only the seeded PRNG from here.
 */
export { XorShift32 } from './prng.ts';
