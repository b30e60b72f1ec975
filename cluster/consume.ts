/**
 * Consuming a JetStream consumer for as long as a process runs. The client keeps pulling through
 * reconnects, but a consumer whose server is gone (a node killed) stops answering: after three
 * missed heartbeats (a pull lasts two seconds, a heartbeat comes every second) the consumer is
 * got or made again, and consumption goes on where it was. So is it when getting it fails
 * (a stream leader being elected).
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { makeError } from './errors.ts';
import { Backoff, type Logger, sleep } from '../common/index.ts';

export interface ConsumeOptions {
  /** Gets the consumer, or makes it again (an ordered one from where the caller is). */
  get: () => Promise<Consumer>;
  /** Takes each message; a promise returned holds the next one back. Throwing stops consuming. */
  handle: (m: JsMsg) => Promise<void> | void;
  /** Messages pulled at once. */
  batch: number;
  /**
   * Whether there are messages the consumer has not delivered: asked when none came for five
   * seconds; if so, the consumer is got again (whatever kept it from delivering).
   */
  behind: () => Promise<boolean>;
  /** Names the consumer in log lines. */
  name: string;
  log: Logger;
}

/** Consumes until `stop`; resolves then, rejects if `handle` threw. */
export function consume(o: ConsumeOptions): { done: Promise<void>; stop(): void } {
  let stopped = false;
  let messages: ConsumerMessages | null = null;
  let restarted = false;
  const loop = async () => {
    const backoff = new Backoff({ initialMs: 250, capMs: 5_000 });
    let failing = false;
    while (!stopped) {
      try {
        messages = await within(
          (async () => (await o.get()).consume({ max_messages: o.batch, expires: 2_000 }))(),
          10_000,
          (late) => late.stop(),
        );
        // Stopped while it was got: `stop` could not reach these messages.
        if (stopped) {
          messages.stop();
          break;
        }
        if (failing || restarted) o.log.info(`${o.name}: consuming again`);
        backoff.reset();
        failing = false;
        restarted = false;
      } catch (err) {
        o.log.warn(`${o.name}: cannot consume (${(err as Error).message}); trying again`);
        failing = true;
        await sleep(backoff.next());
        continue;
      }
      const current = messages;
      const again = (why: string) => {
        if (restarted) return;
        o.log.warn(`${o.name}: ${why}; getting the consumer again`);
        restarted = true;
        current.stop();
      };
      void (async () => {
        for await (const s of current.status()) {
          if (s.type === 'heartbeats_missed' && s.count >= 3) again('its server does not answer');
          if (s.type === 'consumer_deleted') again('it was deleted');
        }
      })();
      let lastAt = Date.now();
      const check = setInterval(() => {
        if (Date.now() - lastAt < 5_000) return;
        o.behind().then(
          (behind) =>
            behind && Date.now() - lastAt >= 5_000 && again('it delivers nothing while the stream has more'),
          () => {},
        );
      }, 5_000);
      try {
        for await (const m of current) {
          lastAt = Date.now();
          const hold = o.handle(m);
          if (hold !== undefined) await hold;
          lastAt = Date.now();
        }
      } finally {
        clearInterval(check);
      }
    }
  };
  return {
    done: loop(),
    stop() {
      stopped = true;
      messages?.stop();
    },
  };
}

/**
 * `p`, or a timeout error after `ms` (the client may wait on a consumer's creation for ever
 * while a stream has no leader); what `p` gives after the timeout goes to `late`.
 */
function within<T>(p: Promise<T>, ms: number, late: (value: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(makeError(`no answer in ${ms / 1000} s`, 'UNAVAILABLE'));
    }, ms);
    p.then(
      (value) => {
        clearTimeout(timer);
        if (timedOut) late(value);
        else resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(err as Error);
      },
    );
  });
}
