/**
 * Compiles the settlement contracts (connectors/evm/contracts/*.sol) with solc-js, offline:
 * OpenZeppelin imports resolve from node_modules. The result (ABI and bytecode per contract) is
 * cached in a JSON file keyed by a hash of the sources, the compiler and the settings, so only
 * the first run after a change pays the 1-2 s of compiling. The build runs this file as a CLI:
 * `node dist/connectors/evm/compile.js [--force]`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The contracts this connector deploys, one per file of the same name. */
export const CONTRACTS = ['IdentityRegistry', 'SecurityToken', 'CashToken', 'Settlement'] as const;
export type ContractName = (typeof CONTRACTS)[number];

/** ABI (JSON fragments, as ethers takes them) and creation bytecode of one contract. */
export interface ContractArtifact {
  abi: readonly Record<string, unknown>[];
  bytecode: string;
}

export interface Artifacts {
  /** Hash of sources + compiler + settings the artifacts were made from. */
  hash: string;
  solcVersion: string;
  /** Compiler warnings about our own sources (not OpenZeppelin's), as `file:line:col: ...`. */
  warnings: string[];
  contracts: Record<ContractName, ContractArtifact>;
}

export interface CompileOptions {
  /** Folder of the .sol files; found from this module's location by default. */
  sourceDir?: string;
  /** Cache file; `null` for none. Default: artifacts.json beside this module (dist/connectors/evm/). */
  cacheFile?: string | null;
  /** Compile even if the cache matches. */
  force?: boolean;
}

/** A compile failure; the message names file, line and column of each error. */
export class CompileError extends Error {
  readonly code = 'SOLC_COMPILE';
  constructor(
    message: string,
    readonly diagnostics: readonly string[] = [],
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CompileError';
  }
}

/**
 * Settings are part of the cache key. Optimizer runs are high because settlePacked runs far more
 * often than the contracts are deployed; the IR pipeline (viaIR) inlines the settlement loop's
 * small helpers and compiles its assembly blocks without running out of stack (a first draft of
 * the loop: 6,905 gas a trade at batch 500 against 8,602 with the legacy pipeline; the loop now
 * does not compile without it), for about 6 s more per compile; `cancun` is the newest
 * EVM most chains run (ReentrancyGuardTransient needs its transient storage).
 */
const SETTINGS = {
  optimizer: { enabled: true, runs: 10_000 },
  viaIR: true,
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const;

const require = createRequire(import.meta.url);

interface SolcDiagnostic {
  severity: 'error' | 'warning' | 'info';
  type: string;
  message: string;
  formattedMessage?: string;
  sourceLocation?: { file: string; start: number; end: number };
}

interface SolcOutput {
  errors?: SolcDiagnostic[];
  contracts?: Record<
    string,
    Record<string, { abi: Record<string, unknown>[]; evm: { bytecode: { object: string } } }>
  >;
}

/** Returns the artifacts, from the cache when it matches the sources, else by compiling. */
export async function compileContracts(options: CompileOptions = {}): Promise<Artifacts> {
  const sourceDir = options.sourceDir ?? findSourceDir();
  const cacheFile =
    options.cacheFile === undefined
      ? fileURLToPath(new URL('./artifacts.json', import.meta.url))
      : options.cacheFile;
  const sources = readSources(sourceDir);
  const hash = sourceHash(sources);
  if (cacheFile !== null && options.force !== true) {
    const cached = readCache(cacheFile);
    if (cached?.hash === hash) return cached;
  }
  const artifacts = await compile(sources, sourceDir, hash);
  if (cacheFile !== null) {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(artifacts));
    fs.renameSync(tmp, cacheFile);
  }
  return artifacts;
}

/** Source unit name (`contracts/X.sol`) to its text. */
type Sources = Map<string, string>;

/** Every .sol file of the folder (the deployable CONTRACTS and what they import, e.g. AgentRole). */
function readSources(dir: string): Sources {
  const sources: Sources = new Map();
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.sol'))
        .sort()
    : [];
  for (const name of CONTRACTS) {
    if (!files.includes(`${name}.sol`)) {
      throw new CompileError(
        `cannot find ${path.join(dir, `${name}.sol`)}: is the contracts folder complete?`,
        [],
      );
    }
  }
  for (const file of files) sources.set(`contracts/${file}`, fs.readFileSync(path.join(dir, file), 'utf8'));
  return sources;
}

function packageVersion(name: string): string {
  const manifest = JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function sourceHash(sources: Sources): string {
  const h = createHash('sha256');
  h.update(`solc ${packageVersion('solc')}\0oz ${packageVersion('@openzeppelin/contracts')}\0`);
  h.update(JSON.stringify(SETTINGS));
  for (const [name, text] of [...sources].sort(([a], [b]) => (a < b ? -1 : 1))) {
    h.update(`\0${name}\0${text}`);
  }
  return h.digest('hex');
}

function readCache(file: string): Artifacts | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Artifacts>;
    if (typeof parsed.hash !== 'string' || parsed.contracts === undefined || parsed.warnings === undefined) {
      return null;
    }
    return parsed as Artifacts;
  } catch {
    return null; // missing or unreadable: compile again
  }
}

async function compile(sources: Sources, sourceDir: string, hash: string): Promise<Artifacts> {
  const solc = (await import('solc')).default;
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries([...sources].map(([name, content]) => [name, { content }])),
    settings: SETTINGS,
  };
  const imported: Sources = new Map();
  const findImports = (unit: string): { contents: string } | { error: string } => {
    try {
      const text = fs.readFileSync(require.resolve(unit), 'utf8');
      imported.set(unit, text);
      return { contents: text };
    } catch {
      return { error: `${unit} is not in node_modules (is @openzeppelin/contracts installed?)` };
    }
  };
  const raw = solc.compile(JSON.stringify(input), { import: findImports }) as string;
  const output = JSON.parse(raw) as SolcOutput;
  const where = (unit: string): { file: string; text: string | undefined } =>
    sources.has(unit)
      ? { file: path.join(sourceDir, unit.slice('contracts/'.length)), text: sources.get(unit) }
      : { file: unit, text: imported.get(unit) };
  const warnings = (output.errors ?? [])
    .filter((e) => e.severity === 'warning' && sources.has(e.sourceLocation?.file ?? ''))
    .map((e) => describe(e, where));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    const lines = errors.map((e) => describe(e, where));
    throw new CompileError(`solc: ${errors.length} error(s)\n${lines.join('\n')}`, lines);
  }
  const contracts = {} as Record<ContractName, ContractArtifact>;
  for (const name of CONTRACTS) {
    const out = output.contracts?.[`contracts/${name}.sol`]?.[name];
    if (out === undefined) throw new CompileError(`solc produced no output for ${name}`);
    contracts[name] = { abi: out.abi, bytecode: `0x${out.evm.bytecode.object}` };
  }
  return { hash, solcVersion: solc.version() as string, warnings, contracts };
}

/** `file:line:col: Type: message`, with line and column computed from the byte offset. */
function describe(
  e: SolcDiagnostic,
  where: (unit: string) => { file: string; text: string | undefined },
): string {
  const loc = e.sourceLocation;
  if (loc === undefined || loc.start < 0) return `${loc?.file ?? '(no file)'}: ${e.type}: ${e.message}`;
  const { file, text } = where(loc.file);
  if (text === undefined) return `${file}: ${e.type}: ${e.message}`;
  // solc offsets count UTF-8 bytes
  const before = Buffer.from(text, 'utf8').subarray(0, loc.start).toString('utf8');
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${file}:${line}:${column}: ${e.type}: ${e.message}`;
}

/** connectors/evm/contracts of the checkout this module runs from (source or any build folder). */
function findSourceDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'connectors', 'evm', 'contracts');
    if (fs.existsSync(path.join(candidate, 'Settlement.sol'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new CompileError('cannot find connectors/evm/contracts above this module; pass sourceDir');
    }
    dir = parent;
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const force = process.argv.includes('--force');
  try {
    const artifacts = await compileContracts({ force });
    for (const w of artifacts.warnings) console.warn(`warning: ${w}`);
    const ms = Math.round(performance.now() - started);
    // Progress, on stderr: the bench commands build first and their --json stdout must stay pure.
    console.error(`evm contracts: ${CONTRACTS.join(', ')} (solc ${artifacts.solcVersion}, ${ms} ms)`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
