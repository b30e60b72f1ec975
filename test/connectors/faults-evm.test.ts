/**
 * The EVM settlement daemon under faults, against real parts: the whole exchange as a child
 * process (`mosaic start`) on a chain the test runs, killed with a batch in the chain's pool and
 * with a batch not yet sent, then restarted on the same data folder; anvil stopped and restarted
 * under a running daemon, losing the batch in its pool; and an endpoint that does not answer at
 * start. Each time: every trade settled once on chain (one TradesSettled bit, the escrow moved
 * once) and once in the engine (one verdict in the journal, nothing left pending). The same for
 * withdrawals asked of the exchange, with it killed between the engine's debit and the release,
 * and after the release before the verdict.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Contract, type Provider, Wallet } from 'ethers';
import { Anvil, call, type Deployment, DEV_KEYS, type EvmConnector } from '../../connectors/evm/index.ts';
import type { Embedded } from '../../app/index.ts';
import { journalCommand } from '../../journal/cli.ts';
import { testGateway } from '../support/gateway.ts';
import { login, type WsClient } from '../support/ws-client.ts';
import {
  ACME,
  assertEscrowMatchesEngine,
  assertReleasedOnceOnChain,
  assertSettledOnceOnChain,
  BUYER_CENTS,
  chainWithInvestors,
  evmSettings,
  matchTrade,
  onChain,
  OPERATOR,
  SELLER_LOTS,
  USD,
} from '../support/evm.ts';
import { killAll, MosaicProcess, Traders } from '../support/exchange-process.ts';
import { until } from '../support/wait.ts';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-faults-'));
}

/** Logs the seller or the buyer in with their Ethereum key. */
function evmLogin(seller: Wallet, buyer: Wallet) {
  return (c: WsClient, who: 'seller' | 'buyer') => login(c, who === 'seller' ? seller : buyer);
}

describe('EVM settlement under faults', { timeout: 240_000 }, () => {
  const dirs: string[] = [];
  const running = new Set<ChildProcess>();
  const anvils: Anvil[] = [];
  const clients: Traders[] = [];
  const gateways: Embedded[] = [];

  after(async () => {
    for (const t of clients) await t.close().catch(() => {});
    await killAll(running);
    for (const gw of gateways) await gw.close().catch(() => {});
    for (const a of anvils) await a.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A chain of the test's own with the contracts, the seller and buyer funded, and a configuration of the exchange settling on it. */
  const chainAndConfig = async (seller: Wallet, buyer: Wallet) => {
    const anvil = await Anvil.start();
    anvils.push(anvil);
    const d = await chainWithInvestors(
      anvil,
      seller.connect(anvil.provider()),
      buyer.connect(anvil.provider()),
    );
    const dir = tempDir();
    dirs.push(dir);
    const dataDir = path.join(dir, 'data');
    const configFile = path.join(dir, 'mosaic.json');
    const config = {
      port: 0,
      dataDir,
      // The daemon's retries are logged at warn (the requests, at info, are left out).
      logLevel: 'warn',
      demo: { instruments: true, marketMaker: false, fundAccounts: false },
      connectors: [{ kind: 'evm', venue: 'evm:31337', ...evmSettings(anvil, d) }],
    };
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    return { anvil, d, settlement: d.settlement.connect(anvil.provider()) as Contract, dataDir, configFile };
  };

  describe('the exchange killed and restarted', () => {
    let anvil: Anvil;
    let d: Deployment;
    let provider: Provider;
    let settlement: Contract;
    const seller = new Wallet(DEV_KEYS[2]);
    const buyer = new Wallet(DEV_KEYS[3]);
    let configFile: string;
    let dataDir: string;

    before(async () => {
      ({ anvil, d, settlement, dataDir, configFile } = await chainAndConfig(seller, buyer));
      provider = anvil.provider();
    });

    it('settles every trade exactly once after a SIGKILL mid-batch and after one with a batch not yet sent', async () => {
      /** Starts the exchange again on its data folder; waits until it has settled everything, once. */
      const restart = async () => {
        exchange = await MosaicProcess.start(configFile, running);
        traders = await Traders.connect(exchange.url, ACME, evmLogin(seller, buyer), traders);
        clients.push(traders);
        await until(
          'pending settlements to drain',
          () => traders.drained(),
          () => exchange.output,
        );
        await assertSettledOnceOnChain(settlement, traders.tradeIds);
      };
      // Given the exchange running on the test's chain, the investors' deposits credited from it
      let exchange = await MosaicProcess.start(configFile, running);
      let traders = await Traders.connect(exchange.url, ACME, evmLogin(seller, buyer));
      clients.push(traders);
      await until(
        'the deposits to reach the engine',
        async () =>
          (await traders.units('seller', ACME)) === SELLER_LOTS &&
          (await traders.units('buyer', USD)) === BUYER_CENTS,
        () => exchange.output,
      );

      // and trades settled as usual
      const first = await traders.trade([1, 2, 3, 4, 5, 6]);
      for (const id of first) {
        await until(
          `trade ${id} to settle`,
          async () => {
            const s = (await (await fetch(`${exchange.url}/api/trades/${id}/settlement`)).json()) as {
              status: string;
            };
            return s.status !== 'pending' && s;
          },
          () => exchange.output,
        ).then((s) => assert.equal(s.status, 'settled', JSON.stringify(s)));
      }

      // When several batch transactions wait in the chain's pool (no mining), on consecutive
      // nonces, and the exchange is killed
      await anvil.rpc('evm_setAutomine', [false]);
      const sent = await provider.getTransactionCount(OPERATOR, 'pending');
      const pending = () => provider.getTransactionCount(OPERATOR, 'pending');
      const inFlight: number[] = [];
      while ((await pending()) < sent + 3) {
        const before = await pending();
        inFlight.push(...(await traders.trade([2, 1, 3])));
        await until('their batch transaction in the pool', async () => (await pending()) > before);
      }
      assert.equal(await exchange.kill('SIGKILL'), null);
      await traders.close();
      // and the chain, while the exchange is down, loses the second from its pool (and with it
      // those after it) and mines the first
      const pool = await anvil.rpc<{ pending: Record<string, Record<string, { hash: string }>> }>(
        'txpool_content',
      );
      const ours = pool.pending[OPERATOR.toLowerCase()]!;
      const lost = ours[String(sent + 1)]!.hash;
      await anvil.rpc('anvil_dropTransaction', [lost]);
      await anvil.rpc('evm_mine');
      await anvil.rpc('evm_setAutomine', [true]);
      assert.equal(await provider.getTransactionCount(OPERATOR, 'latest'), sent + 1, 'the first mined alone');
      const settled = (await onChain(settlement, inFlight)).settled;
      const mined = inFlight.filter((id) => settled.has(id));
      assert.ok(
        mined.length > 0 && mined.length < inFlight.length,
        `the batch mined settled ${mined.length} of ${inFlight.length} trades`,
      );

      // Then the restarted exchange sends the lost batches again as they were, and settles the
      // rest, nothing twice
      await restart();
      assert.equal(
        (await provider.getTransactionReceipt(lost))?.status,
        1,
        'the lost batch went out again as it was',
      );

      // When the daemon has taken a batch but cannot send it (the base fee is above its cap),
      // and the exchange is killed
      await anvil.rpc('anvil_setNextBlockBaseFeePerGas', [`0x${(500n * 10n ** 9n).toString(16)}`]);
      await anvil.rpc('anvil_mine', ['0x1']);
      const mark = exchange.output.length;
      const unsent = await traders.trade([4, 1, 2]);
      await until(
        'the daemon to retry a batch above the fee cap',
        () => /batch \d+ failed \(.*above the fee cap/.test(exchange.output.slice(mark)),
        () => exchange.output,
      );
      assert.equal(await exchange.kill('SIGKILL'), null);
      await traders.close();
      const before = await onChain(settlement, unsent);
      assert.deepEqual(
        unsent.map((id) => before.status.get(id)),
        unsent.map(() => 0),
        'nothing of that batch reached the chain',
      );
      await anvil.rpc('anvil_setNextBlockBaseFeePerGas', ['0x3b9aca00']);
      await anvil.rpc('anvil_mine', ['0x1']);

      // Then the restarted exchange settles it, once
      await restart();
      // and its REST knows the trades that were still pending at the restart: each one settled
      for (const id of unsent) {
        await until(
          `trade ${id} to show as settled over REST`,
          async () => {
            const res = await fetch(`${exchange.url}/api/trades/${id}/settlement`);
            return res.status === 200 && ((await res.json()) as { status: string }).status === 'settled';
          },
          () => exchange.output,
        );
      }
      const total = BigInt(traders.bought.reduce((a, b) => a + b, 0));
      assert.equal(
        await call<bigint>(settlement, 'balanceOf', d.addresses.securities.ACME!, buyer.address),
        total,
      );
      assert.equal(
        await call<bigint>(settlement, 'balanceOf', d.addresses.securities.ACME!, seller.address),
        SELLER_LOTS - total,
      );
      const units = (who: string, asset: string) =>
        traders.units(who === buyer.address ? 'buyer' : 'seller', asset);
      await assertEscrowMatchesEngine(d, settlement, units, [buyer.address, seller.address]);

      // and the journal holds one verdict for each trade, each a success
      await traders.close();
      assert.equal(await exchange.kill('SIGTERM'), 0, exchange.output);
      const events: Array<Record<string, unknown>> = [];
      const code = journalCommand(['replay', dataDir, '--events'], (line) => {
        if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
      });
      assert.equal(code, 0);
      const trades = events.filter((e) => e.kind === 'trade' && e.instrument === ACME).map((e) => e.tradeId);
      assert.deepEqual(trades, traders.tradeIds, 'the engine matched the trades the clients saw');
      const verdicts = events.filter((e) => e.kind === 'settlement');
      assert.deepEqual(
        verdicts.map((e) => e.tradeId).sort((a, b) => (a as number) - (b as number)),
        traders.tradeIds,
        'one verdict per trade',
      );
      assert.ok(verdicts.every((e) => e.ok === true));
    });
  });

  describe('withdrawals through the exchange, the exchange killed and restarted', () => {
    let anvil: Anvil;
    let d: Deployment;
    let settlement: Contract;
    const seller = new Wallet(DEV_KEYS[2]);
    const buyer = new Wallet(DEV_KEYS[3]);
    let configFile: string;
    let dataDir: string;

    before(async () => {
      ({ anvil, d, settlement, dataDir, configFile } = await chainAndConfig(seller, buyer));
    });

    it('releases each withdrawal once: after a SIGKILL between the debit and the release, and one after the release before the verdict', async () => {
      const token = d.securities.get('ACME')!;
      const wallet = () => call<bigint>(token, 'balanceOf', seller.address);
      const granted: number[] = [];
      let exchange = await MosaicProcess.start(configFile, running);
      let traders = await Traders.connect(exchange.url, ACME, evmLogin(seller, buyer));
      clients.push(traders);
      const restart = async () => {
        exchange = await MosaicProcess.start(configFile, running);
        traders = await Traders.connect(exchange.url, ACME, evmLogin(seller, buyer), traders);
        clients.push(traders);
      };
      const released = (id: number) => traders.released('seller', id, () => exchange.output);
      // Given the exchange running on the test's chain, the seller's deposit credited from it
      await until(
        'the deposits to reach the engine',
        async () => (await traders.units('seller', ACME)) === SELLER_LOTS,
        () => exchange.output,
      );
      // and the seller's ACME partly reserved by an open sell order
      traders.seller.send({
        op: 'new',
        instrument: ACME,
        clientOrderId: 'rest',
        side: 'sell',
        orderType: 'limit',
        price: '100.00',
        quantity: String(SELLER_LOTS - 100n),
      });
      await traders.seller.next((m) => m.clientOrderId === 'rest' && m.status === 'new', 20_000);

      // When the seller asks for a withdrawal of the free part, then it is released on chain to its wallet
      const inWallet = await wallet();
      granted.push(await traders.withdraw('seller', ACME, '10'));
      const first = await released(granted[0]!);
      console.log(
        `release gas, one withdrawal a transaction: ${String(first.gas)} (fee ${String(first.gasFee)} wei)`,
      );
      assert.equal(await wallet(), inWallet + 10n);
      // and what the open order reserves cannot be withdrawn
      const refusal = await traders.seller.request({ op: 'withdraw', asset: ACME, amount: '91' });
      const rejected = await traders.seller.next((m) => m.id === refusal.id && m.type === 'reject');
      assert.equal(rejected.codeName, 'RISK_INSUFFICIENT_BALANCE');

      // When the engine has granted a withdrawal but the daemon cannot send its release (the base
      // fee is above its cap), and the exchange is killed
      await anvil.rpc('anvil_setNextBlockBaseFeePerGas', [`0x${(500n * 10n ** 9n).toString(16)}`]);
      await anvil.rpc('anvil_mine', ['0x1']);
      const mark = exchange.output.length;
      granted.push(await traders.withdraw('seller', ACME, '7'));
      await until(
        'the daemon to retry a release above the fee cap',
        () => /withdrawal batch \d+ failed \(.*above the fee cap/.test(exchange.output.slice(mark)),
        () => exchange.output,
      );
      assert.equal(await exchange.kill('SIGKILL'), null);
      await traders.close();
      assert.equal(await call<bigint>(settlement, 'withdrawalStatus', granted[1]!), 0n, 'not released yet');
      await anvil.rpc('anvil_setNextBlockBaseFeePerGas', ['0x3b9aca00']);
      await anvil.rpc('anvil_mine', ['0x1']);
      // Then the restarted exchange releases it, once
      await restart();
      await released(granted[1]!);
      assert.equal(await wallet(), inWallet + 17n);

      // When a release waits in the chain's pool (no mining) and the exchange is killed
      await anvil.rpc('evm_setAutomine', [false]);
      const sent = await anvil.provider().getTransactionCount(OPERATOR, 'pending');
      granted.push(await traders.withdraw('seller', ACME, '5'));
      await until(
        'a release transaction in the pool',
        async () => (await anvil.provider().getTransactionCount(OPERATOR, 'pending')) > sent,
      );
      assert.equal(await exchange.kill('SIGKILL'), null);
      await traders.close();
      // and the chain mines it while the exchange is down
      await anvil.rpc('evm_mine');
      await anvil.rpc('evm_setAutomine', [true]);
      assert.equal(
        await call<bigint>(settlement, 'withdrawalStatus', granted[2]!),
        1n,
        'released while down',
      );
      // Then the restarted exchange learns its verdict from the transaction it recorded, and releases nothing twice
      await restart();
      const third = await released(granted[2]!);
      const onChain = await assertReleasedOnceOnChain(settlement, granted);
      assert.equal(third.ref, onChain.get(granted[2]!)!.hash);
      assert.equal(await wallet(), inWallet + 22n);
      await until(
        'nothing left pending',
        () => traders.drained(),
        () => exchange.output,
      );
      const units = (who: string, asset: string) =>
        traders.units(who === buyer.address ? 'buyer' : 'seller', asset);
      await assertEscrowMatchesEngine(d, settlement, units, [buyer.address, seller.address]);

      // and the journal holds one release per withdrawal
      await traders.close();
      assert.equal(await exchange.kill('SIGTERM'), 0, exchange.output);
      const events: Array<Record<string, unknown>> = [];
      assert.equal(
        journalCommand(['replay', dataDir, '--events'], (line) => {
          if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
        }),
        0,
      );
      const steps = events.filter((e) => e.kind === 'withdrawal').map((e) => [e.withdrawalId, e.status]);
      assert.deepEqual(
        steps,
        granted.flatMap((id) => [
          [id, 'pending'],
          [id, 'released'],
        ]),
      );
    });
  });

  describe('anvil stopped and restarted under the daemon', () => {
    let anvil: Anvil;
    let d: Deployment;
    let gw: Embedded;
    const seller = new Wallet(DEV_KEYS[2]);
    const buyer = new Wallet(DEV_KEYS[3]);
    let n = 0;

    before(async () => {
      const dir = tempDir();
      dirs.push(dir);
      anvil = await Anvil.start({ stateFile: path.join(dir, 'anvil-state.json') });
      anvils.push(anvil);
      d = await chainWithInvestors(anvil, seller.connect(anvil.provider()), buyer.connect(anvil.provider()));
      gw = await testGateway(
        (c) => {
          c.demo.fundAccounts = false;
          Object.assign(
            c.connectors.find((x) => x.kind === 'evm')!,
            evmSettings(anvil, d),
          );
        },
        { settlement: true, log: () => {} },
      );
      gateways.push(gw);
    });

    const balance = (account: string, asset: string) =>
      gw.exchange.engine.balances(account).find((b) => b.asset === asset);
    /** Seller rests `qty`, buyer takes it at 100.00; returns the trade id. */
    const trade = (qty: number): number => {
      quantities.push(qty);
      return matchTrade(gw, seller.address, buyer.address, qty, `${++n}`);
    };
    const daemon = () => (gw.connectors[0] as EvmConnector).daemon;
    const quantities: number[] = [];

    it('settles every trade once when the chain stops, loses the batch in its pool, and comes back', async () => {
      // Given the exchange with its daemon on the chain, deposits credited, and trades settled
      await until(
        'the deposits to reach the engine',
        () =>
          balance(seller.address, ACME)?.available === Number(SELLER_LOTS) &&
          balance(buyer.address, USD)?.available === Number(BUYER_CENTS),
      );
      const tradeIds = [1, 2, 3, 4].map(trade);
      await until('the first trades to settle', () =>
        tradeIds.every((id) => gw.settlements.get(id)?.status === 'settled'),
      );

      // When a batch waits in the chain's pool as the chain stops (its pool is lost)
      const provider = anvil.provider();
      await anvil.rpc('evm_setAutomine', [false]);
      const sent = await provider.getTransactionCount(OPERATOR, 'pending');
      tradeIds.push(...[3, 1, 2].map(trade));
      await until(
        'a batch transaction in the pool',
        async () => (await provider.getTransactionCount(OPERATOR, 'pending')) > sent,
      );
      await anvil.stop();
      // and trades go on while it is down, the daemon retrying
      const retries = daemon().stats().retries;
      tradeIds.push(...[1, 5, 2, 2].map(trade));
      await until('the daemon to retry', () => daemon().stats().retries > retries);
      assert.ok(gw.exchange.engine.pendingSettlements().length >= 7);

      // Then, the chain back, every trade settles once and nothing is left pending
      await anvil.restart();
      await until(
        'pending settlements to drain and their verdicts to be published',
        () =>
          gw.exchange.engine.pendingSettlements().length === 0 &&
          tradeIds.every((id) => gw.settlements.get(id)?.status !== 'pending'),
        () => JSON.stringify(daemon().stats(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      );
      for (const id of tradeIds) assert.equal(gw.settlements.get(id)?.status, 'settled', `trade ${id}`);
      const settlement = d.settlement.connect(anvil.provider()) as Contract;
      await assertSettledOnceOnChain(settlement, tradeIds);
      const units = async (who: string, asset: string) => {
        const b = balance(who, asset);
        return BigInt((b?.available ?? 0) + (b?.reserved ?? 0));
      };
      await assertEscrowMatchesEngine(d, settlement, units, [buyer.address, seller.address]);
      assert.equal(await units(buyer.address, ACME), BigInt(quantities.reduce((a, b) => a + b, 0)));
    });
  });

  it('`mosaic start` on an escrow that does not release withdrawals exits 1 saying so', async () => {
    const { d, configFile } = await chainAndConfig(new Wallet(DEV_KEYS[2]), new Wallet(DEV_KEYS[3]));
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as {
      connectors: [{ contracts: { settlement: string } }];
    };
    // Any contract without releaseBatch, as an escrow deployed before withdrawals went through the exchange.
    config.connectors[0]!.contracts.settlement = d.addresses.registry;
    fs.writeFileSync(configFile, JSON.stringify(config));
    await assert.rejects(MosaicProcess.start(configFile, running), (err: Error) => {
      assert.match(err.message, /mosaic start .* exited \(1\) before it was ready/);
      assert.ok(
        err.message.includes(
          `the Settlement contract at ${d.addresses.registry} does not release withdrawals (no withdrawalStatus)`,
        ),
        err.message,
      );
      return true;
    });
  });

  it('`mosaic start` with an EVM endpoint nobody answers on exits 1 naming the endpoint', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => {
        const p = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(p));
      });
    });
    const dir = tempDir();
    dirs.push(dir);
    const url = `http://127.0.0.1:${port}`;
    const nowhere = `0x${'11'.repeat(20)}`;
    const configFile = path.join(dir, 'mosaic.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        port: 0,
        dataDir: path.join(dir, 'data'),
        logLevel: 'silent',
        demo: { instruments: true, marketMaker: false, fundAccounts: false },
        connectors: [
          {
            kind: 'evm',
            venue: 'evm:31337',
            rpcUrl: url,
            contracts: {
              settlement: nowhere,
              registry: nowhere,
              cash: { USD: nowhere },
              securities: { ACME: nowhere },
            },
          },
        ],
      }),
    );
    const started = MosaicProcess.start(configFile, running);
    await assert.rejects(started, (err: Error) => {
      assert.match(err.message, /mosaic start .* exited \(1\) before it was ready/);
      assert.ok(err.message.includes(`cannot start: cannot reach the EVM node at ${url}`), err.message);
      return true;
    });
  });
});
