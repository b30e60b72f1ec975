/**
 * A closed loop over one generator's connections: each keeps `window` orders outstanding, every
 * engine report (after journaling) for one of its orders sending its next one. Even connections
 * buy, odd ones sell, 1 lot at 100.00, so orders cross each other and the book never holds more
 * than the orders in flight. Counted between `count` and `stop`: engine reports, and each
 * order's time in flight.
 */
import { cpuPct } from './child.ts';
import { type BenchSocket, ENGINE, ERROR, execReport, parsed } from './client.ts';

/** What one generator measured between `count` and `stop`. */
export interface ClosedLoopPart {
  acknowledged: number;
  /** Send to engine report, ms, of the orders answered in the window. */
  samples: Float64Array;
  wallMs: number;
  cpuPct: number;
  errors: number;
  firstError: string;
}

const RING = 1 << 20;

export class ClosedLoop {
  readonly #conns: readonly BenchSocket[];
  readonly #window: number;
  readonly #frame: (conn: number, n: number) => string;
  readonly #number: () => number;
  // Order numbers are the generator's (each account sees only its own): n's send time is sentAt[n % RING].
  readonly #sentAt = new Float64Array(RING);
  #samples: number[] = [];
  #counting = false;
  #stopping = false;
  #acknowledged = 0;
  #inFlight = 0;
  #errors = 0;
  #firstError = '';
  #cpu = process.cpuUsage();
  #t0 = 0;
  #drained: () => void = () => {};

  /** `frame(c, n)`: order `n` on connection `c`; `number()`: the next order number. */
  constructor(
    conns: readonly BenchSocket[],
    window: number,
    frame: (conn: number, n: number) => string,
    number: () => number,
  ) {
    this.#conns = conns;
    this.#window = window;
    this.#frame = frame;
    this.#number = number;
  }

  /** Fills every connection's window; the loop runs from here on, not yet counted. */
  begin(): void {
    this.#conns.forEach((conn, c) => {
      conn.onFrame = (data) => this.#onFrame(c, data);
    });
    for (let c = 0; c < this.#conns.length; c++) for (let w = 0; w < this.#window; w++) this.#send(c);
  }

  count(): void {
    this.#cpu = process.cpuUsage();
    this.#t0 = performance.now();
    this.#counting = true;
  }

  /** Ends the counted window and the loop: no order is sent after this. */
  stop(): ClosedLoopPart {
    this.#counting = false;
    this.#stopping = true;
    const wallMs = performance.now() - this.#t0;
    return {
      acknowledged: this.#acknowledged,
      samples: Float64Array.from(this.#samples),
      wallMs,
      cpuPct: cpuPct(this.#cpu, wallMs),
      errors: this.#errors,
      firstError: this.#firstError,
    };
  }

  /** Resolves once every order in flight is answered, or after `ms`. */
  drain(ms = 5000): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #send(c: number): void {
    const n = this.#number();
    this.#sentAt[n % RING] = performance.now();
    this.#inFlight++;
    this.#conns[c]!.send(this.#frame(c, n));
  }

  #onFrame(c: number, data: Buffer): void {
    const kind = execReport(data);
    if (kind === ERROR) {
      if (this.#errors++ === 0) this.#firstError = parsed.error;
      return;
    }
    if (kind !== ENGINE) return;
    // A maker's fill report for an order already answered carries its number too: only the
    // first engine report counts, and that one clears the slot.
    const slot = parsed.order % RING;
    const at = this.#sentAt[slot]!;
    if (at === 0) return;
    this.#sentAt[slot] = 0;
    this.#inFlight--;
    if (this.#counting) {
      this.#acknowledged++;
      this.#samples.push(performance.now() - at);
    }
    if (!this.#stopping) this.#send(c);
    else if (this.#inFlight === 0) this.#drained();
  }
}
