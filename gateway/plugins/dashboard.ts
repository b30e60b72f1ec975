/**
 * The live dashboard for people at `/`: a static page (gateway/dashboard/) whose scripts read
 * REST for the instrument list and settlement pipeline and subscribe over the WebSocket like any
 * client. Files are read once, on first request.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { projectRoot } from '../assets.ts';
import type { Exchange } from '../exchange.ts';
import type { Gateway } from '../gateway.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export default async function dashboardPlugin(app: FastifyInstance, _opts: { gateway: Gateway<Exchange> }) {
  const folder = path.join(projectRoot(), 'gateway', 'dashboard');
  const cache = new Map<string, Buffer>();
  const serve = (file: string) => {
    let body = cache.get(file);
    if (body === undefined) {
      body = fs.readFileSync(path.join(folder, file));
      cache.set(file, body);
    }
    return body;
  };
  app.get('/', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(TYPES['.html']!).send(serve('index.html')),
  );
  app.get<{ Params: { file: string } }>(
    '/dashboard/:file',
    { schema: { hide: true } },
    async (req, reply) => {
      const { file } = req.params;
      const type = TYPES[path.extname(file)];
      if (
        !/^[a-z0-9-]+\.(js|css)$/.test(file) ||
        type === undefined ||
        !fs.existsSync(path.join(folder, file))
      ) {
        return reply.status(404).send({ code: 'NOT_FOUND', message: `no dashboard file "${file}"` });
      }
      return reply.type(type).send(serve(file));
    },
  );
}
