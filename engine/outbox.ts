/**
 * The events of the command being executed, in pooled records, and their dispatch to listeners
 * once the command is complete. A listener's exception is counted and reported, never rethrown.
 * Each kind of event goes only to the listeners with a hook for it (`onEvent` or its audience's),
 * so a listener costs nothing for the events it does not take.
 */
import { EngineEvent, type EngineListener, type EventKind } from './events.ts';

/** The audience hook each kind of event goes to, beside `onEvent`. */
const HOOK: Record<EventKind, keyof EngineListener> = {
  accepted: 'onOrder',
  rejected: 'onOrder',
  canceled: 'onOrder',
  replaced: 'onOrder',
  triggered: 'onOrder',
  trade: 'onTrade',
  depth: 'onDepth',
  bbo: 'onBbo',
  instrument: 'onInstrument',
  balance: 'onAccount',
  settlement: 'onAccount',
  account: 'onAccount',
  withdrawal: 'onAccount',
  identity: 'onAccount',
  leg: 'onAccount',
};
const KINDS = Object.keys(HOOK) as EventKind[];

type Deliver = (e: EngineEvent) => void;

/** Where event records come from when not from the outbox's own pool (see `Engine.recordEventsIn`). */
export interface EventRecords {
  /** A record for the next event, valid at least until the listeners have had it. */
  next(): EngineEvent;
}

export class Outbox {
  #records: EngineEvent[] = [];
  #count = 0;
  #source: EventRecords | null = null;
  #listeners: EngineListener[] = [];
  /** By kind: for each listener that takes that kind, in order, a call of its hooks. */
  #byKind = new Map<EventKind, Deliver[]>();
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
    if (this.#source !== null) {
      const e = this.#source.next();
      this.#records[i] = e;
      return e;
    }
    let e = this.#records[i];
    if (e === undefined) {
      e = new EngineEvent();
      this.#records.push(e);
    }
    return e;
  }

  /** Takes records from `source` from now on (null: from its own pool again). */
  recordIn(source: EventRecords | null): void {
    this.#source = source;
    this.#records = [];
  }

  add(listener: EngineListener): () => void {
    this.#listeners.push(listener);
    this.#route();
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
      this.#route();
    };
  }

  /** Makes each kind's list of calls from the listeners' hooks. */
  #route(): void {
    this.#byKind.clear();
    for (const kind of KINDS) {
      const calls: Deliver[] = [];
      for (const l of this.#listeners) {
        const any = l.onEvent?.bind(l);
        const own = (l[HOOK[kind]] as Deliver | undefined)?.bind(l);
        if (any !== undefined && own !== undefined)
          calls.push((e) => {
            any(e);
            own(e);
          });
        else if (any !== undefined || own !== undefined) calls.push((any ?? own)!);
      }
      if (calls.length > 0) this.#byKind.set(kind, calls);
    }
  }

  /** Hands every pending event to the listeners that take it, in order, and empties the box. */
  flush(): void {
    const n = this.#count;
    this.#count = 0;
    const byKind = this.#byKind;
    if (byKind.size === 0) return;
    for (let i = 0; i < n; i++) {
      const e = this.#records[i]!;
      const calls = byKind.get(e.kind);
      if (calls === undefined) continue;
      for (let j = 0; j < calls.length; j++) {
        try {
          calls[j]!(e);
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
