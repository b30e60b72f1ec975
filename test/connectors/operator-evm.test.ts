/**
 * A settlement daemon whose key the Settlement contract does not take as its operator: given a
 * real anvil with the contracts deployed for one operator key and the exchange's EVM daemon
 * signing with another, when a trade is matched, then the contract reverts the batch with
 * `NotOperator`, and the daemon stops at once with an error naming the problem and what to do,
 * instead of retrying for ever: no retry, one batch transaction sent, the trade left pending
 * for the next start, `/health` answering 503 with the reason, and the error logged.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Wallet } from 'ethers';
import { isCodedError } from '../../common/index.ts';
import { Anvil, type Deployment, DEV_KEYS } from '../../connectors/evm/index.ts';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import {
  ACME,
  BUYER_CENTS,
  chainWithInvestors,
  evmSettings,
  matchTrade,
  OPERATOR,
  SELLER_LOTS,
  USD,
} from '../support/evm.ts';
import { until } from '../support/wait.ts';

describe('an EVM daemon signing with a key that is not the operator', () => {
  let anvil: Anvil;
  let d: Deployment;
  let gw: Embedded;
  const seller = new Wallet(DEV_KEYS[2]);
  const buyer = new Wallet(DEV_KEYS[3]);
  const intruder = new Wallet(DEV_KEYS[4]);
  const logs: string[] = [];

  before(async () => {
    anvil = await Anvil.start();
    d = await chainWithInvestors(anvil, seller.connect(anvil.provider()), buyer.connect(anvil.provider()));
    gw = await testGateway(
      (c) => {
        c.demo.fundAccounts = false;
        c.connectors = c.connectors.filter((x) => x.kind === 'evm');
        Object.assign(c.connectors[0]!, evmSettings(anvil, d, DEV_KEYS[4]));
      },
      { settlement: true, log: (line) => logs.push(line) },
    );
  });
  after(async () => {
    await gw?.close();
    await anvil?.stop();
    if (gw !== undefined) fs.rmSync(gw.config.dataDir, { recursive: true, force: true });
  });

  it('stops with an error naming NotOperator and the key, instead of retrying', async () => {
    // Given the daemon running (the chain's deposits reach the engine: reading needs no operator)
    assert.notEqual(intruder.address, OPERATOR);
    const balance = (account: string, asset: string) =>
      gw.exchange.engine.balances(account).find((b) => b.asset === asset)?.available;
    await until(
      'the deposits to reach the engine',
      () =>
        balance(seller.address, ACME) === Number(SELLER_LOTS) &&
        balance(buyer.address, USD) === Number(BUYER_CENTS),
    );
    const daemon = gw.connectors[0]!.daemon;
    assert.equal(daemon.failure, null);
    const health = async () => {
      const res = await fetch(`${gw.url}/health`);
      return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
    };
    assert.equal((await health()).status, 200);

    // When a trade is matched and its batch goes to the contract
    const tradeId = matchTrade(gw, seller.address, buyer.address, 10, '1');

    // Then the daemon stops on the contract's refusal, with an error that names it
    const failure = await until(
      'the daemon to stop',
      () => daemon.failure ?? undefined,
      () => logs.join('\n'),
    );
    assert.ok(isCodedError(failure, 'NOT_OPERATOR'), `a NOT_OPERATOR error, got ${String(failure)}`);
    assert.equal(failure.retryable, false);
    assert.match(failure.message, new RegExp(`NotOperator\\(${intruder.address}\\)`));
    assert.match(failure.message, /evm\.operatorKey/);
    assert.match(failure.message, new RegExp(`setOperator\\(${intruder.address}, true\\)`));
    // and it did not try again: one batch transaction, no retry counted
    assert.equal(daemon.stats().retries, 0);
    assert.equal(await anvil.provider().getTransactionCount(intruder.address, 'latest'), 1);
    // the trade waits, pending, for a start with the right key
    assert.equal(gw.settlements.get(tradeId)?.status, 'pending');
    assert.ok(gw.exchange.engine.pendingSettlement(tradeId) !== undefined);
    // /health says so
    const h = await health();
    assert.equal(h.status, 503);
    assert.equal(h.body.status, 'failed');
    assert.match(h.body.reason ?? '', /settlement of evm:31337 stopped: .*NotOperator/);
    // and the log says why, once
    const stopped = logs.filter((l) => l.includes('settlement stopped'));
    assert.equal(stopped.length, 1, logs.join('\n'));
    assert.match(stopped[0]!, /NotOperator/);
  });
});
