/**
 * At every start, before a connector deploys, funds or settles anything: does the ledger still
 * hold what the daemon saw of it? A ledger brought back from an older copy of its state (a stale
 * process writing its state over the newer one, a restored backup), or another ledger at the same
 * address, would otherwise come up healthy while the engine holds deposits, settlements and
 * releases the ledger no longer has. The daemon's progress keeps the block its change watcher
 * last read, with the block's hash (its checkpoint), and the ledger its last batch transaction;
 * the ledger must still have that block with that hash, and that transaction, or the start
 * stops with an error saying what differs and what to do. A ledger the daemon never read
 * (nothing recorded) passes.
 */
import { changesCheckpoint, readBlockCheckpoint } from './changes.ts';
import type { Progress } from './progress.ts';
import { makeError } from './errors.ts';

/** What the check asks of a ledger of blocks. */
export interface LedgerBlocks {
  /** The number of the ledger's last block. */
  head(): Promise<number>;
  /** The hash of block `n` (at most the head), as the checkpoints record it. */
  blockHash(n: number): Promise<string>;
  /** Whether the ledger holds the transaction `ref` (a batch's reference). */
  holds(ref: string): Promise<boolean>;
}

export interface LedgerCheck {
  venue: string;
  /** The ledger as the message names it: `the chain at http://127.0.0.1:8545`. */
  ledger: string;
  blocks: LedgerBlocks;
  progress: Progress;
  /** The last batch transaction the daemon saw final on the ledger, if any. */
  lastTx: string | undefined;
  /** The exchange's data folder, named in the advice. */
  dataDir: string;
  /** Where a ledger started with the exchange keeps its state, named in the advice. */
  stateFile?: string;
}

/** Throws if the ledger lacks the block (or its hash) or the transaction the daemon recorded. */
export async function checkLedgerKept(c: LedgerCheck): Promise<void> {
  const checkpoint = readBlockCheckpoint(c.progress.checkpoint(changesCheckpoint(c.venue)));
  // A checkpoint below block 0 says that nothing was read yet.
  const seen = checkpoint !== null && checkpoint.block >= 0 ? checkpoint : null;
  if (seen === null && c.lastTx === undefined) return;
  const head = await c.blocks.head();
  let found: string | null = null;
  if (seen !== null && head < seen.block) {
    found = `its last block is ${head} (hash ${await c.blocks.blockHash(head)})`;
  } else if (seen !== null && seen.hash !== null) {
    const hash = await c.blocks.blockHash(seen.block);
    if (hash !== seen.hash) found = `its block ${seen.block} has hash ${hash} (its last block is ${head})`;
  }
  if (found === null && c.lastTx !== undefined && !(await c.blocks.holds(c.lastTx))) {
    found =
      `it does not hold transaction ${c.lastTx}, the last batch the exchange settled or released ` +
      `there (its last block is ${head})`;
  }
  if (found === null) return;
  const recorded =
    seen === null
      ? 'the exchange read none of its blocks'
      : `the exchange read it up to block ${seen.block}${seen.hash === null ? '' : ` (hash ${seen.hash})`}`;
  const kept = c.stateFile === undefined ? '' : ` (kept in ${c.stateFile})`;
  throw makeError(
    `${c.venue}: ${c.ledger} went back, or is another one: ${recorded}, and ${found}. ` +
      'What the exchange recorded there (deposits, settlements, withdrawals) may be missing from it, ' +
      `so the exchange does not start on it: restore its state${kept} as it was when the exchange ` +
      `last stopped, or start with a new data folder in place of ${c.dataDir}`,
    'LEDGER_CHANGED',
    { venue: c.venue },
  );
}
