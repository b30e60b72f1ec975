/**
 * The EVM connector as the exchange runs it: a chain (the configured endpoint, or a local anvil
 * whose state lives in the data folder), the contracts (given, or deployed on the local chain at
 * first start and remembered), and the settlement daemon on them: `EvmLedger` for batches,
 * `EvmChanges` for deposits and eligibility, progress in LMDB beside them. On the local chain a
 * faucet funds demo investors through the chain itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Contract, getAddress, type InterfaceAbi, isAddress, type JsonRpcProvider, Wallet } from 'ethers';
import { type InstrumentSpec, quoteUnitOf } from '../../engine/index.ts';
import { type Connector, type EnginePort, startDaemon } from '../daemon.ts';
import { checkLedgerKept } from '../ledger-check.ts';
import type { Htlc } from '../legs.ts';
import { Progress } from '../progress.ts';
import { Anvil, DEV_KEYS, localProvider } from './anvil.ts';
import { evmBlocks, EvmChanges, type EvmTokenAsset } from './changes-evm.ts';
import { type Artifacts, compileContracts } from './compile.ts';
import type { EvmConnectorConfig } from './config.ts';
import { call, deploy } from './deploy.ts';
import { Faucet } from './faucet.ts';
import { type EvmAsset, EvmLedger, type EvmToken } from './ledger-evm.ts';
import { NonceStore } from './nonces.ts';
import type { Logger } from '../../common/index.ts';
import { makeError } from '../errors.ts';

export interface EvmConnector extends Connector {
  /** The chain's JSON-RPC endpoint. */
  readonly rpcUrl: string;
  /** Demo funding through the chain; only on the local anvil. */
  readonly faucet: Faucet | null;
  /** Contract addresses in use. */
  readonly contracts: NonNullable<EvmConnectorConfig['contracts']>;
}

export interface EvmConnectorOptions {
  /** The exchange's data folder: the connector of `evm:<name>` keeps its own in `evm-<name>/` there. */
  dataDir: string;
  engine: EnginePort;
  /** Instruments of the venue listed now (securities deployed on a new local chain). */
  instruments: readonly Readonly<InstrumentSpec>[];
  log: Logger;
  /** Told when the daemon stops on a failure no retry can get past. */
  onFailure?: (err: Error) => void;
  /** The hash time-locks of cross-ledger trades. */
  htlc?: Htlc;
}

const GWEI = 1_000_000_000;

/** Lots of each security and cash units of each currency a demo investor gets from the faucet. */
export const FAUCET_GRANT = { lots: 1_000_000n, cashUnits: 10_000_000_000n };

/** Starts the connector on a recovered engine, before the engine takes new commands. */
export async function startEvmConnector(
  config: EvmConnectorConfig,
  o: EvmConnectorOptions,
): Promise<EvmConnector> {
  const dir = path.join(o.dataDir, config.venue.replace(':', '-'));
  fs.mkdirSync(dir, { recursive: true });
  const local = config.rpcUrl === '';
  const stateFile = path.join(dir, 'anvil-state.json');
  const anvil = local
    ? await Anvil.start({
        ...(config.anvilPort === 0 ? {} : { port: config.anvilPort }),
        chainId: config.chainId,
        stateFile,
        log: o.log,
        name: `${config.venue}: anvil`,
      })
    : null;
  let progress: Progress | null = null;
  try {
    const rpcUrl = anvil?.url ?? config.rpcUrl;
    if (anvil !== null)
      o.log.info({ venue: config.venue, rpcUrl }, `${config.venue}: local anvil up at ${rpcUrl}`);
    const provider = anvil?.provider() ?? localProvider(rpcUrl, config.chainId);
    await checkChain(provider, config.chainId, rpcUrl);
    const operator = new Wallet(config.operatorKey, provider);
    progress = Progress.open(path.join(dir, 'progress'));
    // Before anything is deployed, funded or settled: the chain still has what the daemon saw.
    await checkLedgerKept({
      venue: config.venue,
      ledger: `the chain at ${rpcUrl}`,
      blocks: evmBlocks(provider),
      progress,
      lastTx: new NonceStore(progress, BigInt(config.chainId), operator.address).lastFinal,
      dataDir: o.dataDir,
      ...(local ? { stateFile } : {}),
    });
    const artifacts = await compileContracts();
    const contracts =
      config.contracts ??
      (await localContracts(config.venue, dir, provider, o.instruments, artifacts, local));
    const settlementCode = await provider.getCode(contracts.settlement);
    if (settlementCode === '0x') {
      throw makeError(
        `no Settlement contract at ${contracts.settlement} on ${rpcUrl}` +
          (local ? ` (the local chain's state in ${dir} was lost: remove ${o.dataDir} to start over)` : ''),
        'BAD_SETUP',
      );
    }
    const at = (address: string, name: keyof Artifacts['contracts'], runner = provider) =>
      new Contract(address, artifacts.contracts[name].abi as InterfaceAbi, runner);
    const settlement = at(contracts.settlement, 'Settlement');
    await releasesWithdrawals(settlement, local ? ` (remove ${o.dataDir} to start over)` : '');
    const registry = at(contracts.registry, 'IdentityRegistry');
    const securities = new Map(
      Object.entries(contracts.securities).map(([symbol, a]) => [symbol, at(a, 'SecurityToken')]),
    );
    const cash = new Map(Object.entries(contracts.cash).map(([quote, a]) => [quote, at(a, 'CashToken')]));
    const units = new Units(config.venue, o.engine, securities, cash);
    await units.load();

    const ledger = new EvmLedger({
      venue: config.venue,
      settlement: settlement.connect(operator) as Contract,
      progress,
      asset: (id) => units.asset(id),
      token: (asset) => units.token(asset),
      maxFeePerGas: BigInt(Math.round(config.maxFeeGwei * GWEI)),
      replaceAfterMs: config.replaceAfterMs,
      feeBumpPercent: config.feeBumpPercent,
      confirmations: config.confirmations,
      log: o.log,
    });
    const changes = new EvmChanges({
      venue: config.venue,
      settlement,
      registry,
      securities: [...securities.values()],
      assetOf: (token) => units.tokenAsset(token),
      confirmations: config.confirmations,
      log: o.log,
    });
    const daemon = await startDaemon({
      ledger,
      changes,
      progress,
      engine: o.engine,
      batchSize: config.batchSize,
      batchMs: config.batchMs,
      inFlight: config.inFlight,
      pollMs: config.pollMs,
      log: o.log,
      ...(o.onFailure === undefined ? {} : { onFailure: o.onFailure }),
      ...(o.htlc === undefined ? {} : { htlc: o.htlc }),
    });
    const faucet = local
      ? new Faucet({
          agent: new Wallet(DEV_KEYS[0], provider),
          registry,
          settlement,
          grants: () =>
            [
              ...[...securities.values()].map((token) => ({
                token,
                amount: FAUCET_GRANT.lots * units.lotUnitsOf(token),
              })),
              ...[...cash.values()].map((token) => ({
                token,
                amount: FAUCET_GRANT.cashUnits * units.cashUnitsOf(token),
              })),
            ].filter((g) => g.amount > 0n),
          log: o.log,
        })
      : null;
    return {
      venue: config.venue,
      rpcUrl,
      describe: `${local ? 'local anvil' : 'chain'} ${config.chainId} at ${rpcUrl}, escrow ${contracts.settlement}`,
      daemon,
      faucet,
      contracts,
      fund:
        faucet === null
          ? null
          : (account) => {
              if (isAddress(account)) void faucet.fund(getAddress(account));
            },
      demoAccounts: local ? [new Wallet(DEV_KEYS[2]).address, new Wallet(DEV_KEYS[3]).address] : null,
      async close() {
        await faucet?.idle();
        await daemon.close();
        provider.destroy();
        await anvil?.stop();
      },
    };
  } catch (err) {
    await progress?.close();
    await anvil?.stop();
    throw err;
  }
}

/**
 * Checks that the escrow is one that releases withdrawals by id (an escrow deployed before
 * withdrawals went through the exchange lets investors withdraw by themselves and has no
 * `releaseBatch`): the daemon could not release anything there.
 */
async function releasesWithdrawals(settlement: Contract, advice: string): Promise<void> {
  try {
    await call<bigint>(settlement, 'withdrawalStatus', 0);
  } catch (err) {
    throw makeError(
      `the Settlement contract at ${String(settlement.target)} does not release withdrawals (no withdrawalStatus): ` +
        `it predates withdrawals through the exchange; deploy the current contracts${advice}`,
      'BAD_SETUP',
      { cause: err },
    );
  }
}

async function checkChain(provider: JsonRpcProvider, chainId: number, url: string): Promise<void> {
  let actual: string;
  try {
    actual = (await provider.send('eth_chainId', [])) as string;
  } catch (err) {
    throw makeError(
      `cannot reach the EVM node at ${url}: ${(err as Error).message}`,
      'LEDGER_UNREACHABLE',
      {},
      err,
    );
  }
  if (Number(actual) !== chainId)
    throw makeError(`the EVM node at ${url} is chain ${Number(actual)}, not ${chainId}`, 'BAD_SETUP');
}

/**
 * Contracts on the local chain: those deployed at an earlier start (remembered beside its state),
 * else deployed now with a security token for each listed symbol and a cash token per quote.
 */
async function localContracts(
  venue: string,
  dir: string,
  provider: JsonRpcProvider,
  instruments: readonly Readonly<InstrumentSpec>[],
  artifacts: Artifacts,
  local: boolean,
): Promise<NonNullable<EvmConnectorConfig['contracts']>> {
  if (!local)
    throw makeError('evm.contracts must name the deployed contracts when evm.rpcUrl is set', 'BAD_SETUP');
  const file = path.join(dir, 'deployment.json');
  if (fs.existsSync(file))
    return JSON.parse(fs.readFileSync(file, 'utf8')) as NonNullable<EvmConnectorConfig['contracts']>;
  const here = instruments.filter((s) => s.id.slice(s.id.indexOf('@') + 1) === venue);
  const symbols = [...new Set(here.map((s) => s.id.slice(0, s.id.indexOf('@'))))];
  const quotes = [...new Set(here.map((s) => s.quote ?? 'USD'))];
  if (quotes.length > 1)
    throw makeError(
      `the local chain deploys one cash token; the venue's instruments quote ${quotes.join(', ')}`,
      'BAD_SETUP',
    );
  const d = await deploy({
    deployer: new Wallet(DEV_KEYS[0], provider),
    securities: symbols.map((symbol) => ({ symbol })),
    cash: { symbol: quotes[0] ?? 'USD' },
    operator: new Wallet(DEV_KEYS[1]).address,
    artifacts,
  });
  const contracts = {
    settlement: d.addresses.settlement,
    registry: d.addresses.registry,
    cash: { [quotes[0] ?? 'USD']: d.addresses.cash },
    securities: d.addresses.securities,
  };
  fs.writeFileSync(file, `${JSON.stringify(contracts, null, 2)}\n`);
  return contracts;
}

/**
 * Engine units in token base units: a lot of a security is `lotSize` tokens, a cash unit is
 * `quoteUnit` of the cash token, each scaled by the token's decimals (read from the chain once).
 */
class Units {
  #decimals = new Map<string, number>();

  constructor(
    readonly venue: string,
    readonly engine: EnginePort,
    readonly securities: ReadonlyMap<string, Contract>,
    readonly cash: ReadonlyMap<string, Contract>,
  ) {}

  async load(): Promise<void> {
    for (const token of [...this.securities.values(), ...this.cash.values()]) {
      this.#decimals.set(getAddress(token.target as string), Number(await call<bigint>(token, 'decimals')));
    }
  }

  /** Where an instrument settles, or undefined if it does not settle on this chain. */
  asset(instrument: string): EvmAsset | undefined {
    const spec = this.engine.specOf(instrument);
    const symbol = instrument.slice(0, instrument.indexOf('@'));
    const security = this.securities.get(symbol);
    const cash = this.cash.get(spec?.quote ?? 'USD');
    if (spec === undefined || security === undefined || cash === undefined) return undefined;
    const lotUnits = this.#scaled(spec.lotSize, security);
    const cashUnits = this.#scaled(quoteUnitOf(spec), cash);
    if (lotUnits === 0n || cashUnits === 0n) return undefined;
    return { security: security.target as string, lotUnits, cash: cash.target as string, cashUnits };
  }

  /**
   * The token of an engine asset (`ACME@<venue>`, `USD@<venue>`) and its base units per engine
   * unit, or undefined if the asset is not one of this chain's (or no listing counts it yet).
   */
  token(asset: string): EvmToken | undefined {
    const at = asset.indexOf('@');
    if (asset.slice(at + 1) !== this.venue) return undefined;
    const symbol = asset.slice(0, at);
    if (this.securities.has(symbol)) {
      const a = this.asset(asset);
      return a && { address: a.security, units: a.lotUnits };
    }
    const cash = this.cash.get(symbol);
    const spec = this.#anyQuoting(symbol);
    if (cash === undefined || spec === undefined) return undefined;
    const units = this.#scaled(quoteUnitOf(spec), cash);
    return units === 0n ? undefined : { address: cash.target as string, units };
  }

  /**
   * The engine asset a token's escrow moves are in, and its base units per engine unit; undefined
   * for a token this venue does not trade. A token of the venue whose instrument is not listed
   * yet throws, so that the change is read again later rather than passed over.
   */
  tokenAsset(token: string): EvmTokenAsset | undefined {
    for (const [symbol, c] of this.securities) {
      if (getAddress(c.target as string) !== token) continue;
      const id = `${symbol}@${this.venue}`;
      const a = this.asset(id) ?? notListed(id);
      return { asset: id, units: a.lotUnits };
    }
    for (const [quote, c] of this.cash) {
      if (getAddress(c.target as string) !== token) continue;
      const spec = this.#anyQuoting(quote) ?? notListed(`an instrument quoted in ${quote} on ${this.venue}`);
      return { asset: `${quote}@${this.venue}`, units: this.#scaled(quoteUnitOf(spec), c) };
    }
    return undefined;
  }

  lotUnitsOf(token: Contract): bigint {
    for (const [symbol, c] of this.securities)
      if (c === token) return this.asset(`${symbol}@${this.venue}`)?.lotUnits ?? 0n;
    return 0n;
  }

  cashUnitsOf(token: Contract): bigint {
    for (const [quote, c] of this.cash) {
      if (c !== token) continue;
      const spec = this.#anyQuoting(quote);
      return spec === undefined ? 0n : this.#scaled(quoteUnitOf(spec), c);
    }
    return 0n;
  }

  /** A listing whose cash is `quote` on this chain: one of its own, or a cross-ledger one quoted here. */
  #anyQuoting(quote: string): Readonly<InstrumentSpec> | undefined {
    for (const id of this.engine.instruments()) {
      const spec = this.engine.specOf(id);
      const cashVenue = spec?.quoteVenue ?? id.slice(id.indexOf('@') + 1);
      if (spec !== undefined && cashVenue === this.venue && (spec.quote ?? 'USD') === quote) return spec;
    }
    return undefined;
  }

  /** A decimal amount of a token in its base units; 0 if it is not a whole number of them. */
  #scaled(amount: string, token: Contract): bigint {
    const decimals = this.#decimals.get(getAddress(token.target as string)) ?? 0;
    const [whole = '0', frac = ''] = amount.split('.');
    if (frac.length > decimals && /[^0]/.test(frac.slice(decimals))) return 0n;
    return BigInt(whole + frac.slice(0, decimals).padEnd(decimals, '0'));
  }
}

function notListed(what: string): never {
  throw makeError(`${what} is not listed yet: its escrow moves are read again once it is`, 'NOT_FINAL');
}
