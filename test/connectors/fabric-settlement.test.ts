/**
 * Settlement on Fabric against real parts: the settlement chaincode (fabric-contract-api, served
 * as chaincode-as-a-service), the devnet peer, and the unmodified fabric-gateway client. The
 * shared ledger contract suite runs on it; then its own cases: standing and freezes, concurrent
 * batches that conflict (MVCC) and still settle once, a batch sent again under its recorded
 * transaction id after a crash, and the chaincode's events into ledger changes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Contract, type Gateway, type Network } from '@hyperledger/fabric-gateway';
import {
  type ChaincodeProcess,
  type Devnet,
  FabricChanges,
  fabricClient,
  FabricLedger,
  startChaincode,
  startDevnet,
  type Verdict,
} from '../../connectors/fabric/index.ts';
import { Progress, type SettlementInstruction } from '../../connectors/index.ts';
import { issue, makeMsp, type FabricMember } from '../support/identities.ts';
import { ledgerContract } from './ledger-contract.ts';
import { crashAfterSubmit, waitFor } from '../support/fabric.ts';

const CHANNEL = 'bank-net';
const CHAINCODE = 'mosaic-settlement';
const VENUE = 'fabric:bank-net';
const ACME = `ACME@${VENUE}`;

interface Network_ {
  devnet: Devnet;
  chaincode: ChaincodeProcess;
  operator: Client;
  members: Record<'seller' | 'buyer' | 'stranger' | 'empty', FabricMember>;
  account: (m: FabricMember) => string;
  client: (m: FabricMember) => Client;
  /** A new member of BankAMSP, not registered on the venue. */
  member: (name: string, attributes?: Record<string, string>) => Promise<FabricMember>;
  config: Record<string, unknown>;
  dirs: string[];
  close(): Promise<void>;
}

interface Client {
  gateway: Gateway;
  network: Network;
  contract: Contract;
  close(): void;
}

/** A devnet with the settlement chaincode, configured, its investors standing and funded. */
async function network(): Promise<Network_> {
  const chaincode = await startChaincode({ ccid: `${CHAINCODE}:1` });
  const address = chaincode.address;
  const bank = await makeMsp('BankAMSP');
  const other = await makeMsp('OtherMSP');
  const devnet = await startDevnet({
    channel: CHANNEL,
    msps: [bank.config, other.config],
    chaincodes: [{ name: CHAINCODE, address }],
  });
  const account = (m: FabricMember) => `${m.mspId}:${m.commonName}`;
  const client = (m: FabricMember): Client =>
    fabricClient(devnet.endpoint, m, { channel: CHANNEL, chaincode: CHAINCODE });
  const operatorId = await issue(bank, 'operator');
  const operator = client(operatorId);
  const members = {
    seller: await issue(bank, 'seller'),
    buyer: await issue(bank, 'buyer'),
    stranger: await issue(other, 'stranger'),
    empty: await issue(bank, 'empty'),
  };
  const config = {
    operator: account(operatorId),
    feeAccount: 'BankAMSP:fees',
    members: ['BankAMSP'],
    eligibleAttribute: null,
  };
  await operator.contract.submitTransaction('Configure', JSON.stringify(config));
  for (const m of [members.seller, members.buyer, members.empty]) {
    await operator.contract.submitTransaction('SetStanding', account(m), 'true', 'false');
  }
  await operator.contract.submitTransaction('Issue', account(members.seller), 'ACME', '100000');
  await operator.contract.submitTransaction('Issue', account(members.buyer), 'USD', '100000000');
  const dirs: string[] = [];
  return {
    devnet,
    chaincode,
    operator,
    members,
    account,
    client,
    member: (name, attributes) => issue(bank, name, attributes === undefined ? {} : { attributes }),
    config,
    dirs,
    async close() {
      operator.close();
      await devnet.close();
      await chaincode.stop();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}

function progressIn(n: Network_): Progress {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-fabric-'));
  n.dirs.push(dir);
  return Progress.open(dir);
}

function ledgerOn(n: Network_, progress = progressIn(n), log?: (line: string) => void): FabricLedger {
  return new FabricLedger({
    venue: VENUE,
    gateway: n.operator.gateway,
    contract: n.operator.contract,
    progress,
    asset: (id) => (id === ACME ? { security: 'ACME', cash: 'USD' } : undefined),
    ...(log === undefined ? {} : { log }),
  });
}

let nextTrade = 1;
function trade(n: Network_, seller: FabricMember, buyer: FabricMember, quantity = 1): SettlementInstruction {
  return {
    tradeId: nextTrade++,
    instrument: ACME,
    venue: VENUE,
    buyer: n.account(buyer),
    seller: n.account(seller),
    quantity,
    buyerCash: 101 * quantity,
    sellerCash: 100 * quantity,
    fee: quantity,
    matchedAt: 0,
  };
}

async function holding(n: Network_, account: string, asset = 'ACME'): Promise<bigint> {
  return BigInt(
    Buffer.from(await n.operator.contract.evaluateTransaction('BalanceOf', account, asset)).toString(),
  );
}

ledgerContract('fabric', async () => {
  const n = await network();
  const { seller, buyer, empty } = n.members;
  return {
    ledger: ledgerOn(n),
    good: () => trade(n, seller, buyer),
    bad: () => ({ instruction: trade(n, empty, buyer), reason: /INSUFFICIENT_SECURITY/ }),
    holding: (account) => holding(n, account),
    close: () => n.close(),
  };
});

describe('settlement on Fabric (devnet)', () => {
  let n: Network_;
  before(async () => {
    n = await network();
  });
  after(() => n?.close());

  it('refuses a buyer outside the venue, a frozen seller and an unregistered buyer, each by name', async () => {
    const { seller, buyer, stranger, empty } = n.members;
    const unregistered = await n.member('nobody');
    await n.operator.contract.submitTransaction('SetStanding', n.account(empty), 'true', 'true');
    const outcomes = await ledgerOn(n).settle([
      trade(n, seller, stranger),
      trade(n, empty, buyer),
      trade(n, seller, unregistered),
    ]);
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.reason)),
      ['TO_NOT_MEMBER', 'FROM_FROZEN', 'TO_NOT_VERIFIED'],
    );
  });

  it('enrolls an identity whose certificate carries the venue attribute, and refuses others by name', async () => {
    const attribute = { name: 'mosaic.investor', value: 'true' };
    await n.operator.contract.submitTransaction(
      'Configure',
      JSON.stringify({ ...n.config, eligibleAttribute: attribute }),
    );
    const investor = await n.member('investor', { 'mosaic.investor': 'true' });
    const plain = await n.member('plain');
    const enroll = async (m: FabricMember) => {
      const c = n.client(m);
      try {
        return JSON.parse(Buffer.from(await c.contract.submitTransaction('Enroll')).toString()) as unknown;
      } finally {
        c.close();
      }
    };
    assert.deepEqual(await enroll(investor), { eligible: true, frozen: false });
    await assert.rejects(enroll(plain), (err: Error & { details?: Array<{ message: string }> }) =>
      (err.details ?? []).some((d) => d.message.includes('the certificate lacks mosaic.investor=true')),
    );
    await assert.rejects(
      enroll(n.members.stranger),
      (err: Error & { details?: Array<{ message: string }> }) =>
        (err.details ?? []).some((d) => d.message.includes('MSP OtherMSP is not a member of this venue')),
    );
    // and the enrolled identity may now buy
    await n.operator.contract.submitTransaction('Issue', n.account(investor), 'USD', '1000');
    const [o] = await ledgerOn(n).settle([trade(n, n.members.seller, investor)]);
    assert.equal(o?.ok, true, JSON.stringify(o));
  });

  it('refuses to settle for an operator whose certificate no member CA issued, saying why', async () => {
    const impostor = await issue(await makeMsp('BankAMSP'), 'operator'); // same names, another root
    const c = n.client(impostor);
    try {
      const ledger = new FabricLedger({
        venue: VENUE,
        gateway: c.gateway,
        contract: c.contract,
        progress: progressIn(n),
        asset: () => ({ security: 'ACME', cash: 'USD' }),
      });
      await assert.rejects(ledger.settle([trade(n, n.members.seller, n.members.buyer)]), (err: Error) => {
        assert.match(err.message, /SettleBatch .* failed: .*PERMISSION_DENIED|certificate/i);
        return true;
      });
    } finally {
      c.close();
    }
  });

  it('settles concurrent batches that read the same balances once each, retrying the MVCC conflicts', async () => {
    const { seller, buyer } = n.members;
    const before = await holding(n, n.account(buyer));
    const batches = Array.from({ length: 4 }, () => [trade(n, seller, buyer), trade(n, seller, buyer)]);
    const logs: string[] = [];
    const results = await Promise.all(
      batches.map((b) => ledgerOn(n, progressIn(n), (line) => logs.push(line)).settle(b)),
    );
    for (const r of results)
      assert.deepEqual(
        r.map((o) => o.ok),
        [true, true],
      );
    assert.equal(await holding(n, n.account(buyer)), before + 8n);
    assert.ok(
      logs.some((l) => /hit MVCC_READ_CONFLICT; endorsing it again/.test(l)),
      `the batches conflicted and were retried: ${logs.join(' | ')}`,
    );
  });

  it('after a crash, sends the recorded batch again under its transaction id and settles nothing twice', async () => {
    const { seller, buyer } = n.members;
    const progress = progressIn(n);
    const batch = [trade(n, seller, buyer, 3)];
    const before = await holding(n, n.account(buyer));
    // Given a daemon that recorded its batch, had it committed, and died before hearing so
    const sent: string[] = [];
    const dying = new FabricLedger({
      venue: VENUE,
      gateway: n.operator.gateway,
      contract: crashAfterSubmit(n.operator.contract, sent),
      progress,
      asset: () => ({ security: 'ACME', cash: 'USD' }),
    });
    await assert.rejects(dying.settle(batch), /died after submitting/);
    assert.equal(sent.length, 1);
    await waitFor(async () => (await holding(n, n.account(buyer))) === before + 3n);

    // When the next daemon settles the same batch from the same progress
    const logs: string[] = [];
    const next = new FabricLedger({
      venue: VENUE,
      gateway: n.operator.gateway,
      contract: n.operator.contract,
      progress,
      asset: () => ({ security: 'ACME', cash: 'USD' }),
      log: (line) => logs.push(line),
    });
    const outcomes = await next.settle(batch);

    // Then it went out under the recorded transaction id, and the verdict is the first one
    assert.ok(
      logs.some((l) => l.includes(`sending batch transaction ${sent[0]} again`)),
      logs.join('\n'),
    );
    assert.deepEqual(outcomes, [{ tradeId: batch[0]!.tradeId, ok: true, ref: sent[0] }]);
    assert.equal(await holding(n, n.account(buyer)), before + 3n);
    const status = JSON.parse(
      Buffer.from(
        await n.operator.contract.evaluateTransaction('TradeStatus', String(batch[0]!.tradeId)),
      ).toString(),
    ) as Verdict;
    assert.deepEqual([status.ok, status.txId], [true, sent[0]]);
  });

  it('turns issuances, withdrawals and standing into ledger changes, once each, resuming from its checkpoint', async () => {
    const { seller } = n.members;
    const source = new FabricChanges({ venue: VENUE, network: n.operator.network, chaincode: CHAINCODE });
    try {
      await n.operator.contract.submitTransaction('Issue', n.account(seller), 'USD', '500');
      await n.operator.contract.submitTransaction('SetStanding', n.account(seller), 'true', 'true');
      const sellerClient = n.client(seller);
      try {
        await sellerClient.contract.submitTransaction('Withdraw', 'USD', '200');
      } finally {
        sellerClient.close();
      }
      let changes: Awaited<ReturnType<FabricChanges['poll']>>['changes'] = [];
      let checkpoint: string | null = null;
      for (let i = 0; i < 100; i++) {
        const r = await source.poll(checkpoint);
        changes = changes.concat(r.changes);
        checkpoint = r.checkpoint;
        if (changes.some((c) => c.kind === 'withdraw')) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const mine = changes.filter((c) => c.account === n.account(seller));
      assert.deepEqual(
        mine.slice(-3).map((c) => (c.kind === 'standing' ? [c.kind, c.frozen] : [c.kind, c.asset, c.amount])),
        [
          ['deposit', `USD@${VENUE}`, 500],
          ['standing', true],
          ['withdraw', `USD@${VENUE}`, 200],
        ],
      );
      assert.equal(new Set(changes.map((c) => c.ref)).size, changes.length, 'one change per transaction');
    } finally {
      source.close();
    }
  });
});
