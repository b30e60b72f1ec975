/**
 * Self-trade prevention: what to cancel when a taker meets a resting order of its own account.
 * One rule for every book, so that books differ only in how they store orders.
 */
import type { StpMode } from './types.ts';

/**
 * Quantity to cancel from the taker when it meets its own resting order, given the taker's mode.
 * The resting order loses `stpMakerCancel(...)`.
 */
export function stpTakerCancel(mode: StpMode, takerLeaves: number, makerLeaves: number): number {
  switch (mode) {
    case 'cancel-newest':
    case 'cancel-both':
      return takerLeaves;
    case 'cancel-oldest':
      return 0;
    case 'decrement-and-cancel':
      return Math.min(takerLeaves, makerLeaves);
  }
}

/** Quantity to cancel from the resting order when the taker meets it (see `stpTakerCancel`). */
export function stpMakerCancel(mode: StpMode, takerLeaves: number, makerLeaves: number): number {
  switch (mode) {
    case 'cancel-newest':
      return 0;
    case 'cancel-oldest':
    case 'cancel-both':
      return makerLeaves;
    case 'decrement-and-cancel':
      return Math.min(takerLeaves, makerLeaves);
  }
}
