/**
 * Sends commands to the shards: each encoded as the journal encodes it (the shard stamps the
 * time) in a command message (wire-format.ts) on its shard's command stream, under a message id
 * that JetStream keeps: a message sent again under the same id within the deduplication window
 * is stored once, and the answer names the sequence it got the first time. A sender of single
 * commands (a daemon's ledger change, a shard's tick) sends each as a message of its own, under
 * its command id; a gateway's commands of one turn of the event loop leave together, one message
 * per subject (CommandBatcher), under an id of the batch, each command with its own id inside.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { isRetryable, retry, sleep } from '../common/index.ts';
import type { Command, Unstamped } from '../engine/index.ts';
import { encodeCommand, MAX_COMMAND_BYTES } from '../journal/index.ts';
import { type Topology, venueOf } from './topology.ts';
import { type CommandEntry, COMMANDS_FORMAT, commandsPayload, formatHeaders } from './wire-format.ts';

/** Where a command went. */
export interface Sent {
  shard: number;
  /** The sequence of its message on the shard's command stream. */
  seq: number;
  /** It had been sent before under this id: `seq` is the first one's. */
  duplicate: boolean;
}

export class CommandBus {
  #js: JetStreamClient;
  #topology: Topology;
  #buf = Buffer.allocUnsafe(MAX_COMMAND_BYTES);

  constructor(js: JetStreamClient, topology: Topology) {
    this.#js = js;
    this.#topology = topology;
  }

  /** A command's bytes, as the journal encodes it unstamped; throws a `CodecError` for one that cannot be encoded. */
  encode(command: Unstamped): Uint8Array {
    // The shard stamps it; stamped here in place, not copied (see LocalExchange.submit).
    const unstamped = command as Command;
    unstamped.ts = 0;
    const n = encodeCommand(unstamped, this.#buf, 0);
    // The client keeps a reference until the bytes are written: each message gets its own copy.
    return Uint8Array.prototype.slice.call(this.#buf, 0, n);
  }

  /** Publishes `entries` as one message on shard `shard`'s subject for `venue`, under `id`; resolves once JetStream holds it. */
  publish(
    shard: number,
    venue: string | undefined,
    entries: readonly CommandEntry[],
    id: string,
  ): Promise<Sent> {
    return this.#js
      .publish(this.#topology.commandSubject(shard, venue), commandsPayload(entries), {
        msgID: id,
        headers: formatHeaders(COMMANDS_FORMAT),
      })
      .then((ack) => ({ shard, seq: ack.seq, duplicate: ack.duplicate }));
  }

  /**
   * Publishes `command` alone on shard `shard` under `id`; resolves once JetStream holds it.
   * Throws, sending nothing, a `CodecError` for a command that cannot be encoded.
   */
  send(shard: number, command: Unstamped, id: string): Promise<Sent> {
    return this.publish(shard, venueOf(command), [{ ref: id, bytes: this.encode(command) }], id);
  }

  /** As `send`, trying again under the same id while JetStream does not answer (see `surely`). */
  sendSurely(
    shard: number,
    command: Unstamped,
    id: string,
    onRetry: (err: Error) => void = () => {},
    forMs = 30_000,
  ): Promise<Sent> {
    return surely(() => this.send(shard, command, id), onRetry, forMs);
  }
}

/**
 * `attempt`, tried again (under the same message id, so stored once whatever the tries) while
 * JetStream does not answer, e.g. during a leader election, for up to `forMs` after the first
 * failure (the first try costs no timer). A `CodecError` is permanent: thrown at once.
 */
export async function surely(
  attempt: () => Promise<Sent>,
  onRetry: (err: Error) => void,
  forMs: number,
): Promise<Sent> {
  try {
    return await attempt();
  } catch (err) {
    if (!isRetryable(err)) throw err;
    onRetry(err as Error);
    // Past the deadline the wait in progress ends and the last error is thrown.
    const signal = AbortSignal.timeout(forMs);
    await sleep(100, signal);
    return retry(attempt, {
      initialMs: 100,
      capMs: 2_000,
      signal,
      onRetry: (e) => onRetry(e as Error),
    });
  }
}
