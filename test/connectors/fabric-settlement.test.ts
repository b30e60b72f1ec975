/**
 * Settlement on Fabric against real parts: the settlement chaincode (fabric-contract-api, served
 * as chaincode-as-a-service), the devnet peer, and the unmodified fabric-gateway client. The
 * shared ledger contract suite runs on it; then its own cases: standing and freezes, concurrent
 * batches that conflict (MVCC) and still settle once, a batch sent again under its recorded
 * transaction id after a crash, the chaincode's events into ledger changes, and the check at
 * start that the network still holds the block and the batch transaction the daemon recorded.
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
  FabricBlocks,
  FabricChanges,
  fabricClient,
  FabricLedger,
  startChaincode,
  startDevnet,
  type Verdict,
} from '../../connectors/fabric/index.ts';
import {
  blockCheckpoint,
  changesCheckpoint,
  checkLedgerKept,
  Progress,
  type SettlementInstruction,
  Settler,
  type VerdictCommand,
} from '../../connectors/index.ts';
import { issue, makeMsp, type FabricMember } from '../support/identities.ts';
import { ledgerContract } from './ledger-contract.ts';
import { crashAfterSubmit } from '../support/fabric.ts';
import { until } from '../support/wait.ts';
import { isCodedError, lineLogger, silentLogger } from '../../common/index.ts';

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
  // The operator deploys the chaincode, so it is the admin that configures the venue.
  const chaincode = await startChaincode({ ccid: `${CHAINCODE}:1`, admin: 'BankAMSP:operator' });
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
    ...(log === undefined ? {} : { log: lineLogger(log) }),
  });
}

let nextTrade = 1;
let nextWithdrawal = 1;
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
    withdrawal: (lots) => ({
      withdrawalId: nextWithdrawal++,
      account: n.account(seller),
      asset: ACME,
      amount: lots,
      venue: VENUE,
    }),
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

  it('stops a settler signing as a member that is not the operator: the chaincode refuses it, no retry', async () => {
    // Given a settler whose ledger signs as a member of the venue, not as its operator
    const c = n.client(n.members.empty);
    let settler: Settler | undefined;
    try {
      const progress = progressIn(n);
      const ledger = new FabricLedger({
        venue: VENUE,
        gateway: c.gateway,
        contract: c.contract,
        progress,
        asset: () => ({ security: 'ACME', cash: 'USD' }),
      });
      const failures: Error[] = [];
      const verdicts: VerdictCommand[] = [];
      settler = new Settler({
        ledger,
        progress,
        specOf: () => undefined,
        send: (v) => verdicts.push(v),
        log: silentLogger,
        onFailure: (err) => failures.push(err),
      });
      // When it is handed a trade to settle
      const {
        venue: _venue,
        matchedAt: _matchedAt,
        ...pending
      } = trade(n, n.members.seller, n.members.buyer);
      settler.start([pending]);
      // Then it stops on the chaincode's refusal, naming it, without retrying
      const err = await until('the settler to stop', () => failures[0]);
      assert.ok(isCodedError(err, 'NOT_OPERATOR'), `a NOT_OPERATOR error, got ${err.message}`);
      assert.match(err.message, /only the operator BankAMSP:operator may do this, not BankAMSP:empty/);
      assert.match(err.message, /sign with the operator's identity/);
      assert.equal(settler.failure, err);
      assert.equal(settler.stats.retries, 0);
      assert.deepEqual(verdicts, []);
    } finally {
      await settler?.stop();
      c.close();
    }
  });

  /**
   * Four batches of two trades between the same seller and buyer, handed at once to the ledgers
   * `ledgers` gives (logging to `logs`): each trade settled once; the lines logged.
   */
  const settleFourAtOnce = async (ledgers: (log: (line: string) => void) => () => FabricLedger) => {
    const { seller, buyer } = n.members;
    const before = await holding(n, n.account(buyer));
    const logs: string[] = [];
    const ledger = ledgers((line) => logs.push(line));
    const batches = Array.from({ length: 4 }, () => [trade(n, seller, buyer), trade(n, seller, buyer)]);
    const results = await Promise.all(batches.map((b) => ledger().settle(b)));
    for (const r of results)
      assert.deepEqual(
        r.map((o) => o.ok),
        [true, true],
      );
    assert.equal(await holding(n, n.account(buyer)), before + 8n);
    assert.equal(new Set(results.map((r) => r[0]!.ref)).size, 4, 'four transactions');
    return logs;
  };

  it('settles concurrent batches that read the same balances once each, retrying the MVCC conflicts', async () => {
    // (each batch through a ledger of its own, as several daemons would send them)
    const logs = await settleFourAtOnce((log) => () => ledgerOn(n, progressIn(n), log));
    assert.ok(
      logs.some((l) => /hit MVCC_READ_CONFLICT; endorsing it again/.test(l)),
      `the batches conflicted and were retried: ${logs.join(' | ')}`,
    );
  });

  it('settles batches that share balances, handed to one ledger at once, one after another without a conflict', async () => {
    const logs = await settleFourAtOnce((log) => {
      const ledger = ledgerOn(n, progressIn(n), log);
      return () => ledger;
    });
    assert.deepEqual(
      logs.filter((l) => /MVCC_READ_CONFLICT/.test(l)),
      [],
      'each endorsed after the one before it committed',
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
    await until('the batch committed', async () => (await holding(n, n.account(buyer))) === before + 3n);

    // When the next daemon settles the same batch from the same progress
    const logs: string[] = [];
    const next = new FabricLedger({
      venue: VENUE,
      gateway: n.operator.gateway,
      contract: n.operator.contract,
      progress,
      asset: () => ({ security: 'ACME', cash: 'USD' }),
      log: lineLogger((line) => logs.push(line)),
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

  it('keeps its last batch transaction; the check at start refuses a network behind, with other blocks or without it', async () => {
    const { seller, buyer } = n.members;
    const progress = progressIn(n);
    const blocks = new FabricBlocks(n.operator.network);
    // Given a batch settled, its transaction kept, and the change checkpoint at the last block
    const [outcome] = await ledgerOn(n, progress).settle([trade(n, seller, buyer)]);
    // (recorded off the event loop, after the outcomes)
    const tx = await until('the batch transaction recorded', () => FabricLedger.lastBatchTx(progress, VENUE));
    assert.equal(tx, outcome!.ref);
    const head = await blocks.head();
    assert.equal(head, n.devnet.height() - 1);
    const hash = await blocks.blockHash(head);
    const name = changesCheckpoint(VENUE);
    progress.setCheckpoint(name, blockCheckpoint(head, hash));
    const check = (lastTx: string | undefined) =>
      checkLedgerKept({ venue: VENUE, ledger: 'the devnet', blocks, progress, lastTx, dataDir: '/data' });
    await check(tx);
    // When the network does not hold what was recorded, the start is refused saying what differs
    const other = '0'.repeat(64);
    const cases: Array<[string, string | undefined, string]> = [
      [blockCheckpoint(head + 3, hash), tx, `its last block is ${head} (hash ${hash})`],
      [blockCheckpoint(head, other), tx, `its block ${head} has hash ${hash} (its last block is ${head})`],
      [
        blockCheckpoint(head, hash),
        other,
        `it does not hold transaction ${other}, the last batch the exchange settled or released there`,
      ],
    ];
    for (const [checkpoint, lastTx, found] of cases) {
      progress.setCheckpoint(name, checkpoint);
      const [block, recorded] = checkpoint.split(':');
      await assert.rejects(check(lastTx), (err: Error) => {
        assert.ok(
          err.message.startsWith(
            `${VENUE}: the devnet went back, or is another one: the exchange read it up to block ` +
              `${block} (hash ${recorded}), and ${found}`,
          ),
          err.message,
        );
        return true;
      });
    }
  });

  it('lets no account take assets off the venue by itself: only the operator releases, by withdrawal id', async () => {
    const { seller } = n.members;
    const before = await holding(n, n.account(seller));
    const sellerClient = n.client(seller);
    const refusal = (text: string) => (err: Error & { details?: Array<{ message: string }> }) =>
      (err.details ?? []).some((d) => d.message.includes(text));
    try {
      await assert.rejects(
        sellerClient.contract.submitTransaction('Withdraw', 'ACME', '1'),
        refusal('Withdraw'),
      );
      const batch = [{ withdrawalId: 900_001, account: n.account(seller), asset: 'ACME', amount: '1' }];
      await assert.rejects(
        sellerClient.contract.submitTransaction('ReleaseBatch', JSON.stringify(batch)),
        refusal(`only the operator ${n.config.operator as string} may do this, not ${n.account(seller)}`),
      );
    } finally {
      sellerClient.close();
    }
    assert.equal(await holding(n, n.account(seller)), before);
    assert.equal(
      Buffer.from(await n.operator.contract.evaluateTransaction('WithdrawalStatus', '900001')).toString(),
      '',
    );
  });

  it('turns issuances and standing into ledger changes, once each, and a release into none', async () => {
    const { seller } = n.members;
    const blocks = new FabricBlocks(n.operator.network);
    const source = new FabricChanges({
      venue: VENUE,
      network: n.operator.network,
      chaincode: CHAINCODE,
      blocks,
    });
    try {
      await n.operator.contract.submitTransaction('Issue', n.account(seller), 'USD', '500');
      const release = [{ withdrawalId: 900_002, account: n.account(seller), asset: 'USD', amount: '200' }];
      await n.operator.contract.submitTransaction('ReleaseBatch', JSON.stringify(release));
      await n.operator.contract.submitTransaction('SetStanding', n.account(seller), 'true', 'true');
      let changes: Awaited<ReturnType<FabricChanges['poll']>>['changes'] = [];
      let checkpoint: string | null = null;
      await until('the standing change read', async () => {
        const r = await source.poll(checkpoint);
        changes = changes.concat(r.changes);
        checkpoint = r.checkpoint;
        return changes.some((c) => c.kind === 'standing' && c.frozen === true);
      });
      const mine = changes.filter((c) => c.account === n.account(seller));
      assert.deepEqual(
        mine.slice(-2).map((c) => (c.kind === 'standing' ? [c.kind, c.frozen] : [c.kind, c.asset, c.amount])),
        [
          ['deposit', `USD@${VENUE}`, 500],
          ['standing', true],
        ],
      );
      assert.equal(new Set(changes.map((c) => c.ref)).size, changes.length, 'one change per transaction');
      // The checkpoint names the block of the last change by its number and its hash.
      const [block, hash] = checkpoint!.split(':');
      assert.equal(hash, await blocks.blockHash(Number(block)));
    } finally {
      source.close();
    }
  });
});

describe('configuring the settlement chaincode', () => {
  const refusal = (text: string) => (err: Error & { details?: Array<{ message: string }> }) => {
    assert.ok(
      (err.details ?? []).some((d) => d.message.includes(text)),
      `${err.message}: ${JSON.stringify(err.details)}`,
    );
    return true;
  };

  it('takes the first Configure only from its admin (an identity, or any of an admin MSP), later also from the operator', async () => {
    const [bank, admins, other] = [
      await makeMsp('BankAMSP'),
      await makeMsp('AdminMSP'),
      await makeMsp('OtherMSP'),
    ];
    const chaincode = await startChaincode({ ccid: `${CHAINCODE}:1`, admin: 'BankAMSP:deployer, AdminMSP' });
    const devnet = await startDevnet({
      channel: CHANNEL,
      msps: [bank.config, admins.config, other.config],
      chaincodes: [{ name: CHAINCODE, address: chaincode.address }],
    });
    try {
      const [deployer, operator, adminMember, stranger] = [
        await issue(bank, 'deployer'),
        await issue(bank, 'operator'),
        await issue(admins, 'anyone'),
        await issue(other, 'stranger'),
      ];
      const account = (m: FabricMember) => `${m.mspId}:${m.commonName}`;
      const submit = async (m: FabricMember, fn: string, ...args: string[]) => {
        const c = fabricClient(devnet.endpoint, m, { channel: CHANNEL, chaincode: CHAINCODE });
        try {
          await c.contract.submitTransaction(fn, ...args);
        } finally {
          c.close();
        }
      };
      const config = {
        operator: account(operator),
        feeAccount: 'BankAMSP:fees',
        members: ['BankAMSP'],
        eligibleAttribute: null,
      };
      const configure = (m: FabricMember, c: object = config) => submit(m, 'Configure', JSON.stringify(c));

      // Given the chaincode just deployed: no one but its admin may configure it, not even the operator-to-be
      for (const m of [stranger, operator]) {
        await assert.rejects(
          configure(m, { ...config, operator: account(m) }),
          refusal(
            `only the chaincode's admin (BankAMSP:deployer, any identity of AdminMSP) may configure this venue, not ${account(m)}`,
          ),
        );
      }
      await assert.rejects(
        submit(operator, 'SetStanding', 'BankAMSP:x', 'true', 'false'),
        refusal('the venue is not configured'),
      );
      // When an identity of the admin MSP configures it, then the operator it names may change it, and the deployer
      await configure(adminMember);
      await configure(operator, { ...config, members: ['BankAMSP', 'OtherMSP'] });
      await configure(deployer);
      await submit(operator, 'SetStanding', 'BankAMSP:x', 'true', 'false');
      // and anyone else is refused, naming who may
      await assert.rejects(
        configure(stranger, { ...config, operator: account(stranger) }),
        refusal(
          `only the chaincode's admin (BankAMSP:deployer, any identity of AdminMSP) or the operator ${account(operator)} may configure this venue, not ${account(stranger)}`,
        ),
      );
    } finally {
      await devnet.close();
      await chaincode.stop();
    }
  });

  it('does not start without CHAINCODE_ADMIN, nor with an entry that is neither an identity nor an MSP', async () => {
    await assert.rejects(
      startChaincode({ ccid: `${CHAINCODE}:1`, admin: ' ' }),
      /the chaincode exited \(2\) before it was ready:.*CHAINCODE_ADMIN \(who may configure the venue/s,
    );
    await assert.rejects(
      startChaincode({ ccid: `${CHAINCODE}:1`, admin: 'BankAMSP:ops, Bank AMSP' }),
      /"Bank AMSP" is neither MSPID:CommonName nor an MSP id/,
    );
  });
});
