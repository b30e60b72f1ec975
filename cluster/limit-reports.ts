/**
 * The gateways' account-limit reports over NATS (core publish/subscribe, not JetStream: a lost
 * report costs a few messages of allowance, and the next full report restores session counts).
 * Each gateway publishes its reports every `intervalMs` and takes every other gateway's.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../common/index.ts';
import type { Topology } from './topology.ts';

/** What a gateway's limits report and take (gateway/limit-sharing.ts). */
export interface LimitReporter {
  reports(): unknown[];
  receive(value: unknown): void;
}

/** Publishes `reporter`'s reports and feeds it the others'; `stop` ends both. */
export function shareLimits(
  nc: NatsConnection,
  topology: Topology,
  reporter: LimitReporter,
  log: Logger,
  intervalMs = 250,
): { stop(): void } {
  const subject = topology.limitsSubject;
  const decoder = new TextDecoder();
  let warned = 0;
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err !== null) return;
      try {
        reporter.receive(JSON.parse(decoder.decode(msg.data)));
      } catch (e) {
        // One line a minute at most: a peer sending malformed reports sends them every turn.
        if (Date.now() - warned < 60_000) return;
        warned = Date.now();
        log.warn({ err: e }, `a malformed limit report on ${subject} was ignored`);
      }
    },
  });
  const timer = setInterval(() => {
    if (nc.isClosed() || nc.isDraining()) return;
    for (const report of reporter.reports()) nc.publish(subject, JSON.stringify(report));
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sub.unsubscribe();
    },
  };
}
