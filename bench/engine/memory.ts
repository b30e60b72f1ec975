/**
 * M1 "resting memory": 1,000,000 non-crossing resting limit orders, then the heap in use after a
 * full garbage collection (needs `--expose-gc`). Orders alternate buy/sell at mid -/+ int(1..50),
 * qty int(1..100), from the seeded stream, like W1's warm-up; accounts as in the workloads.
 * Each command is made just before it is executed and dropped after, so what stays on the heap is
 * the engine's state (order records, tables, levels, the client order id strings it keeps).
 */
import { Engine, type NewOrderCommand } from '../../engine/index.ts';
import { XorShift32 } from '../prng.ts';
import { benchListing } from './adapter-mosaic.ts';
import { PEER_NAME } from './adapter-peer.ts';
import { MID } from './workloads.ts';
import { OrderBook, Side } from 'nodejs-order-book';

export interface MemoryResult {
  engine: string;
  restingOrders: number;
  /** Heap used after GC with the book in memory (the whole process's JS heap). */
  heapUsedMB: number;
  /** The same minus the heap used just before the engine was made. */
  engineHeapMB: number;
  /**
   * Typed-array storage the engine holds (its tables' keys and hashes, the remembered client order
   * ids): outside the JS heap, so not in `engineHeapMB`, but memory all the same.
   */
  engineArrayBuffersMB: number;
  /** `engineHeapMB` + `engineArrayBuffersMB`: all the memory the resting orders cost. */
  engineTotalMB: number;
  rssMB: number;
  /** Bytes of heap per resting order (from `engineHeapMB`). */
  bytesPerOrder: number;
}

export const M1_ORDERS = 1_000_000;
const ACCOUNTS = ['buyer-0', 'buyer-1', 'buyer-2', 'buyer-3', 'seller-0', 'seller-1', 'seller-2', 'seller-3'];

/** Heap in use and array-buffer storage, in MB, after a full collection. */
function memoryMB(): { heap: number; buffers: number } {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / 2 ** 20, buffers: m.arrayBuffers / 2 ** 20 };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Inserts `orders` resting orders into an engine through `enter` and measures the heap around it. */
function measure(
  engine: string,
  orders: number,
  seed: number,
  make: () => { enter(i: number, side: number, price: number, qty: number): void; resting(): number },
): MemoryResult {
  const before = memoryMB();
  const book = make();
  const rng = new XorShift32(seed);
  for (let i = 0; i < orders; i++) {
    const side = i & 1;
    const offset = rng.int(1, 50);
    const qty = rng.int(1, 100);
    book.enter(i, side, side === 0 ? MID - offset : MID + offset, qty);
  }
  const after = memoryMB();
  const rss = process.memoryUsage().rss / 2 ** 20;
  const restingOrders = book.resting();
  return {
    engine,
    restingOrders,
    heapUsedMB: round(after.heap),
    engineHeapMB: round(after.heap - before.heap),
    engineArrayBuffersMB: round(after.buffers - before.buffers),
    engineTotalMB: round(after.heap - before.heap + after.buffers - before.buffers),
    rssMB: round(rss),
    bytesPerOrder: Math.round(((after.heap - before.heap) * 2 ** 20) / restingOrders),
  };
}

/** Mosaic's fast book through `Engine.execute`. */
export function mosaicMemory(seed: number, capacity?: number, orders = M1_ORDERS): MemoryResult {
  return measure('mosaic', orders, seed, () => {
    const engine = new Engine(capacity === undefined ? { book: 'fast' } : { book: 'fast', capacity });
    engine.execute(benchListing('M1@bench:mosaic'));
    let buys = 0;
    let sells = 0;
    return {
      enter(i, side, price, qty) {
        const cmd: NewOrderCommand = {
          type: 'new',
          ts: i,
          instrument: 'M1@bench:mosaic',
          account: ACCOUNTS[side === 0 ? buys++ % 4 : 4 + (sells++ % 4)]!,
          clientOrderId: `o${i}`,
          side: side === 0 ? 'buy' : 'sell',
          orderType: 'limit',
          quantity: qty,
          price,
        };
        engine.execute(cmd);
      },
      resting: () => engine.liveOrders,
    };
  });
}

/** The peer, for comparison. */
export function peerMemory(seed: number, orders = M1_ORDERS): MemoryResult {
  return measure(PEER_NAME, orders, seed, () => {
    const book = new OrderBook();
    let n = 0;
    return {
      enter(i, side, price, qty) {
        const r = book.limit({ id: `o${i}`, side: side === 0 ? Side.BUY : Side.SELL, size: qty, price });
        if (r.err === null) n++;
      },
      resting: () => n,
    };
  });
}
