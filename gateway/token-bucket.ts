/**
 * A token bucket: `rate` tokens a second, at most `burst` saved up. Each message takes one; an
 * empty bucket says how long until the next token, so the error can tell the client when to
 * retry instead of leaving it to guess.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly rate: number;
  readonly burst: number;

  constructor(rate: number, burst: number, now: number) {
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Whether the bucket has refilled to its burst by `now`: one that may be forgotten. */
  full(now: number): boolean {
    return this.#tokens + ((now - this.#last) * this.rate) / 1000 >= this.burst;
  }

  /** Takes a token: 0 if there was one, else the milliseconds until there will be. */
  take(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.rate));
  }

  /**
   * Takes `n` tokens spent elsewhere (another gateway), whether or not there were that many: a
   * debt is paid back before the next `take` succeeds, up to one burst of it.
   */
  charge(n: number, now: number): void {
    this.#refill(now);
    this.#tokens = Math.max(-this.burst, this.#tokens - n);
  }

  #refill(now: number): void {
    const elapsed = now - this.#last;
    if (elapsed <= 0) return;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
    this.#last = now;
  }
}
