/**
 * Settlement daemons as their own processes on a cluster: an engine shard (`mosaic engine`) and
 * two EVM daemons (`mosaic connector evm`, each its own operator key and data folder) on a real
 * nats-server and a real anvil. Both daemons see every deposit: it counts once. They share the
 * venue's trades through one durable consumer; one is killed with SIGKILL in the middle of the
 * flow, the other finishes its trades and stops, and the first, restarted alone, settles nothing
 * twice: every trade settles exactly once on chain, and the escrow equals the engine. A withdrawal
 * asked of the shard is then released, once.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Contract, Wallet } from 'ethers';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CommandBus, ShardFollower } from '../../cluster/index.ts';
import { Anvil, type Deployment, DEV_KEYS, fundInvestors } from '../../connectors/evm/index.ts';
import type { WithdrawalEvent } from '../../engine/index.ts';
import {
  ACME,
  assertEscrowMatchesEngine,
  assertReleasedOnceOnChain,
  assertSettledOnceOnChain,
  BUYER_CENTS,
  chainWithInvestors,
  evmSettings,
  OPERATOR,
  SELLER_LOTS,
  settledEvents,
  USD,
} from '../support/evm.ts';
import { killAll, MosaicProcess } from '../support/exchange-process.ts';
import { until } from '../support/wait.ts';
import { READY, type TestNats, testNats } from '../support/cluster.ts';
import { silentLogger } from '../../common/index.ts';

const SECOND_KEY = DEV_KEYS[2];

describe('settlement daemons as their own processes', { timeout: 240_000 }, () => {
  const running = new Set<ChildProcess>();
  let nats: TestNats;
  let nc: NatsConnection;
  let anvil: Anvil;
  let d: Deployment;
  let follower: ShardFollower;
  const seller = () => anvil.devWallet(3);
  const buyer = () => anvil.devWallet(4);
  const configs: string[] = [];
  const trades: number[] = [];
  const withdrawals: WithdrawalEvent[] = [];

  before(async () => {
    nats = await testNats(1, { shards: [{ venues: ['evm:31337'] }, { venues: ['*'] }], ackWaitSeconds: 3 });
    nc = await nats.connect();
    anvil = await Anvil.start();
    d = await chainWithInvestors(anvil, seller(), buyer(), [new Wallet(SECOND_KEY).address]);
    for (const [name, key] of [
      ['a', undefined],
      ['b', SECOND_KEY],
    ] as const) {
      const dir = path.join(nats.dir, `daemon-${name}`);
      const file = path.join(nats.dir, `${name}.json`);
      const config = {
        dataDir: dir,
        logLevel: 'info',
        demo: { instruments: true, marketMaker: false, fundAccounts: false },
        connectors: [{ kind: 'evm', venue: 'evm:31337', ...evmSettings(anvil, d, key) }],
        cluster: nats.config,
      };
      fs.writeFileSync(file, JSON.stringify(config));
      configs.push(file);
    }
    follower = await ShardFollower.open({
      nc,
      topology: nats.topology,
      shard: 0,
      risk: true,
      replicas: 1,
      log: silentLogger,
      onError: (err) => assert.fail(err),
    });
    follower.onEvents((_seq, commands) => {
      for (const e of commands.flatMap((c) => c.events)) {
        if (e.kind === 'trade') trades.push(e.tradeId);
        if (e.kind === 'withdrawal') withdrawals.push(e);
      }
    });
    follower.start();
  });

  after(async () => {
    await killAll(running);
    await follower?.close();
    await anvil?.stop();
    await nats?.stop();
  });

  const daemon = (config: string) =>
    MosaicProcess.spawn(['connector', 'evm', '--config', config, '--port', '0'], READY, running);
  const balance = (account: string, asset: string) =>
    follower.engine.balances(account).find((b) => b.asset === asset);

  it('share the trades, survive a SIGKILL of one, and settle each trade exactly once', async () => {
    // Given an engine shard and two daemons of the venue, each its own process
    const engine = await MosaicProcess.spawn(
      ['engine', '--shard', '0', '--config', configs[0]!, '--port', '0'],
      READY,
      running,
    );
    let a = await daemon(configs[0]!);
    const b = await daemon(configs[1]!);
    const output = () => `engine:\n${engine.output}\ndaemon a:\n${a.output}\ndaemon b:\n${b.output}`;
    // Then the investors' deposits, seen by both daemons, reach the engine once
    const [s, bu] = [seller().address, buyer().address];
    await until(
      'the deposits in the engine',
      () =>
        balance(s, ACME)?.available === Number(SELLER_LOTS) &&
        balance(bu, USD)?.available === Number(BUYER_CENTS),
      output,
    );

    // When the seller and the buyer trade 40 times, and daemon a is killed after the 15th
    const bus = new CommandBus(jetstream(nc), nats.topology);
    const order = { type: 'new', instrument: ACME, orderType: 'limit', price: 10_000, quantity: 1 } as const;
    for (let i = 0; i < 40; i++) {
      await bus.send(0, { ...order, account: s, clientOrderId: `s${i}`, side: 'sell' }, `s${i}`);
      await bus.send(0, { ...order, account: bu, clientOrderId: `b${i}`, side: 'buy' }, `b${i}`);
      if (i === 15) {
        await until('a batch settled', () => follower.engine.pendingSettlements().length < trades.length);
        assert.equal(await a.kill('SIGKILL'), null);
      }
      await until(`trade ${i + 1}`, () => trades.length > i, output);
    }
    await until('40 trades', () => trades.length === 40, output);

    // Then daemon b finishes what a left (its messages go to b once their ack wait runs out)
    await until(
      'nothing pending in the engine',
      () => follower.engine.pendingSettlements().length === 0,
      output,
      60_000,
    );
    // And daemon a, restarted alone (b stops), settles nothing twice: a trade and a deposit made
    // after its restart reach the engine only after what it held (its batches in flight first,
    // then its queue, in order; the ledger's changes in block order)
    assert.equal(await b.kill('SIGTERM'), 0, output());
    a = await daemon(configs[0]!);
    await fundInvestors(d, [{ wallet: seller(), securities: { ACME: 1n } }]);
    await bus.send(0, { ...order, account: s, clientOrderId: 's40', side: 'sell' }, 's40');
    await bus.send(0, { ...order, account: bu, clientOrderId: 'b40', side: 'buy' }, 'b40');
    const units = async (who: string, asset: string) => {
      const x = balance(who, asset);
      return BigInt((x?.available ?? 0) + (x?.reserved ?? 0));
    };
    await until(
      'the trade after the restart settled, and the deposit in the engine',
      async () =>
        trades.length === 41 &&
        follower.engine.pendingSettlements().length === 0 &&
        (await units(s, ACME)) >= SELLER_LOTS - 40n,
      output,
    );
    const settlement = d.settlement.connect(anvil.provider()) as Contract;
    await assertSettledOnceOnChain(settlement, trades, true);
    await assertEscrowMatchesEngine(d, settlement, units, [s, bu]);
    // And both daemons settled some of them, each with its own key
    const senders = new Set<string>();
    for (const { event } of await settledEvents(settlement)) senders.add((await event.getTransaction()).from);
    assert.deepEqual(
      [...senders].sort(),
      [OPERATOR, new Wallet(SECOND_KEY).address].sort(),
      'both daemons settled',
    );
    // And every verdict reached the engine once: settled trades, no failure
    assert.equal(follower.engine.pendingSettlements().length, 0);

    // When the seller asks the shard for a withdrawal, then daemon a releases it, once
    await bus.send(0, { type: 'request-withdrawal', account: s, asset: ACME, amount: 3 }, 'w1');
    await until(
      'the withdrawal released',
      () => withdrawals.some((e) => e.status === 'released'),
      output,
      60_000,
    );
    const id = withdrawals[0]!.withdrawalId;
    assert.deepEqual(
      withdrawals.map((e) => [e.withdrawalId, e.status]),
      [
        [id, 'pending'],
        [id, 'released'],
      ],
    );
    assert.equal(follower.engine.pendingWithdrawals().length, 0);
    await assertReleasedOnceOnChain(settlement, [id]);
    await assertEscrowMatchesEngine(d, settlement, units, [s, bu]);
    await engine.kill('SIGTERM');
  });
});
