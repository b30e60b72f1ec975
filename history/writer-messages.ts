/** What the history's writer thread and the thread that started it tell each other. */

/** In `WriterData.state`: 1 while the writer records a batch. */
export const BUSY = 0;
/** In `WriterData.state`: 1 once the process exits (no batch starts after that). */
export const STOP = 1;

/** The writer's start: its folder and shard, and the state it shares with its starter. */
export interface WriterData {
  dir: string;
  shard: number;
  /** Two 32-bit integers on shared memory: BUSY and STOP. */
  state: Int32Array;
}

/** To the writer: a batch of commands' events (journal/event-codec.ts), or close. */
export type ToWriter = { op: 'events'; bytes: Uint8Array } | { op: 'close' };

/** From the writer. */
export type FromWriter =
  | { op: 'commit'; committed: number; durable: number }
  | { op: 'log'; level: 'info' | 'warn' | 'error'; fields: Record<string, unknown>; message: string }
  | { op: 'failed'; message: string }
  | { op: 'closed'; committed: number; durable: number };
