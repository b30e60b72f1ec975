/**
 * The settlement chaincode's trade verdicts, kept 128 trade ids to a key, on the devnet with the
 * real chaincode: a batch sent again, an id twice in one batch, ids across a key's boundary, and
 * a ledger the chaincode before verdict keys settled (its verdicts one per key, `trade`
 * composite keys, written here by the devnet suite's chaincode under the settlement chaincode's
 * name, as an upgrade keeps a chaincode's state): a trade id it settled or failed is skipped with
 * its first verdict, nothing moves twice, and the ids it never saw settle. And the fee account's
 * credits, under keys of their own, so that two batches of different investors and trade ids
 * both commit when endorsed at once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type ChaincodeProcess,
  type Devnet,
  fabricClient,
  type FabricClient,
  startChaincode,
  startDevnet,
  type Verdict,
} from '../../connectors/fabric/index.ts';
import { issue, makeMsp, type FabricMember, type Msp } from '../support/identities.ts';
import { startTestChaincode } from '../support/fabric.ts';

const CHANNEL = 'bank-net';
const CHAINCODE = 'mosaic-settlement';
/** A composite key as the shim makes it: `\0type\0attr\0`. */
const compositeKey = (type: string, ...attributes: string[]) =>
  `\u0000${type}\u0000${attributes.join('\u0000')}\u0000`;

describe('settlement chaincode: trade verdicts kept by key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-verdicts-'));
  const stateFile = path.join(dir, 'blocks.bin');
  let bank: Msp;
  let operator: FabricMember;
  let devnet: Devnet;
  let chaincode: ChaincodeProcess;
  let client: FabricClient;
  const account = (name: string) => `BankAMSP:${name}`;
  const trade = (tradeId: number, [buyer, seller] = ['buyer', 'seller']) => ({
    tradeId,
    security: 'ACME',
    cash: 'USD',
    buyer: account(buyer!),
    seller: account(seller!),
    quantity: '1',
    cashAmount: '101',
    fee: '1',
  });
  const settle = async (ids: number[]): Promise<Verdict[]> =>
    JSON.parse(
      Buffer.from(
        await client.contract.submitTransaction('SettleBatch', JSON.stringify(ids.map((id) => trade(id)))),
      ).toString(),
    ) as Verdict[];
  const status = async (id: number): Promise<Verdict> =>
    JSON.parse(
      Buffer.from(await client.contract.evaluateTransaction('TradeStatus', String(id))).toString(),
    ) as Verdict;
  const balance = async (who: string, asset: string) =>
    Number(
      Buffer.from(await client.contract.evaluateTransaction('BalanceOf', account(who), asset)).toString(),
    );
  const open = (address: string) =>
    startDevnet({
      channel: CHANNEL,
      msps: [bank.config],
      chaincodes: [{ name: CHAINCODE, address }],
      stateFile,
    });

  before(async () => {
    bank = await makeMsp('BankAMSP');
    operator = await issue(bank, 'operator');
    // Given a ledger the chaincode before verdict keys left: trade 7 settled, trade 12 failed
    const legacy = await startTestChaincode();
    devnet = await open(legacy.address);
    const writer = fabricClient(devnet.endpoint, operator, { channel: CHANNEL, chaincode: CHAINCODE });
    const put = (id: number, v: Verdict) =>
      writer.contract.submitTransaction('put', compositeKey('trade', String(id)), JSON.stringify(v));
    await put(7, { tradeId: 7, ok: true, txId: 'tx-before-7' });
    await put(12, { tradeId: 12, ok: false, reason: 'TO_FROZEN', txId: 'tx-before-12' });
    writer.close();
    await devnet.close();
    legacy.close();
    // and the settlement chaincode serving that state now, its venue configured and funded
    chaincode = await startChaincode({ ccid: `${CHAINCODE}:2`, admin: account('operator') });
    devnet = await open(chaincode.address);
    client = fabricClient(devnet.endpoint, operator, { channel: CHANNEL, chaincode: CHAINCODE });
    await client.contract.submitTransaction(
      'Configure',
      JSON.stringify({
        operator: account('operator'),
        feeAccount: account('fees'),
        members: ['BankAMSP'],
        eligibleAttribute: null,
      }),
    );
    for (const who of ['buyer', 'seller', 'buyer-2', 'seller-2'])
      await client.contract.submitTransaction('SetStanding', account(who), 'true', 'false');
    for (const seller of ['seller', 'seller-2'])
      await client.contract.submitTransaction('Issue', account(seller), 'ACME', '1000');
    for (const buyer of ['buyer', 'buyer-2'])
      await client.contract.submitTransaction('Issue', account(buyer), 'USD', '1000000');
  });

  after(async () => {
    client?.close();
    await devnet?.close();
    await chaincode?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('skips the trades the chaincode before settled or failed, with their first verdicts, and settles the rest', async () => {
    const verdicts = await settle([7, 12, 9, 127, 128, 300]);
    const txId = verdicts.find((v) => v.tradeId === 9)!.txId;
    assert.deepEqual(verdicts, [
      { tradeId: 7, ok: true, reason: 'ALREADY_SETTLED', txId: 'tx-before-7' },
      { tradeId: 12, ok: false, reason: 'TO_FROZEN', txId: 'tx-before-12' },
      { tradeId: 9, ok: true, txId },
      { tradeId: 127, ok: true, txId },
      { tradeId: 128, ok: true, txId },
      { tradeId: 300, ok: true, txId },
    ]);
    assert.deepEqual(await status(7), { tradeId: 7, ok: true, txId: 'tx-before-7' });
    assert.deepEqual(await status(12), { tradeId: 12, ok: false, reason: 'TO_FROZEN', txId: 'tx-before-12' });
    for (const id of [9, 127, 128, 300]) assert.deepEqual(await status(id), { tradeId: id, ok: true, txId });
    assert.equal(await balance('buyer', 'ACME'), 4, 'four trades moved, once each');
    assert.equal(await balance('buyer', 'USD'), 1_000_000 - 4 * 101);
    assert.equal(await balance('fees', 'USD'), 4);
  });

  it('gives a batch sent again its first verdicts and moves nothing', async () => {
    const first = (await status(9)).txId;
    const again = await settle([9, 128, 300]);
    assert.deepEqual(
      again.map((v) => [v.tradeId, v.ok, v.reason, v.txId]),
      [9, 128, 300].map((id) => [id, true, 'ALREADY_SETTLED', first]),
    );
    assert.equal(await balance('buyer', 'ACME'), 4);
  });

  it('gives an id twice in one batch one verdict: the second is skipped', async () => {
    const [once, twice] = await settle([400, 400]);
    assert.deepEqual([once!.ok, once!.reason], [true, undefined]);
    assert.deepEqual([twice!.ok, twice!.reason, twice!.txId], [true, 'ALREADY_SETTLED', once!.txId]);
    assert.equal(await balance('buyer', 'ACME'), 5);
  });

  it('answers no verdict for a trade id it has not seen, below or above the ones it kept before', async () => {
    for (const id of [8, 5_000]) {
      assert.equal(
        Buffer.from(await client.contract.evaluateTransaction('TradeStatus', String(id))).toString(),
        '',
      );
    }
  });

  it('commits two batches of other investors and trade ids endorsed at once, both paying fees', async () => {
    const fees = await balance('fees', 'USD');
    // Both endorsed before either is submitted: each read the state before the other's writes.
    const batches = [
      [1_000, ['buyer', 'seller']],
      [2_000, ['buyer-2', 'seller-2']],
    ] as const;
    const endorsed = await Promise.all(
      batches.map(([id, parties]) =>
        client.contract
          .newProposal('SettleBatch', { arguments: [JSON.stringify([trade(id, [...parties])])] })
          .endorse(),
      ),
    );
    const submitted = await Promise.all(endorsed.map((e) => e.submit()));
    const statuses = await Promise.all(submitted.map((t) => t.getStatus()));
    assert.deepEqual(
      statuses.map((s) => s.successful),
      [true, true],
      'no MVCC conflict: the fee account is not read',
    );
    assert.equal(await balance('fees', 'USD'), fees + 2);
    assert.equal(await balance('buyer-2', 'ACME'), 1);
  });

  it("adds the fee credits to the fee account's balance, and folds them in when it changes otherwise", async () => {
    const fees = await balance('fees', 'USD');
    assert.ok(fees > 0);
    await client.contract.submitTransaction('Issue', account('fees'), 'USD', '10');
    assert.equal(await balance('fees', 'USD'), fees + 10);
    await settle([3_000]);
    assert.equal(await balance('fees', 'USD'), fees + 11, 'a credit after the fold adds up too');
  });

  it('settles trades of the fee account itself within a batch, its fee credits counted once', async () => {
    // Given the fee account in good standing, holding ACME, with fee credits not folded in yet
    await client.contract.submitTransaction('SetStanding', account('fees'), 'true', 'false');
    await client.contract.submitTransaction('Issue', account('fees'), 'ACME', '5');
    await settle([3_100]);
    const fees = await balance('fees', 'USD');
    // When one batch has it sell, then buy, between trades of others that pay fees
    const batch = [
      trade(3_101),
      trade(3_102, ['buyer', 'fees']),
      trade(3_103, ['fees', 'seller']),
      trade(3_104),
    ];
    const verdicts = JSON.parse(
      Buffer.from(await client.contract.submitTransaction('SettleBatch', JSON.stringify(batch))).toString(),
    ) as Verdict[];
    // Then every trade settles; its cash: +100 for the sale, -101 for the purchase, +1 per fee
    assert.deepEqual(
      verdicts.map((v) => v.ok),
      [true, true, true, true],
    );
    assert.equal(await balance('fees', 'USD'), fees + 100 - 101 + 4);
    assert.equal(await balance('fees', 'ACME'), 5);
  });

  // Last: it sells what the seller holds.
  it('takes a batch of up to 5,000 trades, and refuses a longer one naming the limit', async () => {
    const ids = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);
    const before = await balance('buyer', 'ACME');
    await assert.rejects(settle(ids(100_000, 5_001)), (err: Error & { details?: { message: string }[] }) =>
      (err.details ?? []).some((d) => /a batch is a list of at most 5000 trades/.test(d.message)),
    );
    assert.equal(await balance('buyer', 'ACME'), before, 'nothing moved');
    const verdicts = await settle(ids(200_000, 5_000));
    assert.equal(verdicts.length, 5_000);
    assert.equal(verdicts.filter((v) => v.ok).length, (await balance('buyer', 'ACME')) - before);
  });
});
