/**
 * Shared pieces of the EVM connector suites: the demo security's asset, a chain with a funded
 * seller and buyer, the contracts' suites' ACME and USDC, a matched trade, and what the chain
 * says of trades and balances.
 */
import assert from 'node:assert/strict';
import { type Contract, type EventLog, type Log, Wallet } from 'ethers';
import {
  type Anvil,
  type Artifacts,
  call,
  type Deployment,
  deploy,
  DEV_KEYS,
  type EvmAsset,
  fundInvestors,
  send,
} from '../../connectors/evm/index.ts';
import type { Embedded } from '../../app/index.ts';

export const ACME = 'ACME@evm:31337';

/** Where ACME settles on a test deployment: a lot is one token unit, a cash unit `cashUnits`. */
export function acmeAsset(d: Deployment, cashUnits: bigint): (instrument: string) => EvmAsset | undefined {
  return (id) =>
    id === ACME
      ? { security: d.addresses.securities.ACME!, lotUnits: 1n, cash: d.addresses.cash, cashUnits }
      : undefined;
}

/** Seller rests `qty` of ACME at 100.00 and buyer takes it, straight into the engine; returns the trade id. */
export function matchTrade(gw: Embedded, seller: string, buyer: string, qty: number, tag: string): number {
  const ids: number[] = [];
  const off = gw.exchange.engine.addListener({ onTrade: (e) => ids.push(e.tradeId) });
  const order = { type: 'new', instrument: ACME, orderType: 'limit', price: 10_000, quantity: qty } as const;
  gw.exchange.submit({ ...order, account: seller, clientOrderId: `s${tag}`, side: 'sell' });
  gw.exchange.submit({ ...order, account: buyer, clientOrderId: `b${tag}`, side: 'buy' });
  off();
  assert.equal(ids.length, 1, 'one trade');
  return ids[0]!;
}

export const USD = 'USD@evm:31337';
/** USD has 6 decimals on chain; the engine counts cents: 10^4 base units a cent. */
export const CENT = 10_000n;
export const OPERATOR_KEY = DEV_KEYS[1];
export const OPERATOR = new Wallet(OPERATOR_KEY).address;
export const SELLER_LOTS = 100_000n;
export const BUYER_CENTS = 100_000_000n;

/**
 * Deploys the contracts with anvil's dev key 1 as operator (and `moreOperators`), and funds a
 * seller and a buyer through the escrow.
 */
export async function chainWithInvestors(
  anvil: Anvil,
  seller: Wallet,
  buyer: Wallet,
  moreOperators: readonly string[] = [],
): Promise<Deployment> {
  const d = await deploy({
    deployer: anvil.devWallet(0),
    securities: [{ symbol: 'ACME' }],
    cash: { symbol: 'USD' },
    operator: OPERATOR,
  });
  for (const o of moreOperators) await send(d.settlement, 'setOperator', o, true);
  await fundInvestors(d, [
    { wallet: seller, securities: { ACME: SELLER_LOTS } },
    { wallet: buyer, cash: BUYER_CENTS * CENT },
  ]);
  return d;
}

/** The connector's settings for the test's chain: its endpoint, the deployed contracts, the operator. */
export function evmSettings(anvil: Anvil, d: Deployment, operatorKey: string = OPERATOR_KEY) {
  return {
    rpcUrl: anvil.url,
    operatorKey,
    contracts: {
      settlement: d.addresses.settlement,
      registry: d.addresses.registry,
      cash: { USD: d.addresses.cash },
      securities: { ...d.addresses.securities },
    },
    batchSize: 5,
    batchMs: 50,
    pollMs: 100,
  };
}

/**
 * The trade ids each TradesSettled event of the escrow names (bit k of its bits set for id
 * word * 128 + k), with the event; `word` limits the query to one status word.
 */
export async function settledEvents(
  settlement: Contract,
  word?: bigint,
): Promise<{ tradeId: number; event: EventLog | Log }[]> {
  const out: { tradeId: number; event: EventLog | Log }[] = [];
  const filter = settlement.filters.TradesSettled!(...(word === undefined ? [] : [word]));
  for (const e of await settlement.queryFilter(filter, 0, 'latest')) {
    const [w, bits] = (e as EventLog).args as unknown as [bigint, bigint];
    for (let k = 0n; k < 128n; k++)
      if ((bits >> k) & 1n) out.push({ tradeId: Number(w * 128n + k), event: e });
  }
  return out;
}

/**
 * What the chain says of each trade: its status, and how many TradesSettled bits, TradeFailed
 * and TradeSkipped (a batch sent again) events name it.
 */
export async function onChain(settlement: Contract, tradeIds: readonly number[]) {
  const count = async (name: 'TradeFailed' | 'TradeSkipped') => {
    const counts = new Map<number, number>();
    for (const e of await settlement.queryFilter(settlement.filters[name]!(), 0, 'latest')) {
      const id = Number((e as unknown as { args: { tradeId: bigint } }).args.tradeId);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  };
  const settled = new Map<number, number>();
  for (const { tradeId } of await settledEvents(settlement))
    settled.set(tradeId, (settled.get(tradeId) ?? 0) + 1);
  const [failed, skipped] = [await count('TradeFailed'), await count('TradeSkipped')];
  const status = await Promise.all(tradeIds.map((id) => call<bigint>(settlement, 'tradeStatus', id)));
  return { settled, failed, skipped, status: new Map(tradeIds.map((id, k) => [id, Number(status[k])])) };
}

/**
 * Every trade settled once on chain: status settled, exactly one TradesSettled bit, no TradeFailed,
 * nothing else settled; and no batch went out twice (none skipped as already settled): after a
 * crash the daemon follows the transaction it recorded rather than signing a second one.
 */
export async function assertSettledOnceOnChain(
  settlement: Contract,
  tradeIds: readonly number[],
  /** Whether a batch may have gone out twice (two daemons on one trade): skipped events allowed. */
  resent = false,
): Promise<void> {
  const chain = await onChain(settlement, tradeIds);
  for (const id of tradeIds) {
    assert.equal(chain.status.get(id), 1, `trade ${id}: tradeStatus`);
    assert.equal(chain.settled.get(id), 1, `trade ${id}: TradesSettled bits`);
  }
  assert.equal(chain.failed.size, 0, 'no trade failed');
  if (!resent) assert.deepEqual([...chain.skipped.keys()], [], 'no batch went out twice');
  assert.deepEqual(
    [...chain.settled.keys()].sort((a, b) => a - b),
    [...tradeIds].sort((a, b) => a - b),
    'the chain settled exactly the trades the engine matched',
  );
}

/**
 * Every withdrawal released once on chain: status released, exactly one WithdrawalReleased and
 * none refused or skipped (after a crash the daemon follows its recorded transaction), and
 * nothing else released; the release events by id.
 */
export async function assertReleasedOnceOnChain(
  settlement: Contract,
  withdrawalIds: readonly number[],
): Promise<Map<number, { hash: string; amount: bigint }>> {
  const released = new Map<number, { hash: string; amount: bigint }>();
  for (const e of await settlement.queryFilter(settlement.filters.WithdrawalReleased!(), 0, 'latest')) {
    const { args } = e as unknown as { args: { withdrawalId: bigint; amount: bigint } };
    const id = Number(args.withdrawalId);
    assert.ok(!released.has(id), `withdrawal ${id}: released twice`);
    released.set(id, { hash: e.transactionHash, amount: args.amount });
  }
  for (const id of withdrawalIds)
    assert.equal(await call<bigint>(settlement, 'withdrawalStatus', id), 1n, `withdrawal ${id}: status`);
  for (const name of ['WithdrawalRefused', 'WithdrawalSkipped']) {
    assert.deepEqual(await settlement.queryFilter(settlement.filters[name]!(), 0, 'latest'), [], name);
  }
  assert.deepEqual(
    [...released.keys()].sort((a, b) => a - b),
    [...withdrawalIds].sort((a, b) => a - b),
    'the chain released exactly the withdrawals the engine granted',
  );
  return released;
}

/** Each of the escrow's balances (base units) equals the engine's (engine units times base units a unit). */
export async function assertEscrowMatchesEngine(
  d: Deployment,
  settlement: Contract,
  engineUnits: (account: string, asset: string) => Promise<bigint>,
  accounts: readonly string[],
): Promise<void> {
  const acme = d.addresses.securities.ACME!;
  for (const who of accounts) {
    assert.equal(
      await call<bigint>(settlement, 'balanceOf', acme, who),
      await engineUnits(who, ACME),
      `${who}: ACME in escrow and in the engine`,
    );
    assert.equal(
      await call<bigint>(settlement, 'balanceOf', d.addresses.cash, who),
      (await engineUnits(who, USD)) * CENT,
      `${who}: USD in escrow and in the engine`,
    );
  }
}

/**
 * ACME and USDC (6 decimals) with their escrow on `anvil`, deployed by dev wallet 0, settled by
 * dev wallet 1 (`operator`, the escrow as that wallet calls it), fees to `feeAccount`.
 */
export async function acmeAndUsdc(
  anvil: Anvil,
  feeAccount: string,
  artifacts: Artifacts,
): Promise<{ d: Deployment; operator: Contract }> {
  const operator = anvil.devWallet(1);
  const d = await deploy({
    deployer: anvil.devWallet(0),
    securities: [{ symbol: 'ACME', name: 'Acme Corp. ordinary shares' }],
    cash: { symbol: 'USDC', name: 'USD Coin (test)' },
    operator: operator.address,
    feeAccount,
    artifacts,
  });
  return { d, operator: d.settlement.connect(operator) as Contract };
}
