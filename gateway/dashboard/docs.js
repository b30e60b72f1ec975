// Renders the OpenAPI document of the REST routes: each path and method with its summary,
// parameters, body and response schemas, as compact TypeScript-like types. Text only. Served to
// /docs (gateway/dashboard/docs.html) at /dashboard/docs.js.

import { $, el } from './dom.js';

let spec = {};

/** `#/components/schemas/X` -> the schema it names. */
function resolve(schema) {
  let s = schema;
  for (let i = 0; i < 8 && s && typeof s.$ref === 'string'; i++) {
    s = s.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return s ?? {};
}

/** A schema as a compact TypeScript-like type, descriptions as comments. */
function typeText(schema, indent = '') {
  const s = resolve(schema);
  const inner = indent + '  ';
  const note = s.description ? ` /* ${s.description} */` : '';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts)) {
    const parts = alts.map((a) => typeText(a, indent));
    return parts.join(' | ') + note;
  }
  if (Array.isArray(s.allOf)) return s.allOf.map((a) => typeText(a, indent)).join(' & ');
  const tuple = s.prefixItems ?? (Array.isArray(s.items) ? s.items : null);
  if (s.type === 'array' && tuple) return `[${tuple.map((t) => typeText(t, indent)).join(', ')}]`;
  if (s.type === 'array') return `${typeText(s.items ?? {}, indent)}[]`;
  if (s.type === 'object' || s.properties) {
    const props = Object.entries(s.properties ?? {});
    if (props.length === 0) return 'object';
    const required = new Set(s.required ?? []);
    const lines = props.map(
      ([name, p]) => `${inner}${name}${required.has(name) ? '' : '?'}: ${typeText(p, inner)}`,
    );
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  const type = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
  const bounds = [];
  if (s.minimum !== undefined) bounds.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) bounds.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) {
    bounds.push(`${s.minLength ?? 0}..${s.maxLength ?? '∞'} chars`);
  }
  const nullable = s.nullable ? ' | null' : '';
  return `${type}${nullable}${bounds.length ? ` (${bounds.join(', ')})` : ''}${note}`;
}

function schemaBlock(schema) {
  return el('pre', { class: 'schema' }, typeText(schema));
}

function route(path, method, op) {
  const box = el('section', {
    class: 'route',
    'data-testid': 'route',
    'data-method': method,
    'data-path': path,
  });
  const title = el('h3', {}, el('span', { class: `method ${method}` }, method), ' ', path);
  if (Array.isArray(op.security) && op.security.length > 0) {
    title.append(el('span', { class: 'lock', title: 'needs Authorization: Bearer TOKEN' }, 'bearer token'));
  }
  box.append(title);
  if (op.summary) box.append(el('div', { 'data-testid': 'route-summary' }, op.summary));
  if (op.description) box.append(el('div', { class: 'muted' }, op.description));
  const dl = el('dl');
  const params = op.parameters ?? [];
  if (params.length > 0) {
    dl.append(el('dt', {}, 'Parameters'));
    for (const p of params) {
      const req = p.required ? '' : '?';
      dl.append(
        el(
          'dd',
          { class: 'schema' },
          `${p.in} ${p.name}${req}: ${typeText(p.schema ?? {})}${p.description ? ` — ${p.description}` : ''}`,
        ),
      );
    }
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  if (body) {
    dl.append(el('dt', {}, 'Body (application/json)'));
    dl.append(el('dd', {}, schemaBlock(body)));
  }
  for (const [code, res] of Object.entries(op.responses ?? {})) {
    const content = res.content ?? {};
    const first = Object.values(content)[0];
    dl.append(
      el(
        'dt',
        {},
        `Response ${code}${res.description && res.description !== 'Default Response' ? ` — ${res.description}` : ''}`,
      ),
    );
    dl.append(
      el('dd', {}, first?.schema ? schemaBlock(first.schema) : el('span', { class: 'muted' }, 'no schema')),
    );
  }
  box.append(dl);
  return box;
}

async function main() {
  const intro = $('[data-testid="api-intro"]');
  try {
    const res = await fetch('/docs/openapi.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    spec = await res.json();
  } catch (err) {
    intro.textContent = `Cannot load /docs/openapi.json: ${err.message}`;
    intro.classList.add('bad');
    return;
  }
  const info = spec.info ?? {};
  intro.replaceChildren(
    el('strong', {}, `${info.title ?? 'API'} ${info.version ?? ''}`),
    el('br'),
    info.description ?? '',
    el('br'),
    'WebSocket protocol: ',
    el('a', { href: '/docs/ws-protocol.md' }, '/docs/ws-protocol.md'),
    ' · fill and order history: ',
    el('a', { href: '/docs/history.md' }, '/docs/history.md'),
    ' · raw OpenAPI document: ',
    el('a', { href: '/docs/openapi.json' }, '/docs/openapi.json'),
  );
  intro.classList.remove('muted');
  const routes = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      if (item[method]) routes.push(route(path, method, item[method]));
    }
  }
  $('[data-testid="routes"]').replaceChildren(...routes);
}

main();
