/**
 * A process's configuration (the gateway's settings, the data folder, the demo, the settlement
 * connectors and the cluster): embedded defaults, overridden by an optional JSON file and then
 * by environment variables, and validated as a whole before anything starts. A bad value stops
 * the start with an error naming where it came from and what is wrong.
 */
import fs from 'node:fs';
import Type, { type Static, type TObject } from 'typebox';
import { Compile } from 'typebox/compile';
import { clusterProblems, ClusterSchema, defaultCluster } from '../cluster/index.ts';
import { checkSpec, type InstrumentSpec } from '../engine/index.ts';
import { type ConnectorSettings, defaultConnectors, htlcProblem, ledgerKind } from '../connectors/index.ts';
import { defaultGatewayConfig, GatewaySettings, makeError, MEMBER } from '../gateway/index.ts';
import { configProblems } from './config-problems.ts';
import { DEMO_LISTINGS } from './demo.ts';
import {
  connectorEnv,
  ConnectorEntry,
  connectorsSchema,
  type Origins,
  readLegacy,
  venuesTwice,
  withDefaults,
} from './connector-config.ts';

const { feed, ...gateway } = GatewaySettings;

const properties = {
  ...gateway,
  /** Journal and snapshots. */
  dataDir: Type.String({ minLength: 1 }),
  /** Pre-trade risk: eligibility and balances (fixed when the data folder is first made). */
  risk: Type.Boolean(),
  demo: Type.Object(
    {
      /** List the demo instruments on an empty exchange. */
      instruments: Type.Boolean(),
      /** Run the demo market maker, which quotes and trades on every public demo instrument. */
      marketMaker: Type.Boolean(),
      /** Credit every new account demo balances and make it eligible where it may trade. */
      fundAccounts: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
  /**
   * Instruments listed at start when not listed yet (each as `InstrumentSpec` of engine/types.ts;
   * a listed instrument is not changed by a different entry here).
   */
  instruments: Type.Array(
    Type.Object(
      {
        id: Type.String({ maxLength: 160 }),
        tickSize: Type.String({ maxLength: 64 }),
        lotSize: Type.String({ maxLength: 64 }),
        priceDecimals: Type.Integer(),
        quantityDecimals: Type.Integer(),
        minQty: Type.Integer(),
        maxQty: Type.Integer(),
        maxPrice: Type.Integer(),
        referencePrice: Type.Integer(),
        bandBps: Type.Integer(),
        makerFeeBps: Type.Integer(),
        takerFeeBps: Type.Integer(),
        quote: Type.Optional(Type.String({ maxLength: 12 })),
        quoteUnit: Type.Optional(Type.String({ maxLength: 64 })),
        quoteVenue: Type.Optional(Type.String({ maxLength: 80 })),
      },
      { additionalProperties: false },
    ),
    { maxItems: 10_000 },
  ),
  /**
   * The hash time-locks of cross-ledger trades (docs/settlement.md, "Cross-ledger trades"): the
   * timing both ledgers' daemons lock with, and the operator's key the secrets are derived from
   * (a file of at least 32 bytes; '' for `<dataDir>/htlc.key`, made at the first start).
   */
  htlc: Type.Object(
    {
      lockSeconds: Type.Integer({ minimum: 1 }),
      marginSeconds: Type.Integer({ minimum: 1 }),
      claimMarginSeconds: Type.Integer({ minimum: 1 }),
      keyFile: Type.String(),
    },
    { additionalProperties: false },
  ),
  /** The ledgers' settlement connectors run with the exchange, one per venue (connectors/kinds.ts). */
  connectors: Type.Array(ConnectorEntry, { maxItems: 64 }),
  /** The processes of a cluster deployment on NATS JetStream (`mosaic engine|gateway|connector`). */
  cluster: ClusterSchema,
  feed,
};

export type Config = Omit<Static<TObject<typeof properties>>, 'connectors'> & {
  connectors: ConnectorSettings[];
};

/** The embedded defaults: everything on one machine, on loopback. */
export function defaultConfig(): Config {
  return {
    ...defaultGatewayConfig(),
    dataDir: './data',
    risk: true,
    demo: { instruments: true, marketMaker: true, fundAccounts: true },
    instruments: [],
    htlc: { lockSeconds: 120, marginSeconds: 60, claimMarginSeconds: 30, keyFile: '' },
    connectors: defaultConnectors(),
    cluster: defaultCluster(),
  };
}

/** Environment variables and the setting each one overrides (the connectors' come from their kinds). */
const ENV: Record<string, { path: string[]; kind: 'string' | 'integer' | 'boolean' }> = {
  MOSAIC_HOST: { path: ['host'], kind: 'string' },
  MOSAIC_PORT: { path: ['port'], kind: 'integer' },
  MOSAIC_DATA_DIR: { path: ['dataDir'], kind: 'string' },
  MOSAIC_RISK: { path: ['risk'], kind: 'boolean' },
  MOSAIC_LOG_LEVEL: { path: ['logLevel'], kind: 'string' },
  MOSAIC_DEMO_INSTRUMENTS: { path: ['demo', 'instruments'], kind: 'boolean' },
  MOSAIC_MARKET_MAKER: { path: ['demo', 'marketMaker'], kind: 'boolean' },
  MOSAIC_FUND_ACCOUNTS: { path: ['demo', 'fundAccounts'], kind: 'boolean' },
  MOSAIC_CLUSTER: { path: ['cluster', 'enabled'], kind: 'boolean' },
  MOSAIC_RATE_LIMIT: { path: ['limits', 'messagesPerSecond'], kind: 'integer' },
  MOSAIC_BURST: { path: ['limits', 'burst'], kind: 'integer' },
};

/** A deprecation, told on standard error (at once: nothing of a process start waits for it). */
function deprecated(message: string): void {
  process.stderr.write(`mosaic: deprecated: ${message}\n`);
}

/**
 * The configuration from the defaults, the JSON file named by `MOSAIC_CONFIG` (or `file`), and
 * the `MOSAIC_*` variables of `env`. Throws a `BAD_CONFIG` error naming every problem found;
 * tells `warnTo` of settings in an old form it still reads (once they are valid).
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  file = env.MOSAIC_CONFIG,
  warnTo: (message: string) => void = deprecated,
): Config {
  // Deprecations are told once the configuration is valid: a problem is what a bad start says.
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const origins: Origins = new Map();
  const hasFile = file !== undefined && file !== '';
  if (hasFile) {
    const raw = readLegacy(readFile(file), config.connectors as unknown[], file, origins, warn);
    movedHardBytes(raw, file, warn);
    merge(config, raw, file);
  }
  if (Array.isArray(config.connectors)) withDefaults(config.connectors);
  if (isPlain(config.venues)) oldMembers(config.venues, file ?? '', warn);
  const fromEnv = new Map<string, string>();
  const vars = Object.entries(ENV).map(([name, v]) => [name, [v]] as const);
  const connectorVars = Array.isArray(config.connectors)
    ? connectorEnv(config.connectors as ConnectorSettings[])
    : {};
  for (const [name, targets] of [...vars, ...Object.entries(connectorVars)]) {
    const raw = env[name];
    if (raw === undefined) continue;
    const kind = targets[0]?.kind ?? 'string';
    const value = parseEnv(name, raw, kind);
    for (const { path } of targets) {
      setPath(config, path, value);
      fromEnv.set(`/${path.join('/')}`, name);
    }
  }
  const where = (at: string) => {
    const entry = /^\/connectors\/\d+/.exec(at)?.[0];
    const origin = entry === undefined ? undefined : origins.get(entry);
    return origin === undefined ? at : origin + at.slice(entry!.length);
  };
  const source = (at: string) => {
    const name = fromEnv.get(at);
    if (name !== undefined) return ` (from ${name})`;
    return hasFile ? ` (in ${file})` : '';
  };
  const check = Compile(
    Type.Object(
      { ...properties, connectors: connectorsSchema(config.connectors) },
      { additionalProperties: false },
    ),
  );
  const problems = configProblems(check, config).map(
    ({ at, text }) => `${where(at) || '/'}${source(at)}: ${text}`,
  );
  if (problems.length > 0) {
    throw makeError(`invalid configuration: ${problems.slice(0, 10).join('; ')}`, 'BAD_CONFIG', { problems });
  }
  const valid = config as unknown as Config;
  if (valid.limits.maxUnsentBytes <= valid.feed.slowBytes) {
    throw makeError('limits.maxUnsentBytes must be larger than feed.slowBytes', 'BAD_CONFIG');
  }
  const ofConnectors = [
    ...valid.connectors.flatMap((c, i) =>
      c.enabled
        ? (ledgerKind(c.kind)!.problems?.(c) ?? []).map((p) => ({ ...p, at: `/connectors/${i}${p.at}` }))
        : [],
    ),
    ...venuesTwice(valid.connectors, where),
  ].map(({ at, text }) => `${where(at)}${source(at)}: ${text}`);
  const specs = valid.instruments.flatMap((spec, i) => {
    const wrong = checkSpec(spec);
    return wrong === null ? [] : [`/instruments/${i}${source(`/instruments/${i}`)}: ${wrong}`];
  });
  const cluster = clusterProblems(valid.cluster);
  const htlc = htlcProblem(valid.htlc);
  for (const found of [
    ofConnectors,
    specs,
    cluster,
    htlc === null ? [] : [`/htlc${source('/htlc')}: ${htlc}`],
  ]) {
    if (found.length > 0) {
      throw makeError(`invalid configuration: ${found.join('; ')}`, 'BAD_CONFIG', { problems: found });
    }
  }
  valid.msps = valid.msps.map((m) => ({
    ...m,
    rootCerts: m.rootCerts.map((c) => readPem(c, `msps ${m.mspId}: root certificate`)),
  }));
  // The connectors take PEM text: files are read here, once, with the setting named.
  valid.connectors = valid.connectors.map(
    (c, i) =>
      ledgerKind(c.kind)!.resolve?.(c, (text, at) => readPem(text, where(`/connectors/${i}${at}`))) ?? c,
  );
  for (const w of warnings) warnTo(w);
  return valid;
}

/**
 * Venue members in the old form, a bare MSP id or address: named with their kind of identity
 * (`x509:`, `evm:`), with a deprecation warning.
 */
function oldMembers(venues: Record<string, unknown>, file: string, warn: (message: string) => void): void {
  const member = new RegExp(MEMBER);
  let old = 0;
  for (const venue of Object.values(venues)) {
    const members = (venue as { members?: unknown }).members;
    if (!Array.isArray(members)) continue;
    members.forEach((m, i) => {
      if (typeof m !== 'string' || member.test(m)) return;
      const named = /^0x[0-9a-fA-F]{40}$/.test(m) ? `evm:${m}` : `x509:${m}`;
      if (!member.test(named)) return;
      members[i] = named;
      old++;
    });
  }
  if (old > 0) {
    warn(
      `${file}: venue members without their kind of identity are deprecated: ` +
        'write "x509:<MSP id>" or "evm:<address>" (docs/configuration.md)',
    );
  }
}

/**
 * `feed.hardBytes`, the cap on a connection's unsent bytes when only market data had one: now
 * `limits.maxUnsentBytes`, for everything written to a connection.
 */
function movedHardBytes(raw: Record<string, unknown>, file: string, warn: (message: string) => void): void {
  const feed = raw.feed;
  if (!isPlain(feed) || !('hardBytes' in feed)) return;
  const { hardBytes, ...rest } = feed;
  raw.feed = rest;
  const limits = isPlain(raw.limits) ? raw.limits : {};
  if (!('maxUnsentBytes' in limits)) raw.limits = { ...limits, maxUnsentBytes: hardBytes };
  warn(`${file}: feed.hardBytes is deprecated: write limits.maxUnsentBytes (docs/configuration.md)`);
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw makeError(`cannot read config file ${file}: ${(err as Error).message}`, 'BAD_CONFIG', {}, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw makeError(
      `config file ${file} is not valid JSON: ${(err as Error).message}`,
      'BAD_CONFIG',
      {},
      err,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw makeError(`config file ${file} must hold a JSON object`, 'BAD_CONFIG');
  }
  return parsed as Record<string, unknown>;
}

/** Deep-merges plain objects from `source` into `target`; arrays and values replace. */
function merge(target: Record<string, unknown>, source: Record<string, unknown>, file: string): void {
  for (const [key, value] of Object.entries(source)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      throw makeError(`config file ${file}: key ${key} is not allowed`, 'BAD_CONFIG');
    }
    const old = target[key];
    if (isPlain(old) && isPlain(value) && key !== 'venues') merge(old, value, file);
    else target[key] = value;
  }
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseEnv(name: string, raw: string, kind: 'string' | 'integer' | 'boolean'): unknown {
  if (kind === 'string') return raw;
  if (kind === 'integer') {
    if (!/^\d{1,15}$/.test(raw))
      throw makeError(`${name} must be a whole number, got "${raw}"`, 'BAD_CONFIG');
    return Number(raw);
  }
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw makeError(`${name} must be true or false (1/0, on/off), got "${raw}"`, 'BAD_CONFIG');
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let at = obj;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[path.at(-1)!] = value;
}

/** PEM text as given, or read from the path given; `what` names the setting in an error. */
function readPem(textOrPath: string, what: string): string {
  if (textOrPath.includes('-----BEGIN')) return textOrPath;
  try {
    return fs.readFileSync(textOrPath, 'utf8');
  } catch (err) {
    throw makeError(`${what}: cannot read ${textOrPath}: ${(err as Error).message}`, 'BAD_CONFIG', {}, err);
  }
}

/** What to list at start: the configured instruments, and the demo's when it asks for them. */
export function listings(config: Config): InstrumentSpec[] {
  return [...config.instruments, ...(config.demo.instruments ? DEMO_LISTINGS : [])];
}
