/**
 * Commands executed but not yet durable, with their events, in rings that grow to the most ever
 * held at once and are then reused: no object per command or per event while they wait for the
 * journal (tens of milliseconds: long enough that objects made at execution would outlive the
 * young generation and cost the garbage collector a copy or two and a promotion each). A
 * released command's events are handed over as views of their records (no copy), valid until
 * the handler returns.
 */
import { EngineEvent, type EventRecords, eventView, type PublishedEvent } from '../engine/index.ts';

export class HeldCommands implements EventRecords {
  /** Pooled event records, a ring of `#events.length` (a power of two). */
  #events: EngineEvent[] = Array.from({ length: 1024 }, () => new EngineEvent());
  #eventHead = 0;
  #eventCount = 0;
  /** Per held command: its sequence and how many events it has (they follow one another in the ring). */
  #seq = new Float64Array(256);
  #count = new Uint32Array(256);
  #head = 0;
  #size = 0;

  /** Commands held. */
  get size(): number {
    return this.#size;
  }

  /** Starts holding command `seq`; its events follow with `add`. */
  begin(seq: number): void {
    if (this.#size === this.#seq.length) this.#growCommands();
    const i = (this.#head + this.#size++) & (this.#seq.length - 1);
    this.#seq[i] = seq;
    this.#count[i] = 0;
  }

  /**
   * The record for the next event of the command begun last, for the engine to write into
   * (`Engine.recordEventsIn`): held as it is, with no copy.
   */
  next(): EngineEvent {
    if (this.#eventCount === this.#events.length) this.#growEvents();
    const ring = this.#events;
    this.#count[(this.#head + this.#size - 1) & (this.#seq.length - 1)]!++;
    return ring[(this.#eventHead + this.#eventCount++) & (ring.length - 1)]!;
  }

  /**
   * Hands each held command up to `seq`, in order, with views of its events, and forgets it.
   * The command stays held while `handle` runs, so that commands it may submit cannot reuse
   * its records.
   */
  release(seq: number, handle: (seq: number, events: readonly PublishedEvent[]) => void): void {
    while (this.#size > 0 && this.#seq[this.#head]! <= seq) {
      const n = this.#count[this.#head]!;
      let ring = this.#events;
      const events: PublishedEvent[] = new Array(n);
      for (let k = 0; k < n; k++) events[k] = eventView(ring[(this.#eventHead + k) & (ring.length - 1)]!);
      handle(this.#seq[this.#head]!, events);
      // The rings may have grown meanwhile (grown, they start at 0): step on from where they are now.
      ring = this.#events;
      this.#eventHead = (this.#eventHead + n) & (ring.length - 1);
      this.#eventCount -= n;
      this.#head = (this.#head + 1) & (this.#seq.length - 1);
      this.#size--;
    }
  }

  /** Forgets every held command. */
  clear(): void {
    this.#head = this.#size = this.#eventHead = this.#eventCount = 0;
  }

  #growEvents(): void {
    const old = this.#events;
    const mask = old.length - 1;
    const grown = Array.from({ length: old.length }, (_, k) => old[(this.#eventHead + k) & mask]!);
    for (let k = 0; k < old.length; k++) grown.push(new EngineEvent());
    this.#events = grown;
    this.#eventHead = 0;
  }

  #growCommands(): void {
    const n = this.#seq.length;
    const unroll = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n * 2);
      for (let k = 0; k < this.#size; k++) b[k] = a[(this.#head + k) & (n - 1)]!;
      return b;
    };
    this.#seq = unroll(this.#seq, (m) => new Float64Array(m));
    this.#count = unroll(this.#count, (m) => new Uint32Array(m));
    this.#head = 0;
  }
}
