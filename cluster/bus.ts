/**
 * Sends commands to the shards: each one encoded as the journal encodes it (the shard stamps the
 * time), marked with the format version (wire-format.ts) and published on its shard's command stream under the sender's command id, which
 * JetStream keeps as the message id. A command sent again under the same id within the
 * deduplication window is stored once, and the answer names the sequence it got the first time.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { isRetryable, retry, sleep } from '../common/index.ts';
import type { Command, Unstamped } from '../engine/index.ts';
import { encodeCommand, MAX_COMMAND_BYTES } from '../journal/index.ts';
import { type Topology, venueOf } from './topology.ts';
import { formatHeaders } from './wire-format.ts';

/** Where a command went. */
export interface Sent {
  shard: number;
  /** Its sequence on the shard (the command sequence). */
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

  /**
   * Publishes `command` on shard `shard` under `id`; resolves once JetStream holds it. Throws,
   * sending nothing, a `CodecError` for a command that cannot be encoded.
   */
  send(shard: number, command: Unstamped, id: string): Promise<Sent> {
    // The shard stamps it; stamped here in place, not copied (see LocalExchange.submit).
    const unstamped = command as Command;
    unstamped.ts = 0;
    const n = encodeCommand(unstamped, this.#buf, 0);
    // The client keeps a reference until the bytes are written: each message gets its own copy.
    const data = Uint8Array.prototype.slice.call(this.#buf, 0, n);
    const subject = this.#topology.commandSubject(shard, venueOf(command));
    return this.#js
      .publish(subject, data, { msgID: id, headers: formatHeaders() })
      .then((ack) => ({ shard, seq: ack.seq, duplicate: ack.duplicate }));
  }

  /**
   * As `send`, trying again under the same id (stored once, whatever the tries) while JetStream
   * does not answer, e.g. during a leader election, for up to `forMs` after the first failure
   * (the first try costs no timer).
   */
  async sendSurely(
    shard: number,
    command: Unstamped,
    id: string,
    onRetry: (err: Error) => void = () => {},
    forMs = 30_000,
  ): Promise<Sent> {
    try {
      return await this.send(shard, command, id);
    } catch (err) {
      // A command that cannot be encoded never will be: a `CodecError` is permanent.
      if (!isRetryable(err)) throw err;
      onRetry(err as Error);
      // Past the deadline the wait in progress ends and the last error is thrown.
      const signal = AbortSignal.timeout(forMs);
      await sleep(100, signal);
      return retry(() => this.send(shard, command, id), {
        initialMs: 100,
        capMs: 2_000,
        signal,
        onRetry: (e) => onRetry(e as Error),
      });
    }
  }
}
