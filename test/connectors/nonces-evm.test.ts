/**
 * The EVM ledger's own nonces on a real anvil: a batch transaction is recorded before it goes
 * out, so a crash before or after the broadcast, a restart, or a reorganization ends in the same
 * transaction rather than a second one; a nonce taken by another transaction from the operator's
 * key is read again from the chain; a transaction the base fee outgrew in the pool is replaced
 * (the next block's base fee raised with `anvil_setNextBlockBaseFeePerGas`), and whichever of its
 * versions is mined counts, across crashes. Each trade settles exactly once on chain.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type Contract, JsonRpcProvider, Transaction, Wallet } from 'ethers';
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
import { acmeAsset, settledEvents } from '../support/evm.ts';
import { until } from '../support/wait.ts';
import { lineLogger } from '../../common/index.ts';

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
  /** Settled on chain, by exactly one TradesSettled bit. */
  const settledOnce = async (id: number) => {
    assert.equal(await call<bigint>(d.settlement, 'tradeStatus', id), 1n, `trade ${id} settled`);
    const events = (await settledEvents(d.settlement, BigInt(id) >> 7n)).filter((e) => e.tradeId === id);
    assert.equal(events.length, 1, `trade ${id} settled once`);
  };
  const refOf = (outcome: { ok: boolean; ref?: string } | undefined) => {
    assert.ok(outcome?.ok, JSON.stringify(outcome));
    return outcome.ref;
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
        const l = ledger(progress, { log: lineLogger((line) => lines.push(line)) });
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
      const ref = refOf(
        (await mining(ledger(progress, { log: lineLogger((line) => lines.push(line)) }).settle([i])))[0],
      );
      assert.equal((await operator.provider!.getTransaction(ref!))!.nonce, forgotten);
      assert.ok(
        lines.some((line) => line.includes(`is ${forgotten} on chain (${forgotten + 1} recorded)`)),
        lines.join('\n'),
      );
      await settledOnce(i.tradeId);
    },
  );

  describe('given the base fee rises past a batch transaction waiting in the pool', () => {
    const GWEI = 10n ** 9n;
    const REPLACE_AFTER_MS = 200;
    /** A ledger that replaces a transaction waiting for more than 200 ms, under a cap of 100,000 gwei unless given. */
    const replacing = (progress: Progress, lines: string[], options: Partial<EvmLedgerOptions> = {}) =>
      ledger(progress, {
        replaceAfterMs: REPLACE_AFTER_MS,
        maxFeePerGas: 100_000n * GWEI,
        log: lineLogger((line) => lines.push(line)),
        ...options,
      });
    const inPool = (progress: Progress) =>
      until('the batch transaction is in the pool', async () => {
        const hash = nonces(progress).last?.hash;
        return hash !== undefined && (await operator.provider!.getTransaction(hash)) !== null;
      });
    /** The next block's base fee, set above what the transaction `hash` offers; nothing mined. */
    const raiseBaseFee = async (hash: string) => {
      const offered = (await operator.provider!.getTransaction(hash))!.maxFeePerGas!;
      const base = offered * 10n;
      await anvil.rpc('anvil_setNextBlockBaseFeePerGas', [`0x${base.toString(16)}`]);
      return base;
    };
    const lowerBaseFee = () => anvil.rpc('anvil_setNextBlockBaseFeePerGas', [`0x${GWEI.toString(16)}`]);
    // Each case starts from a base fee of 1 gwei, whatever the one before left.
    beforeEach(async () => {
      await lowerBaseFee();
      await anvil.rpc('anvil_mine', ['0x1']);
    });
    /**
     * Runs `run` with automine off, on a fresh progress folder and trade, then checks the trade
     * settled once, by one transaction.
     */
    const oneTransaction = async (run: (dir: string, i: SettlementInstruction) => Promise<void>) => {
      const dir = progressDir();
      const i = instruction();
      const before = await chainNonce();
      await withoutAutomine(() => run(dir, i));
      await lowerBaseFee();
      await settledOnce(i.tradeId);
      assert.equal(await chainNonce(), before + 1, 'one transaction');
    };
    /** Waits until the nonce record holds a replacement of `hash`. */
    const replaced = (progress: Progress, hash: string) =>
      until(
        'the batch transaction is replaced',
        async () => nonces(progress).last?.earlier?.includes(hash) === true,
      );

    it('is replaced under the same nonce, at least the bump higher on both fees and within the cap, and settles once', () =>
      oneTransaction(async (dir, i) => {
        const progress = open(dir);
        const lines: string[] = [];
        const cap = 500n * GWEI;
        const settling = replacing(progress, lines, { maxFeePerGas: cap, feeBumpPercent: 25 }).settle([i]);
        await inPool(progress);
        const original = nonces(progress).last!;
        const base = await raiseBaseFee(original.hash);
        await replaced(progress, original.hash);
        const replacement = nonces(progress).last!;
        assert.deepEqual(
          [replacement.nonce, replacement.batch, replacement.earlier],
          [original.nonce, original.batch, [original.hash]],
        );
        const ref = refOf((await mining(settling))[0]);
        assert.equal(ref, replacement.hash, 'the replacement settled the batch');

        const [first, second] = await Promise.all(
          [original.raw!, replacement.raw!].map((raw) => Transaction.from(raw)),
        );
        assert.equal(second!.nonce, first!.nonce);
        assert.equal(second!.data, first!.data, 'the same call');
        assert.ok(second!.maxFeePerGas! * 100n >= first!.maxFeePerGas! * 125n, 'max fee 25% higher');
        assert.ok(
          second!.maxPriorityFeePerGas! * 100n >= first!.maxPriorityFeePerGas! * 125n,
          'tip 25% higher',
        );
        assert.ok(second!.maxFeePerGas! <= cap, 'within the cap');
        assert.ok(second!.maxFeePerGas! >= base + second!.maxPriorityFeePerGas!, 'pays the base fee and tip');
        assert.equal(await operator.provider!.getTransactionReceipt(original.hash), null, 'never mined');
        assert.ok(
          lines.some(
            (line) =>
              line.includes(`batch transaction ${original.hash} waits`) &&
              line.includes(`replaced by ${ref}`),
          ),
          lines.join('\n'),
        );
        assert.deepEqual(nonces(progress).last, { batch: original.batch, nonce: original.nonce, hash: ref });
      }));

    it('given a crash after recording the replacement, before broadcasting it, and the original mined: the next ledger answers with the original', () =>
      oneTransaction(async (dir, i) => {
        const first = Progress.open(dir);
        const provider = anvil.provider();
        const send = provider.send.bind(provider);
        let broadcasts = 0;
        provider.send = (method, params) =>
          method === 'eth_sendRawTransaction' && ++broadcasts > 1
            ? Promise.reject(new Error('crashed before broadcast'))
            : send(method, params);
        const crashed = replacing(first, [], { settlement: settlementOn(provider) }).settle([i]);
        await inPool(first);
        const original = nonces(first).last!;
        await raiseBaseFee(original.hash);
        await assert.rejects(crashed, /crashed before broadcast/);
        const recorded = nonces(first).last!;
        assert.deepEqual(recorded.earlier, [original.hash], 'the replacement was recorded');
        assert.equal(await operator.provider!.getTransaction(recorded.hash), null, 'and never sent');
        await first.close();

        // The base fee comes down, and the chain mines the original.
        await lowerBaseFee();
        await anvil.rpc('evm_mine');
        assert.equal((await operator.provider!.getTransactionReceipt(original.hash))?.status, 1);

        const second = open(dir);
        const ref = refOf((await mining(ledger(second).settle([i])))[0]);
        assert.equal(ref, original.hash, "the original's receipt counts");
        assert.equal(nonces(second).last?.hash, original.hash);
      }));

    it('given a crash after broadcasting the replacement, and a node that lost its pool: the next ledger sends the replacement again', () =>
      oneTransaction(async (dir, i) => {
        const first = Progress.open(dir);
        const provider = anvil.provider();
        const crashed = replacing(first, [], { settlement: settlementOn(provider) }).settle([i]);
        crashed.catch(() => {});
        await inPool(first);
        const original = nonces(first).last!;
        await raiseBaseFee(original.hash);
        await replaced(first, original.hash);
        await inPool(first);
        const replacement = nonces(first).last!;
        provider.destroy(); // the daemon dies while it waits for the receipt
        await assert.rejects(crashed);
        await first.close();
        await anvil.rpc('anvil_dropAllTransactions');
        assert.equal(await operator.provider!.getTransaction(replacement.hash), null, 'the pool is empty');

        const second = open(dir);
        const ref = refOf((await mining(ledger(second).settle([i])))[0]);
        assert.equal(ref, replacement.hash, 'the recorded replacement, sent again as it was');
      }));

    it('with no room under the cap, it is not replaced and waits until the base fee comes down', async () => {
      const progress = open();
      const lines: string[] = [];
      const i = instruction();
      await withoutAutomine(async () => {
        const settling = replacing(progress, lines, { maxFeePerGas: 20n * GWEI }).settle([i]);
        await inPool(progress);
        const original = nonces(progress).last!;
        await raiseBaseFee(original.hash);
        await until('the ledger finds no room for a replacement', async () =>
          lines.some((line) =>
            /is above the fee cap of 20\.0 gwei; it waits for the base fee to come down/.test(line),
          ),
        );
        assert.equal(nonces(progress).last?.hash, original.hash, 'not replaced');
        await lowerBaseFee();
        const ref = refOf((await mining(settling))[0]);
        assert.equal(ref, original.hash);
        assert.ok(!lines.some((line) => line.includes('replaced by')), lines.join('\n'));
      });
      await settledOnce(i.tradeId);
    });
  });

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

  describe('given several batches at once (pipelined)', () => {
    it('they go out on consecutive nonces before any is mined, and each settles once', async () => {
      const progress = open();
      const l = ledger(progress);
      const batches = [[instruction()], [instruction(), instruction()], [instruction()]];
      const before = await chainNonce();
      const refs = await withoutAutomine(async () => {
        const settling = batches.map((b) => l.settle(b));
        await until('all three in the pool', () => nonces(progress).out.length === 3);
        assert.equal(await chainNonce(), before, 'none mined yet');
        return (await mining(Promise.all(settling))).map((outcomes) => refOf(outcomes[0]));
      });
      const sent = await Promise.all(
        refs.map(async (ref) => (await operator.provider!.getTransaction(ref!))!.nonce),
      );
      assert.deepEqual(sent, [before, before + 1, before + 2]);
      for (const id of batches.flat().map((i) => i.tradeId)) await settledOnce(id);
      assert.deepEqual(nonces(progress).out, [], 'none left out');
      assert.equal(nonces(progress).next, before + 3);
    });

    it('reads a record a daemon wrote before pipelining: its one transaction out, or final', () => {
      const progress = open();
      const key = `evm-nonce:31337:${operator.address}`;
      const tx = { batch: 'b', nonce: 4, hash: '0x01' };
      progress.setLedgerRecords({ [key]: { next: 5, last: { ...tx, raw: '0x02' } } });
      assert.deepEqual(nonces(progress).out, [{ ...tx, raw: '0x02' }]);
      assert.equal(nonces(progress).lastFinal, undefined);
      progress.setLedgerRecords({ [key]: { next: 5, last: tx } });
      assert.deepEqual(
        [nonces(progress).out, nonces(progress).of('b'), nonces(progress).lastFinal],
        [[], tx, '0x01'],
      );
      assert.equal(nonces(progress).next, 5);
    });
  });
});
