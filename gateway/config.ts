/**
 * The exchange's configuration: embedded defaults, overridden by an optional JSON file and then
 * by environment variables, and validated as a whole before anything starts. A bad value stops
 * the start with an error naming where it came from and what is wrong.
 */
import fs from 'node:fs';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { clusterProblems, ClusterSchema, defaultCluster } from '../cluster/index.ts';
import { defaultEvmConnector, EvmConnectorSchema } from '../connectors/evm/index.ts';
import { defaultFabricConnector, FabricConnectorSchema } from '../connectors/fabric/index.ts';
import { configProblems } from './config-problems.ts';
import { makeError } from './errors.ts';

const Venue = Type.Object(
  {
    /** Only member identities see its instruments, market data, orders and trades. */
    permissioned: Type.Boolean(),
    /** Members: Fabric MSP ids and/or Ethereum addresses. */
    members: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 10_000 }),
  },
  { additionalProperties: false },
);

const Msp = Type.Object(
  {
    mspId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
    /** Root CA certificates: PEM text, or paths of PEM files. */
    rootCerts: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 16 }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 255 }),
    port: Type.Integer({ minimum: 0, maximum: 65_535 }),
    /** Journal and snapshots. */
    dataDir: Type.String({ minLength: 1 }),
    /** Pre-trade risk: eligibility and balances (fixed when the data folder is first made). */
    risk: Type.Boolean(),
    logLevel: Type.Union([
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('silent'),
    ]),
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
    venues: Type.Record(Type.String({ pattern: '^[a-z0-9]+:[A-Za-z0-9._-]+$' }), Venue),
    msps: Type.Array(Msp, { maxItems: 64 }),
    limits: Type.Object(
      {
        /** Messages a second each session may send, on average. */
        messagesPerSecond: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
        /** Messages a session may send at once. */
        burst: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
        /** Largest WebSocket frame accepted, in bytes. */
        maxFrameBytes: Type.Integer({ minimum: 256, maximum: 16 * 1024 * 1024 }),
        maxConnections: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      },
      { additionalProperties: false },
    ),
    /** The EVM settlement connector run with the exchange (a local anvil by default). */
    evm: EvmConnectorSchema,
    /** The Fabric settlement connectors run with the exchange (a devnet per venue by default). */
    fabric: FabricConnectorSchema,
    /** The processes of a cluster deployment on NATS JetStream (`mosaic engine|gateway|connector`). */
    cluster: ClusterSchema,
    feed: Type.Object(
      {
        retain: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
        heartbeatMs: Type.Integer({ minimum: 10, maximum: 3_600_000 }),
        slowBytes: Type.Integer({ minimum: 1024 }),
        hardBytes: Type.Integer({ minimum: 4096 }),
        /** Unsent market data allowed over all connections together. */
        totalBytes: Type.Integer({ minimum: 65_536 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/** The embedded defaults: everything on one machine, on loopback. */
export function defaultConfig(): Config {
  return {
    host: '127.0.0.1',
    port: 8080,
    dataDir: './data',
    risk: true,
    logLevel: 'info',
    demo: { instruments: true, marketMaker: true, fundAccounts: true },
    venues: {
      'evm:31337': { permissioned: false, members: [] },
      'fabric:bank-net': { permissioned: false, members: [] },
      'fabric:club-net': { permissioned: true, members: ['ClubMSP'] },
    },
    msps: [],
    evm: defaultEvmConnector(),
    fabric: defaultFabricConnector(),
    cluster: defaultCluster(),
    limits: { messagesPerSecond: 200, burst: 400, maxFrameBytes: 64 * 1024, maxConnections: 10_000 },
    feed: {
      retain: 10_000,
      heartbeatMs: 1000,
      slowBytes: 4 * 1024 * 1024,
      hardBytes: 64 * 1024 * 1024,
      totalBytes: 64 * 1024 * 1024,
    },
  };
}

/** Environment variables and the setting each one overrides. */
const ENV: Record<string, { path: string[]; kind: 'string' | 'integer' | 'boolean' }> = {
  MOSAIC_HOST: { path: ['host'], kind: 'string' },
  MOSAIC_PORT: { path: ['port'], kind: 'integer' },
  MOSAIC_DATA_DIR: { path: ['dataDir'], kind: 'string' },
  MOSAIC_RISK: { path: ['risk'], kind: 'boolean' },
  MOSAIC_LOG_LEVEL: { path: ['logLevel'], kind: 'string' },
  MOSAIC_DEMO_INSTRUMENTS: { path: ['demo', 'instruments'], kind: 'boolean' },
  MOSAIC_MARKET_MAKER: { path: ['demo', 'marketMaker'], kind: 'boolean' },
  MOSAIC_FUND_ACCOUNTS: { path: ['demo', 'fundAccounts'], kind: 'boolean' },
  MOSAIC_EVM: { path: ['evm', 'enabled'], kind: 'boolean' },
  MOSAIC_FABRIC: { path: ['fabric', 'enabled'], kind: 'boolean' },
  MOSAIC_EVM_RPC_URL: { path: ['evm', 'rpcUrl'], kind: 'string' },
  MOSAIC_EVM_OPERATOR_KEY: { path: ['evm', 'operatorKey'], kind: 'string' },
  MOSAIC_EVM_ANVIL_PORT: { path: ['evm', 'anvilPort'], kind: 'integer' },
  MOSAIC_CLUSTER: { path: ['cluster', 'enabled'], kind: 'boolean' },
  MOSAIC_RATE_LIMIT: { path: ['limits', 'messagesPerSecond'], kind: 'integer' },
  MOSAIC_BURST: { path: ['limits', 'burst'], kind: 'integer' },
};

const check = Compile(ConfigSchema);

/**
 * The configuration from the defaults, the JSON file named by `MOSAIC_CONFIG` (or `file`), and
 * the `MOSAIC_*` variables of `env`. Throws a `BAD_CONFIG` error naming every problem found.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, file = env.MOSAIC_CONFIG): Config {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const hasFile = file !== undefined && file !== '';
  if (hasFile) merge(config, readFile(file), file);
  const fromEnv = new Map<string, string>();
  for (const [name, { path, kind }] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw === undefined) continue;
    setPath(config, path, parseEnv(name, raw, kind));
    fromEnv.set(`/${path.join('/')}`, name);
  }
  const source = (at: string) => {
    const name = fromEnv.get(at);
    if (name !== undefined) return ` (from ${name})`;
    return hasFile ? ` (in ${file})` : '';
  };
  const problems = configProblems(check, config).map(({ at, text }) => `${at || '/'}${source(at)}: ${text}`);
  if (problems.length > 0) {
    throw makeError(`invalid configuration: ${problems.slice(0, 10).join('; ')}`, 'BAD_CONFIG', { problems });
  }
  const valid = config as unknown as Config;
  if (valid.feed.hardBytes <= valid.feed.slowBytes) {
    throw makeError('feed.hardBytes must be larger than feed.slowBytes', 'BAD_CONFIG');
  }
  checkEvm(valid.evm, source('/evm/rpcUrl'));
  const cluster = clusterProblems(valid.cluster);
  if (cluster.length > 0) {
    throw makeError(`invalid configuration: ${cluster.join('; ')}`, 'BAD_CONFIG', { problems: cluster });
  }
  valid.msps = valid.msps.map((m) => ({
    ...m,
    rootCerts: m.rootCerts.map((c) => readPem(c, `msps ${m.mspId}: root certificate`)),
  }));
  // The Fabric connectors take PEM text: files are read here, once, with the setting named.
  valid.fabric.networks = valid.fabric.networks.map((n, i) => {
    const at = `/fabric/networks/${i}`;
    const operator =
      n.operator === null
        ? null
        : {
            mspId: n.operator.mspId,
            certificate: readPem(n.operator.certificate, `${at}/operator/certificate`),
            privateKey: readPem(n.operator.privateKey, `${at}/operator/privateKey`),
          };
    const tlsRootCert = n.tlsRootCert === '' ? '' : readPem(n.tlsRootCert, `${at}/tlsRootCert`);
    return { ...n, operator, tlsRootCert };
  });
  return valid;
}

/** What the schema cannot say of the EVM connector: a usable endpoint, and contracts to use there. */
function checkEvm(evm: Config['evm'], from: string): void {
  if (!evm.enabled || evm.rpcUrl === '') return;
  let url: URL | null = null;
  try {
    url = new URL(evm.rpcUrl);
  } catch {
    // reported below
  }
  if (url === null || !['http:', 'https:'].includes(url.protocol)) {
    throw makeError(`/evm/rpcUrl${from}: must be an http or https URL`, 'BAD_CONFIG');
  }
  if (evm.contracts === null) {
    throw makeError(
      '/evm/contracts: must name the deployed contracts when evm.rpcUrl is set (only the local anvil deploys its own)',
      'BAD_CONFIG',
    );
  }
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
