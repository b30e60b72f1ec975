/**
 * Documentation served by the gateway: the OpenAPI document of the REST routes (generated from
 * their TypeBox schemas) at `/docs/openapi.json`, a readable page of it at `/docs`, the
 * WebSocket protocol at `/docs/ws-protocol.md` and the REST history's pages at `/docs/history.md`.
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { readAsset } from '../assets.ts';
import type { Exchange } from '../exchange.ts';
import type { Gateway } from '../gateway.ts';

/** Registers the OpenAPI generator; on the root instance, before any route, so it sees them all. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Mosaic exchange REST API',
        version: '0.1.0',
        description:
          'Order entry and streaming market data are on the WebSocket /ws: see /docs/ws-protocol.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
}

export default async function docsPlugin(app: FastifyInstance, _opts: { gateway: Gateway<Exchange> }) {
  let page: Buffer | null = null;
  const protocol = readAsset('docs/ws-protocol.md');
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, async (_req, reply) => {
    page ??= readAsset('gateway/dashboard/docs.html');
    return reply.type('text/html; charset=utf-8').send(page);
  });
  for (const [url, text] of [
    ['/docs/ws-protocol.md', protocol],
    ['/docs/history.md', readAsset('docs/history.md')],
  ] as const) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/markdown; charset=utf-8').send(text),
    );
  }
}
