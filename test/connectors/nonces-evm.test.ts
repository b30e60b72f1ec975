/**
 * The EVM ledger's own nonces on a real anvil: a batch transaction is recorded before it goes
 * out, so a crash before or after the broadcast, a restart, or a reorganization ends in the same
 * transaction rather than a second one; a nonce taken by another transaction from the operator's
 * key is read again from the chain. Each trade settles exactly once on chain.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Contract, JsonRpcProvider, Wallet } from 'ethers';
import {
  Anvil,
  call,
  DEV_KEYS,
  type Deployment,
  deploy,
  EvmLedger,
  type EvmLedgerOptions,
  fundInvestors,
  NonceStore,
} from '../../connectors/evm/index.ts';
import { Progress, type SettlementInstruction } from '../../connectors/index.ts';
import { acmeAsset } from '../support/evm.ts';

const ACME = 'ACME@evm:31337';

interface Gated {
  provider: JsonRpcProvider;
  close(): void;
  open(): void;
}

describe('EVM ledger nonces on anvil', () => {
  let anvil: Anvil;
  let d: Deployment;
  let operator: Wallet;
  let buyer: string;
  let seller: string;
  const dirs: string[] = [];
  const opened: Progress[] = [];
  let tradeId = 0;

  const progressDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-nonces-'));
    dirs.push(dir);
    return dir;
  };
  const open = (dir = progressDir()) => {
    const p = Progress.open(dir);
    opened.push(p);
    return p;
  };
  const instruction = (): SettlementInstruction => ({
    tradeId: ++tradeId,
    instrument: ACME,
    venue: 'evm:31337',
    buyer,
    seller,
    quantity: 1,
    buyerCash: 100,
    sellerCash: 100,
    fee: 0,
    matchedAt: 0,
  });
  const ledger = (progress: Progress, options: Partial<EvmLedgerOptions> = {}) =>
    new EvmLedger({
      venue: 'evm:31337',
      settlement: d.settlement,
      progress,
      asset: acmeAsset(d, 1n),
      pollMs: 10,
      ...options,
    });
  /** The escrow as the operator on a provider of its own, to crash or hold. */
  const settlementOn = (provider: JsonRpcProvider) =>
    d.settlement.connect(new Wallet(DEV_KEYS[0], provider)) as Contract;
  const nonces = (progress: Progress) => new NonceStore(progress, 31337n, operator.address);
  const chainNonce = () => operator.provider!.getTransactionCount(operator.address, 'latest');
  /** Settled on chain, by exactly one TradeSettled event. */
  const settledOnce = async (id: number) => {
    assert.equal(await call<bigint>(d.settlement, 'tradeStatus', id), 1n, `trade ${id} settled`);
    const events = await d.settlement.queryFilter(d.settlement.filters.TradeSettled!(id));
    assert.equal(events.length, 1, `trade ${id} settled once`);
  };
  const refOf = (outcome: { ok: boolean; ref?: string } | undefined) => {
    assert.ok(outcome?.ok, JSON.stringify(outcome));
    return outcome.ref;
  };
  const until = async (what: string, done: () => Promise<boolean>) => {
    for (let i = 0; i < 500; i++) {
      if (await done()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting until ${what}`);
  };
  const mined = (hash: string) =>
    until(`${hash} is mined`, async () => (await operator.provider!.getTransactionReceipt(hash)) !== null);
  /** Mines a block every 20 ms while `run` goes on (for automine off, or confirmations). */
  const mining = async <T>(run: Promise<T>): Promise<T> => {
    const miner = setInterval(() => void anvil.rpc('evm_mine').catch(() => {}), 20);
    try {
      return await run;
    } finally {
      clearInterval(miner);
    }
  };
  const withoutAutomine = async <T>(run: () => Promise<T>): Promise<T> => {
    await anvil.rpc('evm_setAutomine', [false]);
    try {
      return await run();
    } finally {
      await anvil.rpc('evm_setAutomine', [true]);
    }
  };
  /** Mines a block with another base fee: a transaction signed now differs from one signed before. */
  const shiftBaseFee = async () => {
    const base = (await operator.provider!.getBlock('latest'))!.baseFeePerGas!;
    await anvil.rpc('anvil_setNextBlockBaseFeePerGas', [`0x${(base + 12_345n).toString(16)}`]);
    await anvil.rpc('anvil_mine', ['0x1']);
  };
  /** A ledger that records its batch transaction and dies before broadcasting it. */
  const crashBeforeBroadcast = async (progress: Progress, i: SettlementInstruction) => {
    const provider = anvil.provider();
    const send = provider.send.bind(provider);
    provider.send = (method, params) =>
      method === 'eth_sendRawTransaction'
        ? Promise.reject(new Error('crashed before broadcast'))
        : send(method, params);
    await assert.rejects(
      ledger(progress, { settlement: settlementOn(provider) }).settle([i]),
      /crashed before broadcast/,
    );
    const recorded = nonces(progress).last!;
    assert.ok(recorded.raw !== undefined);
    assert.equal(await operator.provider!.getTransaction(recorded.hash), null, 'the chain never saw it');
    return recorded;
  };

  /** A provider whose requests wait while its gate is closed. */
  const gatedProvider = (): Gated => {
    const provider = anvil.provider();
    let closed: { wait: Promise<void>; open: () => void } | null = null;
    provider.send = async (method, params) => {
      while (closed !== null) await closed.wait;
      return JsonRpcProvider.prototype.send.call(provider, method, params);
    };
    return {
      provider,
      close: () => {
        let open = () => {};
        const wait = new Promise<void>((resolve) => (open = resolve));
        closed = { wait, open };
      },
      open: () => {
        const was = closed;
        closed = null;
        was?.open();
      },
    };
  };

  before(async () => {
    anvil = await Anvil.start();
    operator = anvil.devWallet(0);
    d = await deploy({ deployer: operator, securities: [{ symbol: 'ACME' }], cash: { symbol: 'USD' } });
    const [s, b] = [anvil.devWallet(1), anvil.devWallet(2)];
    await fundInvestors(d, [
      { wallet: s, securities: { ACME: 1_000n } },
      { wallet: b, cash: 1_000_000n },
    ]);
    [seller, buyer] = [s.address, b.address];
  });
  after(async () => {
    await anvil?.stop();
    for (const p of opened) await p.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('given outside transactions from the operator key take the nonces the ledger holds next', () => {
    for (const where of ['mined', 'waiting in the pool'] as const) {
      it(`(${where}) the next batch is signed with the chain's next nonce, at once, and settles once`, async () => {
        const progress = open();
        const lines: string[] = [];
        const l = ledger(progress, { log: (line) => lines.push(line) });
        const first = instruction();
        refOf((await l.settle([first]))[0]);
        const held = nonces(progress).next!;
        assert.equal(held, await chainNonce());

        const next = instruction();
        const run = async () => {
          for (const nonce of [held, held + 1]) {
            // A higher fee than the ledger's, so that a pool keeps it over the ledger's transaction.
            const tx = await operator.sendTransaction({
              to: operator.address,
              value: 1n,
              nonce,
              maxFeePerGas: 90n * 10n ** 9n,
              maxPriorityFeePerGas: 5n * 10n ** 9n,
            });
            if (where === 'mined') await mined(tx.hash);
          }
          return refOf((await mining(l.settle([next])))[0]);
        };
        const ref = where === 'mined' ? await run() : await withoutAutomine(run);

        await settledOnce(first.tradeId);
        await settledOnce(next.tradeId);
        assert.equal((await operator.provider!.getTransaction(ref!))!.nonce, held + 2);
        assert.equal(await chainNonce(), held + 3, 'no transaction wasted');
        assert.equal(nonces(progress).next, held + 3);
        assert.equal(
          lines.filter((line) => /lost nonce \d+ of 0x[0-9a-fA-F]+ \(the chain's next is \d+\)/.test(line))
            .length,
          1,
          lines.join('\n'),
        );
      });
    }
  });

  it('given a crash after the broadcast, before the receipt: the next ledger answers with the same transaction', async () => {
    const dir = progressDir();
    const i = instruction();
    const before = await chainNonce();
    await withoutAutomine(async () => {
      const first = Progress.open(dir);
      const provider = anvil.provider();
      const crashed = ledger(first, { settlement: settlementOn(provider) }).settle([i]);
      crashed.catch(() => {});
      let hash = '';
      await until('the batch transaction is in the pool', async () => {
        hash = nonces(first).last?.hash ?? '';
        return hash !== '' && (await operator.provider!.getTransaction(hash)) !== null;
      });
      provider.destroy(); // the daemon dies while it waits for the receipt
      await assert.rejects(crashed);
      await first.close();
      await anvil.rpc('evm_mine');

      const second = open(dir);
      // (mining on: a second transaction would be mined and counted, not wait forever)
      const ref = refOf((await mining(ledger(second).settle([i])))[0]);
      assert.equal(ref, hash, 'the same transaction');
    });
    await settledOnce(i.tradeId);
    assert.equal(await chainNonce(), before + 1, 'one transaction');
  });

  describe('given a crash after recording a transaction, before broadcasting it', () => {
    it('the next ledger broadcasts the recorded transaction for the same batch', async () => {
      const progress = open();
      const i = instruction();
      const before = await chainNonce();
      const recorded = await crashBeforeBroadcast(progress, i);
      await shiftBaseFee();
      const ref = refOf((await ledger(progress).settle([i]))[0]);
      assert.equal(ref, recorded.hash);
      assert.equal(await chainNonce(), before + 1, 'one transaction');
      await settledOnce(i.tradeId);
    });

    it('asked for another batch, the next ledger sends the recorded transaction out first', async () => {
      const progress = open();
      const [crashed, other] = [instruction(), instruction()];
      const before = await chainNonce();
      const recorded = await crashBeforeBroadcast(progress, crashed);
      const ref = refOf((await ledger(progress).settle([other]))[0]);
      assert.notEqual(ref, recorded.hash);
      assert.equal((await operator.provider!.getTransactionReceipt(recorded.hash))?.status, 1);
      assert.equal((await operator.provider!.getTransaction(ref!))!.nonce, recorded.nonce + 1);
      assert.equal(await chainNonce(), before + 2);
      await settledOnce(crashed.tradeId);
      await settledOnce(other.tradeId);
    });
  });

  it('given a restart, the nonce record is still there and the same batch is answered from it', async () => {
    const dir = progressDir();
    const i = instruction();
    const first = Progress.open(dir);
    const ref = refOf((await ledger(first).settle([i]))[0]);
    const kept = { next: nonces(first).next, last: nonces(first).last };
    assert.equal(kept.last?.hash, ref);
    assert.equal(kept.last?.raw, undefined, 'final: the signed bytes are dropped');
    await first.close();

    const second = open(dir);
    assert.deepEqual({ next: nonces(second).next, last: nonces(second).last }, kept);
    const before = await chainNonce();
    assert.equal(refOf((await ledger(second).settle([i]))[0]), ref);
    assert.equal(await chainNonce(), before, 'no new transaction');
    await settledOnce(i.tradeId);
  });

  it(
    "given a restart on a chain that lost blocks: the next batch takes the chain's nonce, not the one recorded",
    { timeout: 20_000 }, // a nonce past the chain's would wait in the pool forever
    async () => {
      const progress = open();
      const snapshot = await anvil.rpc<string>('evm_snapshot');
      refOf((await ledger(progress).settle([instruction()]))[0]);
      const forgotten = nonces(progress).last!.nonce;
      await anvil.rpc('evm_revert', [snapshot]);

      const lines: string[] = [];
      const i = instruction();
      const ref = refOf((await mining(ledger(progress, { log: (line) => lines.push(line) }).settle([i])))[0]);
      assert.equal((await operator.provider!.getTransaction(ref!))!.nonce, forgotten);
      assert.ok(
        lines.some((line) => line.includes(`is ${forgotten} on chain (${forgotten + 1} recorded)`)),
        lines.join('\n'),
      );
      await settledOnce(i.tradeId);
    },
  );

  describe('given a reorganization drops the batch transaction', () => {
    /**
     * Settles a batch, waits until it is mined, then takes that block away and runs `meanwhile`;
     * the ledger's provider is held meanwhile, so it sees the chain only after both.
     */
    const reorg = async (meanwhile: (nonce: number) => Promise<void>) => {
      const progress = open();
      const i = instruction();
      const gated = gatedProvider();
      const snapshot = await anvil.rpc<string>('evm_snapshot');
      const settling = ledger(progress, {
        settlement: settlementOn(gated.provider),
        confirmations: 3,
      }).settle([i]);
      await until(
        'the batch is mined',
        async () => (await call<bigint>(d.settlement, 'tradeStatus', i.tradeId)) === 1n,
      );
      const dropped = nonces(progress).last!;
      gated.close();
      await anvil.rpc('evm_revert', [snapshot]);
      assert.equal(
        await call<bigint>(d.settlement, 'tradeStatus', i.tradeId),
        0n,
        'the reorganization undid it',
      );
      await meanwhile(dropped.nonce);
      gated.open();
      const ref = refOf((await mining(settling))[0]);
      await settledOnce(i.tradeId);
      return { dropped, ref };
    };

    it('with its nonce still free: the same transaction goes out again', async () => {
      const { dropped, ref } = await reorg(shiftBaseFee);
      assert.equal(ref, dropped.hash);
      assert.equal(await chainNonce(), dropped.nonce + 1);
    });

    it('with its nonce taken by another transaction meanwhile: the batch is signed anew', async () => {
      const { dropped, ref } = await reorg(async (nonce) => {
        const outside = await operator.sendTransaction({ to: operator.address, value: 1n, nonce });
        await mined(outside.hash);
      });
      assert.notEqual(ref, dropped.hash);
      assert.equal(await chainNonce(), dropped.nonce + 2);
    });
  });
});
