/**
 * A Fabric network the test runs, for the suites that settle on it: the settlement chaincode in
 * its own process, a devnet on a block file, BankAMSP's operator, seller, buyer and a holder (who
 * holds ACME and trades with no one), and what the chaincode says of trades and holdings.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ChaincodeProcess,
  type Devnet,
  type FabricClient,
  fabricClient,
  startChaincode,
  startDevnet,
  type Verdict,
  type WithdrawalVerdict,
} from '../../connectors/fabric/index.ts';
import { BUYER_CENTS, SELLER_LOTS } from './evm.ts';
import { verdictsInEvents } from './fabric.ts';
import { type FabricMember, issue, makeMsp, type Msp } from './identities.ts';
import { loginFabric, type WsClient } from './ws-client.ts';

export const CHANNEL = 'bank-net';
export const CHAINCODE = 'mosaic-settlement';
export const FABRIC_VENUE = 'fabric:bank-net';
export const FABRIC_ACME = `ACME@${FABRIC_VENUE}`;
export const FABRIC_USD = `USD@${FABRIC_VENUE}`;

/** A member's account on the chaincode and in the engine: `MSPID:CommonName`. */
export const account = (m: FabricMember) => `${m.mspId}:${m.commonName}`;
/** The network's investors. */
export type Member = 'seller' | 'buyer' | 'holder';
/** The holder's ACME. */
export const HOLDER_LOTS = 1_000n;

/** The chaincode, a devnet on a block file, BankAMSP's operator, seller and buyer. */
export class Network {
  devnet!: Devnet;
  operator!: FabricClient;

  private constructor(
    readonly dir: string,
    readonly chaincode: ChaincodeProcess,
    readonly msp: Msp,
    readonly members: Record<Member | 'operator', FabricMember>,
    /** The devnet's port: 0 (any free one) until it has one, then kept across restarts. */
    readonly options: { port: number; blockMs: number },
  ) {}

  static async start(blockMs = 10): Promise<Network> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-ffaults-'));
    const chaincode = await startChaincode({ ccid: `${CHAINCODE}:1`, admin: 'BankAMSP:operator' });
    const msp = await makeMsp('BankAMSP');
    const members = {
      operator: await issue(msp, 'operator'),
      seller: await issue(msp, 'seller'),
      buyer: await issue(msp, 'buyer'),
      holder: await issue(msp, 'holder'),
    };
    const n = new Network(dir, chaincode, msp, members, { port: 0, blockMs });
    await n.startDevnet();
    return n;
  }

  /** Starts the devnet (again) on the same block file and port. */
  async startDevnet(): Promise<void> {
    this.devnet = await startDevnet({
      channel: CHANNEL,
      msps: [this.msp.config],
      chaincodes: [{ name: CHAINCODE, address: this.chaincode.address }],
      stateFile: path.join(this.dir, 'blocks.bin'),
      port: this.options.port,
      blockMs: this.options.blockMs,
    });
    this.options.port = this.devnet.port;
    this.operator ??= fabricClient(this.devnet.endpoint, this.members.operator, {
      channel: CHANNEL,
      chaincode: CHAINCODE,
    });
  }

  /** The venue's rules (the connector sets them only on its own devnet), and the investors funded. */
  async configure(): Promise<void> {
    const c = this.operator.contract;
    const config = {
      operator: account(this.members.operator),
      feeAccount: 'BankAMSP:fees',
      members: ['BankAMSP'],
      eligibleAttribute: null,
    };
    await c.submitTransaction('Configure', JSON.stringify(config));
    for (const m of [this.members.seller, this.members.buyer, this.members.holder]) {
      await c.submitTransaction('SetStanding', account(m), 'true', 'false');
    }
    await c.submitTransaction('Issue', account(this.members.seller), 'ACME', String(SELLER_LOTS));
    await c.submitTransaction('Issue', account(this.members.holder), 'ACME', String(HOLDER_LOTS));
    await c.submitTransaction('Issue', account(this.members.buyer), 'USD', String(BUYER_CENTS));
  }

  /** The connector's settings for this network, the operator's key as PEM text. */
  settings(endpoint = this.devnet.endpoint) {
    const op = this.members.operator;
    return {
      venue: FABRIC_VENUE,
      channel: CHANNEL,
      chaincode: CHAINCODE,
      endpoint,
      tlsRootCert: '',
      operator: {
        mspId: op.mspId,
        certificate: op.certificate,
        privateKey: op.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
      privateCollection: '',
      batchSize: 5,
      batchMs: 50,
    };
  }

  async holding(who: string, asset: string): Promise<bigint> {
    const raw = await this.operator.contract.evaluateTransaction('BalanceOf', who, asset);
    return BigInt(Buffer.from(raw).toString());
  }

  /** A withdrawal's verdict on the chaincode, or null if it has none. */
  async withdrawalVerdict(withdrawalId: number): Promise<WithdrawalVerdict | null> {
    const raw = Buffer.from(
      await this.operator.contract.evaluateTransaction('WithdrawalStatus', String(withdrawalId)),
    ).toString();
    return raw === '' ? null : (JSON.parse(raw) as WithdrawalVerdict);
  }

  async verdict(tradeId: number): Promise<Verdict | null> {
    const raw = Buffer.from(
      await this.operator.contract.evaluateTransaction('TradeStatus', String(tradeId)),
    ).toString();
    return raw === '' ? null : (JSON.parse(raw) as Verdict);
  }

  /**
   * Every trade settled once on the chaincode: a successful verdict each, given by exactly one
   * transaction (the `Settled` events), and nothing else settled; the buyer holds what it bought.
   */
  async assertSettledOnce(tradeIds: readonly number[], bought: bigint): Promise<Map<number, Verdict>> {
    const verdicts = new Map<number, Verdict>();
    for (const id of tradeIds) {
      const v = await this.verdict(id);
      assert.equal(v?.ok, true, `trade ${id}: ${JSON.stringify(v)}`);
      verdicts.set(id, v!);
    }
    const events = await verdictsInEvents(this.operator.network, CHAINCODE);
    for (const id of tradeIds) {
      assert.deepEqual(
        events.get(id),
        [verdicts.get(id)!.txId],
        `trade ${id}: one verdict, from one transaction`,
      );
    }
    assert.deepEqual(
      [...events.keys()].sort((a, b) => a - b),
      [...tradeIds].sort((a, b) => a - b),
      'the chaincode settled exactly the trades the engine matched',
    );
    assert.equal(await this.holding(account(this.members.buyer), 'ACME'), bought);
    assert.equal(await this.holding(account(this.members.seller), 'ACME'), SELLER_LOTS - bought);
    return verdicts;
  }

  async close(): Promise<void> {
    this.operator?.close();
    await this.devnet?.close();
    await this.chaincode.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Logs the network's seller or buyer in with their X.509 certificate, or as them another member
 * (`as`: `{ seller: 'holder' }` makes the holder a pair's seller).
 */
export function fabricLogin(n: Network, as: Partial<Record<'seller' | 'buyer', Member>> = {}) {
  return async (c: WsClient, who: 'seller' | 'buyer') => {
    const member = n.members[as[who] ?? who];
    const r = await loginFabric(c, member);
    assert.equal(r.account, account(member));
    return r;
  };
}
