/**
 * Deploys the settlement contracts on an EVM chain and funds investors, for tests and the demo
 * (`npm start`): one identity registry, a security token per symbol, one cash token and the
 * Settlement escrow. The deployer owns everything and is the agent of the registry and of each
 * token; the escrow is registered as a verified wallet, since ERC-3643's rules apply to deposits
 * into it like to any transfer.
 */
import {
  type BaseContract,
  Contract,
  ContractFactory,
  type ContractTransactionResponse,
  type InterfaceAbi,
  NonceManager,
  type Signer,
  type TransactionReceipt,
} from 'ethers';
import { type Artifacts, compileContracts, type ContractName } from './compile.ts';
import { makeError } from '../errors.ts';

export interface SecuritySpec {
  symbol: string;
  name?: string;
  /** Securities usually trade in whole units; default 0. */
  decimals?: number;
}

export interface DeployOptions {
  /** Owner, agent and (unless `operator` is given) operator of the contracts. */
  deployer: Signer;
  securities: readonly SecuritySpec[];
  cash?: { symbol: string; name?: string };
  /** Who may call settleBatch; default the deployer. */
  operator?: string;
  /** Where fees go; default the deployer. */
  feeAccount?: string;
  /** Compiled contracts; compiled (or read from the cache) if not given. */
  artifacts?: Artifacts;
}

/** The deployed contracts, connected to the deployer. */
export interface Deployment {
  deployer: Signer;
  registry: Contract;
  /** By symbol. */
  securities: ReadonlyMap<string, Contract>;
  cash: Contract;
  settlement: Contract;
  addresses: {
    registry: string;
    securities: Record<string, string>;
    cash: string;
    settlement: string;
  };
  artifacts: Artifacts;
}

/** What one investor gets: registered as eligible, tokens minted and (by default) deposited. */
export interface InvestorFunding {
  /** The investor's own signer: approves and deposits from its wallet. */
  wallet: Signer;
  /** ISO 3166-1 numeric country code; default 0. */
  country?: number;
  /** Security base units by symbol. */
  securities?: Readonly<Record<string, bigint>>;
  /** Cash base units. */
  cash?: bigint;
  /** Deposit into escrow (default true) or leave in the wallet. */
  deposit?: boolean;
}

/** Deploys registry, tokens and escrow, sending the deployer's transactions one after another. */
export async function deploy(options: DeployOptions): Promise<Deployment> {
  const artifacts = options.artifacts ?? (await compileContracts());
  const deployer = options.deployer;
  const owner = await options.deployer.getAddress();
  const make = async (name: ContractName, ...args: unknown[]): Promise<Contract> => {
    const { abi, bytecode } = artifacts.contracts[name];
    const factory = new ContractFactory(abi as InterfaceAbi, bytecode, deployer);
    const deployed: BaseContract = await factory.deploy(...args);
    await deployed.waitForDeployment();
    return new Contract(await deployed.getAddress(), abi as InterfaceAbi, deployer);
  };

  const registry = await make('IdentityRegistry', owner);
  await send(registry, 'addAgent', owner);
  const securities = new Map<string, Contract>();
  const securityAddresses: Record<string, string> = {};
  for (const s of options.securities) {
    const token = await make(
      'SecurityToken',
      s.name ?? s.symbol,
      s.symbol,
      s.decimals ?? 0,
      registry.target,
      owner,
    );
    await send(token, 'addAgent', owner);
    securities.set(s.symbol, token);
    securityAddresses[s.symbol] = await token.getAddress();
  }
  const cashSpec = options.cash ?? { symbol: 'USDC' };
  const cash = await make('CashToken', cashSpec.name ?? cashSpec.symbol, cashSpec.symbol, owner);
  const settlement = await make('Settlement', owner, options.operator ?? owner, options.feeAccount ?? owner);
  await send(registry, 'registerInvestor', settlement.target, 0);
  return {
    deployer,
    registry,
    securities,
    cash,
    settlement,
    addresses: {
      registry: await registry.getAddress(),
      securities: securityAddresses,
      cash: await cash.getAddress(),
      settlement: await settlement.getAddress(),
    },
    artifacts,
  };
}

/**
 * Registers the investors in one transaction, mints what each should hold (the deployer's
 * transactions go out together, numbered by a nonce manager), then each investor approves and
 * deposits from its own wallet, all investors at once.
 */
export async function fundInvestors(d: Deployment, investors: readonly InvestorFunding[]): Promise<void> {
  const addresses = await Promise.all(investors.map((i) => i.wallet.getAddress()));
  const byCountry = new Map<number, string[]>();
  investors.forEach((inv, k) => {
    const list = byCountry.get(inv.country ?? 0) ?? [];
    list.push(addresses[k]!);
    byCountry.set(inv.country ?? 0, list);
  });
  for (const [country, wallets] of byCountry) {
    const unregistered: string[] = [];
    for (const w of wallets) if (!(await call<boolean>(d.registry, 'isVerified', w))) unregistered.push(w);
    if (unregistered.length > 0) await send(d.registry, 'registerInvestors', unregistered, country);
  }

  // Independent transactions of one sender: numbered locally and handed to the node one after
  // another (in nonce order: sent all at once, they can arrive out of order, and anvil then left
  // one waiting forever now and then), mined while the next go out.
  const minter = new NonceManager(d.deployer);
  const as = (c: Contract): Contract => c.connect(minter) as Contract;
  const mints: Promise<unknown>[] = [];
  for (const [k, inv] of investors.entries()) {
    const to = addresses[k]!;
    for (const [symbol, amount] of Object.entries(inv.securities ?? {})) {
      if (amount > 0n)
        mints.push(mined(await broadcast(as(security(d, symbol)), 'mint', to, amount), 'mint'));
    }
    if (inv.cash !== undefined && inv.cash > 0n)
      mints.push(mined(await broadcast(as(d.cash), 'mint', to, inv.cash), 'mint'));
  }
  await Promise.all(mints);

  await Promise.all(
    investors.map(async (inv) => {
      if (inv.deposit === false) return;
      const legs: [Contract, bigint][] = Object.entries(inv.securities ?? {}).map(([s, a]) => [
        security(d, s),
        a,
      ]);
      if (inv.cash !== undefined) legs.push([d.cash, inv.cash]);
      for (const [token, amount] of legs) {
        if (amount === 0n) continue;
        await send(token.connect(inv.wallet) as Contract, 'approve', d.settlement.target, amount);
        await send(d.settlement.connect(inv.wallet) as Contract, 'deposit', token.target, amount);
      }
    }),
  );
}

function security(d: Deployment, symbol: string): Contract {
  const token = d.securities.get(symbol);
  if (token === undefined) throw new RangeError(`no security token ${symbol} was deployed`);
  return token;
}

/**
 * Sends a transaction to `method` and waits until it is mined; throws if it reverted. It polls
 * for the receipt rather than using ethers' `wait()`, which listens for the next block: with
 * automine, a transaction mined just before the listener starts may see no further block, and
 * many concurrent waits then hang.
 */
export async function send(
  contract: Contract,
  method: string,
  ...args: unknown[]
): Promise<TransactionReceipt> {
  return mined(await broadcast(contract, method, ...args), method);
}

/** Hands a transaction to `method` to the node; resolves once the node has it. */
function broadcast(
  contract: Contract,
  method: string,
  ...args: unknown[]
): Promise<ContractTransactionResponse> {
  return contract.getFunction(method).send(...args);
}

/** Waits until a transaction is mined (polling its receipt); throws if it reverted. */
async function mined(tx: ContractTransactionResponse, method: string): Promise<TransactionReceipt> {
  const deadline = performance.now() + RECEIPT_TIMEOUT_MS;
  for (;;) {
    const receipt = await tx.provider.getTransactionReceipt(tx.hash);
    if (receipt !== null) {
      if (receipt.status !== 1)
        throw makeError(`${method} reverted in transaction ${tx.hash}`, 'BATCH_REVERTED', { tx: tx.hash });
      return receipt;
    }
    if (performance.now() > deadline) {
      throw makeError(
        `${method}: transaction ${tx.hash} not mined after ${RECEIPT_TIMEOUT_MS} ms`,
        'NOT_FINAL',
        {
          tx: tx.hash,
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const RECEIPT_TIMEOUT_MS = 60_000;

/** Calls a view function; the caller names the type it expects back. */
export async function call<T>(contract: Contract, method: string, ...args: unknown[]): Promise<T> {
  return (await contract.getFunction(method).staticCall(...args)) as T;
}
