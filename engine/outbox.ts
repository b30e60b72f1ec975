/**
 * The events of the command being executed, in pooled records, and their dispatch to listeners
 * once the command is complete. A listener's exception is counted and reported, never rethrown.
 */
import { EngineEvent, type EngineListener } from './events.ts';

export class Outbox {
  #records: EngineEvent[] = [];
  #count = 0;
  #listeners: EngineListener[] = [];
  #onError: (err: unknown, e: EngineEvent) => void;
  /** Listener exceptions caught so far. */
  errors = 0;

  constructor(onError: (err: unknown, e: EngineEvent) => void) {
    this.#onError = onError;
  }

  get count(): number {
    return this.#count;
  }

  /** A record for the next event (reused: every field of its kind must be written). */
  next(): EngineEvent {
    const i = this.#count++;
    let e = this.#records[i];
    if (e === undefined) {
      e = new EngineEvent();
      this.#records.push(e);
    }
    return e;
  }

  add(listener: EngineListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** Hands every pending event to every listener, in order, and empties the box. */
  flush(): void {
    const n = this.#count;
    this.#count = 0;
    const listeners = this.#listeners;
    if (listeners.length === 0) return;
    for (let i = 0; i < n; i++) {
      const e = this.#records[i]!;
      for (let j = 0; j < listeners.length; j++) {
        try {
          deliver(listeners[j]!, e);
        } catch (err) {
          this.errors++;
          try {
            this.#onError(err, e);
          } catch {
            // The error handler failed too; the engine goes on regardless.
          }
        }
      }
    }
  }
}

function deliver(l: EngineListener, e: EngineEvent): void {
  l.onEvent?.(e);
  switch (e.kind) {
    case 'trade':
      l.onTrade?.(e);
      return;
    case 'depth':
      l.onDepth?.(e);
      return;
    case 'bbo':
      l.onBbo?.(e);
      return;
    case 'instrument':
      l.onInstrument?.(e);
      return;
    case 'balance':
    case 'settlement':
    case 'account':
    case 'withdrawal':
      l.onAccount?.(e);
      return;
    default:
      l.onOrder?.(e);
  }
}
