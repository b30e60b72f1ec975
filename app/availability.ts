/**
 * Whether an exchange still takes commands: not once it is closing, nor after a failure it cannot
 * recover from (the journal or the cluster failing), of which the gateway is told once.
 */
import { makeError } from '../gateway/index.ts';

export class Availability {
  #name: string;
  #error: Error | null = null;
  #failure: ((err: Error) => void) | null = null;
  #closed = false;

  /** `name`: what a refusal calls it (`the exchange is shutting down`). */
  constructor(name: string) {
    this.#name = name;
  }

  /** Why it stopped taking commands, or null while it is healthy. */
  get error(): Error | null {
    return this.#error;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a command may be sent now. */
  get open(): boolean {
    return !this.#closed && this.#error === null;
  }

  onFailure(handler: (err: Error) => void): void {
    this.#failure = handler;
  }

  /** Throws the `UNAVAILABLE` error a command gets when it cannot be sent. */
  check(): void {
    if (this.#closed) throw makeError(`the ${this.#name} is shutting down`, 'UNAVAILABLE');
    if (this.#error !== null) {
      throw makeError(`the ${this.#name} has stopped: ${this.#error.message}`, 'UNAVAILABLE');
    }
  }

  /** Stops taking commands for `err` (the first failure is the one kept and told). */
  fail(err: Error): void {
    if (this.#error !== null) return;
    this.#error = err;
    this.#failure?.(err);
  }

  /** Stops taking commands for good; false if it was closed already. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    return true;
  }
}
