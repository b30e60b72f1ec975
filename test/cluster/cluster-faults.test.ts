/**
 * The whole cluster under faults, every part its own process: a three-node JetStream cluster on
 * loopback (streams kept in three copies), two gateways, two engine shards (EVM, Fabric), one
 * EVM and one Fabric settlement daemon, on a real anvil and a Fabric devnet with the chaincode.
 * Traders enter orders at both gateways throughout; one NATS node, one engine shard and one
 * daemon are killed with SIGKILL and brought back (the shard at once: its orders wait for it). Then: no acknowledged order lost (every fill
 * reported, both gateways agree), no trade settled twice or skipped (checked on each ledger,
 * escrow and holdings equal to the engine), and the market-data sequences gap-free.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Contract } from 'ethers';
import { Anvil, type Deployment } from '../../connectors/evm/index.ts';
import { READY, type TestNats, testNats } from '../support/cluster.ts';
import {
  ACME,
  assertEscrowMatchesEngine,
  assertSettledOnceOnChain,
  chainWithInvestors,
  evmSettings,
} from '../support/evm.ts';
import { killAll, MosaicProcess, Traders } from '../support/exchange-process.ts';
import { until } from '../support/wait.ts';
import { FABRIC_ACME, fabricLogin, Network } from '../support/fabric-network.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';

describe('the cluster under faults', { timeout: 420_000 }, () => {
  const running = new Set<ChildProcess>();
  let nats: TestNats;
  let anvil: Anvil;
  let d: Deployment;
  let fabric: Network;
  let config: string;
  const traders: Traders[] = [];
  const watchers: WsClient[] = [];

  before(async () => {
    nats = await testNats(3, {
      shards: [{ venues: ['evm:31337'] }, { venues: ['*'] }],
      ackWaitSeconds: 3,
      snapshotEvery: 100,
    });
    anvil = await Anvil.start();
    d = await chainWithInvestors(anvil, anvil.devWallet(3), anvil.devWallet(4));
    fabric = await Network.start();
    await fabric.configure();
    config = path.join(nats.dir, 'mosaic.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        dataDir: path.join(nats.dir, 'data'),
        risk: true,
        port: 0,
        logLevel: 'info',
        demo: { instruments: true, marketMaker: false, fundAccounts: false },
        msps: [fabric.msp.config],
        connectors: [
          { kind: 'evm', venue: 'evm:31337', ...evmSettings(anvil, d) },
          { kind: 'fabric', ...fabric.settings() },
        ],
        cluster: nats.config,
      }),
    );
  });
  after(async () => {
    for (const t of traders) await t.close().catch(() => {});
    for (const w of watchers) await w.close().catch(() => {});
    await killAll(running);
    await fabric?.close();
    await anvil?.stop();
    await nats?.stop();
  });

  const start = (args: string[]) => MosaicProcess.spawn([...args, '--config', config], READY, running);

  it('loses no acknowledged order, settles each trade once on each ledger, and keeps market data gap-free', async () => {
    // Given every part running, each its own process
    const processes = {
      engine0: await start(['engine', '--shard', '0', '--port', '0']),
      engine1: await start(['engine', '--shard', '1', '--port', '0']),
      gatewayA: await start(['gateway']),
      gatewayB: await start(['gateway']),
      evm: await start(['connector', 'evm', '--port', '0']),
      fabric: await start(['connector', 'fabric', '--port', '0']),
    };
    const output = () =>
      Object.entries(processes)
        .map(([name, p]) => `--- ${name}\n${p.output.slice(-3_000)}`)
        .join('\n');
    const [a, b] = [processes.gatewayA.url, processes.gatewayB.url];
    // And sellers at gateway a, buyers at gateway b, on each ledger, funded from the ledgers
    const evm = await Traders.connect({ seller: a, buyer: b }, ACME, (c, who) =>
      login(c, who === 'seller' ? anvil.devWallet(3) : anvil.devWallet(4)),
    );
    const fab = await Traders.connect({ seller: a, buyer: b }, FABRIC_ACME, fabricLogin(fabric));
    traders.push(evm, fab);
    // An order sent while NATS elects a new leader for its stream waits for it (5 to 15 s here).
    for (const t of traders) t.replyMs = 90_000;
    for (const t of traders) {
      await until(
        'the ledger deposits in the engine',
        async () => (await t.units('seller', t.instrument)) > 0n,
        output,
      );
    }
    // And a watcher of each instrument's trades at each gateway
    const feeds: Array<{ client: WsClient; channel: string }> = [];
    for (const url of [a, b]) {
      for (const id of [ACME, FABRIC_ACME]) {
        const client = await WsClient.connect(url);
        watchers.push(client);
        const channel = `trades:${id}`;
        assert.equal((await client.request({ op: 'subscribe', channel })).type, 'subscribed');
        feeds.push({ client, channel });
      }
    }

    // When they trade in rounds while parts are killed and brought back
    const round = () => Promise.all(traders.map((t) => t.trade([1, 2])));
    const node = nats.nodes[1]!;
    for (let r = 0; r < 15; r++) {
      if (r === 2) await node.kill();
      if (r === 4) await node.restart();
      // A shard's commands wait in its stream while it is down (acknowledged, not executed: only
      // the shard executes them), and execute once it is back.
      let restarting: Promise<MosaicProcess> | null = null;
      if (r === 6) {
        assert.equal(await processes.engine0.kill('SIGKILL'), null);
        restarting = start(['engine', '--shard', '0', '--port', '0']);
      }
      if (r === 10) assert.equal(await processes.fabric.kill('SIGKILL'), null);
      if (r === 12) processes.fabric = await start(['connector', 'fabric', '--port', '0']);
      try {
        await Promise.all([
          round(),
          restarting?.then((p) => {
            processes.engine0 = p;
          }),
        ]);
      } catch (err) {
        const health = await Promise.all(
          [a, b].map((u) => fetch(`${u}/health`).then((x) => x.text(), String)),
        );
        throw new Error(`round ${r}: ${(err as Error).message}\nhealth: ${health.join('\n')}\n${output()}`, {
          cause: err,
        });
      }
    }

    // Then every trade settles
    for (const t of traders) await until(`${t.instrument} settled`, () => t.drained(), output, 120_000);
    // And each ledger settled each trade once: the chain, the chaincode
    const settlement = d.settlement.connect(anvil.provider()) as Contract;
    await assertSettledOnceOnChain(settlement, evm.tradeIds, true);
    const [s, bu] = [anvil.devWallet(3).address, anvil.devWallet(4).address];
    await assertEscrowMatchesEngine(
      d,
      settlement,
      (who, asset) => evm.units(who === s ? 'seller' : 'buyer', asset),
      [s, bu],
    );
    const bought = BigInt(fab.bought.reduce((x, y) => x + y, 0));
    await fabric.assertSettledOnce(fab.tradeIds, bought);
    // And both gateways report the same trades and statuses
    for (const t of traders) {
      for (const id of t.tradeIds) {
        for (const url of [a, b]) {
          const res = await fetch(`${url}/api/trades/${id}/settlement`);
          assert.equal(((await res.json()) as { status: string }).status, 'settled', `trade ${id} at ${url}`);
        }
      }
    }
    // And every trade feed went on gap-free (each update one after the one before) and saw every trade
    for (const { client, channel } of feeds) {
      const updates = client.messages.filter((m) => m.channel === channel && m.type !== 'subscribed');
      let last: Msg | null = null;
      const seen = new Set<number>();
      for (const m of updates) {
        if (m.type === 'update' && last !== null)
          assert.equal(m.seq, (last.seq as number) + 1, `${channel}: a gap`);
        if (m.type === 'update' || m.type === 'snapshot') {
          last = m;
          for (const tr of (m.trades as Array<{ tradeId: number }> | undefined) ?? []) seen.add(tr.tradeId);
        }
      }
      const ids = channel.endsWith(ACME) && !channel.includes('fabric') ? evm.tradeIds : fab.tradeIds;
      for (const id of ids) assert.ok(seen.has(id), `${channel}: trade ${id} not seen`);
    }
  });
});
