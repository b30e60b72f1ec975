/**
 * A permissioned venue whose trade details go into a private data collection (issue 6), against
 * real parts: the settlement chaincode served as chaincode-as-a-service, the devnet peer with the
 * collection `clubTrades` (member: ClubMSP), and the unmodified fabric-gateway client. Trades
 * settle; the committed transaction carries the ids and the hashes of the details, never the
 * details; members read them, others are refused; a batch sent again after a crash settles once;
 * a restart on the state file keeps the private data.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Contract, type Gateway } from '@hyperledger/fabric-gateway';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import {
  type ChaincodeProcess,
  type ChainTrade,
  type Devnet,
  type DevnetOptions,
  fabricClient,
  FabricLedger,
  startChaincode,
  startDevnet,
} from '../../connectors/fabric/index.ts';
import { Progress, type SettlementInstruction } from '../../connectors/index.ts';
import { issue, makeMsp, type FabricMember, type Msp } from '../support/identities.ts';
import { crashAfterSubmit, crashBeforeEndorse } from '../support/fabric.ts';
import { until } from '../support/wait.ts';
import { lineLogger } from '../../common/index.ts';

const CHANNEL = 'club-net';
const CHAINCODE = 'mosaic-settlement';
const COLLECTION = 'clubTrades';
const VENUE = 'fabric:club-net';
const ACME = `ACME@${VENUE}`;
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const sha256 = (bytes: Uint8Array | string): Buffer => createHash('sha256').update(bytes).digest();

interface Client {
  gateway: Gateway;
  contract: Contract;
  close(): void;
}

type GatewayFailure = Error & { details?: Array<{ message: string }> };
const failureText = (err: GatewayFailure): string =>
  [err.message, ...(err.details ?? []).map((d) => d.message)].join(' | ');

describe('private trade details on Fabric (devnet)', () => {
  let chaincode: ChaincodeProcess;
  let club: Msp;
  let other: Msp;
  let devnet: Devnet;
  let operatorId: FabricMember;
  let operator: Client;
  let seller: FabricMember;
  let buyer: FabricMember;
  let stranger: FabricMember;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-fabric-private-'));
  const stateFile = path.join(dir, 'blocks.bin');
  const account = (m: FabricMember): string => `${m.mspId}:${m.commonName}`;
  let nextTrade = 1;
  /** A trade settled by the first case, read again after the restart. */
  let settled: { tradeId: number; details: ChainTrade } | undefined;

  const options = (): DevnetOptions => ({
    channel: CHANNEL,
    msps: [club.config, other.config],
    chaincodes: [
      {
        name: CHAINCODE,
        address: chaincode.address,
        collections: [{ name: COLLECTION, memberMsps: ['ClubMSP'] }],
      },
    ],
    stateFile,
  });

  const client = (m: FabricMember): Client =>
    fabricClient(devnet.endpoint, m, { channel: CHANNEL, chaincode: CHAINCODE });

  const progress = (): Progress => Progress.open(fs.mkdtempSync(path.join(dir, 'progress-')));

  const ledgerOn = (o: { contract?: Contract; progress?: Progress; log?: (l: string) => void } = {}) =>
    new FabricLedger({
      venue: VENUE,
      gateway: operator.gateway,
      contract: o.contract ?? operator.contract,
      progress: o.progress ?? progress(),
      asset: (id) => (id === ACME ? { security: 'ACME', cash: 'USD' } : undefined),
      privateCollection: COLLECTION,
      ...(o.log === undefined ? {} : { log: lineLogger(o.log) }),
    });

  /** Amounts chosen so that no public balance they leave contains them as digits. */
  const trade = (quantity: number, buyerCash: number, fee: number): SettlementInstruction => ({
    tradeId: nextTrade++,
    instrument: ACME,
    venue: VENUE,
    buyer: account(buyer),
    seller: account(seller),
    quantity,
    buyerCash,
    sellerCash: buyerCash - fee,
    fee,
    matchedAt: 0,
  });

  const holding = async (m: FabricMember, asset = 'ACME'): Promise<bigint> =>
    BigInt(text(await operator.contract.evaluateTransaction('BalanceOf', account(m), asset)));

  /** TradeDetails as `m` evaluates it. */
  const detailsAs = async (m: FabricMember, tradeId: number): Promise<string> => {
    const c = client(m);
    try {
      return text(await c.contract.evaluateTransaction('TradeDetails', String(tradeId)));
    } finally {
      c.close();
    }
  };

  before(async () => {
    chaincode = await startChaincode({ ccid: `${CHAINCODE}:1`, admin: 'ClubMSP:operator' });
    club = await makeMsp('ClubMSP');
    other = await makeMsp('OtherMSP');
    devnet = await startDevnet(options());
    operatorId = await issue(club, 'operator');
    operator = client(operatorId);
    seller = await issue(club, 'seller');
    buyer = await issue(club, 'buyer');
    stranger = await issue(other, 'stranger');
    const config = {
      operator: account(operatorId),
      feeAccount: 'ClubMSP:fees',
      members: ['ClubMSP'],
      eligibleAttribute: null,
      privateCollection: COLLECTION,
    };
    await operator.contract.submitTransaction('Configure', JSON.stringify(config));
    for (const m of [seller, buyer]) {
      await operator.contract.submitTransaction('SetStanding', account(m), 'true', 'false');
    }
    await operator.contract.submitTransaction('Issue', account(seller), 'ACME', '100000');
    await operator.contract.submitTransaction('Issue', account(buyer), 'ACME', '1000');
    await operator.contract.submitTransaction('Issue', account(buyer), 'USD', '100000000');
  });

  after(async () => {
    operator?.close();
    await devnet?.close();
    await chaincode?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('settles a batch; the details are private, read by members and refused to other MSPs', async () => {
    // given a trade of 4321 ACME for 987654 USD
    const instruction = trade(4321, 987654, 13);
    // when it settles through the ledger with transient details
    const [outcome] = await ledgerOn().settle([instruction]);
    // then it settled, balances moved once, and members read its details
    assert.equal(outcome?.ok, true, JSON.stringify(outcome));
    assert.equal(await holding(buyer), 1000n + 4321n);
    const details = JSON.parse(await detailsAs(buyer, instruction.tradeId)) as ChainTrade;
    assert.deepEqual(details, {
      tradeId: instruction.tradeId,
      security: 'ACME',
      cash: 'USD',
      buyer: account(buyer),
      seller: account(seller),
      quantity: '4321',
      cashAmount: '987654',
      fee: '13',
    });
    settled = { tradeId: instruction.tradeId, details };
    // and a client of OtherMSP is refused by the peer (member-only read)
    await assert.rejects(detailsAs(stranger, instruction.tradeId), (err: GatewayFailure) => {
      assert.match(failureText(err), /does not have read access permission on privatedata.*clubTrades/);
      return true;
    });
  });

  it('commits the ids and the hashes of the details, never the details', async () => {
    assert.ok(settled !== undefined, 'the first case settled a trade');
    const { tradeId, details } = settled;
    // given the committed transaction of the batch, read from the state file
    const envelope = committedEnvelopes().find((e) => settleArgument(e) !== undefined);
    assert.ok(envelope !== undefined, 'a SettleBatch transaction is in the blocks');
    // then its argument is the ids, and neither the amounts nor the detail fields are in it
    assert.equal(settleArgument(envelope), JSON.stringify([tradeId]));
    const bytes = Buffer.from(envelope);
    for (const secret of ['4321', '987654', '"quantity"', '"cashAmount"']) {
      assert.equal(bytes.includes(secret), false, `the transaction carries ${secret}`);
    }
    // and its read-write set holds the collection's hashes: sha256 of the key and of the value
    const hashed = collectionWrites(envelope, COLLECTION);
    const stored = Buffer.from(JSON.stringify(details));
    assert.deepEqual(hashed, [
      { keyHash: sha256(String(tradeId)).toString('hex'), valueHash: sha256(stored).toString('hex') },
    ]);
    // and the values are kept beside the blocks, not in them
    assert.equal(fs.readFileSync(stateFile).includes('987654'), false);
    assert.equal(fs.readFileSync(`${stateFile}.private`).includes(stored), true);
  });

  it('refuses a batch whose details would go public on the ledger', async () => {
    const publicLedger = new FabricLedger({
      venue: VENUE,
      gateway: operator.gateway,
      contract: operator.contract,
      progress: progress(),
      asset: () => ({ security: 'ACME', cash: 'USD' }),
    });
    await assert.rejects(publicLedger.settle([trade(7, 707, 1)]), /settles privately/);
  });

  it('after a crash, sends the recorded proposal, transient data included, and settles once', async () => {
    const recorded = progress();
    const batch = [trade(3, 311, 2)];
    const before = await holding(buyer);
    // given a daemon that recorded its batch, had it committed, and died before hearing so
    const sent: string[] = [];
    const dying = ledgerOn({ contract: crashAfterSubmit(operator.contract, sent), progress: recorded });
    await assert.rejects(dying.settle(batch), /died after submitting/);
    assert.equal(sent.length, 1);
    await until('the batch committed', async () => (await holding(buyer)) === before + 3n);
    // when the next daemon settles the same batch from the same progress
    const logs: string[] = [];
    const outcomes = await ledgerOn({ progress: recorded, log: (l) => logs.push(l) }).settle(batch);
    // then it went out under the recorded transaction id and the first verdict stands
    assert.ok(
      logs.some((l) => l.includes(`sending batch transaction ${sent[0]} again`)),
      logs.join('\n'),
    );
    assert.deepEqual(outcomes, [{ tradeId: batch[0]!.tradeId, ok: true, ref: sent[0] }]);
    assert.equal(await holding(buyer), before + 3n);
    const details = JSON.parse(await detailsAs(buyer, batch[0]!.tradeId)) as ChainTrade;
    assert.equal(details.cashAmount, '311');

    // and a recorded proposal that never reached the peer is endorsed with its transient trades
    const fresh = progress();
    const unsent = [trade(2, 222, 1)];
    const never = ledgerOn({ contract: crashBeforeEndorse(operator.contract), progress: fresh });
    await assert.rejects(never.settle(unsent), /died before endorsing/);
    const [resent] = await ledgerOn({ progress: fresh }).settle(unsent);
    assert.equal(resent?.ok, true, JSON.stringify(resent));
    assert.equal((JSON.parse(await detailsAs(buyer, unsent[0]!.tradeId)) as ChainTrade).cashAmount, '222');
  });

  it('keeps the private data across a restart on the state file', async () => {
    assert.ok(settled !== undefined, 'the first case settled a trade');
    const height = devnet.height();
    // when the devnet restarts on its state file
    operator.close();
    await devnet.close();
    devnet = await startDevnet(options());
    operator = client(operatorId);
    // then the blocks, the details and the member-only read carry on
    assert.equal(devnet.height(), height);
    assert.deepEqual(JSON.parse(await detailsAs(buyer, settled.tradeId)), settled.details);
    await assert.rejects(detailsAs(stranger, settled.tradeId), (err: GatewayFailure) =>
      /does not have read access permission/.test(failureText(err)),
    );
    // and a new batch settles privately
    const instruction = trade(5, 555, 1);
    const [outcome] = await ledgerOn().settle([instruction]);
    assert.equal(outcome?.ok, true, JSON.stringify(outcome));
    assert.equal((JSON.parse(await detailsAs(seller, instruction.tradeId)) as ChainTrade).quantity, '5');
  });

  /** The envelopes of the valid transactions in the state file's blocks. */
  function committedEnvelopes(): Uint8Array[] {
    const bytes = fs.readFileSync(stateFile);
    const envelopes: Uint8Array[] = [];
    for (let at = 0; at + 4 <= bytes.length;) {
      const length = bytes.readUInt32BE(at);
      const block = common.Block.deserializeBinary(bytes.subarray(at + 4, at + 4 + length));
      const codes = block.getMetadata()?.getMetadataList_asU8()[
        common.BlockMetadataIndex.TRANSACTIONS_FILTER
      ];
      (block.getData()?.getDataList_asU8() ?? []).forEach((envelope, i) => {
        if (codes?.[i] === peer.TxValidationCode.VALID) envelopes.push(envelope);
      });
      at += 4 + length;
    }
    return envelopes;
  }
});

/** The chaincode action of an endorsed transaction envelope, and its input. */
function actionOf(envelope: Uint8Array): {
  input: peer.ChaincodeInput | undefined;
  action: peer.ChaincodeAction;
} {
  const payload = common.Payload.deserializeBinary(
    common.Envelope.deserializeBinary(envelope).getPayload_asU8(),
  );
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(
    transaction.getActionsList()[0]!.getPayload_asU8(),
  );
  const proposalPayload = peer.ChaincodeProposalPayload.deserializeBinary(
    actionPayload.getChaincodeProposalPayload_asU8(),
  );
  const input = peer.ChaincodeInvocationSpec.deserializeBinary(proposalPayload.getInput_asU8())
    .getChaincodeSpec()
    ?.getInput();
  const responsePayload = peer.ProposalResponsePayload.deserializeBinary(
    actionPayload.getAction()!.getProposalResponsePayload_asU8(),
  );
  return { input, action: peer.ChaincodeAction.deserializeBinary(responsePayload.getExtension_asU8()) };
}

/** The argument of a SettleBatch transaction, or undefined for another one. */
function settleArgument(envelope: Uint8Array): string | undefined {
  const args = actionOf(envelope).input?.getArgsList_asU8() ?? [];
  if (args[0] === undefined || !/^(mosaic\.settlement:)?SettleBatch$/.test(text(args[0]))) return undefined;
  return args[1] === undefined ? undefined : text(args[1]);
}

/** The hashed writes of a collection in the transaction's read-write set (hex). */
function collectionWrites(
  envelope: Uint8Array,
  collection: string,
): { keyHash: string; valueHash: string }[] {
  const results = ledger.rwset.TxReadWriteSet.deserializeBinary(actionOf(envelope).action.getResults_asU8());
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return results
    .getNsRwsetList()
    .flatMap((ns) => ns.getCollectionHashedRwsetList())
    .filter((c) => c.getCollectionName() === collection)
    .flatMap((c) =>
      ledger.rwset.kvrwset.HashedRWSet.deserializeBinary(c.getHashedRwset_asU8()).getHashedWritesList(),
    )
    .map((w) => ({ keyHash: hex(w.getKeyHash_asU8()), valueHash: hex(w.getValueHash_asU8()) }));
}
