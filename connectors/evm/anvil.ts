/**
 * A local EVM chain for tests and `npm start`: anvil from the npm package `@foundry-rs/anvil`
 * (its binary ships in `@foundry-rs/anvil-linux-amd64`), on 127.0.0.1, started as a child
 * process and stopped with it. The providers it hands out use the settings that keep ethers
 * from reading stale nonces on a fast local chain (see /work/shared/NOTES.md).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { JsonRpcProvider, Network, Wallet } from 'ethers';
import { spawnSupervised, type Supervised, whenReady } from '../supervised.ts';
import type { Logger } from '../../common/index.ts';
import { makeError } from '../errors.ts';

/** Anvil's well-known dev keys (mnemonic "test test ... junk"), each funded with 10,000 ETH. */
export const DEV_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
] as const;

export const ANVIL_CHAIN_ID = 31337;

export interface AnvilOptions {
  /** A fixed port; by default anvil binds any free one, and keeps it across restarts. */
  port?: number;
  /** Seconds between blocks; by default each transaction is mined at once (automine). */
  blockTime?: number;
  /** `false`: no mining until `evm_mine` (for batching many transactions into one block). */
  automine?: boolean;
  /** Block gas limit; the default 30 M holds about 850 settled trades. */
  gasLimit?: bigint | number;
  /** Chain state file (`--state`): loaded at start if present, written at stop. */
  stateFile?: string;
  chainId?: number;
  /** How long to wait for anvil to listen; default 10 s. */
  startTimeoutMs?: number;
  /** Further anvil flags, passed as given. */
  args?: readonly string[];
  /** Hears when the process is started (before it answers). */
  log?: Logger;
  /** What its log lines call it (default `anvil`; a connector names its venue). */
  name?: string;
}

/** Why starting anvil failed, with anvil's own output in the message. */
export class AnvilError extends Error {
  constructor(
    message: string,
    readonly code: 'ANVIL_MISSING' | 'ANVIL_START',
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AnvilError';
  }
}

/** Path of the anvil binary installed by npm, or a clear error if it is not there. */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const pkg = `@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  try {
    return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'bin', 'anvil');
  } catch (err) {
    throw new AnvilError(
      `anvil binary not found: ${pkg} is not installed (it is an optional dependency of ` +
        '@foundry-rs/anvil; run `npm install` on a supported platform)',
      'ANVIL_MISSING',
      err,
    );
  }
}

/**
 * A JSON-RPC provider for a local chain: a static network (no chain-id probe), no response
 * cache (a 250 ms cache served stale nonces) and no request batching (it added 10 ms a call).
 */
export function localProvider(url: string, chainId: number = ANVIL_CHAIN_ID): JsonRpcProvider {
  return new JsonRpcProvider(url, Network.from(chainId), {
    staticNetwork: true,
    cacheTimeout: -1,
    batchMaxCount: 1,
    pollingInterval: 50,
  });
}

/**
 * A running anvil, supervised (`spawnSupervised`): `stop()` it when done; it also stops, writing
 * its state file, when this process ends in any way, SIGKILL included, and a Ctrl-C in a
 * terminal does not reach it (this process stops it in order).
 */
export class Anvil {
  readonly host = '127.0.0.1';
  readonly chainId: number;
  /** 0 until anvil has bound the port it picked. */
  #port: number;
  #options: AnvilOptions;
  #process: Supervised | null = null;
  #providers: JsonRpcProvider[] = [];

  private constructor(options: AnvilOptions) {
    this.#port = options.port ?? 0;
    this.#options = options;
    this.chainId = options.chainId ?? ANVIL_CHAIN_ID;
  }

  /** Starts anvil and resolves once it listens. */
  static async start(options: AnvilOptions = {}): Promise<Anvil> {
    const anvil = new Anvil(options);
    await anvil.#spawn();
    return anvil;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://${this.host}:${this.#port}`;
  }

  get running(): boolean {
    return this.#process !== null;
  }

  /** A new provider on this chain (closed by `stop()`). */
  provider(): JsonRpcProvider {
    const p = localProvider(this.url, this.chainId);
    this.#providers.push(p);
    return p;
  }

  /** A wallet for one of anvil's dev keys, connected to a new provider. */
  devWallet(index: number): Wallet {
    const key = DEV_KEYS[index];
    if (key === undefined) throw new RangeError(`dev key index ${index} is not in 0..${DEV_KEYS.length - 1}`);
    return new Wallet(key, this.provider());
  }

  /** Raw JSON-RPC call (anvil_*, evm_* methods). */
  async rpc<T>(method: string, params: readonly unknown[] = []): Promise<T> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error !== undefined)
      throw makeError(`${method}: ${body.error.message}`, 'BATCH_REFUSED', { method });
    return body.result as T;
  }

  /** Stops anvil (SIGTERM: it writes its state file and exits) and closes its providers. */
  async stop(): Promise<void> {
    for (const p of this.#providers) p.destroy();
    this.#providers = [];
    const running = this.#process;
    this.#process = null;
    await running?.stop();
  }

  /** Stops and starts again on the same port; with a state file, the chain carries on. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  #args(): string[] {
    const o = this.#options;
    // Not --silent: anvil names the port it bound only in its output ("Listening on host:port").
    const args = ['--host', this.host, '--port', String(this.#port)];
    if (o.chainId !== undefined) args.push('--chain-id', String(o.chainId));
    if (o.blockTime !== undefined) args.push('--block-time', String(o.blockTime));
    if (o.automine === false) args.push('--no-mining');
    if (o.gasLimit !== undefined) args.push('--gas-limit', String(o.gasLimit));
    if (o.stateFile !== undefined) args.push('--state', o.stateFile);
    args.push(...(o.args ?? []));
    return args;
  }

  async #spawn(): Promise<void> {
    const running = spawnSupervised(anvilBinary(), this.#args());
    const on = this.#port === 0 ? '' : ` on port ${this.#port}`;
    const name = this.#options.name ?? 'anvil';
    this.#options.log?.info(
      { anvilPid: running.child.pid },
      `${name} started (pid ${running.child.pid})${on}`,
    );
    let listening: RegExpExecArray;
    try {
      listening = await whenReady(
        running,
        /^Listening on [\d.]+:(\d+)$/m,
        'anvil',
        this.#options.startTimeoutMs ?? 10_000,
      );
    } catch (err) {
      await this.stop();
      throw new AnvilError((err as Error).message, 'ANVIL_START', err);
    }
    this.#port = Number(listening[1]);
    this.#process = running;
  }
}
