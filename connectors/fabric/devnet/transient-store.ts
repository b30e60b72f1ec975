/**
 * The transient store, as Fabric's endorsing peer keeps one: the private read-write sets of
 * endorsed transactions, by transaction id, from endorsement until the transaction is committed.
 * A transaction id may have several (it was endorsed more than once); the committer takes the
 * one whose hashes the committed transaction carries. Entries of transactions committed (valid or
 * not) are dropped with their block; entries never submitted are dropped after `retention`
 * blocks (Fabric's `transientstoreMaxBlockRetention`, default 1000). Kept in memory: a private
 * read-write set endorsed before a devnet restart is gone after it (its transaction then commits
 * without the values, as on a Fabric peer that missed them).
 */

interface Entry {
  /** Serialized `TxPvtReadWriteSet`. */
  privateData: Uint8Array;
  /** The block height when it was endorsed. */
  height: number;
}

export class TransientStore {
  readonly #entries = new Map<string, Entry[]>();
  readonly #retention: number;

  constructor(retention = 1000) {
    this.#retention = retention;
  }

  /** Keeps a private read-write set endorsed at `height`. */
  put(txId: string, privateData: Uint8Array, height: number): void {
    const list = this.#entries.get(txId) ?? [];
    list.push({ privateData, height });
    this.#entries.set(txId, list);
  }

  /** The private read-write sets endorsed under a transaction id, oldest first. */
  get(txId: string): readonly Uint8Array[] {
    return (this.#entries.get(txId) ?? []).map((e) => e.privateData);
  }

  /** Drops the entries of the transactions of a committed block, and those too old. */
  purge(txIds: Iterable<string>, height: number): void {
    for (const txId of txIds) this.#entries.delete(txId);
    for (const [txId, list] of this.#entries) {
      const kept = list.filter((e) => e.height + this.#retention > height);
      if (kept.length === 0) this.#entries.delete(txId);
      else if (kept.length !== list.length) this.#entries.set(txId, kept);
    }
  }
}
