/**
 * The live dashboard for people at `/`: a static page whose script reads REST for the instrument
 * list and settlement pipeline and subscribes over the WebSocket like any client.
 */
import type { FastifyInstance } from 'fastify';
import { readAsset } from '../assets.ts';
import type { Gateway } from '../gateway.ts';

const FILES: Record<string, string> = {
  '/': 'text/html; charset=utf-8',
  '/dashboard/app.js': 'text/javascript; charset=utf-8',
  '/dashboard/style.css': 'text/css; charset=utf-8',
};

export default async function dashboardPlugin(app: FastifyInstance, _opts: { gateway: Gateway }) {
  for (const [route, type] of Object.entries(FILES)) {
    let body: Buffer | null = null;
    app.get(route, { schema: { hide: true } }, async (_req, reply) => {
      body ??= readAsset(route === '/' ? 'gateway/dashboard/index.html' : `gateway${route}`);
      return reply.type(type).send(body);
    });
  }
}
