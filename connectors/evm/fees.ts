/**
 * What a batch transaction offers per gas (EIP-1559), under the operator's cap. A new one offers
 * twice the base fee plus the tip, so it stays includable while the base fee rises for a few
 * blocks. One signed before the base fee rose past what it offers waits in the pool; its
 * replacement (same nonce) must offer at least the node's replacement bump more on both fees, or
 * the node refuses it (geth asks 10% by default; anvil any increase).
 */
import { formatUnits } from 'ethers';

/** The two fees of an EIP-1559 transaction, wei per gas. */
export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** The fees of a new transaction at base fee `base`, or why the cap does not allow them. */
export function newFees(base: bigint, tip: bigint, cap: bigint): Fees | string {
  if (base + tip > cap) {
    return `base fee ${gwei(base)} gwei plus tip ${gwei(tip)} is above the fee cap of ${gwei(cap)} gwei`;
  }
  return { maxFeePerGas: min(base * 2n + tip, cap), maxPriorityFeePerGas: tip };
}

/** Whether `sent` can no longer pay its tip on top of base fee `base`: the base fee rose past it. */
export function outbid(sent: Fees, base: bigint): boolean {
  return base + sent.maxPriorityFeePerGas > sent.maxFeePerGas;
}

/**
 * The fees of a replacement of `sent` at base fee `base`: those of a new transaction, each at
 * least `bumpPercent` above what `sent` offers (rounded up), and the tip at least `tip`; or why
 * the cap leaves no room for them.
 */
export function replacementFees(
  sent: Fees,
  base: bigint,
  tip: bigint,
  cap: bigint,
  bumpPercent: number,
): Fees | string {
  const bump = (v: bigint) => (v * BigInt(100 + bumpPercent) + 99n) / 100n;
  const fresh = newFees(base, max(bump(sent.maxPriorityFeePerGas), tip), cap);
  if (typeof fresh === 'string') return fresh;
  const maxFeePerGas = max(fresh.maxFeePerGas, bump(sent.maxFeePerGas));
  if (maxFeePerGas > cap) {
    return (
      `a replacement ${bumpPercent}% above its ${gwei(sent.maxFeePerGas)} gwei would be above ` +
      `the fee cap of ${gwei(cap)} gwei`
    );
  }
  return { maxFeePerGas, maxPriorityFeePerGas: fresh.maxPriorityFeePerGas };
}

export function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function gwei(wei: bigint): string {
  return formatUnits(wei, 'gwei');
}
