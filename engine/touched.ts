/**
 * The price levels of one side that the current command changed, in order of first touch,
 * without duplicates. Most commands touch one or two levels, so membership is a linear scan
 * until the list grows long (a sweep), when a set takes over. Reused across commands.
 */
const SCAN = 16;

export class TouchedLevels {
  /** Touched prices; the first `n` are valid. */
  readonly prices: number[] = [];
  /** Whether each level was opened by this command (so it may vanish unseen). */
  readonly opened: boolean[] = [];
  n = 0;
  #set = new Set<number>();

  add(price: number, opened: boolean): void {
    const prices = this.prices;
    const n = this.n;
    if (n < SCAN) {
      for (let i = n - 1; i >= 0; i--) if (prices[i] === price) return;
      if (n === SCAN - 1) for (let i = 0; i < n; i++) this.#set.add(prices[i]!);
    } else if (this.#set.has(price)) {
      return;
    }
    if (n >= SCAN - 1) this.#set.add(price);
    prices[n] = price;
    this.opened[n] = opened;
    this.n = n + 1;
  }

  clear(): void {
    if (this.n >= SCAN) this.#set.clear();
    this.n = 0;
  }
}
