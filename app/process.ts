/**
 * What every process of a cluster deployment shares: its configuration (the same file for all;
 * a bad one stops the start with exit 2 and the problem named), a pino logger, `/health` and
 * `/metrics` on an operations port, and a clean stop on SIGTERM or SIGINT (exit 0).
 */
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { Gauge, type Registry } from 'prom-client';
import { connectNats, ensureStreams, Topology } from '../cluster/index.ts';
import { stdoutLogger } from '../common/index.ts';
import { type Config, loadConfig } from './config.ts';

export class StartError extends Error {
  override name = 'StartError';
}

/** The configuration from `file` (or MOSAIC_CONFIG) and the environment; a BAD_CONFIG error names what is wrong. */
export function processConfig(file: string | undefined): Config {
  return loadConfig(process.env, file ?? process.env.MOSAIC_CONFIG);
}

/** A JSON logger to standard output at the configured level (`stdoutLogger`), each line naming the process. */
export function processLogger(config: Config, bindings: Record<string, string | number>): Logger {
  return stdoutLogger(config.logLevel, { pid: process.pid, ...bindings });
}

export interface Health {
  ok: boolean;
  [key: string]: unknown;
}

/** A process's operations server. */
export interface Ops {
  url: string;
  close(): Promise<void>;
}

/** Serves `/health` (200 when ok, else 503) and `/metrics` (Prometheus text); resolves with its address. */
export async function startOps(o: {
  host: string;
  port: number;
  health: () => Health;
  registry: Registry;
}): Promise<Ops> {
  const app = Fastify({ logger: false });
  app.get('/health', async (_req, reply) => {
    const h = o.health();
    return reply.status(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'failed', ...h, ok: undefined });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', o.registry.contentType);
    return reply.send(await o.registry.metrics());
  });
  const url = await app.listen({ host: o.host, port: o.port });
  return { url, close: () => app.close() };
}

/**
 * How long a stop may take before the process exits anyway: a part whose NATS server or ledger
 * went away with its parent would otherwise wait for it for ever (what it has acknowledged is
 * durable, so exiting loses nothing).
 */
const STOP_DEADLINE_MS = 5000;

/**
 * Runs `close` on the first SIGTERM or SIGINT, then exits 0 (1 if closing failed or took longer
 * than the deadline). `fatal` is for an error the process cannot get past: it logs, tries to
 * close, and exits 1 (to be restarted).
 */
export function stopOnSignals(log: Logger, close: () => Promise<void>): { fatal(err: Error): void } {
  let stopping = false;
  const stop = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info(`${why}: stopping`);
    setTimeout(() => {
      log.error(`not stopped after ${STOP_DEADLINE_MS} ms: exiting anyway`);
      log.flush();
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    close().then(
      () => {
        log.info('stopped');
        log.flush();
        process.exit(code);
      },
      (err: Error) => {
        log.error({ err }, 'error while stopping');
        log.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  return {
    fatal(err) {
      log.fatal({ err }, 'cannot go on');
      stop('fatal error', 1);
    },
  };
}

/** Gauges read at scrape time: name, help, and how to read each. */
export function readGauges(
  registry: Registry,
  gauges: Array<[name: string, help: string, read: () => number]>,
): void {
  for (const [name, help, read] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  }
}

/** A process's place in the cluster: its NATS connection (streams made where missing) and the topology. */
export interface Member {
  nc: NatsConnection;
  topology: Topology;
  /** Whether the connection is up now (it reconnects by itself; this follows its status). */
  readonly connected: boolean;
}

/** Connects to the cluster's NATS as `name`; throws, naming the servers, when it cannot be reached. */
export async function joinCluster(config: Config, name: string): Promise<Member> {
  const nc = await connectNats(config.cluster, name).catch((err: Error) => {
    throw new Error(`cannot reach NATS at ${config.cluster.servers.join(', ')}: ${err.message}`, {
      cause: err,
    });
  });
  const topology = new Topology(config.cluster);
  await ensureStreams(nc, topology, config.cluster);
  const member = { nc, topology, connected: true };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') member.connected = false;
      else if (s.type === 'reconnect') member.connected = true;
    }
  })();
  return member;
}

/**
 * `startOps` for a cluster process: healthy while connected to NATS and not failed, with
 * `details` in the health body; `mosaic_nats_connected` among the metrics.
 */
export function serveOps(o: {
  host: string;
  port: number;
  registry: Registry;
  member: Member;
  failure: () => Error | null;
  details: () => Record<string, unknown>;
}): Promise<Ops> {
  const { member } = o;
  readGauges(o.registry, [
    ['mosaic_nats_connected', 'Connected to NATS (1) or reconnecting (0)', () => (member.connected ? 1 : 0)],
  ]);
  return startOps({
    host: o.host,
    port: o.port,
    registry: o.registry,
    health: () => {
      const failed = o.failure();
      return {
        ok: failed === null && member.connected,
        ...(failed === null ? {} : { reason: failed.message }),
        nats: member.connected ? 'connected' : 'reconnecting',
        ...o.details(),
      };
    },
  });
}
