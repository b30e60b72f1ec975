/**
 * Ledger changes from a real chain into the exchange, each once: escrow deposits become engine
 * deposits in engine units, registry registrations and token freezes become the account's
 * standing; reading the chain again, or a crash between recording and sending, applies nothing
 * twice and loses nothing. The checkpoint names its block by number and hash, and the check at
 * start finds a chain that went back, holds other blocks, or lost the last batch transaction.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getAddress } from 'ethers';
import {
  changesCheckpoint,
  ChangeWatcher,
  checkLedgerKept,
  localChanges,
  Progress,
} from '../../connectors/index.ts';
import {
  Anvil,
  type Deployment,
  deploy,
  evmBlocks,
  EvmChanges,
  fundInvestors,
  send,
} from '../../connectors/evm/index.ts';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { silentLogger } from '../../common/index.ts';

const ACME = 'ACME@evm:31337';
const USD = 'USD@evm:31337';
const CENT = 10_000n;

describe('ledger changes from anvil into the engine', () => {
  let anvil: Anvil;
  let d: Deployment;
  let gw: Embedded;
  let progress: Progress;
  let dir: string;
  let source: EvmChanges;
  const engine = () => ({
    lastSeq: () => gw.exchange.engine.commandSeq,
    send: (c: Parameters<Embedded['exchange']['submit']>[0]) => gw.exchange.submit(c),
  });
  const watcher = () =>
    new ChangeWatcher({ source, progress, sink: localChanges(engine()), log: silentLogger });
  const balance = (account: string, asset: string) =>
    gw.exchange.engine.balances(account).find((b) => b.asset === asset)?.available ?? 0;
  const standing = (account: string) =>
    gw.exchange.engine.standing(account).find((s) => s.venue === 'evm:31337');

  before(async () => {
    anvil = await Anvil.start();
    d = await deploy({
      deployer: anvil.devWallet(0),
      securities: [{ symbol: 'ACME' }],
      cash: { symbol: 'USD' },
    });
    gw = await testGateway((c) => {
      c.demo.fundAccounts = false;
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-changes-'));
    progress = Progress.open(dir);
    const assets = new Map([
      [getAddress(d.addresses.securities.ACME!), { asset: ACME, units: 1n }],
      [getAddress(d.addresses.cash), { asset: USD, units: CENT }],
    ]);
    source = new EvmChanges({
      venue: 'evm:31337',
      settlement: d.settlement,
      registry: d.registry,
      securities: [...d.securities.values()],
      assetOf: (token) => assets.get(token),
    });
  });
  after(async () => {
    await progress?.close();
    await gw?.close();
    await anvil?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies registrations and deposits once, in engine units, however often the chain is read', async () => {
    const investor = anvil.devWallet(1);
    await fundInvestors(d, [{ wallet: investor, securities: { ACME: 50n }, cash: 5_000n * CENT }]);
    const w = watcher();
    const applied = await w.poll();
    // the escrow's own registration, the investor's, and its two deposits
    assert.equal(applied, 4);
    assert.deepEqual(standing(investor.address), { venue: 'evm:31337', eligible: true, frozen: false });
    assert.equal(balance(investor.address, ACME), 50);
    assert.equal(balance(investor.address, USD), 5_000);

    const seq = gw.exchange.engine.commandSeq;
    progress.setCheckpoint('changes:evm:31337', '0');
    assert.equal(await w.poll(), 0, 'read again from block 0: nothing applied twice');
    assert.equal(gw.exchange.engine.commandSeq, seq);
    assert.equal(balance(investor.address, ACME), 50);
  });

  it('sends again a change recorded before a crash that the engine never got', async () => {
    const investor = anvil.devWallet(2);
    const checkpoint = progress.checkpoint('changes:evm:31337');
    await fundInvestors(d, [{ wallet: investor, cash: 700n * CENT }]);
    const { changes } = await source.poll(checkpoint);
    const deposit = changes.find((c) => c.kind === 'deposit')!;
    // The daemon recorded the deposit's sequence, then died before the engine journaled it.
    progress.recordChange(deposit.ref, gw.exchange.engine.commandSeq + 1);
    assert.equal(await localChanges(engine()).reconcile(progress), 1);
    await watcher().poll();
    assert.equal(balance(investor.address, USD), 700);
    await watcher().poll();
    assert.equal(balance(investor.address, USD), 700);
  });

  it('turns a freeze and a removal from the registry into the account standing', async () => {
    const investor = anvil.devWallet(1);
    await send(d.securities.get('ACME')!, 'setAddressFrozen', investor.address, true);
    await send(d.registry, 'removeInvestor', investor.address);
    await watcher().poll();
    assert.deepEqual(standing(investor.address), { venue: 'evm:31337', eligible: false, frozen: true });
  });

  it('waits for confirmations before a deposit counts', async () => {
    const investor = anvil.devWallet(3);
    const confirmed = new EvmChanges({
      venue: 'evm:31337',
      settlement: d.settlement,
      registry: d.registry,
      securities: [],
      assetOf: (token) => (token === getAddress(d.addresses.cash) ? { asset: USD, units: CENT } : undefined),
      confirmations: 50,
    });
    const w = new ChangeWatcher({
      source: confirmed,
      progress,
      sink: localChanges(engine()),
      log: silentLogger,
    });
    await fundInvestors(d, [{ wallet: investor, cash: 300n * CENT }]);
    // This source keeps its own checkpoint name per venue: start it at the chain's head minus 60.
    const head = await anvil.provider().getBlockNumber();
    progress.setCheckpoint('changes:evm:31337', String(Math.max(0, head - 60)));
    await w.poll();
    assert.equal(balance(investor.address, USD), 0, 'not yet 50 blocks deep');
    await anvil.rpc('anvil_mine', ['0x40']);
    await w.poll();
    assert.equal(balance(investor.address, USD), 300);
  });

  it('names its checkpoint block by hash; the check at start refuses a chain that went back, holds other blocks or lost the last batch', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-kept-'));
    const kept = Progress.open(dataDir);
    const provider = anvil.provider();
    const name = changesCheckpoint('evm:31337');
    const poll = () =>
      new ChangeWatcher({ source, progress: kept, sink: localChanges(engine()), log: silentLogger }).poll();
    const check = (lastTx?: string) =>
      checkLedgerKept({
        venue: 'evm:31337',
        ledger: `the chain at ${anvil.url}`,
        blocks: evmBlocks(provider),
        progress: kept,
        lastTx,
        dataDir,
      });
    const refused = (lastTx: string | undefined, found: string) =>
      assert.rejects(check(lastTx), (err: Error) => {
        const recorded = kept.checkpoint(name)!.replace(':', ' (hash ') + ')';
        assert.equal(
          err.message,
          `evm:31337: the chain at ${anvil.url} went back, or is another one: the exchange read it up to ` +
            `block ${recorded}, and ${found}. What the exchange recorded there (deposits, settlements, ` +
            'withdrawals) may be missing from it, so the exchange does not start on it: restore its state ' +
            `as it was when the exchange last stopped, or start with a new data folder in place of ${dataDir}`,
        );
        return true;
      });
    try {
      // Given nothing recorded yet, any chain will do
      await check();
      // and once read, the checkpoint names the chain's head by number and hash
      await poll();
      const before = kept.checkpoint(name)!;
      const [n, hash] = before.split(':');
      assert.equal(Number(n), await provider.getBlockNumber());
      assert.equal(hash, (await provider.getBlock(Number(n)))!.hash);
      const snapshot = await anvil.rpc<string>('evm_snapshot');
      // and after a batch transaction, read up to its block, the chain holds what was recorded
      const tx = (await send(d.registry, 'registerInvestors', [anvil.devWallet(4).address], 0)).hash;
      await poll();
      const after = kept.checkpoint(name)!;
      await check(tx);
      const [m] = after.split(':').map(Number);

      // When the chain goes back to before that batch
      await anvil.rpc('evm_revert', [snapshot]);
      const head = await provider.getBlockNumber();
      const headHash = (await provider.getBlock(head))!.hash!;
      // then the start is refused: behind the block read,
      await refused(tx, `its last block is ${head} (hash ${headHash})`);
      // or, with the block read still there, without the last batch transaction,
      kept.setCheckpoint(name, before);
      await refused(
        tx,
        `it does not hold transaction ${tx}, the last batch the exchange settled or released there (its last block is ${head})`,
      );
      // or, with new blocks up to that height, another block where the recorded one was
      await anvil.rpc('anvil_mine', [`0x${(m! - head + 2).toString(16)}`]);
      kept.setCheckpoint(name, after);
      await refused(
        tx,
        `its block ${m} has hash ${(await provider.getBlock(m!))!.hash} (its last block is ${m! + 2})`,
      );
    } finally {
      await kept.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
