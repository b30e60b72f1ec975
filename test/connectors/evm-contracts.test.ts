/**
 * The settlement contracts on a real anvil: deposits, delivery versus payment per trade, the
 * failure policy (a failing trade is reported, the rest settle), exactly-once trade ids, the
 * ERC-3643 rules (pause, freeze, verification) on settlement and release, withdrawals released by
 * the operator only and once per withdrawal id, and the gas per trade (printed, not asserted).
 * Mixed batches (failures, repeats, several groups, accounts recurring) must give what a plain
 * reference ledger predicts, verdict for verdict and balance for balance; depositFor funds
 * another's escrow.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Contract,
  ContractFactory,
  decodeBytes32String,
  encodeBytes32String,
  id,
  Interface,
  type InterfaceAbi,
  type TransactionReceipt,
  Wallet,
  ZeroAddress,
} from 'ethers';
import {
  Anvil,
  type Artifacts,
  call,
  compileContracts,
  type Deployment,
  deploy,
  fundInvestors,
  packTrades,
  type PackedTrade,
  send,
  settlePackedCalldata,
} from '../../connectors/evm/index.ts';
import { acmeAndUsdc } from '../support/evm.ts';
import { until } from '../support/wait.ts';

const USDC = 1_000_000n; // 6 decimals
const POOL = 200; // funded investors for the large batches
const POOL_ACME = 1_000_000n;
const POOL_USDC = 1_000_000n * USDC;

/** One trade as settlePacked takes it. */
type Trade = PackedTrade;

interface Outcome {
  receipt: TransactionReceipt;
  settled: bigint[];
  failed: [bigint, string][];
  skipped: [bigint, string][];
}

let anvil: Anvil;
let artifacts: Artifacts;
let d: Deployment;
let operatorSettlement: Contract;
let acme: string;
let usdc: string;
let deployer: Wallet;
const feeAccount = new Wallet(id('mosaic-fee-account')).address;
let alice: Wallet, bob: Wallet, carol: Wallet, dave: Wallet;
let pool: Wallet[] = [];
let nextTradeId = 1n;
let nextWithdrawalId = 1n;

/** One withdrawal as releaseBatch takes it: [withdrawalId, account, token, amount]. */
type Withdrawal = [bigint, string, string, bigint];

function wallet(name: string): Wallet {
  return new Wallet(id(`mosaic-test-${name}`), anvil.provider());
}

async function fundEth(wallets: readonly Wallet[]): Promise<void> {
  for (const w of wallets) await anvil.rpc('anvil_setBalance', [w.address, '0x56BC75E2D63100000']);
}

/** A trade on ACME/USDC with a fresh id: `price` in whole USDC, fee 5 bp of the notional. */
function trade(seller: Wallet | string, buyer: Wallet | string, quantity: bigint, price = 25n): Trade {
  const notional = quantity * price * USDC;
  const fee = (notional * 5n) / 10_000n;
  return {
    tradeId: nextTradeId++,
    security: acme,
    cash: usdc,
    buyer: typeof buyer === 'string' ? buyer : buyer.address,
    seller: typeof seller === 'string' ? seller : seller.address,
    quantity,
    cashAmount: notional + fee,
    fee,
  };
}

/**
 * Settles through settlePacked; the verdicts its events give (settled: the TradesSettled bits,
 * in id order within a status word).
 */
async function settle(trades: readonly Trade[]): Promise<Outcome> {
  const receipt = await send(operatorSettlement, 'settlePacked', packTrades(trades));
  const out: Outcome = { receipt, settled: [], failed: [], skipped: [] };
  for (const log of receipt.logs) {
    const ev = d.settlement.interface.parseLog(log);
    if (ev === null) continue;
    const tradeId = ev.args[0] as bigint;
    if (ev.name === 'TradesSettled') {
      const bits = ev.args[1] as bigint;
      for (let k = 0n; k < 128n; k++) if ((bits >> k) & 1n) out.settled.push(tradeId * 128n + k);
    }
    if (ev.name === 'TradeFailed') out.failed.push([tradeId, decodeBytes32String(ev.args[1] as string)]);
    if (ev.name === 'TradeSkipped') out.skipped.push([tradeId, decodeBytes32String(ev.args[1] as string)]);
  }
  out.settled.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return out;
}

/** Releases through releaseBatch; what each withdrawal's event said. */
async function release(withdrawals: readonly Withdrawal[]) {
  const receipt = await send(operatorSettlement, 'releaseBatch', withdrawals);
  const out = {
    receipt,
    released: [] as unknown[][],
    refused: [] as [bigint, string][],
    skipped: [] as [bigint, string][],
  };
  for (const log of receipt.logs) {
    const ev = d.settlement.interface.parseLog(log);
    if (ev?.name === 'WithdrawalReleased') out.released.push([...ev.args]);
    if (ev?.name === 'WithdrawalRefused')
      out.refused.push([ev.args[0] as bigint, decodeBytes32String(ev.args[1] as string)]);
    if (ev?.name === 'WithdrawalSkipped')
      out.skipped.push([ev.args[0] as bigint, decodeBytes32String(ev.args[1] as string)]);
  }
  return out;
}

function escrow(token: string, who: Wallet | string): Promise<bigint> {
  return call<bigint>(d.settlement, 'balanceOf', token, typeof who === 'string' ? who : who.address);
}

/** Escrow balances of `tokens` of each account, by `token/account`. */
async function escrowed(
  accounts: readonly string[],
  tokens: readonly string[],
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const a of accounts) for (const token of tokens) out.set(`${token}/${a}`, await escrow(token, a));
  return out;
}

/** Escrow balances of ACME and USDC of each account, as plain strings for deepEqual. */
async function ledger(accounts: readonly string[]): Promise<string[]> {
  const rows: string[] = [];
  for (const a of accounts) rows.push(`${a} ${await escrow(acme, a)} ${await escrow(usdc, a)}`);
  return rows;
}

/** A seeded generator, so a failing batch can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` trades between distinct random members of `accounts`. */
function randomTrades(n: number, accounts: readonly Wallet[], seed: number): Trade[] {
  const next = rng(seed);
  const pick = (): Wallet => accounts[Math.floor(next() * accounts.length)]!;
  const trades: Trade[] = [];
  while (trades.length < n) {
    const seller = pick();
    const buyer = pick();
    if (seller === buyer) continue;
    trades.push(
      trade(seller, buyer, BigInt(1 + Math.floor(next() * 100)), BigInt(10 + Math.floor(next() * 90))),
    );
  }
  return trades;
}

/**
 * canTransferPacked's arguments: the wallets as a table ([count 2][wallet 20]...), the transfers
 * as a run of [to 2][from 2][amount 16] by index into it.
 */
function packedTransfers(
  wallets: readonly string[],
  transfers: readonly { to: number; from: number; amount: bigint }[],
): [string, string] {
  const hex = (v: bigint | number, bytes: number): string =>
    BigInt(v)
      .toString(16)
      .padStart(bytes * 2, '0');
  const table = hex(wallets.length, 2) + wallets.map((w) => w.slice(2).toLowerCase()).join('');
  const run = transfers.map((t) => hex(t.to, 2) + hex(t.from, 2) + hex(t.amount, 16)).join('');
  return [`0x${table}`, `0x${run}`];
}

/**
 * What a batch should do, worked out plainly in order (the oracle settlePacked is checked
 * against): `seen` holds the verdicts before the batch (and takes the batch's), `balances` the
 * escrow's balances by `token/account` (moved as the trades settle), `rules` a trade's refusal by
 * the security ('' if allowed).
 */
function predict(
  trades: readonly Trade[],
  seen: Map<bigint, boolean>,
  balances: Map<string, bigint>,
  rules: (t: Trade) => string,
): Pick<Outcome, 'settled' | 'failed' | 'skipped'> {
  const out: Pick<Outcome, 'settled' | 'failed' | 'skipped'> = { settled: [], failed: [], skipped: [] };
  const get = (token: string, a: string): bigint => balances.get(`${token}/${a}`) ?? 0n;
  const add = (token: string, a: string, v: bigint): void =>
    void balances.set(`${token}/${a}`, get(token, a) + v);
  for (const t of trades) {
    const before = seen.get(t.tradeId);
    if (before !== undefined) {
      out.skipped.push([t.tradeId, before ? 'ALREADY_SETTLED' : 'ALREADY_FAILED']);
      continue;
    }
    const reason =
      t.quantity === 0n || t.fee > t.cashAmount || t.security === t.cash
        ? 'BAD_TRADE'
        : rules(t) ||
          (get(t.security, t.seller) < t.quantity
            ? 'INSUFFICIENT_SECURITY'
            : get(t.cash, t.buyer) < t.cashAmount
              ? 'INSUFFICIENT_CASH'
              : '');
    seen.set(t.tradeId, reason === '');
    if (reason !== '') {
      out.failed.push([t.tradeId, reason]);
      continue;
    }
    out.settled.push(t.tradeId);
    add(t.security, t.seller, -t.quantity);
    add(t.security, t.buyer, t.quantity);
    add(t.cash, t.buyer, -t.cashAmount);
    add(t.cash, t.seller, t.cashAmount - t.fee);
    add(t.cash, feeAccount, t.fee);
  }
  out.settled.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return out;
}

/** Checks that a rejected call reverted with `contract`'s custom error `name` and these args. */
function assertRevert(contract: Contract, name: string, args: readonly unknown[]): (err: unknown) => boolean {
  return (err: unknown) => {
    const data = (err as { data?: string }).data ?? '0x';
    const parsed = contract.interface.parseError(data);
    assert.equal(parsed?.name, name, `expected revert ${name}, got ${String(err)}`);
    assert.deepEqual([...parsed.args], args);
    return true;
  };
}

describe('EVM settlement contracts on anvil', () => {
  before(async () => {
    artifacts = await compileContracts();
    anvil = await Anvil.start({ gasLimit: 300_000_000n });
    deployer = anvil.devWallet(0);
    ({ d, operator: operatorSettlement } = await acmeAndUsdc(anvil, feeAccount, artifacts));
    acme = d.addresses.securities.ACME!;
    usdc = d.addresses.cash;
    [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(wallet) as [
      Wallet,
      Wallet,
      Wallet,
      Wallet,
    ];
    pool = Array.from({ length: POOL }, (_, i) => wallet(`pool-${i}`));
    await fundEth([alice, bob, carol, dave, ...pool]);
    const started = performance.now();
    await fundInvestors(d, [
      ...[alice, bob, carol].map((w) => ({
        wallet: w,
        country: 276,
        securities: { ACME: 1_000n },
        cash: 100_000n * USDC,
      })),
      ...pool.map((w) => ({ wallet: w, securities: { ACME: POOL_ACME }, cash: POOL_USDC })),
    ]);
    console.log(`funded ${POOL + 3} investors in ${Math.round(performance.now() - started)} ms`);
  });

  after(async () => {
    await anvil?.stop();
  });

  it('deploys registry, token, cash and escrow; the escrow is a verified wallet', async () => {
    for (const address of [d.addresses.registry, acme, usdc, d.addresses.settlement]) {
      assert.notEqual(await anvil.provider().getCode(address), '0x');
    }
    assert.equal(await call<boolean>(d.registry, 'isVerified', d.addresses.settlement), true);
    assert.equal(await call<string>(d.settlement, 'feeAccount'), feeAccount);
    assert.equal(await call<bigint>(d.securities.get('ACME')!, 'decimals'), 0n);
    assert.equal(await call<bigint>(d.cash, 'decimals'), 6n);
  });

  it('a deposit moves tokens into escrow and emits Deposited', async () => {
    await send(d.registry, 'registerInvestor', dave.address, 250);
    await send(d.securities.get('ACME')!, 'mint', dave.address, 40n);
    const token = d.securities.get('ACME')!.connect(dave) as Contract;
    await send(token, 'approve', d.addresses.settlement, 40n);
    const receipt = await send(d.settlement.connect(dave) as Contract, 'deposit', acme, 30n);
    const events = receipt.logs.map((l) => d.settlement.interface.parseLog(l)).filter((e) => e !== null);
    assert.deepEqual(
      events.map((e) => [e.name, ...e.args]),
      [['Deposited', dave.address, acme, 30n]],
    );
    assert.equal(await escrow(acme, dave), 30n);
    assert.equal(await call<bigint>(token, 'balanceOf', dave.address), 10n);
    assert.equal((await call<bigint>(token, 'balanceOf', d.addresses.settlement)) >= 30n, true);
  });

  it('a settled trade moves security and cash exactly, pays the fee and emits TradeSettled', async () => {
    const before = await ledger([alice.address, bob.address, feeAccount]);
    const t = trade(alice, bob, 10n, 25n); // 250 USDC + 0.125 USDC fee
    const out = await settle([t]);
    assert.deepEqual(out.settled, [t.tradeId]);
    assert.deepEqual([out.failed, out.skipped], [[], []]);
    assert.deepEqual(before, [
      `${alice.address} 1000 ${100_000n * USDC}`,
      `${bob.address} 1000 ${100_000n * USDC}`,
      `${feeAccount} 0 0`,
    ]);
    assert.deepEqual(await ledger([alice.address, bob.address, feeAccount]), [
      `${alice.address} 990 ${100_000n * USDC + 250n * USDC}`,
      `${bob.address} 1010 ${100_000n * USDC - 250n * USDC - 125_000n}`,
      `${feeAccount} 0 125000`,
    ]);
    assert.equal(await call<bigint>(d.settlement, 'tradeStatus', t.tradeId), 1n);
  });

  it('settles a batch of 500 trades in one transaction, as a reference ledger predicts', async () => {
    const accounts = pool.slice(0, 50);
    const trades = randomTrades(500, accounts, 500);
    const expected = new Map<string, bigint>();
    const key = (token: string, a: string): string => `${token}/${a}`;
    for (const a of [...accounts.map((w) => w.address), feeAccount]) {
      expected.set(key(acme, a), await escrow(acme, a));
      expected.set(key(usdc, a), await escrow(usdc, a));
    }
    const add = (token: string, a: string, v: bigint): void => {
      expected.set(key(token, a), expected.get(key(token, a))! + v);
    };
    for (const t of trades) {
      add(acme, t.seller, -t.quantity);
      add(acme, t.buyer, t.quantity);
      add(usdc, t.buyer, -t.cashAmount);
      add(usdc, t.seller, t.cashAmount - t.fee);
      add(usdc, feeAccount, t.fee);
    }
    const out = await settle(trades);
    assert.equal(out.settled.length, 500);
    assert.deepEqual([out.failed, out.skipped], [[], []]);
    for (const [k, v] of expected) {
      const [token, a] = k.split('/') as [string, string];
      assert.equal(await escrow(token, a), v, k);
    }
    console.log(`batch of 500: ${out.receipt.gasUsed / 500n} gas per trade (${out.receipt.gasUsed} in all)`);
  });

  it('refuses a trade id already settled or failed, even twice in one batch: nothing moves twice', async () => {
    const first = trade(alice, bob, 1n);
    const bad = trade(alice, bob, 1n);
    bad.fee = bad.cashAmount + 1n; // refused as BAD_TRADE, which is final too
    await settle([first, bad]);
    const before = await ledger([alice.address, bob.address, feeAccount]);

    const fresh = trade(alice, bob, 2n);
    const out = await settle([first, fresh, fresh, bad]);
    assert.deepEqual(out.settled, [fresh.tradeId]);
    assert.deepEqual(out.failed, []);
    assert.deepEqual(out.skipped, [
      [first.tradeId, 'ALREADY_SETTLED'],
      [fresh.tradeId, 'ALREADY_SETTLED'],
      [bad.tradeId, 'ALREADY_FAILED'],
    ]);
    const after = await ledger([alice.address, bob.address, feeAccount]);
    const moved = (row: string, i: number): bigint[] => {
      const a = row.split(' ').slice(1).map(BigInt);
      const b = after[i]!.split(' ').slice(1).map(BigInt);
      return [b[0]! - a[0]!, b[1]! - a[1]!];
    };
    assert.deepEqual(
      before.map((row, i) => moved(row, i)),
      [
        [-2n, fresh.cashAmount - fresh.fee],
        [2n, -fresh.cashAmount],
        [0n, fresh.fee],
      ],
    );
    assert.equal(await call<bigint>(d.settlement, 'tradeStatus', bad.tradeId), 2n);
    assert.equal(await call<bigint>(d.settlement, 'tradeStatus', nextTradeId + 1000n), 0n);
  });

  it('a buyer frozen between match and settlement fails its trade; the rest of the batch settles', async () => {
    const t1 = trade(alice, bob, 3n);
    const t2 = trade(alice, carol, 4n);
    const t3 = trade(bob, alice, 5n);
    const token = d.securities.get('ACME')!;
    await send(token, 'setAddressFrozen', carol.address, true);
    const carolBefore = await ledger([carol.address]);
    const out = await settle([t1, t2, t3]);
    assert.deepEqual(out.settled, [t1.tradeId, t3.tradeId]);
    assert.deepEqual(out.failed, [[t2.tradeId, 'TO_FROZEN']]);
    assert.deepEqual(await ledger([carol.address]), carolBefore);

    const t4 = trade(carol, alice, 1n); // a frozen seller cannot deliver either
    assert.deepEqual((await settle([t4])).failed, [[t4.tradeId, 'FROM_FROZEN']]);
    await send(token, 'setAddressFrozen', carol.address, false);
  });

  it('on too little gas a batch reverts whole: a rule check that ran out fails no trade for good', async () => {
    // From too little gas to start the rule check, through too little to finish it, to enough:
    // each try either reverts (nothing moves) or settles its trade; none is NOT_A_SECURITY.
    let reverted = 0;
    let settled = 0;
    for (let gasLimit = 45_000; gasLimit <= 150_000; gasLimit += 500) {
      const t = trade(alice, bob, 1n);
      const tx = await operatorSettlement.getFunction('settlePacked').send(packTrades([t]), { gasLimit });
      // (polled: ethers' wait() can miss an automined block, and throws on a revert)
      const receipt = await until(`gas ${gasLimit}: the receipt`, () =>
        operatorSettlement.runner!.provider!.getTransactionReceipt(tx.hash).then((r) => r ?? undefined),
      );
      if (receipt.status !== 1) {
        reverted++;
        assert.equal(
          await call<bigint>(d.settlement, 'tradeStatus', t.tradeId),
          0n,
          `gas ${gasLimit}: nothing kept`,
        );
        continue;
      }
      assert.equal(
        await call<bigint>(d.settlement, 'tradeStatus', t.tradeId),
        1n,
        `gas ${gasLimit}: settled`,
      );
      settled++;
    }
    assert.ok(reverted > 0 && settled > 0, `${reverted} reverted, ${settled} settled`);
  });

  it('a paused token fails its trades until unpaused', async () => {
    const token = d.securities.get('ACME')!;
    await send(token, 'pause');
    const t = trade(alice, bob, 1n);
    assert.deepEqual((await settle([t])).failed, [[t.tradeId, 'PAUSED']]);
    await send(token, 'unpause');
    const u = trade(alice, bob, 1n);
    assert.deepEqual((await settle([u])).settled, [u.tradeId]);
  });

  it('a buyer removed from the identity registry cannot receive the security', async () => {
    const receipt = await send(d.registry, 'removeInvestor', dave.address);
    const ev = d.registry.interface.parseLog(receipt.logs[0]!);
    assert.deepEqual([ev?.name, ...(ev?.args ?? [])], ['InvestorRemoved', dave.address]);
    const t = trade(alice, dave, 1n, 0n); // price 0: dave holds no cash in escrow
    const out = await settle([t]);
    assert.deepEqual(out.failed, [[t.tradeId, 'TO_NOT_VERIFIED']]);
    // dave may still sell: ERC-3643 checks only the recipient
    const s = trade(dave, alice, 5n);
    assert.deepEqual((await settle([s])).settled, [s.tradeId]);
  });

  it('fails trades the escrow cannot cover or that make no sense, each with its reason', async () => {
    const cases: [string, Trade][] = [
      ['INSUFFICIENT_CASH', trade(alice, bob, 1n, 1_000_000_000n)],
      ['INSUFFICIENT_SECURITY', trade(alice, bob, 1_000_000n)],
      ['BAD_TRADE', { ...trade(alice, bob, 0n) }],
      ['BAD_TRADE', { ...trade(alice, bob, 1n), cash: acme }],
      ['NOT_A_SECURITY', { ...trade(alice, bob, 1n), security: usdc, cash: acme }],
      // no contract there at all: the batch must not revert for it
      ['NOT_A_SECURITY', { ...trade(alice, bob, 1n), security: Wallet.createRandom().address }],
    ];
    const before = await ledger([alice.address, bob.address, feeAccount]);
    const out = await settle(cases.map(([, t]) => t));
    assert.deepEqual(
      out.failed,
      cases.map(([reason, t]) => [t.tradeId, reason]),
    );
    assert.deepEqual(await ledger([alice.address, bob.address, feeAccount]), before);
  });

  it('only an operator may settle: anyone else gets NotOperator; the owner allows and stops operators', async () => {
    const owner = d.settlement; // the owner is not an operator
    await assert.rejects(
      owner.getFunction('settlePacked').send(packTrades([trade(alice, bob, 1n)])),
      assertRevert(d.settlement, 'NotOperator', [deployer.address]),
    );
    await assert.rejects(
      (d.settlement.connect(alice) as Contract).getFunction('setOperator').send(alice.address, true),
      assertRevert(d.settlement, 'OwnableUnauthorizedAccount', [alice.address]),
    );
    // A second operator (a second daemon, its own key) settles; once stopped, it cannot.
    const second = anvil.devWallet(4);
    await send(owner, 'setOperator', second.address, true);
    assert.equal(await call<boolean>(owner, 'isOperator', second.address), true);
    const asSecond = d.settlement.connect(second) as Contract;
    await send(asSecond, 'settlePacked', packTrades([]));
    await send(owner, 'setOperator', second.address, false);
    await assert.rejects(
      asSecond.getFunction('settlePacked').send(packTrades([])),
      assertRevert(d.settlement, 'NotOperator', [second.address]),
    );
  });

  it('an investor cannot take escrowed funds out by itself: only an operator releases, by withdrawal id', async () => {
    const mine = d.settlement.connect(bob) as Contract;
    // The escrow has no withdrawal of one's own: the old selector finds no function.
    assert.equal(d.settlement.interface.getFunction('withdraw(address,uint256)'), null);
    const before = await escrow(acme, bob);
    const oldWithdraw = new Interface(['function withdraw(address token, uint256 amount)']);
    await assert.rejects(
      bob.sendTransaction({
        to: d.addresses.settlement,
        data: oldWithdraw.encodeFunctionData('withdraw', [acme, 5n]),
      }),
    );
    await assert.rejects(
      mine.getFunction('releaseBatch').send([[nextWithdrawalId++, bob.address, acme, 5n]]),
      assertRevert(d.settlement, 'NotOperator', [bob.address]),
    );
    assert.equal(await escrow(acme, bob), before);
  });

  it('the operator releases a withdrawal once: sent again, its id is skipped and nothing moves', async () => {
    const token = d.securities.get('ACME')!;
    const cash = d.cash;
    const [escrowAcme, escrowUsdc] = [await escrow(acme, bob), await escrow(usdc, bob)];
    const [walletAcme, walletUsdc] = [
      await call<bigint>(token, 'balanceOf', bob.address),
      await call<bigint>(cash, 'balanceOf', bob.address),
    ];
    const batch: Withdrawal[] = [
      [nextWithdrawalId++, bob.address, acme, 5n],
      [nextWithdrawalId++, bob.address, usdc, 7n * USDC],
    ];
    const first = await release(batch);
    assert.deepEqual(first.released, [
      [batch[0]![0], bob.address, acme, 5n],
      [batch[1]![0], bob.address, usdc, 7n * USDC],
    ]);
    assert.deepEqual([first.refused, first.skipped], [[], []]);
    const again = await release(batch);
    assert.deepEqual(again.released, []);
    assert.deepEqual(again.skipped, [
      [batch[0]![0], 'ALREADY_RELEASED'],
      [batch[1]![0], 'ALREADY_RELEASED'],
    ]);
    for (const [id] of batch) assert.equal(await call<bigint>(d.settlement, 'withdrawalStatus', id), 1n);
    assert.equal(await escrow(acme, bob), escrowAcme - 5n);
    assert.equal(await escrow(usdc, bob), escrowUsdc - 7n * USDC);
    assert.equal(await call<bigint>(token, 'balanceOf', bob.address), walletAcme + 5n);
    assert.equal(await call<bigint>(cash, 'balanceOf', bob.address), walletUsdc + 7n * USDC);
    console.log(
      `release gas: ${first.receipt.gasUsed} for 2 withdrawals (${first.receipt.gasUsed / 2n} each), ` +
        `${again.receipt.gasUsed} to skip them`,
    );
  });

  it('refuses a withdrawal the escrow cannot cover or the token would not allow, with its reason; the rest are released', async () => {
    const token = d.securities.get('ACME')!;
    await send(token, 'setAddressFrozen', bob.address, true);
    const escrowed = await escrow(acme, carol);
    const batch: Withdrawal[] = [
      [nextWithdrawalId++, bob.address, acme, 5n], // bob's wallet is frozen
      [nextWithdrawalId++, bob.address, usdc, 1n * USDC], // cash, a plain ERC-20, still comes out
      [nextWithdrawalId++, carol.address, acme, escrowed + 1n], // more than carol has in escrow
      [nextWithdrawalId++, carol.address, acme, 0n],
      [nextWithdrawalId++, ZeroAddress, usdc, 1n],
      [nextWithdrawalId++, carol.address, d.addresses.registry, 1n], // not a token
    ];
    const out = await release(batch);
    await send(token, 'setAddressFrozen', bob.address, false);
    const ids = batch.map(([id]) => id);
    assert.deepEqual(out.released, [[ids[1], bob.address, usdc, 1n * USDC]]);
    assert.deepEqual(out.refused, [
      [ids[0], 'TO_FROZEN'],
      [ids[2], 'INSUFFICIENT_BALANCE'],
      [ids[3], 'BAD_WITHDRAWAL'],
      [ids[4], 'BAD_WITHDRAWAL'],
      [ids[5], 'INSUFFICIENT_BALANCE'],
    ]);
    assert.equal(await escrow(acme, carol), escrowed);
    // A refusal is a verdict like a release: the id keeps it.
    const again = await release([batch[0]!]);
    assert.deepEqual(again.skipped, [[ids[0], 'ALREADY_REFUSED']]);
    assert.equal(await call<bigint>(d.settlement, 'withdrawalStatus', ids[0]), 2n);
  });

  it('checks each trade against the balances the ones before it left, as a reference ledger predicts', async () => {
    const accounts = pool.slice(100, 112);
    const poor = wallet('poor');
    await fundEth([poor]);
    await fundInvestors(d, [{ wallet: poor, securities: { ACME: 3n }, cash: 30n * USDC }]);
    const trades = [
      ...randomTrades(40, accounts, 7),
      trade(poor, accounts[0]!, 2n), // settles
      trade(accounts[1]!, poor, 1n), // settles: poor pays 25 + fee out of 30 + 50 from its sale
      trade(poor, accounts[2]!, 3n), // fails: poor has 2 left
      trade(accounts[3]!, poor, 3n, 20n), // fails: 60 + fee is more than the 54.99 left
      ...randomTrades(20, [...accounts, poor], 8),
    ];
    const token = d.securities.get('ACME')!;
    const frozen = accounts[5]!.address;
    await send(token, 'setAddressFrozen', frozen, true);
    const who = [...accounts, poor].map((w) => w.address).concat(feeAccount);
    const balances = await escrowed(who, [acme, usdc]);
    const expected = predict(trades, new Map(), balances, (t) =>
      t.seller === frozen ? 'FROM_FROZEN' : t.buyer === frozen ? 'TO_FROZEN' : '',
    );
    const out = await settle(trades);
    await send(token, 'setAddressFrozen', frozen, false);

    assert.ok(out.failed.length >= 3, 'the batch has failing trades');
    assert.ok(out.failed.some(([, r]) => r === 'INSUFFICIENT_CASH'));
    assert.deepEqual(
      [out.settled, out.failed, out.skipped],
      [expected.settled, expected.failed, expected.skipped],
    );
    assert.deepEqual(await escrowed(who, [acme, usdc]), balances);
  });

  it('prints gas per trade for batches of 1, 10 and 100', async () => {
    const rows: string[] = [];
    for (const [label, accounts] of [
      ['20 active accounts', pool.slice(0, 20)],
      ['two new accounts per trade', pool],
    ] as const) {
      for (const n of [1, 10, 100]) {
        const trades =
          label === '20 active accounts'
            ? randomTrades(n, accounts, n)
            : Array.from({ length: n }, (_, i) => trade(accounts[2 * i]!, accounts[2 * i + 1]!, 1n));
        const snapshot = await anvil.rpc<string>('evm_snapshot');
        const out = await settle(trades);
        await anvil.rpc('evm_revert', [snapshot]);
        assert.equal(out.settled.length, n);
        const bytes = (settlePackedCalldata(trades).length - 2) / 2;
        rows.push(
          `  ${label.padEnd(28)} batch ${String(n).padStart(3)}: ${String(out.receipt.gasUsed / BigInt(n)).padStart(8)}` +
            `  ${String(bytes).padStart(7)} B`,
        );
      }
    }
    console.log(`gas per trade (transaction gas / trades), calldata\n${rows.join('\n')}`);
  });

  it('restarts on the same port with its state file and carries on', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-anvil-'));
    const local = await Anvil.start({ stateFile: path.join(dir, 'state.json') });
    try {
      const mini = await deploy({ deployer: local.devWallet(0), securities: [{ symbol: 'XYZ' }], artifacts });
      const port = local.port;
      await local.restart();
      assert.equal(local.port, port);
      const provider = local.provider();
      assert.notEqual(await provider.getCode(mini.addresses.settlement), '0x');
      const fresh = mini.settlement.connect(provider) as Contract;
      assert.equal(await call<boolean>(fresh, 'isOperator', await local.devWallet(0).getAddress()), true);
    } finally {
      await local.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('settlePacked and depositFor', () => {
    let beta: Contract;
    let betaAddress: string;
    let faucet: Wallet;

    /**
     * Settles `trades`; asserts the verdicts and the balances of `accounts` (ACME, BETA, USDC)
     * are what the reference ledger predicts, with `rules` the securities' refusals.
     */
    async function asPredicted(
      trades: readonly Trade[],
      accounts: readonly string[],
      rules: (t: Trade) => string = () => '',
    ): Promise<Outcome> {
      const seen = new Map<bigint, boolean>();
      for (const t of trades) {
        const status = await call<bigint>(d.settlement, 'tradeStatus', t.tradeId);
        if (status !== 0n) seen.set(t.tradeId, status === 1n);
      }
      const balances = await escrowed(accounts, [acme, betaAddress, usdc]);
      const expected = predict(trades, seen, balances, rules);
      const out = await settle(trades);
      assert.deepEqual(verdicts(out), verdicts({ ...out, ...expected }));
      assert.deepEqual(await escrowed(accounts, [acme, betaAddress, usdc]), balances);
      return out;
    }

    function verdicts(out: Outcome): unknown[] {
      return [out.settled, out.failed, out.skipped];
    }

    before(async () => {
      // A second security, so a packed batch has more than one group.
      const { abi, bytecode } = artifacts.contracts.SecurityToken;
      const factory = new ContractFactory(abi as InterfaceAbi, bytecode, deployer);
      const deployed = await factory.deploy('Beta Inc.', 'BETA', 0, d.addresses.registry, deployer.address);
      await deployed.waitForDeployment();
      betaAddress = await deployed.getAddress();
      beta = d.securities.get('ACME')!.attach(betaAddress) as Contract;
      await send(beta, 'addAgent', deployer.address);
      faucet = wallet('faucet');
      await fundEth([faucet]);
      const withBeta: Deployment = { ...d, securities: new Map([...d.securities, ['BETA', beta]]) };
      await fundInvestors(withBeta, [
        ...pool.slice(150, 160).map((w) => ({ wallet: w, securities: { BETA: 1_000n } })),
        { wallet: faucet, securities: { ACME: 1_000n, BETA: 1_000n }, cash: 10_000n * USDC, deposit: false },
      ]);
    });

    it('a mixed batch gives the verdicts and balances the reference ledger predicts', async () => {
      const done = trade(alice, bob, 1n);
      await settle([done]);
      const ok1 = trade(alice, bob, 2n);
      const frozenBuyer = trade(alice, carol, 1n);
      const poor = trade(bob, alice, 1n, 1_000_000_000n);
      const bad = { ...trade(alice, bob, 1n), fee: 10n ** 30n };
      const notSecurity = { ...trade(alice, bob, 1n), security: usdc, cash: acme };
      const ok2 = trade(bob, alice, 3n);
      const trades = [done, ok1, frozenBuyer, poor, bad, ok1, notSecurity, ok2];
      await send(d.securities.get('ACME')!, 'setAddressFrozen', carol.address, true);
      const who = [alice.address, bob.address, carol.address, feeAccount];
      const out = await asPredicted(trades, who, (t) =>
        t.security === usdc ? 'NOT_A_SECURITY' : t.buyer === carol.address ? 'TO_FROZEN' : '',
      );
      await send(d.securities.get('ACME')!, 'setAddressFrozen', carol.address, false);

      assert.deepEqual(verdicts(out), [
        [ok1.tradeId, ok2.tradeId],
        [
          [frozenBuyer.tradeId, 'TO_FROZEN'],
          [poor.tradeId, 'INSUFFICIENT_CASH'],
          [bad.tradeId, 'BAD_TRADE'],
          [notSecurity.tradeId, 'NOT_A_SECURITY'],
        ],
        [
          [done.tradeId, 'ALREADY_SETTLED'],
          [ok1.tradeId, 'ALREADY_SETTLED'],
        ],
      ]);
      // One TradesSettled names both settled trades; each failure and skip has its own event.
      const names = out.receipt.logs.map((l) => d.settlement.interface.parseLog(l)?.name);
      assert.deepEqual(names.filter((n) => n === 'TradesSettled').length, 1);
      for (const [t, status] of [
        [ok2, 1n],
        [bad, 2n],
      ] as const) {
        assert.equal(await call<bigint>(d.settlement, 'tradeStatus', t.tradeId), status);
      }
    });

    it('settles groups of two securities in batch order: cash carries over from group to group', async () => {
      const thrifty = wallet('thrifty');
      await fundEth([thrifty]);
      await fundInvestors(d, [{ wallet: thrifty, securities: { ACME: 10n }, cash: 100n * USDC }]);
      const [p0, p1, p2] = pool.slice(150, 153) as [Wallet, Wallet, Wallet];
      const onBeta = (t: Trade): Trade => ({ ...t, security: betaAddress });
      const trades = [
        trade(p0, thrifty, 2n), // ACME: pays 50.025 of its 100
        onBeta(trade(p1, thrifty, 2n)), // BETA: 50.025 more than the 49.975 left
        trade(thrifty, p2, 4n), // ACME: receives 100
        onBeta(trade(p1, thrifty, 2n)), // BETA: now it can pay
        onBeta(trade(p0, p2, 5n)),
      ];
      // the table of 4 accounts, 4 groups of one trade but the last of two
      assert.equal(packTrades(trades).length, 2 + 2 * (2 + 4 * 20 + 4 * 42 + trades.length * 60));
      const who = [thrifty, p0, p1, p2].map((w) => w.address).concat(feeAccount);
      const out = await asPredicted(trades, who);
      assert.deepEqual(verdicts(out), [
        [trades[0]!.tradeId, trades[2]!.tradeId, trades[3]!.tradeId, trades[4]!.tradeId],
        [[trades[1]!.tradeId, 'INSUFFICIENT_CASH']],
        [],
      ]);
      assert.equal(await escrow(betaAddress, thrifty), 2n);
      assert.equal(await escrow(acme, thrifty), 10n + 2n - 4n);
    });

    it('two securities, recurring accounts, a frozen one, a self-trade and a repeat: as predicted', async () => {
      const accounts = pool.slice(150, 160);
      const poorer = wallet('poorer');
      await fundEth([poorer]);
      await fundInvestors(d, [{ wallet: poorer, securities: { ACME: 3n }, cash: 30n * USDC }]);
      const onBeta = (t: Trade): Trade => ({ ...t, security: betaAddress });
      const trades = [
        ...randomTrades(30, accounts, 11),
        trade(poorer, accounts[0]!, 2n),
        trade(poorer, accounts[1]!, 2n), // fails: 1 left
        ...randomTrades(10, accounts, 12).map(onBeta),
        onBeta(trade(accounts[2]!, poorer, 1n, 100n)), // fails: 100.05 is more than its 80
        trade(accounts[3]!, accounts[3]!, 1n), // buyer and seller the same: settles, moves nothing but the fee
        trade(accounts[4]!, feeAccount, 1n), // the fee account buys (it is in the table): fails, no cash
        ...randomTrades(10, [...accounts, poorer], 13),
      ];
      trades.push(trades[30]!); // a repeat of a settled trade
      const frozen = accounts[4]!.address;
      await send(d.securities.get('ACME')!, 'setAddressFrozen', frozen, true);
      const who = [...accounts, poorer].map((w) => w.address).concat(feeAccount);
      const out = await asPredicted(trades, who, (t) =>
        t.security !== acme
          ? t.buyer === feeAccount
            ? 'TO_NOT_VERIFIED'
            : ''
          : t.seller === frozen
            ? 'FROM_FROZEN'
            : t.buyer === frozen
              ? 'TO_FROZEN'
              : t.buyer === feeAccount
                ? 'TO_NOT_VERIFIED'
                : '',
      );
      await send(d.securities.get('ACME')!, 'setAddressFrozen', frozen, false);
      assert.ok(out.failed.length >= 3, 'the batch has failing trades');
      assert.ok(out.failed.some(([, r]) => r === 'FROM_FROZEN' || r === 'TO_FROZEN'));
      assert.deepEqual(out.skipped, [[trades[30]!.tradeId, 'ALREADY_SETTLED']]);
    });

    it('malformed packed data reverts with BadPackedData at the byte where it goes wrong', async () => {
      const [t1, t2, t3] = [trade(alice, bob, 1n), trade(alice, bob, 1n), trade(bob, alice, 1n)];
      // a table of 2 accounts (42 bytes), then one group: 42 + 2 x 60 = 162 bytes; 204 in all
      const good = packTrades([t1, t2]).slice(2);
      assert.equal(good.length, 2 * 204);
      const table = good.slice(0, 84);
      const [first, second] = [good.slice(4, 44), good.slice(44, 84)];
      const header = good.slice(84, 168);
      const twoGroups = packTrades([t1, t2, { ...t3, security: betaAddress }]).slice(2);
      const cases: [string, string, bigint][] = [
        ['no table', '', 0n],
        ['a table cut short', good.slice(0, 60), 0n],
        ['accounts out of order', `0002${second}${first}${good.slice(84)}`, 22n],
        ['an account twice', `0002${first}${first}${good.slice(84)}`, 22n],
        ['a trade cut short', good.slice(0, -2), 42n],
        ['a byte too many', `${good}00`, 204n],
        ['a header cut short', `${table}${header.slice(0, 80)}`, 42n],
        ['an empty group', `${table}${header.slice(0, 80)}0000`, 42n],
        ['an empty group after a good one', `${good}${header.slice(0, 80)}0000`, 204n],
        ['a count beyond the data', `${table}${header.slice(0, 80)}0003${good.slice(168)}`, 42n],
        ['a second group cut short', twoGroups.slice(0, -2), 204n],
        // the second trade (at byte 144) names buyer 2 of a table of 2
        ['an account beyond the table', `${good.slice(0, 304)}0002${good.slice(308)}`, 144n],
      ];
      const settlePacked = operatorSettlement.getFunction('settlePacked');
      for (const [label, hex, offset] of cases) {
        await assert.rejects(
          settlePacked.staticCall(`0x${hex}`),
          assertRevert(d.settlement, 'BadPackedData', [offset]),
          label,
        );
      }
      // no trades at all is no error: an empty table and no group
      assert.equal(packTrades([]), '0x0000');
      const empty = await settle([]);
      assert.deepEqual(verdicts(empty), [[], [], []]);
      assert.equal(await call<bigint>(d.settlement, 'tradeStatus', t1.tradeId), 0n);
    });

    it('only the operator may call settlePacked', async () => {
      await assert.rejects(
        d.settlement.getFunction('settlePacked').send(packTrades([trade(alice, bob, 1n)])),
        assertRevert(d.settlement, 'NotOperator', [deployer.address]),
      );
    });

    it('depositFor pulls from the caller, credits the account and emits Deposited for it', async () => {
      const token = d.securities.get('ACME')!.connect(faucet) as Contract;
      const fromFaucet = d.settlement.connect(faucet) as Contract;
      await send(token, 'approve', d.addresses.settlement, 1_000n);
      await send(d.cash.connect(faucet) as Contract, 'approve', d.addresses.settlement, 10_000n * USDC);
      const aliceBefore = await escrow(acme, alice);
      const walletBefore = await call<bigint>(token, 'balanceOf', faucet.address);

      const receipt = await send(fromFaucet, 'depositFor', alice.address, acme, 30n);
      const events = receipt.logs.map((l) => d.settlement.interface.parseLog(l)).filter((e) => e !== null);
      assert.deepEqual(
        events.map((e) => [e.name, ...e.args]),
        [['Deposited', alice.address, acme, 30n]],
      );
      assert.equal(await escrow(acme, alice), aliceBefore + 30n);
      assert.equal(await escrow(acme, faucet), 0n);
      assert.equal(await call<bigint>(token, 'balanceOf', faucet.address), walletBefore - 30n);

      // cash has no transfer rules: any account can be funded
      const stranger = wallet('stranger');
      await send(fromFaucet, 'depositFor', stranger.address, usdc, 5n * USDC);
      assert.equal(await escrow(usdc, stranger), 5n * USDC);
    });

    it('depositFor refuses what deposit refuses, and a security the account may not receive', async () => {
      const fromFaucet = d.settlement.connect(faucet) as Contract;
      const depositFor = fromFaucet.getFunction('depositFor');
      await assert.rejects(
        depositFor.send(alice.address, acme, 0n),
        assertRevert(d.settlement, 'ZeroAmount', []),
      );
      await assert.rejects(
        depositFor.send(ZeroAddress, acme, 1n),
        assertRevert(d.settlement, 'ZeroAddress', []),
      );
      const stranger = wallet('stranger'); // not in the identity registry
      await assert.rejects(
        depositFor.send(stranger.address, acme, 1n),
        assertRevert(d.settlement, 'DepositRefused', [
          acme,
          stranger.address,
          encodeBytes32String('TO_NOT_VERIFIED'),
        ]),
      );
      await send(d.securities.get('ACME')!, 'setAddressFrozen', bob.address, true);
      await assert.rejects(
        depositFor.send(bob.address, acme, 1n),
        assertRevert(d.settlement, 'DepositRefused', [acme, bob.address, encodeBytes32String('TO_FROZEN')]),
      );
      await send(d.securities.get('ACME')!, 'setAddressFrozen', bob.address, false);
      assert.equal(await escrow(acme, stranger), 0n);
    });

    it('canTransferPacked answers each transfer as canTransfer does, paused or not', async () => {
      // Wallets: verified ones, two of them frozen on BETA, and one not in the registry.
      const stranger = wallet('packed-stranger').address;
      const wallets = [...pool.slice(160, 166).map((w) => w.address), stranger, alice.address];
      const frozen = [wallets[1]!, wallets[4]!];
      for (const w of frozen) await send(beta, 'setAddressFrozen', w, true);
      const random = rng(17);
      const transfers = Array.from({ length: 60 }, () => ({
        to: Math.floor(random() * wallets.length),
        from: Math.floor(random() * wallets.length),
        amount: BigInt(1 + Math.floor(random() * 1000)),
      }));
      const packed = packedTransfers(wallets, transfers);
      for (const paused of [false, true]) {
        if (paused) await send(beta, 'pause');
        const expected: [bigint, string][] = [];
        for (const [k, t] of transfers.entries()) {
          const [ok, why] = await call<[boolean, string]>(
            beta,
            'canTransfer',
            wallets[t.from]!,
            wallets[t.to]!,
            t.amount,
          );
          if (!ok) expected.push([BigInt(k), decodeBytes32String(why)]);
        }
        const answer = await call<[bigint, string][]>(beta, 'canTransferPacked', ...packed);
        assert.deepEqual(
          answer.map(([k, why]) => [k, decodeBytes32String(why)]),
          expected,
        );
        assert.ok(new Set(expected.map(([, why]) => why)).size >= (paused ? 1 : 3), 'every rule is met');
        if (paused) await send(beta, 'unpause');
      }
      for (const w of frozen) await send(beta, 'setAddressFrozen', w, false);
      // Data that is not a table and whole transfers naming wallets in it.
      const [table, run] = packed;
      for (const bad of [
        [table.slice(0, -2), run], // the table cut short
        [table, `${run}00`], // a transfer cut short
        [table, packedTransfers(wallets, [{ to: wallets.length, from: 0, amount: 1n }])[1]], // beyond the table
      ] as const) {
        await assert.rejects(call(beta, 'canTransferPacked', ...bad), assertRevert(beta, 'BadTransfers', []));
      }
    });

    it("the token's refusals reach their own trades past repeats and other failures: as predicted", async () => {
      const accounts = pool.slice(150, 156);
      const frozen = accounts[0]!.address;
      const refused = trade(accounts[1]!, accounts[0]!, 1n); // TO_FROZEN
      const trades = [
        trade(accounts[2]!, accounts[3]!, 1n),
        refused,
        refused, // a repeat of a refused trade, itself refused by the token: skipped
        { ...trade(accounts[0]!, accounts[2]!, 1n), fee: 10n ** 30n }, // BAD_TRADE before FROM_FROZEN
        trade(accounts[3]!, accounts[4]!, 10n ** 9n), // INSUFFICIENT_SECURITY
        trade(accounts[0]!, accounts[5]!, 1n), // FROM_FROZEN
        trade(accounts[4]!, accounts[5]!, 1n),
        trade(accounts[5]!, accounts[0]!, 1n), // TO_FROZEN, the last trade
      ];
      await send(d.securities.get('ACME')!, 'setAddressFrozen', frozen, true);
      const who = accounts.map((w) => w.address).concat(feeAccount);
      const out = await asPredicted(trades, who, (t) =>
        t.seller === frozen ? 'FROM_FROZEN' : t.buyer === frozen ? 'TO_FROZEN' : '',
      );
      await send(d.securities.get('ACME')!, 'setAddressFrozen', frozen, false);
      assert.deepEqual(out.skipped, [[refused.tradeId, 'ALREADY_FAILED']]);
      assert.equal(out.settled.length, 2);
    });

    it('prints gas per trade and calldata of larger batches', async () => {
      const rows: string[] = [];
      const cases: [string, Trade[]][] = [
        ['20 active accounts, batch 100', randomTrades(100, pool.slice(0, 20), 100)],
        [
          'two new accounts per trade, batch 100',
          Array.from({ length: 100 }, (_, i) => trade(pool[2 * i]!, pool[2 * i + 1]!, 1n)),
        ],
        ['50 active accounts, batch 500', randomTrades(500, pool.slice(0, 50), 501)],
      ];
      for (const [label, trades] of cases) {
        const snapshot = await anvil.rpc<string>('evm_snapshot');
        const out = await settle(trades);
        assert.equal(await anvil.rpc<boolean>('evm_revert', [snapshot]), true);
        assert.equal(out.settled.length, trades.length);
        const bytes = (settlePackedCalldata(trades).length - 2) / 2;
        rows.push(
          `  ${label.padEnd(38)} ${String(out.receipt.gasUsed / BigInt(trades.length)).padStart(9)} ${String(bytes).padStart(9)} B`,
        );
      }
      console.log(`gas per trade, calldata\n${rows.join('\n')}`);
    });
  });
});

describe('packTrades and settlePackedCalldata', () => {
  const security = new Wallet(id('packed-security')).address;
  const cash = new Wallet(id('packed-cash')).address;
  const buyer = new Wallet(id('packed-buyer')).address;
  const seller = new Wallet(id('packed-seller')).address;
  const base: PackedTrade = {
    tradeId: 7n,
    security,
    cash,
    buyer,
    seller,
    quantity: 10n,
    cashAmount: 250_125_000n,
    fee: 125_000n,
  };
  const hex = (n: bigint, bytes: number): string => n.toString(16).padStart(bytes * 2, '0');
  const bare = (address: string): string => address.slice(2).toLowerCase();
  /** The address with the case of its first letter flipped: a bad checksum. */
  const miscased = (address: string): string =>
    address.replace(/[a-fA-F]/, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));

  it('lays out the account table, a group header, then each trade in fixed-width big-endian fields', () => {
    const max64 = (1n << 64n) - 1n;
    const max128 = (1n << 128n) - 1n;
    const big = { ...base, tradeId: max64, quantity: max128, cashAmount: max128, fee: 0n };
    // the table in ascending order of address; trades name their accounts by index in it
    const [low, high] = [bare(buyer), bare(seller)].sort();
    const [b, s] = bare(buyer) === low ? ['0000', '0001'] : ['0001', '0000'];
    assert.equal(
      packTrades([base, { ...big, buyer: seller.toLowerCase(), seller: buyer.toLowerCase() }]),
      `0x0002${low}${high}${bare(security)}${bare(cash)}0002` +
        `${hex(7n, 8)}${b}${s}${hex(10n, 16)}${hex(250_125_000n, 16)}${hex(125_000n, 16)}` +
        `${hex(max64, 8)}${s}${b}${hex(max128, 16)}${hex(max128, 16)}${hex(0n, 16)}`,
    );
    assert.equal(packTrades([]), '0x0000');
  });

  it('opens a group where the security or cash changes, and after 65,535 trades of one', () => {
    const other = { ...base, security: cash, cash: security };
    const table = 2 + 2 * 20;
    const groups = (data: string): number => ((data.length - 2) / 2 - table - 3 * 60) / 42;
    assert.equal(groups(packTrades([base, other, base])), 3);
    const many = Array.from({ length: 65_536 }, (_, i) => ({ ...base, tradeId: BigInt(i) }));
    const data = packTrades(many);
    assert.equal(data.length, 2 + 2 * (table + 2 * 42 + 65_536 * 60));
    const first = 2 + 2 * table;
    const second = first + 2 * (42 + 65_535 * 60);
    assert.equal(data.slice(first + 80, first + 84), 'ffff');
    assert.equal(data.slice(second, second + 84), `${bare(security)}${bare(cash)}0001`);
  });

  it('refuses a batch of more than 65,535 accounts, naming the trade that brings one too many', () => {
    const account = (i: number): string => `0x${i.toString(16).padStart(40, '0')}`;
    const trades = Array.from({ length: 32_768 }, (_, i) => ({
      ...base,
      tradeId: BigInt(i),
      buyer: account(2 * i + 1),
      seller: account(2 * i + 2),
    }));
    assert.throws(
      () => packTrades(trades),
      /^RangeError: trade 32767: seller 0x0+10000 is one account too many/,
    );
    assert.equal(packTrades(trades.slice(0, -1)).slice(2, 6), 'fffe');
  });

  it('builds the same calldata as ethers encodes for settlePacked(packTrades(trades))', async () => {
    const { abi } = (await compileContracts()).contracts.Settlement;
    const iface = new Interface(abi as InterfaceAbi);
    for (const trades of [[], [base], [base, { ...base, tradeId: 8n, security: cash, cash: security }]]) {
      assert.equal(
        settlePackedCalldata(trades),
        iface.encodeFunctionData('settlePacked', [packTrades(trades)]),
      );
    }
  });

  it('refuses a field that does not fit, naming the trade and the field', () => {
    // a plain object: some values are of the wrong type on purpose, as from untyped callers
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ tradeId: 1n << 64n }, /^trade 18446744073709551616: tradeId .* 8 bytes/],
      [{ tradeId: -1n }, /^trade -1: tradeId -1 /],
      [{ quantity: 1n << 128n }, /^trade 7: quantity .* 16 bytes/],
      [{ cashAmount: -1n }, /^trade 7: cashAmount -1 /],
      [{ fee: 1n << 128n }, /^trade 7: fee /],
      [{ quantity: 5 }, /^trade 7: quantity 5 .*a bigint/],
      [{ buyer: 'nope' }, /^trade 7: buyer nope is not an address/],
      [{ seller: buyer.slice(0, 41) }, /^trade 7: seller 0x.* is not an address/],
      [{ security: miscased(security) }, /^trade 7: security .* checksum/],
      [{ cash: undefined }, /^trade 7: cash undefined is not an address/],
    ];
    for (const [change, message] of cases) {
      const t = { ...base, ...change } as PackedTrade;
      assert.throws(
        () => packTrades([base, t]),
        (err: unknown) => {
          assert.ok(err instanceof RangeError, String(err));
          assert.match(err.message, message);
          return true;
        },
      );
      assert.throws(() => settlePackedCalldata([t]), RangeError);
    }
  });
});
