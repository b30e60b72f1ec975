/**
 * How far the history's commits have come, and the reads waiting for a command to be in: a read
 * waits for every command applied before it, and no longer than its timeout.
 */
export class Committed {
  #seq: number;
  #failed: Error | null = null;
  #waiting: Array<{ seq: number; resolve: () => void; reject: (err: Error) => void }> = [];
  readonly #what: string;

  /** `what` names the history in a timeout's message. */
  constructor(seq: number, what: string) {
    this.#seq = seq;
    this.#what = what;
  }

  /** The last command committed (what readers see). */
  get seq(): number {
    return this.#seq;
  }

  /** Why no more commits will come, or null. */
  get failed(): Error | null {
    return this.#failed;
  }

  /** Commands up to `seq` are committed: wakes the reads waiting for them. */
  advance(seq: number): void {
    if (seq <= this.#seq) return;
    this.#seq = seq;
    if (this.#waiting.length === 0) return;
    const ready = this.#waiting.filter((w) => w.seq <= seq);
    this.#waiting = this.#waiting.filter((w) => w.seq > seq);
    for (const w of ready) w.resolve();
  }

  /** No more commits will come: the reads waiting, and those to come, fail with `err`. */
  fail(err: Error): void {
    if (this.#failed !== null) return;
    this.#failed = err;
    for (const w of this.#waiting.splice(0)) w.reject(err);
  }

  /** Resolves once command `seq` is committed; rejects after `timeoutMs`, or when the history fails. */
  reached(seq: number, timeoutMs: number): Promise<void> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    if (this.#seq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((w) => w.resolve !== done);
        reject(new Error(`the history of ${this.#what} is at command ${this.#seq}, not yet at ${seq}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiting.push({
        seq,
        resolve: done,
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }
}
