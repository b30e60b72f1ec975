/**
 * Operations: `/health` (is the exchange up and its journal healthy) and `/metrics`
 * (Prometheus text format), plus the error handler every route shares: a `GatewayError` becomes
 * a JSON error with its code and an HTTP status that fits it.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { type ErrorCode, isGatewayError } from '../errors.ts';
import type { Exchange } from '../exchange.ts';
import type { Gateway } from '../gateway.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  AUTH_REQUIRED: 401,
  AUTH_FAILED: 401,
  CHALLENGE_EXPIRED: 401,
  UNKNOWN_INSTRUMENT: 404,
  UNKNOWN_ORDER: 404,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

/** The error and not-found handlers, on the root instance so that every route shares them. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (isGatewayError(err)) {
      return reply
        .status(STATUS[err.code] ?? 400)
        .send({ code: err.code, message: err.message, ...err.info });
    }
    if (err.validation) {
      return reply.status(400).send({ code: 'BAD_MESSAGE', message: err.message });
    }
    if (err.statusCode !== undefined && err.statusCode < 500) {
      return reply.status(err.statusCode).send({ code: 'BAD_MESSAGE', message: err.message });
    }
    app.log.error({ err }, 'request failed');
    return reply.status(500).send({ code: 'UNAVAILABLE', message: 'internal error' });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
}

export default async function opsPlugin(app: FastifyInstance, { gateway }: { gateway: Gateway<Exchange> }) {
  const { exchange, metrics } = gateway;

  app.get('/health', { schema: { hide: true } }, async (_req, reply) => {
    // The exchange stopped taking commands, or a part beside it (a settlement daemon) stopped
    // and says so with a `failed` reason in its health.
    const { failed: partFailed, ...health } = exchange.health();
    const reason = exchange.error?.message ?? (typeof partFailed === 'string' ? partFailed : null);
    const body = {
      status: reason === null ? 'ok' : 'failed',
      ...(reason === null ? {} : { reason }),
      ...health,
      instruments: exchange.view.instruments().length,
      liveOrders: exchange.view.liveOrders,
      uptimeSeconds: Math.round(process.uptime()),
    };
    return reply.status(reason === null ? 200 : 503).send(body);
  });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return reply.send(await metrics.registry.metrics());
  });
}
