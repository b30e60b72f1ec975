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

/** Messages held while `handle` holds one back, at most: past them the consumer is got again later. */
const HELD = 10_000;

/**
 * Consumes until `stop`; resolves then, rejects if `handle` threw. Messages come to a callback,
 * all those of one read from the socket in one go, so that what `handle` publishes for them
 * leaves in one write (a message at a time, each its own write, cost a shard a fifth of its
 * CPU: bench:cluster, profiled). While a promise from `handle` holds the next message back,
 * those that come meanwhile wait in order (up to HELD; beyond, the consumer is dropped and got
 * again once they are handled, from where the caller is then).
 */
export function consume(o: ConsumeOptions): { done: Promise<void>; stop(): void } {
  let stopped = false;
  let messages: ConsumerMessages | null = null;
  let restarted = false;
  let failure: Error | null = null;
  const held: JsMsg[] = [];
  let holding: Promise<void> | null = null;
  /** Resolves when nothing is held back (to get the consumer again from where the caller is). */
  let idle: Promise<void> = Promise.resolve();
  let settle: (() => void) | null = null;
  const busy = () => {
    if (settle !== null) return;
    idle = new Promise((resolve) => {
      settle = () => {
        settle = null;
        resolve();
      };
    });
  };
  /** The consumer whose messages are taken (one got again leaves its predecessor's late ones). */
  let live: object | null = null;

  const fail = (err: unknown) => {
    failure ??= err as Error;
    messages?.stop();
  };
  const run = (m: JsMsg) => {
    const hold = o.handle(m);
    if (hold === undefined) return;
    holding = hold.then(
      () => {
        holding = null;
        drain();
      },
      (err: unknown) => {
        holding = null;
        held.length = 0;
        settle?.();
        fail(err);
      },
    );
  };
  const drain = () => {
    try {
      while (holding === null && held.length > 0 && failure === null) run(held.shift()!);
    } catch (err) {
      held.length = 0;
      fail(err);
    }
    if (holding === null && held.length === 0) settle?.();
  };

  const loop = async () => {
    const backoff = new Backoff({ initialMs: 250, capMs: 5_000 });
    let failing = false;
    while (!stopped && failure === null) {
      await idle;
      if (stopped || failure !== null) break;
      let current: ConsumerMessages | null = null;
      let lastAt = Date.now();
      const again = (why: string) => {
        if (restarted) return;
        o.log.warn(`${o.name}: ${why}; getting the consumer again`);
        restarted = true;
        live = null;
        current?.stop();
      };
      const token = {};
      live = token;
      const take = (m: JsMsg) => {
        if (live !== token || failure !== null || stopped) return;
        lastAt = Date.now();
        if (holding !== null || held.length > 0) {
          held.push(m);
          if (held.length >= HELD) again('too many messages wait for the one held back');
          return;
        }
        try {
          run(m);
          if (holding !== null) busy();
        } catch (err) {
          fail(err);
        }
      };
      try {
        current = await within(
          (async () => (await o.get()).consume({ max_messages: o.batch, expires: 2_000, callback: take }))(),
          10_000,
          (late) => late.stop(),
        );
        messages = current;
        // Stopped while it was got: `stop` could not reach these messages.
        if (stopped) {
          current.stop();
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
      const watched = current;
      void (async () => {
        for await (const s of watched.status()) {
          if (s.type === 'heartbeats_missed' && s.count >= 3) again('its server does not answer');
          if (s.type === 'consumer_deleted') again('it was deleted');
        }
      })();
      const check = setInterval(() => {
        if (Date.now() - lastAt < 5_000 || holding !== null) return;
        o.behind().then(
          (behind) =>
            behind && Date.now() - lastAt >= 5_000 && again('it delivers nothing while the stream has more'),
          () => {},
        );
      }, 5_000);
      try {
        await watched.closed();
      } finally {
        clearInterval(check);
      }
    }
    await idle;
    if (failure !== null) throw failure;
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
