/**
 * The settlement daemon on a real chain: the exchange matches a trade, the daemon settles it on
 * anvil through the Settlement escrow, and the engine hears the verdict. A frozen buyer fails
 * its trade and the engine reverses it; a batch settled on chain but not recorded before a
 * "crash" is sent again by the next daemon and settles nothing twice. Withdrawals granted while
 * the daemon was down are released when it starts, and a verdict the engine did not hear is
 * sent again, nothing released twice.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Wallet } from 'ethers';
import {
  Anvil,
  call,
  type Deployment,
  deploy,
  EvmLedger,
  fundInvestors,
  send,
} from '../../connectors/evm/index.ts';
import { Progress, Settler } from '../../connectors/index.ts';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { acmeAsset, matchTrade } from '../support/evm.ts';
import { until } from '../support/wait.ts';
import { silentLogger } from '../../common/index.ts';

const ACME = 'ACME@evm:31337';
/** USD has 6 decimals on chain; the engine counts cents (quoteUnit 0.01): 10^4 base units a cent. */
const CENT = 10_000n;

describe('settlement daemon on anvil', () => {
  let anvil: Anvil;
  let d: Deployment;
  let gw: Embedded;
  let buyer: Wallet;
  let seller: Wallet;
  let ledger: EvmLedger;
  let ledgerProgress: Progress;
  const dirs: string[] = [];
  let n = 0;

  const progressDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-settler-'));
    dirs.push(dir);
    return dir;
  };
  const settler = (progress: Progress, batchMs = 20) =>
    new Settler({
      ledger,
      progress,
      specOf: (id) => gw.exchange.engine.instrument(id)?.spec,
      send: (command) => gw.exchange.submit(command),
      batchMs,
      log: silentLogger,
    });
  const escrow = (token: string, who: string) => call<bigint>(d.settlement, 'balanceOf', token, who);
  const balance = (account: string, asset: string) =>
    gw.exchange.engine.balances(account).find((b) => b.asset === asset)!;

  /** Seller sells, buyer buys `qty` at 100.00; returns the trade id. */
  const trade = async (qty: number): Promise<number> =>
    matchTrade(gw, seller.address, buyer.address, qty, `${++n}`);
  const settled = (tradeId: number) =>
    until(`a verdict on trade ${tradeId}`, () => {
      const s = gw.settlements.get(tradeId);
      return s !== undefined && s.status !== 'pending' && s;
    });

  before(async () => {
    anvil = await Anvil.start();
    const deployer = anvil.devWallet(0);
    seller = anvil.devWallet(1);
    buyer = anvil.devWallet(2);
    d = await deploy({ deployer, securities: [{ symbol: 'ACME' }], cash: { symbol: 'USD' } });
    await fundInvestors(d, [
      { wallet: seller, securities: { ACME: 1_000n } },
      { wallet: buyer, cash: 1_000_000n * CENT },
    ]);
    gw = await testGateway((c) => {
      c.demo.fundAccounts = false;
    });
    // The engine mirrors the escrow: what the connector would feed it from Deposited events.
    for (const w of [seller, buyer])
      gw.exchange.submit({ type: 'set-account', account: w.address, venue: 'evm:31337', eligible: true });
    gw.exchange.submit({ type: 'deposit', account: seller.address, asset: ACME, amount: 1_000 });
    gw.exchange.submit({
      type: 'deposit',
      account: buyer.address,
      asset: 'USD@evm:31337',
      amount: 1_000_000,
    });
    ledgerProgress = Progress.open(progressDir());
    ledger = new EvmLedger({
      venue: 'evm:31337',
      settlement: d.settlement,
      progress: ledgerProgress,
      asset: acmeAsset(d, CENT),
      token: (asset) => (asset === ACME ? { address: d.addresses.securities.ACME!, units: 1n } : undefined),
    });
  });
  after(async () => {
    await gw?.close();
    await anvil?.stop();
    await ledgerProgress?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('settles a matched trade on chain and the engine finalizes it', async () => {
    const progress = Progress.open(progressDir());
    const s = settler(progress);
    gw.exchange.onEvents(s.onEvents);
    s.start(gw.exchange.engine.pendingSettlements());
    const tradeId = await trade(10);
    const held = gw.exchange.engine.pendingSettlement(tradeId)!;
    const verdict = await settled(tradeId);
    assert.equal(verdict.status, 'settled', JSON.stringify(verdict));
    await s.stop();

    assert.equal(await escrow(d.addresses.securities.ACME!, buyer.address), 10n);
    assert.equal(await escrow(d.addresses.securities.ACME!, seller.address), 990n);
    assert.equal(await escrow(d.addresses.cash, seller.address), BigInt(held.sellerCash) * CENT);
    assert.equal(await escrow(d.addresses.cash, buyer.address), (1_000_000n - BigInt(held.buyerCash)) * CENT);
    assert.equal(gw.exchange.engine.pendingSettlement(tradeId), undefined);
    assert.deepEqual(
      [balance(buyer.address, ACME).available, balance(buyer.address, ACME).pendingIn],
      [10, 0],
    );
    assert.equal(balance(seller.address, 'USD@evm:31337').available, held.sellerCash);
    assert.ok(ledger.lastBatch !== null && ledger.lastBatch.gasUsed > 0n);
    const stats = s.stats;
    assert.equal(stats.settled, 1);
    assert.equal(stats.costed, 1);
    assert.equal(stats.gas, Number(ledger.lastBatch.gasUsed), 'one trade carries its whole batch');
    assert.equal(stats.fee, ledger.lastBatch.fee);
    assert.equal(progress.trades.outcome(tradeId)!.gas, stats.gas);
    assert.equal(progress.trades.state(tradeId), 'done');
    await progress.close();
  });

  it('fails the trade of a buyer frozen after the match, and the engine reverses it', async () => {
    const progress = Progress.open(progressDir());
    const s = settler(progress);
    gw.exchange.onEvents(s.onEvents);
    s.start(gw.exchange.engine.pendingSettlements());
    const cashBefore = balance(buyer.address, 'USD@evm:31337').available;
    await send(d.securities.get('ACME')!, 'setAddressFrozen', buyer.address, true);
    const tradeId = await trade(5);
    const verdict = await settled(tradeId);
    await s.stop();
    await send(d.securities.get('ACME')!, 'setAddressFrozen', buyer.address, false);
    assert.deepEqual([verdict.status, verdict.reason], ['failed', 'TO_FROZEN']);
    assert.equal(balance(buyer.address, 'USD@evm:31337').available, cashBefore);
    assert.equal(balance(buyer.address, 'USD@evm:31337').pendingOut, 0);
    assert.equal(await escrow(d.addresses.securities.ACME!, buyer.address), 10n, 'nothing moved on chain');
    await progress.close();
  });

  it('after a crash with a batch settled on chain but not recorded, the next daemon settles nothing twice', async () => {
    const dir = progressDir();
    const first = Progress.open(dir);
    const crashed = settler(first, 60_000);
    gw.exchange.onEvents(crashed.onEvents);
    crashed.start(gw.exchange.engine.pendingSettlements());
    const tradeId = await trade(7);
    await gw.exchange.durable.flush();
    // The daemon takes the batch and the chain settles it; then the daemon dies before recording.
    const batch = first.trades.nextBatch(100)!;
    assert.deepEqual(
      batch.instructions.map((i) => i.tradeId),
      [tradeId],
    );
    await ledger.settle(batch.instructions);
    await crashed.stop();
    await first.close();
    const onChain = await escrow(d.addresses.securities.ACME!, buyer.address);

    const second = Progress.open(dir);
    assert.equal(second.trades.inflight().length, 1);
    const restarted = settler(second);
    restarted.start(gw.exchange.engine.pendingSettlements());
    const verdict = await settled(tradeId);
    await restarted.stop();
    assert.equal(verdict.status, 'settled');
    assert.equal(await escrow(d.addresses.securities.ACME!, buyer.address), onChain, 'settled once on chain');
    assert.equal(second.trades.state(tradeId), 'done');
    assert.equal(gw.exchange.engine.pendingSettlement(tradeId), undefined);
    await second.close();
  });

  it('releases withdrawals the engine granted while it was down, and sends again a verdict the engine did not hear', async () => {
    const token = d.securities.get('ACME')!;
    const wallet = () => call<bigint>(token, 'balanceOf', seller.address);
    const inWallet = await wallet();
    const request = (amount: number) => {
      gw.exchange.submit({ type: 'request-withdrawal', account: seller.address, asset: ACME, amount });
      return gw.exchange.engine.pendingWithdrawals().at(-1)!.withdrawalId;
    };
    /** The withdrawal once the engine's verdict on it is published. */
    const done = (id: number) =>
      until(`a verdict on withdrawal ${id}`, () => {
        const w = gw.withdrawals.get(id);
        return w !== undefined && w.status !== 'pending' && w;
      });
    // Given a withdrawal granted while no daemon runs
    const first = request(4);
    await gw.exchange.durable.flush();
    // When a daemon starts, then it releases it from the engine's pending withdrawals
    const dir = progressDir();
    const progress = Progress.open(dir);
    const s = settler(progress);
    gw.exchange.onEvents(s.onEvents);
    s.start(gw.exchange.engine.pendingSettlements(), gw.exchange.engine.pendingWithdrawals());
    assert.equal((await done(first)).status, 'released');
    assert.equal(await wallet(), inWallet + 4n);
    assert.equal(s.stats.released, 1);
    await s.stop();
    await progress.close();

    // When a daemon releases one and dies before the engine hears the verdict
    const deaf = Progress.open(dir);
    const dying = new Settler({
      ledger,
      progress: deaf,
      specOf: (id) => gw.exchange.engine.instrument(id)?.spec,
      send: () => {},
      batchMs: 20,
      log: silentLogger,
    });
    gw.exchange.onEvents(dying.onEvents);
    dying.start([]);
    const second = request(3);
    await until('the release recorded', () => deaf.withdrawals.state(second) === 'done');
    await dying.stop();
    await deaf.close();
    assert.equal(gw.exchange.engine.pendingWithdrawal(second)?.amount, 3, 'the engine did not hear');
    // Then the next daemon sends the verdict again, and releases nothing twice
    const again = Progress.open(dir);
    const next = settler(again);
    next.start(gw.exchange.engine.pendingSettlements(), gw.exchange.engine.pendingWithdrawals());
    assert.equal((await done(second)).status, 'released');
    await next.stop();
    await again.close();
    assert.equal(await wallet(), inWallet + 7n);
    const released = await d.settlement.queryFilter(d.settlement.filters.WithdrawalReleased!(), 0, 'latest');
    assert.deepEqual(
      released.map((e) => Number((e as unknown as { args: [bigint] }).args[0])),
      [first, second],
    );
    assert.equal(balance(seller.address, ACME).pendingOut, 0);
  });

  it("splits a batch's gas and fee in whole shares that add up to it, and REST shows them so", async () => {
    const feeAccount = await call<string>(d.settlement, 'feeAccount');
    const feesOnChain = () => call<bigint>(d.settlement, 'balanceOf', d.addresses.cash, feeAccount);
    const collected = () =>
      Number(gw.settlements.pipelines().find((p) => p.venue === 'evm:31337')?.fees[0]?.collected ?? 0);
    const [chainBefore, collectedBefore] = [await feesOnChain(), collected()];
    // Given three trades matched while no daemon runs: the next one settles them in one batch
    const ids = [await trade(1), await trade(2), await trade(3)];
    const progress = Progress.open(progressDir());
    const s = settler(progress);
    gw.exchange.onEvents(s.onEvents);
    s.start(gw.exchange.engine.pendingSettlements());
    const verdicts = [];
    for (const id of ids) verdicts.push(await settled(id));
    await s.stop();
    await progress.close();
    const batch = ledger.lastBatch!;
    assert.equal(batch.trades, 3, 'one batch');
    assert.equal(new Set(verdicts.map((v) => v.ref)).size, 1, 'one transaction');

    const rest = async (url: string) => {
      const res = await gw.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, res.body);
      return res.body;
    };
    const shares: Array<{ gas: bigint; fee: bigint }> = [];
    for (const id of ids) {
      const text = await rest(`/api/trades/${id}/settlement`);
      const { gas, gasFee } = JSON.parse(text) as { gas: number; gasFee: string };
      assert.ok(Number.isSafeInteger(gas) && /"gas":\d+[,}]/.test(text), `whole gas: ${text}`);
      assert.match(gasFee, /^\d+$/);
      shares.push({ gas: BigInt(gas), fee: BigInt(gasFee) });
    }
    assert.equal(
      shares.reduce((sum, x) => sum + x.gas, 0n),
      batch.gasUsed,
      'the gas shares add up to the batch',
    );
    assert.equal(
      shares.reduce((sum, x) => sum + x.fee, 0n),
      batch.fee,
      'the fee shares add up to the batch',
    );
    assert.ok(
      shares.every((x) => x.gas - shares[0]!.gas <= 1n && shares[0]!.gas - x.gas <= 1n),
      'equal shares',
    );
    const pipelines = await rest('/api/settlements');
    assert.match(pipelines, /"venue":"evm:31337"/);
    assert.doesNotMatch(pipelines, /"gas":\d+\./, `whole gas in ${pipelines}`);
    // And the exchange's fees on the three trades reached its fee account on chain in the same
    // settlement, and REST counts them collected (in cents of USD: a cent is CENT token units)
    let fees = 0;
    for (const id of ids) {
      const t = JSON.parse(await rest(`/api/trades/${id}/settlement`)) as { fee: string; feeAsset: string };
      assert.equal(t.feeAsset, 'USD@evm:31337');
      assert.match(t.fee, /^-?\d+\.\d{2}$/);
      fees += Math.round(Number(t.fee) * 100);
    }
    assert.ok(fees > 0, 'the trades paid fees');
    assert.equal(await feesOnChain(), chainBefore + BigInt(fees) * CENT);
    assert.equal(Math.round((collected() - collectedBefore) * 100), fees);
    assert.match(
      await rest('/metrics'),
      new RegExp(
        `mosaic_settlement_fees_collected\\{venue="evm:31337",asset="USD@evm:31337"\\} ${collected()}\\n`,
      ),
    );
  });

  describe('the EVM ledger', () => {
    let next = 1_000_000;
    const instruction = (quantity: number) => ({
      tradeId: ++next,
      instrument: ACME,
      venue: 'evm:31337',
      buyer: buyer.address,
      seller: seller.address,
      quantity,
      buyerCash: quantity * 10_000,
      sellerCash: quantity * 10_000,
      fee: 0,
      matchedAt: 0,
    });
    const asset = (id: string) =>
      id === ACME
        ? { security: d.addresses.securities.ACME!, lotUnits: 1n, cash: d.addresses.cash, cashUnits: CENT }
        : undefined;

    it('refuses to pay a base fee above its cap, and settles once the fee is back under it', async () => {
      const capped = new EvmLedger({
        venue: 'evm:31337',
        settlement: d.settlement,
        progress: ledgerProgress,
        asset,
        maxFeePerGas: 20n * 10n ** 9n,
      });
      await anvil.rpc('anvil_setNextBlockBaseFeePerGas', [`0x${(50n * 10n ** 9n).toString(16)}`]);
      await anvil.rpc('anvil_mine', ['0x1']);
      const i = instruction(1);
      await assert.rejects(
        capped.settle([i]),
        /base fee 50\.0 gwei plus tip 1\.0 is above the fee cap of 20\.0 gwei/,
      );
      assert.equal(await call<bigint>(d.settlement, 'tradeStatus', i.tradeId), 0n, 'nothing sent');
      await anvil.rpc('anvil_setNextBlockBaseFeePerGas', ['0x3b9aca00']);
      await anvil.rpc('anvil_mine', ['0x1']);
      assert.deepEqual((await capped.settle([i]))[0]!.ok, true);
    });

    it('offers a batch that ran out of gas twice as much when asked again, and settles it once', async () => {
      // A bound below what one trade takes (about 85,000 gas), above the 21,000 a transaction needs to start.
      const tight = new EvmLedger({
        venue: 'evm:31337',
        settlement: d.settlement,
        progress: ledgerProgress,
        asset,
        gas: { base: 60_000n, perAccount: 0n, perTrade: 0n },
      });
      const i = instruction(1);
      await assert.rejects(tight.settle([i]), /ran out of gas at 60000; it is offered twice as much next/);
      assert.equal(await call<bigint>(d.settlement, 'tradeStatus', i.tradeId), 0n, 'nothing settled');
      const [outcome] = await tight.settle([i]);
      assert.equal(outcome!.ok, true, JSON.stringify(outcome));
      assert.ok(outcome!.gas! <= 120_000, `within the doubled bound: ${outcome!.gas}`);
      assert.equal(await call<bigint>(d.settlement, 'tradeStatus', i.tradeId), 1n);
    });

    it("goes on when an outside transaction has taken the operator key's next nonce", async () => {
      const operator = anvil.devWallet(0);
      const outside = await operator.sendTransaction({ to: operator.address, value: 1n });
      // (polled: ethers' wait() can miss an automined block)
      await until(
        'the outside transaction mined',
        async () => (await operator.provider!.getTransactionReceipt(outside.hash)) !== null,
      );
      const [outcome] = await ledger.settle([instruction(1)]);
      assert.equal(outcome!.ok, true);
    });

    it('names the custom error of a refused batch', async () => {
      const outsider = d.settlement.connect(anvil.devWallet(4)) as typeof d.settlement;
      const refused = new EvmLedger({
        venue: 'evm:31337',
        settlement: outsider,
        progress: ledgerProgress,
        asset,
      });
      await assert.rejects(
        refused.settle([instruction(1)]),
        /the batch transaction (was refused|reverted in 0x[0-9a-f]+): NotOperator\(0x/,
      );
    });

    it('sends a batch again when a reorganization drops it, and waits for its confirmations', async () => {
      const final = new EvmLedger({
        venue: 'evm:31337',
        settlement: d.settlement,
        progress: ledgerProgress,
        asset,
        confirmations: 3,
        pollMs: 10,
      });
      const before = await escrow(d.addresses.securities.ACME!, buyer.address);
      const snapshot = await anvil.rpc<string>('evm_snapshot');
      const i = instruction(2);
      const settling = final.settle([i]);
      // Wait until the batch is in a block, then take that block away.
      await until(
        'the batch in a block',
        async () => (await call<bigint>(d.settlement, 'tradeStatus', i.tradeId)) !== 0n,
      );
      await anvil.rpc('evm_revert', [snapshot]);
      assert.equal(
        await call<bigint>(d.settlement, 'tradeStatus', i.tradeId),
        0n,
        'the reorganization undid it',
      );
      const miner = setInterval(() => void anvil.rpc('anvil_mine', ['0x1']).catch(() => {}), 30);
      try {
        const [outcome] = await settling;
        assert.equal(outcome!.ok, true);
      } finally {
        clearInterval(miner);
      }
      assert.equal(await call<bigint>(d.settlement, 'tradeStatus', i.tradeId), 1n);
      assert.equal(await escrow(d.addresses.securities.ACME!, buyer.address), before + 2n, 'settled once');
    });
  });
});
