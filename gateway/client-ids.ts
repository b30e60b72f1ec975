/**
 * Client order ids already used, per account, so that a resent `new` (say, after a dropped
 * connection) is refused instead of making a second order. An id is taken when its order is
 * submitted and given back only if the engine refuses the order (a refused order made nothing).
 * The engine itself refuses an id that a live order holds, which covers a restart; here the
 * ids of finished orders are remembered too, up to a bound per account (oldest forgotten first)
 * so memory stays bounded.
 */
export class ClientIds {
  #byAccount = new Map<string, Set<string>>();
  readonly perAccount: number;

  constructor(perAccount = 100_000) {
    this.perAccount = perAccount;
  }

  /** Takes `id` for `account`; false if it was taken before. */
  take(account: string, id: string): boolean {
    let ids = this.#byAccount.get(account);
    if (ids === undefined) {
      ids = new Set();
      this.#byAccount.set(account, ids);
    }
    if (ids.has(id)) return false;
    if (ids.size >= this.perAccount) ids.delete(ids.values().next().value!);
    ids.add(id);
    return true;
  }

  /** Gives `id` back (its order was refused). */
  release(account: string, id: string): void {
    this.#byAccount.get(account)?.delete(id);
  }
}
