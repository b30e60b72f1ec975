/**
 * The live dashboard for people at `/`: a static page (gateway/dashboard/) whose scripts read
 * REST and use the WebSocket like any client. Beside its own files it serves, unchanged, the
 * compiled modules that hold the rules its order ticket checks (`/dashboard/rules/`: the
 * gateway's `order-rules.js`, the engine's `validate.js`, `band.js`, `fees.js` and `codes.js`,
 * none of which imports anything else), so the page checks an order with the server's own code,
 * and the chart library's standalone build from node_modules (`/dashboard/vendor/`). Nothing
 * is fetched from elsewhere. Files are read once, on first request.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { projectRoot } from '../assets.ts';
import type { Exchange } from '../exchange.ts';
import type { Gateway } from '../gateway.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Files served from outside the page's folder, by `/dashboard/<folder>/<file>`: their paths. */
function outside(root: string): Record<string, Record<string, string>> {
  const compiled = (at: string) => fileURLToPath(new URL(at, import.meta.url));
  return {
    // The rule modules the ticket runs, each beside the compiled gateway (this file's `../`).
    rules: {
      'order-rules.js': compiled('../order-rules.js'),
      'validate.js': compiled('../../engine/validate.js'),
      'band.js': compiled('../../engine/band.js'),
      'fees.js': compiled('../../engine/fees.js'),
      'codes.js': compiled('../../engine/codes.js'),
    },
    // Third-party builds, from node_modules.
    vendor: {
      'lightweight-charts.js': path.join(
        root,
        'node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs',
      ),
    },
  };
}

export default async function dashboardPlugin(app: FastifyInstance, _opts: { gateway: Gateway<Exchange> }) {
  const root = projectRoot();
  const folder = path.join(root, 'gateway', 'dashboard');
  const served = outside(root);
  const cache = new Map<string, Buffer>();
  /** The file's bytes (read once), or undefined if it is not there. */
  const read = (file: string): Buffer | undefined => {
    let body = cache.get(file);
    if (body === undefined) {
      if (!fs.existsSync(file)) return undefined;
      body = fs.readFileSync(file);
      cache.set(file, body);
    }
    return body;
  };
  const send = (reply: FastifyReply, file: string | undefined, name: string) => {
    const body = file === undefined ? undefined : read(file);
    const type = TYPES[path.extname(name)];
    if (body === undefined || type === undefined) {
      return reply.status(404).send({ code: 'NOT_FOUND', message: `no dashboard file "${name}"` });
    }
    return reply.type(type).send(body);
  };

  app.get('/', { schema: { hide: true } }, async (_req, reply) =>
    send(reply, path.join(folder, 'index.html'), 'index.html'),
  );
  app.get<{ Params: { file: string } }>(
    '/dashboard/:file',
    { schema: { hide: true } },
    async (req, reply) => {
      const { file } = req.params;
      const ok = /^[a-z0-9-]+\.(js|css)$/.test(file);
      return send(reply, ok ? path.join(folder, file) : undefined, file);
    },
  );
  app.get<{ Params: { folder: string; file: string } }>(
    '/dashboard/:folder/:file',
    { schema: { hide: true } },
    async (req, reply) => {
      const { folder: at, file } = req.params;
      const files = Object.hasOwn(served, at) ? served[at] : undefined;
      return send(reply, files !== undefined && Object.hasOwn(files, file) ? files[file] : undefined, file);
    },
  );
}
