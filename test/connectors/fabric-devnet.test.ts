/**
 * The Fabric devnet against the unmodified @hyperledger/fabric-gateway client and a real
 * fabric-contract-api chaincode served as chaincode-as-a-service: round trips, Fabric's
 * simulation semantics, MVCC, chaincode events with checkpoints, identity checks and restart on
 * the state file; private data (hashes on the ledger, MVCC by hashed key, restart); the query
 * system chaincode (chain info, blocks linked by Fabric's block hash, transactions by id); blocks
 * cut by their bytes (Fabric's PreferredMaxBytes); Fabric 3.1's batched state calls as a peer
 * offers them, and a call per key to a peer that offers none (Fabric 2.5).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  checkpointers,
  connect,
  hash,
  signers,
  type Contract,
  type Gateway,
  type GatewayError,
  type Network,
} from '@hyperledger/fabric-gateway';
import { common, gateway, ledger, peer } from '@hyperledger/fabric-protos';
import { issue, makeMsp, type FabricMember, type Msp } from '../support/identities.ts';
import { startTestChaincode, type TestChaincode } from '../support/fabric.ts';
import { blockHash, startDevnet, type Devnet } from '../../connectors/fabric/index.ts';

const CHANNEL = 'mosaic';
const CHAINCODE = 'devnet-test';
const COLLECTION = 'secrets';
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

interface Client {
  gateway: Gateway;
  network: Network;
  contract: Contract;
  close(): void;
}

function client(devnet: Devnet, member: FabricMember, signWith = member.privateKey): Client {
  const grpcClient = new grpc.Client(devnet.endpoint, grpc.credentials.createInsecure());
  const gateway = connect({
    client: grpcClient,
    identity: { mspId: member.mspId, credentials: Buffer.from(member.certificate) },
    signer: signers.newPrivateKeySigner(signWith),
    hash: hash.sha256,
  });
  const network = gateway.getNetwork(CHANNEL);
  return {
    gateway,
    network,
    contract: network.getContract(CHAINCODE),
    close: () => {
      gateway.close();
      grpcClient.close();
    },
  };
}

/**
 * A prepared transaction (`gateway.PreparedTransaction`) with its chaincode action payload changed
 * by `edit`, as a client could send it (the client signs the envelope after).
 */
function rewritten(prepared: Uint8Array, edit: (action: peer.ChaincodeActionPayload) => void): Uint8Array {
  const tx = gateway.PreparedTransaction.deserializeBinary(prepared);
  const envelope = tx.getEnvelope()!;
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const txAction = transaction.getActionsList()[0]!;
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(txAction.getPayload_asU8());
  edit(actionPayload);
  txAction.setPayload(actionPayload.serializeBinary());
  payload.setData(transaction.serializeBinary());
  envelope.setPayload(payload.serializeBinary());
  return tx.serializeBinary();
}

/** Every value the read-write set writes replaced by `value`; the peer's endorsement left as it was. */
const rewriteWrites =
  (value: string) =>
  (actionPayload: peer.ChaincodeActionPayload): void => {
    const endorsed = actionPayload.getAction()!;
    const response = peer.ProposalResponsePayload.deserializeBinary(
      endorsed.getProposalResponsePayload_asU8(),
    );
    const action = peer.ChaincodeAction.deserializeBinary(response.getExtension_asU8());
    const rwSet = ledger.rwset.TxReadWriteSet.deserializeBinary(action.getResults_asU8());
    for (const nsSet of rwSet.getNsRwsetList()) {
      const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(nsSet.getRwset_asU8());
      for (const write of kv.getWritesList()) write.setValue(Buffer.from(value));
      nsSet.setRwset(kv.serializeBinary());
    }
    action.setResults(rwSet.serializeBinary());
    response.setExtension$(action.serializeBinary());
    endorsed.setProposalResponsePayload(response.serializeBinary());
  };

/** The proposal's arguments replaced by `args` (the endorsed response, hashing the original, kept). */
const rewriteArguments =
  (args: string[]) =>
  (actionPayload: peer.ChaincodeActionPayload): void => {
    const proposed = peer.ChaincodeProposalPayload.deserializeBinary(
      actionPayload.getChaincodeProposalPayload_asU8(),
    );
    const spec = peer.ChaincodeInvocationSpec.deserializeBinary(proposed.getInput_asU8());
    spec
      .getChaincodeSpec()!
      .getInput()!
      .setArgsList(args.map((a) => Buffer.from(a)));
    proposed.setInput(spec.serializeBinary());
    actionPayload.setChaincodeProposalPayload(proposed.serializeBinary());
  };

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    return err as GatewayError;
  }
  assert.fail('expected the devnet to refuse');
}

describe('Fabric devnet', () => {
  let chaincode: TestChaincode;
  let bank: Msp;
  let alice: FabricMember;
  let devnet: Devnet;
  let app: Client;
  const dir = mkdtempSync(join(tmpdir(), 'fabric-devnet-'));
  const stateFile = join(dir, 'blocks.bin');

  /** Starts the devnet on the suite's state file, and the app's client on it. */
  const open = async () => {
    devnet = await startDevnet({
      channel: CHANNEL,
      msps: [bank.config],
      chaincodes: [
        {
          name: CHAINCODE,
          address: chaincode.address,
          collections: [{ name: COLLECTION, memberMsps: ['BankAMSP'] }],
        },
      ],
      stateFile,
    });
    app = client(devnet, alice);
  };

  before(async () => {
    chaincode = await startTestChaincode();
    bank = await makeMsp('BankAMSP');
    alice = await issue(bank, 'alice');
    await open();
  });

  after(async () => {
    app.close();
    await devnet.close();
    chaincode.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('submits and evaluates: a put is committed VALID in a block and read back', async () => {
    // when alice puts a key
    const submitted = await app.contract.submitAsync('put', { arguments: ['greeting', 'hello'] });
    const status = await submitted.getStatus();
    // then it is valid, in a block past genesis, and the key reads back
    assert.equal(status.successful, true);
    assert.equal(status.code, 0);
    assert.ok(status.blockNumber >= 1n);
    assert.equal(text(await app.contract.evaluateTransaction('get', 'greeting')), 'hello');
    assert.equal(text(await app.contract.evaluateTransaction('whoami')), 'BankAMSP');
  });

  it('returns the chaincode result from submit, and transient data reaches the chaincode', async () => {
    assert.equal(text(await app.contract.submitTransaction('increment', 'counter')), '1');
    assert.equal(text(await app.contract.submitTransaction('increment', 'counter')), '2');
    const secret = await app.contract.evaluate('transient', {
      arguments: ['price'],
      transientData: { price: Buffer.from('42') },
    });
    assert.equal(text(secret), '42');
  });

  it('follows Fabric: a simulation does not read its own writes; deletes remove the key', async () => {
    await app.contract.submitTransaction('put', 'own', 'before');
    assert.equal(text(await app.contract.evaluateTransaction('putThenGet', 'own', 'after')), 'before');
    await app.contract.submitTransaction('del', 'own');
    assert.equal(text(await app.contract.evaluateTransaction('get', 'own')), '');
  });

  it('answers range queries in key order, end key excluded, across result pages', async () => {
    for (const [key, value] of [
      ['r2', 'b'],
      ['r1', 'a'],
      ['r3', 'c'],
    ] as const) {
      await app.contract.submitTransaction('put', key, value);
    }
    const found = JSON.parse(text(await app.contract.evaluateTransaction('range', 'r1', 'r3'))) as unknown;
    assert.deepEqual(found, [
      { key: 'r1', value: 'a' },
      { key: 'r2', value: 'b' },
    ]);
    // more than one page (100) of results: the shim asks QUERY_STATE_NEXT
    const proposals = [];
    for (let i = 0; i < 120; i++) {
      proposals.push(
        app.contract.submitAsync('put', { arguments: [`p${String(i).padStart(3, '0')}`, String(i)] }),
      );
    }
    await Promise.all((await Promise.all(proposals)).map((s) => s.getStatus()));
    const many = JSON.parse(text(await app.contract.evaluateTransaction('range', 'p', 'q'))) as {
      key: string;
    }[];
    assert.equal(many.length, 120);
    assert.equal(many[119]?.key, 'p119');
    // in the order of the keys' UTF-8 bytes, as Fabric's (a code point past U+FFFF after U+E000,
    // where UTF-16 would put it before)
    const keys = ['u\u{1f600}', 'u\uffff', 'u\ue000', 'u\u0800', 'u\u00e9', 'u\u007f', 'u', 'uu'];
    for (const key of keys) await app.contract.submitTransaction('put', key, 'v');
    const inOrder = JSON.parse(text(await app.contract.evaluateTransaction('range', 'u', 'v'))) as {
      key: string;
    }[];
    assert.deepEqual(
      inOrder.map((r) => r.key),
      [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
  });

  it('marks the second of two transactions endorsed on the same key MVCC_READ_CONFLICT (11)', async () => {
    await app.contract.submitTransaction('put', 'race', '0');
    // given two increments endorsed against the same version of the key
    const first = await app.contract.newProposal('increment', { arguments: ['race'] }).endorse();
    const second = await app.contract.newProposal('increment', { arguments: ['race'] }).endorse();
    // when both are submitted
    const statuses = await Promise.all([
      (await first.submit()).getStatus(),
      (await second.submit()).getStatus(),
    ]);
    // then one commits and the other is invalidated
    assert.deepEqual(statuses.map((s) => s.code).sort(), [0, 11]);
    assert.equal(text(await app.contract.evaluateTransaction('get', 'race')), '1');
  });

  it('commits the read-write set the submitted endorsement carries, not the last one made under its id', async () => {
    // given a proposal endorsed, the key it reads changed, and the same proposal endorsed again
    await app.contract.submitTransaction('put', 'again-endorsed', '1');
    const stale = app.contract.newProposal('increment', { arguments: ['again-endorsed'] });
    const staleFirst = await stale.endorse();
    const fresh = app.contract.newProposal('increment', { arguments: ['again-endorsed'] });
    const freshFirst = await fresh.endorse();
    await app.contract.submitTransaction('put', 'again-endorsed', '5');
    await app.gateway.newProposal(stale.getBytes()).endorse();
    const freshSecond = await app.gateway.newProposal(fresh.getBytes()).endorse();
    assert.equal(freshFirst.getTransactionId(), freshSecond.getTransactionId());
    // when the first endorsement of one and the second of the other are submitted
    const staleStatus = await (await staleFirst.submit()).getStatus();
    const freshStatus = await (await freshSecond.submit()).getStatus();
    // then the first is judged on what it read (the key before it changed), the second commits its write
    assert.equal(staleStatus.code, 11);
    assert.equal(freshStatus.code, 0);
    assert.equal(text(await app.contract.evaluateTransaction('get', 'again-endorsed')), '6');
  });

  it('marks a transaction whose writes or arguments the client rewrote after endorsement ENDORSEMENT_POLICY_FAILURE (10)', async () => {
    for (const [what, edit] of [
      ['writes', rewriteWrites('forged')],
      ['arguments', rewriteArguments(['put', 'rewritten', 'forged'])],
    ] as const) {
      // given an endorsed put that the client changes before signing and submitting it
      const endorsed = await app.contract
        .newProposal('put', { arguments: ['rewritten', 'endorsed'] })
        .endorse();
      const forged = app.gateway.newTransaction(rewritten(endorsed.getBytes(), edit));
      // when it is submitted
      const status = await (await forged.submit()).getStatus();
      // then the peer's endorsement does not cover it, and nothing is written
      assert.equal(status.code, 10, what);
      assert.equal(text(await app.contract.evaluateTransaction('get', 'rewritten')), '', what);
    }
  });

  it('marks a range read that a later commit changed PHANTOM_READ_CONFLICT (12)', async () => {
    // given a transaction endorsed after reading a range
    await app.contract.submitTransaction('put', 'ph1', 'a');
    const scan = await app.contract.newProposal('range', { arguments: ['ph', 'pi'] }).endorse();
    // when a key is added inside the range before it commits
    await app.contract.submitTransaction('put', 'ph2', 'b');
    const status = await (await scan.submit()).getStatus();
    // then it is invalidated
    assert.equal(status.code, 12);
  });

  it('refuses a transaction submitted twice with ALREADY_EXISTS', async () => {
    const endorsed = await app.contract.newProposal('put', { arguments: ['twice', 'x'] }).endorse();
    await (await endorsed.submit()).getStatus();
    const err = await refusal(endorsed.submit());
    assert.equal(err.code, grpc.status.ALREADY_EXISTS);
  });

  it("refuses to endorse a committed transaction id again, as Fabric's endorser does", async () => {
    const proposal = app.contract.newProposal('put', { arguments: ['again', 'x'] });
    await (await (await proposal.endorse()).submit()).getStatus();
    const err = await refusal(app.gateway.newProposal(proposal.getBytes()).endorse());
    assert.equal(err.code, grpc.status.ABORTED);
    assert.match(err.details.map((d) => d.message).join(' '), /duplicate transaction found \[[0-9a-f]{64}\]/);
  });

  it('reports a chaincode error as an endorsement failure with details', async () => {
    const err = await refusal(app.contract.submitTransaction('fail', 'out of stock'));
    assert.equal(err.code, grpc.status.ABORTED);
    assert.match(err.details.map((d) => d.message).join(' '), /out of stock/);
  });

  it('hashes a block header as Fabric does: sha256 of its ASN.1 DER (number, previous hash, data hash)', () => {
    const header = new common.BlockHeader();
    header.setNumber(200);
    header.setPreviousHash(Buffer.alloc(32, 1));
    header.setDataHash(Buffer.alloc(200, 2));
    // SEQUENCE (long-form length 241) { INTEGER 200 (a leading 0: its top bit is set), OCTET STRING 32, OCTET STRING 200 }
    const der = Buffer.concat([
      Buffer.from([0x30, 0x81, 241, 0x02, 0x02, 0x00, 0xc8, 0x04, 0x20]),
      Buffer.alloc(32, 1),
      Buffer.from([0x04, 0x81, 200]),
      Buffer.alloc(200, 2),
    ]);
    assert.deepEqual(blockHash(header), createHash('sha256').update(der).digest());
  });

  it('answers the query system chaincode: chain info, blocks linked by their hash, transactions by id, across a restart', async () => {
    const submitted = await app.contract.submitAsync('put', { arguments: ['queried', 'yes'] });
    const status = await submitted.getStatus();
    const txId = submitted.getTransactionId();
    const qscc = () => app.network.getContract('qscc');
    const block = async (n: number) =>
      common.Block.deserializeBinary(
        await qscc().evaluateTransaction('GetBlockByNumber', CHANNEL, String(n)),
      );
    const info = async () =>
      common.BlockchainInfo.deserializeBinary(await qscc().evaluateTransaction('GetChainInfo', CHANNEL));
    // the chain info: its height, the hash of the last block and the one before it
    const before = await info();
    assert.equal(before.getHeight(), devnet.height());
    const last = (await block(devnet.height() - 1)).getHeader()!;
    assert.deepEqual(Buffer.from(before.getCurrentblockhash_asU8()), blockHash(last));
    assert.deepEqual(before.getPreviousblockhash_asU8(), last.getPreviousHash_asU8());
    // every block holds the hash of the one before it, from the genesis block on
    const hashes = [blockHash((await block(0)).getHeader()!)];
    for (let n = 1; n < devnet.height(); n++) {
      const header = (await block(n)).getHeader()!;
      assert.equal(header.getNumber(), n);
      assert.deepEqual(Buffer.from(header.getPreviousHash_asU8()), hashes[n - 1], `block ${n}`);
      hashes.push(blockHash(header));
    }
    // a transaction by id: its envelope and its validation code, in the block its status named
    const processed = peer.ProcessedTransaction.deserializeBinary(
      await qscc().evaluateTransaction('GetTransactionByID', CHANNEL, txId),
    );
    assert.equal(processed.getValidationcode(), 0);
    const payload = common.Payload.deserializeBinary(processed.getTransactionenvelope()!.getPayload_asU8());
    const channelHeader = common.ChannelHeader.deserializeBinary(
      payload.getHeader()!.getChannelHeader_asU8(),
    );
    assert.equal(channelHeader.getTxId(), txId);
    const inBlock = (await block(Number(status.blockNumber))).getData()!.getDataList_asU8();
    assert.ok(
      inBlock.some((e) => Buffer.from(e).equals(processed.getTransactionenvelope()!.serializeBinary())),
    );
    // what the ledger does not hold is refused as Fabric refuses it
    const missing = await refusal(qscc().evaluateTransaction('GetTransactionByID', CHANNEL, 'f'.repeat(64)));
    assert.match(missing.details.map((d) => d.message).join(' '), /no such transaction ID \[f{64}\]/);
    const beyond = await refusal(
      qscc().evaluateTransaction('GetBlockByNumber', CHANNEL, String(devnet.height())),
    );
    assert.match(beyond.details.map((d) => d.message).join(' '), /no such block number/);
    // and after a restart on the state file, the same blocks with the same hashes
    app.close();
    await devnet.close();
    await open();
    assert.deepEqual((await info()).toObject(), before.toObject());
    for (let n = 1; n < hashes.length; n++)
      assert.deepEqual(blockHash((await block(n)).getHeader()!), hashes[n]);
  });

  it('streams chaincode events from a start block and resumes from a checkpoint', async () => {
    // given three increments of a fresh key, committed after `start`
    const start = BigInt(devnet.height());
    const txIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const submitted = await app.contract.submitAsync('increment', { arguments: ['evented'] });
      txIds.push(submitted.getTransactionId());
      await submitted.getStatus();
    }
    // when a listener reads one event from `start` and checkpoints it
    const checkpointer = checkpointers.inMemory();
    const events = await app.network.getChaincodeEvents(CHAINCODE, { startBlock: start });
    const iterator = events[Symbol.asyncIterator]();
    const first = (await iterator.next()).value!;
    events.close();
    assert.equal(first.eventName, 'incremented');
    assert.equal(first.transactionId, txIds[0]);
    assert.deepEqual(JSON.parse(text(first.payload)), { key: 'evented', value: 1 });
    await checkpointer.checkpointChaincodeEvent(first);
    // then a listener resuming from the checkpoint gets the next two, then live events
    const resumed = await app.network.getChaincodeEvents(CHAINCODE, { checkpoint: checkpointer });
    const again = resumed[Symbol.asyncIterator]();
    const second = (await again.next()).value!;
    const third = (await again.next()).value!;
    assert.deepEqual([second.transactionId, third.transactionId], txIds.slice(1));
    assert.ok(second.blockNumber > first.blockNumber);
    const live = await app.contract.submitAsync('increment', { arguments: ['evented'] });
    const fourth = (await again.next()).value!;
    assert.equal(fourth.transactionId, live.getTransactionId());
    resumed.close();
  });

  it('refuses a certificate not issued by the MSP root, a forged, an expired and a P-384 one', async () => {
    const stranger = await issue(await makeMsp('BankAMSP'), 'mallory'); // another CA, same MSP id
    const forged = await issue(bank, 'forger', { signedBy: await makeMsp('OtherMSP') });
    const expired = await issue(bank, 'old', { expired: true });
    const p384 = await issue(bank, 'p384', { curve: 'P-384' });
    for (const [member, why] of [
      [stranger, /not issued by a root CA of BankAMSP/],
      [forged, /not issued by a root CA of BankAMSP/],
      [expired, /validity period/],
      [p384, /not ECDSA P-256/],
    ] as const) {
      const someone = client(devnet, member);
      const err = await refusal(someone.contract.evaluateTransaction('get', 'greeting'));
      someone.close();
      assert.equal(err.code, grpc.status.PERMISSION_DENIED);
      assert.match(err.message, why);
    }
  });

  it('refuses a bad signature', async () => {
    const bob = await issue(bank, 'bob');
    const impostor = client(devnet, alice, bob.privateKey); // alice's certificate, bob's key
    const err = await refusal(impostor.contract.evaluateTransaction('get', 'greeting'));
    const submitErr = await refusal(impostor.contract.submitTransaction('put', 'greeting', 'hacked'));
    impostor.close();
    assert.equal(err.code, grpc.status.PERMISSION_DENIED);
    assert.match(err.message, /does not verify/);
    assert.equal(submitErr.code, grpc.status.PERMISSION_DENIED);
  });

  it('keeps private data: values for members, their hashes on the ledger, MVCC by hashed key', async () => {
    // when alice puts a private value
    await app.contract.submitTransaction('putPrivate', COLLECTION, 'pk', 'secret');
    // then it reads back, and its hash is sha256 of the value
    assert.equal(text(await app.contract.evaluateTransaction('getPrivate', COLLECTION, 'pk')), 'secret');
    assert.equal(
      text(await app.contract.evaluateTransaction('privateHash', COLLECTION, 'pk')),
      createHash('sha256').update('secret').digest('hex'),
    );
    // given two private increments endorsed against the same version of the key
    await app.contract.submitTransaction('putPrivate', COLLECTION, 'prace', '0');
    const first = await app.contract
      .newProposal('incrementPrivate', { arguments: [COLLECTION, 'prace'] })
      .endorse();
    const second = await app.contract
      .newProposal('incrementPrivate', { arguments: [COLLECTION, 'prace'] })
      .endorse();
    // when both are submitted, then one commits and the other is invalidated
    const statuses = await Promise.all([
      (await first.submit()).getStatus(),
      (await second.submit()).getStatus(),
    ]);
    assert.deepEqual(statuses.map((s) => s.code).sort(), [0, 11]);
    assert.equal(text(await app.contract.evaluateTransaction('getPrivate', COLLECTION, 'prace')), '1');
    // and a collection the chaincode does not define is refused by name
    const err = await refusal(app.contract.evaluateTransaction('getPrivate', 'nope', 'pk'));
    assert.match(err.details.map((d) => d.message).join(' '), /collection nope is not defined/);
  });

  it('carries on after a restart on the same state file', async () => {
    // given committed state and its height
    await app.contract.submitTransaction('put', 'durable', 'yes');
    const height = devnet.height();
    // when the devnet restarts on its state file
    app.close();
    await devnet.close();
    await open();
    // then state, versions and block numbers carry on
    assert.equal(devnet.height(), height);
    assert.equal(text(await app.contract.evaluateTransaction('get', 'durable')), 'yes');
    assert.equal(text(await app.contract.submitTransaction('increment', 'counter')), '3');
    const status = await (
      await app.contract.submitAsync('put', { arguments: ['after', 'restart'] })
    ).getStatus();
    assert.ok(status.blockNumber >= BigInt(height));
    // and the old events replay from block 1
    const events = await app.network.getChaincodeEvents(CHAINCODE, { startBlock: 1n });
    const replayed = (await events[Symbol.asyncIterator]().next()).value!;
    events.close();
    assert.equal(replayed.eventName, 'incremented');
  });

  it("cuts blocks by their envelopes' bytes as Fabric's PreferredMaxBytes does, a larger envelope alone", async () => {
    // given the size of a put's envelope, as committed
    const sample = await app.contract.submitAsync('put', { arguments: ['c0', 'v'] });
    await sample.getStatus();
    const processed = peer.ProcessedTransaction.deserializeBinary(
      await app.network
        .getContract('qscc')
        .evaluateTransaction('GetTransactionByID', CHANNEL, sample.getTransactionId()),
    );
    const size = processed.getTransactionenvelope()!.serializeBinary().length;
    // and a devnet that cuts a block at two and a half such envelopes' bytes (its other limits
    // out of the test's reach: 1,000 transactions, a minute; were bytes ignored, the minute's cut
    // would put all in one block)
    const bytesNet = await startDevnet({
      channel: CHANNEL,
      msps: [bank.config],
      chaincodes: [{ name: CHAINCODE, address: chaincode.address }],
      blockSize: 1_000,
      blockMs: 60_000,
      blockBytes: Math.floor(size * 2.5),
    });
    const other = client(bytesNet, alice);
    try {
      // when six puts of that size go in, one after another, then one larger than the limit
      const endorsed = [];
      for (let i = 1; i <= 6; i++)
        endorsed.push(await other.contract.newProposal('put', { arguments: [`c${i}`, 'v'] }).endorse());
      const large = 'x'.repeat(size * 3);
      endorsed.push(await other.contract.newProposal('put', { arguments: ['cL', large] }).endorse());
      const submitted = [];
      for (const tx of endorsed) submitted.push(await tx.submit());
      // then blocks of two (a third would pass the limit), the last two cut by the larger one,
      // which is a block of its own
      const statuses = await Promise.all(submitted.map((s) => s.getStatus()));
      assert.deepEqual(
        statuses.map((s) => Number(s.blockNumber)),
        [1, 1, 2, 2, 3, 3, 4],
      );
      assert.ok(statuses.every((s) => s.successful));
    } finally {
      other.close();
      await bytesNet.close();
    }
  });

  it("speaks Fabric 3.1's batched state calls as offered: many keys in one call, in parts of the size offered, or a call per key to a Fabric 2.5 peer", async () => {
    const keys = ['m1', 'm2', 'm3', 'm4', 'm5'];
    const writes = JSON.stringify(keys.map((k) => [k, `value of ${k}`]));
    const asked = JSON.stringify([...keys, 'never-written']);
    const expected = [...keys.map((k) => `value of ${k}`), ''];
    /** The state calls the chaincode made on `net` for `run`, by type. */
    const callsOf = async (net: Devnet, run: () => Promise<unknown>): Promise<Record<string, number>> => {
      const before = net.stateCalls();
      await run();
      const after = net.stateCalls();
      return Object.fromEntries(
        Object.entries(after)
          .map(([type, n]) => [type, n - (before[type] ?? 0)] as const)
          .filter(([, n]) => n > 0),
      );
    };
    // the devnet offers Fabric's defaults (1,000 a call): one call reads six keys, one writes five
    assert.deepEqual(await callsOf(devnet, () => app.contract.submitTransaction('putMany', writes)), {
      WRITE_BATCH_STATE: 1,
    });
    let read: string[] = [];
    assert.deepEqual(
      await callsOf(devnet, async () => {
        read = JSON.parse(text(await app.contract.evaluateTransaction('getMany', asked))) as string[];
      }),
      { GET_STATE_MULTIPLE: 1 },
    );
    assert.deepEqual(read, expected);
    // a peer offering two a call gets three calls each way (the chaincode keeps each peer's offer)
    const small = await startDevnet({
      channel: CHANNEL,
      msps: [bank.config],
      chaincodes: [{ name: CHAINCODE, address: chaincode.address }],
      stateCallBatches: { maxKeys: 2, maxWrites: 2 },
    });
    // and a Fabric 2.5 peer, which offers none: a call per key, never a batched one
    const old = await startDevnet({
      channel: CHANNEL,
      msps: [bank.config],
      chaincodes: [{ name: CHAINCODE, address: chaincode.address }],
      stateCallBatches: false,
    });
    const onSmall = client(small, alice);
    const onOld = client(old, alice);
    try {
      assert.deepEqual(await callsOf(small, () => onSmall.contract.submitTransaction('putMany', writes)), {
        WRITE_BATCH_STATE: 3,
      });
      assert.deepEqual(
        await callsOf(small, async () => {
          read = JSON.parse(text(await onSmall.contract.evaluateTransaction('getMany', asked))) as string[];
        }),
        { GET_STATE_MULTIPLE: 3 },
      );
      assert.deepEqual(read, expected);
      const deletes = JSON.stringify([['m1', ''], ...keys.slice(1).map((k) => [k, `old ${k}`])]);
      assert.deepEqual(await callsOf(old, () => onOld.contract.submitTransaction('putMany', deletes)), {
        DEL_STATE: 1,
        PUT_STATE: 4,
      });
      assert.deepEqual(
        await callsOf(old, async () => {
          read = JSON.parse(text(await onOld.contract.evaluateTransaction('getMany', asked))) as string[];
        }),
        { GET_STATE: 6 },
      );
      assert.deepEqual(read, ['', ...keys.slice(1).map((k) => `old ${k}`), '']);
    } finally {
      onSmall.close();
      onOld.close();
      await small.close();
      await old.close();
    }
  });

  it('keeps private values after a restart on the same state file', async () => {
    await app.contract.submitTransaction('putPrivate', COLLECTION, 'durable', 'private-yes');
    app.close();
    await devnet.close();
    await open();
    assert.equal(
      text(await app.contract.evaluateTransaction('getPrivate', COLLECTION, 'durable')),
      'private-yes',
    );
    assert.equal(text(await app.contract.submitTransaction('incrementPrivate', COLLECTION, 'prace')), '2');
  });
});
