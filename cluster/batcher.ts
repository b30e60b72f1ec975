/**
 * A gateway's commands, batched: those sent in one turn of the event loop to one subject (a
 * shard's, for a venue) leave together as one command message (the shard executes them in the
 * order sent, stores their events as one message, and one publish acknowledgement answers them
 * all), under an id of the batch (`<sender>:b<n>`): a batch sent again after a lost answer, the
 * same bytes under the same id, is stored once. Each command keeps its own id inside the
 * message, which its events carry back.
 */
import type { Unstamped } from '../engine/index.ts';
import { type CommandBus, type Sent, surely } from './bus.ts';
import { venueOf } from './topology.ts';
import type { CommandEntry } from './wire-format.ts';

/**
 * A batch leaves at once when it holds this many commands or bytes: a NATS message holds 1 MB at
 * most by default, and the batch's event message must fit too (a typical order's events take a
 * few hundred bytes).
 */
const MAX_COMMANDS = 256;
const MAX_BYTES = 64 * 1024;

interface Batch {
  shard: number;
  venue: string | undefined;
  entries: CommandEntry[];
  bytes: number;
  waiting: Array<{ resolve: (sent: Sent) => void; reject: (err: Error) => void }>;
}

export interface BatcherOptions {
  /** Names the sender in batch ids: unique to this sender (a process's random id). */
  sender: string;
  /** Told of each failure after which a batch is sent again. */
  onRetry: (err: Error) => void;
  /** How long a batch is sent again while JetStream does not answer. */
  forMs: number;
}

export class CommandBatcher {
  #bus: CommandBus;
  #o: BatcherOptions;
  #n = 0;
  #open = new Map<string, Batch>();
  #scheduled = false;

  constructor(bus: CommandBus, o: BatcherOptions) {
    this.#bus = bus;
    this.#o = o;
  }

  /**
   * Sends `command` (id `ref`) to shard `shard`, with the commands sent beside it this turn;
   * resolves with where its message went. `venue` names the subject when the command does not
   * (a cancel, by its order's instrument). Throws, sending nothing, a `CodecError` for a command
   * that cannot be encoded.
   */
  send(shard: number, command: Unstamped, ref: string, venue?: string): Promise<Sent> {
    const bytes = this.#bus.encode(command);
    const v = venueOf(command) ?? venue;
    const key = `${shard}.${v ?? ''}`;
    let b = this.#open.get(key);
    if (b !== undefined && b.bytes + bytes.length > MAX_BYTES) {
      this.#send(key, b);
      b = undefined;
    }
    if (b === undefined) {
      b = { shard, venue: v, entries: [], bytes: 0, waiting: [] };
      this.#open.set(key, b);
    }
    b.entries.push({ ref, bytes });
    b.bytes += bytes.length + ref.length + 6;
    const sent = new Promise<Sent>((resolve, reject) => b.waiting.push({ resolve, reject }));
    if (b.entries.length >= MAX_COMMANDS) this.#send(key, b);
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
    return sent;
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    for (const [key, b] of this.#open) this.#send(key, b);
  };

  #send(key: string, b: Batch): void {
    this.#open.delete(key);
    const id = `${this.#o.sender}:b${++this.#n}`;
    surely(() => this.#bus.publish(b.shard, b.venue, b.entries, id), this.#o.onRetry, this.#o.forMs).then(
      (sent) => {
        for (const w of b.waiting) w.resolve(sent);
      },
      (err: Error) => {
        for (const w of b.waiting) w.reject(err);
      },
    );
  }
}
