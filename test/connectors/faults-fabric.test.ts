/**
 * The Fabric settlement daemon under faults, against real parts: the settlement chaincode in its
 * own process and a devnet the test runs. The devnet stopped and restarted (same blocks, same
 * port) under an exchange running in-process; and the whole exchange as a child process
 * (`mosaic start`) killed with SIGKILL the moment the peer accepted its batch transaction, then
 * restarted on the same data folder. Each time: every trade settled, one verdict per trade on
 * the chaincode, the balances moved once, and the change stream carrying on. The same for
 * withdrawals asked of the exchange, with it killed between the engine's debit and the release,
 * and the moment the peer accepted the release. And a batch of trades and a release of another
 * investor's handed to the peer together (several batches in flight), the exchange killed the
 * moment the peer accepted the first.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FabricConnector } from '../../connectors/fabric/index.ts';
import type { Embedded } from '../../app/index.ts';
import { BUYER_CENTS, SELLER_LOTS } from '../support/evm.ts';
import { type GatewayProxy, gatewayProxy, verdictsInEvents } from '../support/fabric.ts';
import {
  account,
  CHAINCODE,
  FABRIC_ACME as ACME,
  FABRIC_USD as USD,
  FABRIC_VENUE,
  fabricLogin,
  HOLDER_LOTS,
  Network,
} from '../support/fabric-network.ts';
import { testGateway } from '../support/gateway.ts';
import { killAll, MosaicProcess, Traders } from '../support/exchange-process.ts';
import { until, within } from '../support/wait.ts';

describe('Fabric settlement under faults', { timeout: 240_000 }, () => {
  const networks: Network[] = [];
  const gateways: Embedded[] = [];
  const proxies: GatewayProxy[] = [];
  const running = new Set<ChildProcess>();
  const clients: Traders[] = [];
  const dirs: string[] = [];

  after(async () => {
    for (const t of clients) await t.close().catch(() => {});
    await killAll(running);
    for (const gw of gateways) await gw.close().catch(() => {});
    for (const p of proxies) p.close();
    for (const n of networks) await n.close().catch(() => {});
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A devnet of the test's own with slow blocks (a submitted transaction waits to be committed),
   * configured and funded, a gateway proxy in front of it, and a configuration of the exchange
   * settling through the proxy.
   */
  const networkAndConfig = async (connector: Record<string, unknown> = {}) => {
    const n = await Network.start(500);
    networks.push(n);
    await n.configure();
    const proxy = await gatewayProxy(n.devnet.endpoint);
    proxies.push(proxy);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-ffaults-'));
    dirs.push(dir);
    const configFile = path.join(dir, 'mosaic.json');
    const config = {
      port: 0,
      dataDir: path.join(dir, 'data'),
      logLevel: 'info',
      demo: { instruments: true, marketMaker: false, fundAccounts: false },
      msps: [n.msp.config],
      connectors: [{ kind: 'fabric', ...n.settings(proxy.endpoint), ...connector }],
    };
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    return { n, proxy, configFile };
  };

  /** The exchange started on `configFile` and the pair connected to it (as `from` was, after a restart). */
  const startPair = async (configFile: string, n: Network, from?: Traders) => {
    const exchange = await MosaicProcess.start(configFile, running);
    const traders = await Traders.connect(exchange.url, ACME, fabricLogin(n), from);
    clients.push(traders);
    return { exchange, traders };
  };

  /** Waits for the pair's issuances to reach the engine. */
  const issuancesCredited = (traders: Traders, exchange: MosaicProcess) =>
    until(
      'the issuances to reach the engine',
      async () =>
        (await traders.units('seller', ACME)) === SELLER_LOTS &&
        (await traders.units('buyer', USD)) === BUYER_CENTS,
      () => exchange.output,
    );

  /** Waits for the pair's trades to be settled (or failed) in the engine. */
  const drained = (traders: Traders, exchange: MosaicProcess) =>
    until(
      'pending settlements to drain',
      () => traders.drained(),
      () => exchange.output,
      90_000,
    );

  describe('the devnet restarted under the daemon', () => {
    let n: Network;
    let gw: Embedded;
    const logs: string[] = [];
    let k = 0;
    const quantities: number[] = [];

    before(async () => {
      n = await Network.start();
      networks.push(n);
      await n.configure();
      gw = await testGateway(
        (c) => {
          c.demo.fundAccounts = false;
          c.connectors = [{ kind: 'fabric', enabled: true, ...n.settings() }];
        },
        { settlement: true, log: (line) => logs.push(line) },
      );
      gateways.push(gw);
    });

    const balance = (who: string, asset: string) =>
      gw.exchange.engine.balances(who).find((b) => b.asset === asset);
    const daemon = () => (gw.connectors[0] as FabricConnector).daemon;
    /** Seller rests `qty` of ACME at 100.00 and buyer takes it, straight into the engine; the trade id. */
    const trade = (qty: number): number => {
      const ids: number[] = [];
      const off = gw.exchange.engine.addListener({ onTrade: (e) => ids.push(e.tradeId) });
      const order = {
        type: 'new',
        instrument: ACME,
        orderType: 'limit',
        price: 10_000,
        quantity: qty,
      } as const;
      const tag = ++k;
      gw.exchange.submit({
        ...order,
        account: account(n.members.seller),
        clientOrderId: `s${tag}`,
        side: 'sell',
      });
      gw.exchange.submit({
        ...order,
        account: account(n.members.buyer),
        clientOrderId: `b${tag}`,
        side: 'buy',
      });
      off();
      assert.equal(ids.length, 1, 'one trade');
      quantities.push(qty);
      return ids[0]!;
    };
    const context = () =>
      `${JSON.stringify(daemon().stats(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}\n${logs.join('\n')}`;

    it('settles every trade once when the devnet stops and comes back on the same blocks, and reads changes again', async () => {
      // Given the exchange settling on the devnet, the investors' issuances credited from its events
      await until(
        'the issuances to reach the engine',
        () =>
          balance(account(n.members.seller), ACME)?.available === Number(SELLER_LOTS) &&
          balance(account(n.members.buyer), USD)?.available === Number(BUYER_CENTS),
        context,
      );
      const tradeIds = [1, 2, 3, 4].map(trade);
      await until(
        'the first trades to settle',
        () => tradeIds.every((id) => gw.settlements.get(id)?.status === 'settled'),
        context,
      );

      // When the devnet stops, and trades go on while it is down, the daemon retrying
      await n.devnet.close();
      const retries = daemon().stats().retries;
      tradeIds.push(...[3, 1, 2, 2, 5, 1, 1].map(trade));
      await until('the daemon to retry', () => daemon().stats().retries > retries, context);
      assert.ok(gw.exchange.engine.pendingSettlements().length >= 7);

      // Then, the devnet back on its blocks and port, every trade settles once
      await n.startDevnet();
      await until(
        'pending settlements to drain and their verdicts to be published',
        () =>
          gw.exchange.engine.pendingSettlements().every((p) => !p.instrument.endsWith(`@${FABRIC_VENUE}`)) &&
          tradeIds.every((id) => gw.settlements.get(id)?.status !== 'pending'),
        context,
        90_000,
      );
      for (const id of tradeIds) assert.equal(gw.settlements.get(id)?.status, 'settled', `trade ${id}`);
      const bought = BigInt(quantities.reduce((a, b) => a + b, 0));
      const verdicts = await n.assertSettledOnce(tradeIds, bought);
      for (const id of tradeIds)
        assert.equal(gw.settlements.get(id)?.ref, verdicts.get(id)!.txId, `trade ${id}: ref`);
      const units = (who: string, asset: string) => {
        const b = balance(who, asset);
        return BigInt((b?.available ?? 0) + (b?.reserved ?? 0));
      };
      for (const m of [n.members.buyer, n.members.seller]) {
        for (const [asset, chain] of [
          [ACME, 'ACME'],
          [USD, 'USD'],
        ] as const) {
          assert.equal(
            await n.holding(account(m), chain),
            units(account(m), asset),
            `${account(m)} ${chain}`,
          );
        }
      }

      // and the change stream carries on: an issuance made after the restart reaches the engine
      const late = 'BankAMSP:latecomer';
      await n.operator.contract.submitTransaction('SetStanding', late, 'true', 'false');
      await n.operator.contract.submitTransaction('Issue', late, 'ACME', '7');
      await until(
        'the late issuance to reach the engine',
        () => balance(late, ACME)?.available === 7,
        context,
      );
    });
  });

  describe('withdrawals through the exchange, the exchange killed and restarted', () => {
    let n: Network;
    let proxy: GatewayProxy;
    let configFile: string;

    before(async () => {
      ({ n, proxy, configFile } = await networkAndConfig());
    });

    it('releases each withdrawal once: after a SIGKILL between the debit and the release, and one the moment the peer accepted the release', async () => {
      const seller = account(n.members.seller);
      const granted: number[] = [];
      let exchange = await MosaicProcess.start(configFile, running);
      let traders = await Traders.connect(exchange.url, ACME, fabricLogin(n));
      clients.push(traders);
      const restart = async () => {
        exchange = await MosaicProcess.start(configFile, running);
        traders = await Traders.connect(exchange.url, ACME, fabricLogin(n), traders);
        clients.push(traders);
      };
      const released = (id: number) => traders.released('seller', id, () => exchange.output, 90_000);
      // Given the exchange running on the test's devnet, the seller's issuance credited
      await until(
        'the issuances to reach the engine',
        async () => (await traders.units('seller', ACME)) === SELLER_LOTS,
        () => exchange.output,
      );
      // When the seller asks for a withdrawal, then it is released: off the venue
      granted.push(await traders.withdraw('seller', ACME, '10'));
      await released(granted[0]!);
      assert.equal(await n.holding(seller, 'ACME'), SELLER_LOTS - 10n);

      // When the engine has granted one whose release is held before endorsement, and the exchange is killed
      proxy.hold();
      granted.push(await traders.withdraw('seller', ACME, '7'));
      await until(
        'the release held at endorsement',
        () => proxy.held > 0,
        () => exchange.output,
      );
      assert.equal(await exchange.kill('SIGKILL'), null);
      await traders.close();
      proxy.release();
      assert.equal(await n.withdrawalVerdict(granted[1]!), null, 'not released');
      // Then the restarted exchange releases it, once
      await restart();
      await released(granted[1]!);
      assert.equal(await n.holding(seller, 'ACME'), SELLER_LOTS - 17n);

      // When the exchange is killed the moment the peer accepts a release (before the daemon hears so)
      const killed = new Promise<string>((resolve) =>
        proxy.onceSubmitted((txId) => {
          exchange.child.kill('SIGKILL');
          resolve(txId);
        }),
      );
      granted.push(await traders.withdraw('seller', ACME, '5'));
      const txId = await within('a release accepted by the peer', killed, () => exchange.output);
      assert.equal(await exchange.exited, null, 'killed');
      await traders.close();
      // and the devnet commits it while the exchange is down
      await until(
        'the release to be committed',
        async () => (await n.withdrawalVerdict(granted[2]!))?.txId === txId,
      );
      // Then the restarted exchange sends the recorded release again, learns its verdict, and releases nothing twice
      await restart();
      const third = await released(granted[2]!);
      assert.equal(third.ref, txId);
      assert.ok(
        exchange.output.includes(`sending batch transaction ${txId} again, as recorded`),
        exchange.output,
      );
      const events = await verdictsInEvents(n.operator.network, CHAINCODE, 'Released');
      assert.deepEqual(
        [...events.keys()].sort((a, b) => a - b),
        granted,
      );
      for (const id of granted) {
        const v = await n.withdrawalVerdict(id);
        assert.equal(v?.ok, true, `withdrawal ${id}: ${JSON.stringify(v)}`);
        assert.deepEqual(events.get(id), [v!.txId], `withdrawal ${id}: one release, from one transaction`);
      }
      assert.equal(await n.holding(seller, 'ACME'), SELLER_LOTS - 22n);
      await until(
        'nothing left pending',
        () => traders.drained(),
        () => exchange.output,
      );
      assert.equal(await traders.units('seller', ACME), SELLER_LOTS - 22n);
      await traders.close();
      assert.equal(await exchange.kill('SIGTERM'), 0, exchange.output);
    });
  });

  describe('the exchange killed mid-submit and restarted', () => {
    let n: Network;
    let proxy: GatewayProxy;
    let configFile: string;

    before(async () => {
      ({ n, proxy, configFile } = await networkAndConfig());
    });

    it('settles every trade exactly once after a SIGKILL the moment the peer accepted a batch', async () => {
      // Given the exchange running on the test's devnet, the investors' issuances credited
      let { exchange, traders } = await startPair(configFile, n);
      await issuancesCredited(traders, exchange);
      // and trades settled as usual
      const first = await traders.trade([1, 2, 3]);
      await until(
        'the first trades to settle',
        async () => {
          for (const id of first) if ((await traders.status(id)) !== 'settled') return false;
          return true;
        },
        () => exchange.output,
      );

      // When trades queue behind a held endorsement, and the exchange is killed the moment the
      // peer accepts the batch transaction (before the daemon hears so)
      proxy.hold();
      const midBatch = await traders.trade([2, 1, 3, 1, 2, 1, 1, 2, 3, 1, 1, 2]);
      const killed = new Promise<string>((resolve) =>
        proxy.onceSubmitted((txId) => {
          exchange.child.kill('SIGKILL');
          resolve(txId);
        }),
      );
      proxy.release();
      const txId = await within('a batch transaction accepted by the peer', killed, () => exchange.output);
      assert.equal(await exchange.exited, null, 'killed');
      await traders.close();
      // and the devnet commits it while the exchange is down
      await until('the killed batch to be committed', async () => {
        const vs = await Promise.all(midBatch.map((id) => n.verdict(id)));
        return vs.some((v) => v?.txId === txId);
      });
      const committed = (await Promise.all(midBatch.map((id) => n.verdict(id)))).filter((v) => v !== null);
      assert.ok(
        committed.length > 0 && committed.length < midBatch.length,
        `the batch in flight settled ${committed.length} of ${midBatch.length} trades`,
      );

      // Then the restarted exchange sends the recorded batch again, learns its verdicts, settles the rest
      ({ exchange, traders } = await startPair(configFile, n, traders));
      await drained(traders, exchange);
      // (its REST knows the trades pending at the restart; those settled before are in the journal)
      for (const id of midBatch) assert.equal(await traders.status(id), 'settled', `trade ${id}`);
      assert.ok(
        exchange.output.includes(`sending batch transaction ${txId} again, as recorded`),
        exchange.output,
      );
      const bought = BigInt(traders.bought.reduce((a, b) => a + b, 0));
      const verdicts = await n.assertSettledOnce(traders.tradeIds, bought);
      for (const v of committed) assert.equal(verdicts.get(v!.tradeId)?.txId, txId);
      for (const who of ['seller', 'buyer'] as const) {
        const m = n.members[who];
        assert.equal(await n.holding(account(m), 'ACME'), await traders.units(who, ACME), `${who} ACME`);
        assert.equal(await n.holding(account(m), 'USD'), await traders.units(who, USD), `${who} USD`);
      }
      await traders.close();
      assert.equal(await exchange.kill('SIGTERM'), 0, exchange.output);
    });
  });

  describe('several batches in flight, the exchange killed and restarted', () => {
    let n: Network;
    let proxy: GatewayProxy;
    let configFile: string;

    before(async () => {
      ({ n, proxy, configFile } = await networkAndConfig());
    });

    it('settles the trades and releases the withdrawal handed to the peer together, once each, after a SIGKILL', async () => {
      // Given the exchange running on the test's devnet, the seller, buyer and holder credited
      let exchange = await MosaicProcess.start(configFile, running);
      const connect = async (from?: { traders: Traders; holder: Traders }) => {
        const traders = await Traders.connect(exchange.url, ACME, fabricLogin(n), from?.traders);
        // The holder, who trades with no one, as a pair's seller
        const holder = await Traders.connect(
          exchange.url,
          ACME,
          fabricLogin(n, { seller: 'holder' }),
          from?.holder,
        );
        clients.push(traders, holder);
        return { traders, holder };
      };
      let pair = await connect();
      await until(
        'the issuances to reach the engine',
        async () =>
          (await pair.traders.units('seller', ACME)) === SELLER_LOTS &&
          (await pair.traders.units('buyer', USD)) === BUYER_CENTS &&
          (await pair.holder.units('seller', ACME)) === HOLDER_LOTS,
        () => exchange.output,
      );

      // When a batch of trades and a release of the holder's (which move balances of their own)
      // are both handed to the peer before either is committed (held at endorsement)
      proxy.hold();
      await pair.traders.trade([2, 1, 3]);
      const withdrawal = await pair.holder.withdraw('seller', ACME, '7');
      await until(
        'both batches at endorsement at once',
        () => proxy.held >= 2,
        () => exchange.output,
      );
      // and the exchange is killed the moment the peer accepts the first of them
      const killed = new Promise<string>((resolve) =>
        proxy.onceSubmitted((txId) => {
          exchange.child.kill('SIGKILL');
          resolve(txId);
        }),
      );
      proxy.release();
      await within('a batch transaction accepted by the peer', killed, () => exchange.output);
      assert.equal(await exchange.exited, null, 'killed');
      await pair.traders.close();
      await pair.holder.close();

      // Then the restarted exchange settles every trade and releases the withdrawal, once each
      exchange = await MosaicProcess.start(configFile, running);
      pair = await connect(pair);
      const released = await pair.holder.released('seller', withdrawal, () => exchange.output, 90_000);
      await until(
        'pending settlements to drain',
        () => pair.traders.drained(),
        () => exchange.output,
        90_000,
      );
      const bought = BigInt(pair.traders.bought.reduce((a, b) => a + b, 0));
      await n.assertSettledOnce(pair.traders.tradeIds, bought);
      const releases = await verdictsInEvents(n.operator.network, CHAINCODE, 'Released');
      assert.deepEqual(releases.get(withdrawal), [released.ref], 'one release, from one transaction');
      assert.equal(await n.holding(account(n.members.holder), 'ACME'), HOLDER_LOTS - 7n);
      assert.equal(await pair.holder.units('seller', ACME), HOLDER_LOTS - 7n);
      await pair.traders.close();
      await pair.holder.close();
      assert.equal(await exchange.kill('SIGTERM'), 0, exchange.output);
    });
  });
  describe('batches that share balances in flight together, the exchange killed and restarted', () => {
    let n: Network;
    let proxy: GatewayProxy;
    let configFile: string;

    before(async () => {
      // A batch per trade, four out at once: every one shares the pair's balances
      ({ n, proxy, configFile } = await networkAndConfig({ batchSize: 1, inFlight: 4 }));
    });

    it('endorses each after the one before it committed, and settles each trade once after a SIGKILL', async () => {
      // Given the exchange running on the test's devnet, the investors' issuances credited
      let { exchange, traders } = await startPair(configFile, n);
      await issuancesCredited(traders, exchange);

      // When three trades of the pair go out as three batches at once, endorsements held
      proxy.hold();
      const [first] = await traders.trade([2, 1, 3]);
      await until(
        'the first batch at endorsement',
        () => proxy.held >= 1,
        () => exchange.output,
      );
      // and the first let through while the next endorsement is held again
      proxy.release();
      proxy.hold();
      await until(
        'the second batch at endorsement',
        () => proxy.held >= 1,
        () => exchange.output,
      );
      // Then the second was endorsed only once the first was committed
      assert.equal(
        (await n.verdict(first!))?.ok,
        true,
        'the first batch committed before the second endorsed',
      );
      // and when the exchange is killed with the second at endorsement and the third waiting
      exchange.child.kill('SIGKILL');
      assert.equal(await exchange.exited, null, 'killed');
      proxy.release();
      await traders.close();

      // the restarted exchange settles every trade once
      ({ exchange, traders } = await startPair(configFile, n, traders));
      await drained(traders, exchange);
      await n.assertSettledOnce(traders.tradeIds, BigInt(traders.bought.reduce((a, b) => a + b, 0)));
      await traders.close();
      assert.equal(await exchange.kill('SIGTERM'), 0, exchange.output);
    });
  });
});
