/**
 * The Fabric connector as the exchange runs it, one per venue: the network (a peer's gateway
 * endpoint, or a devnet with the settlement chaincode started with the exchange, its blocks and
 * the operator identity kept in the data folder), the venue's rules set on the chaincode
 * (`Configure`: operator, fee account, member MSPs), and the settlement daemon on them:
 * `FabricLedger` for batches and releases, `FabricChanges` for issuances and standing, progress
 * in LMDB beside them. On a devnet the operator funds demo accounts through the chaincode.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Contract } from '@hyperledger/fabric-gateway';
import type { InstrumentSpec } from '../../engine/index.ts';
import { OneAtATime } from '../batch.ts';
import { type Connector, type EnginePort, startDaemon } from '../daemon.ts';
import { checkLedgerKept } from '../ledger-check.ts';
import type { Htlc } from '../legs.ts';
import { Progress } from '../progress.ts';
import { FabricBlocks } from './blocks-fabric.ts';
import { type ChaincodeProcess, startChaincode } from './chaincode-process.ts';
import { type FabricClient, fabricClient } from './client.ts';
import { FabricChanges } from './changes-fabric.ts';
import type { FabricNetworkConfig } from './config.ts';
import { type Devnet, makeIdentity, startDevnet } from './devnet/index.ts';
import { FabricLedger } from './ledger-fabric.ts';
import type { Logger } from '../../common/index.ts';
import { makeError } from '../errors.ts';

export interface FabricConnector extends Connector {
  /** The peer's gateway endpoint (host:port): the devnet's when it runs one. */
  readonly endpoint: string;
}

export interface FabricConnectorOptions {
  /** The exchange's data folder: the connector of `fabric:<name>` keeps its own in `fabric-<name>/` there. */
  dataDir: string;
  engine: EnginePort;
  /** MSPs whose identities may hold the venue's assets (a permissioned venue's members); empty: any. */
  members: readonly string[];
  log: Logger;
  /** Told when the daemon stops on a failure no retry can get past. */
  onFailure?: (err: Error) => void;
  /** The hash time-locks of cross-ledger trades. */
  htlc?: Htlc;
}

/** The operator's organization on a devnet. */
const DEVNET_MSP = 'MosaicMSP';
/** What a demo account gets from the faucet: lots of each security, cash units of each currency. */
const GRANT = { lots: 1_000_000, cashUnits: 10_000_000_000 };

interface Operator {
  mspId: string;
  certificate: string;
  privateKey: KeyObject;
  /** The MSP's root certificate, when the connector made it (devnet). */
  rootCert?: string;
}

/** Starts the connector for one venue on a recovered engine, before it takes new commands. */
export async function startFabricConnector(
  config: FabricNetworkConfig,
  o: FabricConnectorOptions,
): Promise<FabricConnector> {
  const dir = path.join(o.dataDir, config.venue.replace(':', '-'));
  fs.mkdirSync(dir, { recursive: true });
  const local = config.endpoint === '';
  const blockFile = path.join(dir, 'blocks.bin');
  const operator =
    config.operator === null ? devnetOperator(dir, local) : configuredOperator(config.operator);
  const account = `${operator.mspId}:${commonName(operator.certificate)}`;
  let chaincode: ChaincodeProcess | null = null;
  let devnet: Devnet | null = null;
  let client: FabricClient | null = null;
  let progress: Progress | null = null;
  try {
    if (local) {
      // The exchange deploys the devnet's chaincode: its operator is the admin that configures it.
      chaincode = await startChaincode({ ccid: `${config.chaincode}:1`, admin: account });
      o.log.info(
        { venue: config.venue, address: chaincode.address },
        `${config.venue}: chaincode process up at ${chaincode.address}`,
      );
      devnet = await startDevnet({
        channel: config.channel,
        msps: [{ mspId: operator.mspId, rootCerts: [operator.rootCert!] }],
        chaincodes: [
          {
            name: config.chaincode,
            address: chaincode.address,
            collections:
              config.privateCollection === ''
                ? []
                : [{ name: config.privateCollection, memberMsps: [operator.mspId, ...o.members] }],
          },
        ],
        stateFile: blockFile,
        ...config.devnetBlocks,
      });
      o.log.info(
        { venue: config.venue, endpoint: devnet.endpoint },
        `${config.venue}: devnet up at ${devnet.endpoint}`,
      );
    }
    const endpoint = devnet?.endpoint ?? config.endpoint;
    const tls = config.tlsRootCert === '' ? {} : { tlsRootCert: config.tlsRootCert };
    client = fabricClient(endpoint, operator, {
      channel: config.channel,
      chaincode: config.chaincode,
      ...tls,
    });
    const { gateway, network, contract } = client;
    const blocks = new FabricBlocks(network);
    progress = Progress.open(path.join(dir, 'progress'));
    // Before anything is configured, funded or settled: the network still has what the daemon saw.
    await checkLedgerKept({
      venue: config.venue,
      ledger: `the ${local ? 'devnet' : 'peer'} at ${endpoint} (channel ${config.channel})`,
      blocks,
      progress,
      lastTx: FabricLedger.lastBatchTx(progress, config.venue),
      dataDir: o.dataDir,
      ...(local ? { stateFile: blockFile } : {}),
    });
    if (local) {
      // The venue's rules: set at every start (the operator may change them; the first call deploys).
      await contract.submitTransaction(
        'Configure',
        JSON.stringify({
          operator: account,
          feeAccount: `${operator.mspId}:fees`,
          members: o.members,
          eligibleAttribute: null,
          privateCollection: config.privateCollection === '' ? null : config.privateCollection,
        }),
      );
    }
    const ledger = new FabricLedger({
      venue: config.venue,
      gateway,
      contract,
      progress,
      asset: (id) => assetOf(o.engine, config.venue, id),
      ...(config.privateCollection === '' ? {} : { privateCollection: config.privateCollection }),
      log: o.log,
    });
    const changes = new FabricChanges({
      venue: config.venue,
      network,
      chaincode: config.chaincode,
      blocks,
      log: o.log,
    });
    const daemon = await startDaemon({
      ledger,
      changes,
      progress,
      engine: o.engine,
      batchSize: config.batchSize,
      batchMs: config.batchMs,
      inFlight: config.inFlight,
      log: o.log,
      ...(o.onFailure === undefined ? {} : { onFailure: o.onFailure }),
      ...(o.htlc === undefined ? {} : { htlc: o.htlc }),
    });
    const faucet = local ? new Faucet(contract, o.engine, config.venue, o.log) : null;
    const [c, d, fc] = [chaincode, devnet, client];
    return {
      venue: config.venue,
      endpoint,
      describe: `${local ? 'devnet' : 'peer'} at ${endpoint}, channel ${config.channel}, chaincode ${config.chaincode}`,
      daemon,
      fund: faucet === null ? null : (a) => faucet.fund(a),
      demoAccounts: local ? [`${DEVNET_MSP}:demo-maker`, `${DEVNET_MSP}:demo-taker`] : null,
      async close() {
        await faucet?.idle();
        changes.close();
        await daemon.close();
        fc.close();
        await d?.close();
        await c?.stop();
      },
    };
  } catch (err) {
    await progress?.close();
    client?.close();
    await devnet?.close();
    await chaincode?.stop();
    throw err;
  }
}

/** An instrument's assets in the chaincode: its symbol and its quote currency. */
function assetOf(
  engine: EnginePort,
  venue: string,
  instrument: string,
): { security: string; cash: string } | undefined {
  const at = instrument.indexOf('@');
  if (instrument.slice(at + 1) !== venue) return undefined;
  const spec = engine.specOf(instrument);
  return spec === undefined ? undefined : { security: instrument.slice(0, at), cash: spec.quote ?? 'USD' };
}

/**
 * The devnet's operator: an MSP of the exchange's own with its CA, and the operator's
 * certificate, made at the first start and kept (`operator.json`, readable by the owner only).
 */
function devnetOperator(dir: string, local: boolean): Operator {
  if (!local)
    throw makeError(
      'fabric: an operator identity is required with an endpoint (operator: null only on the devnet)',
      'BAD_SETUP',
    );
  const file = path.join(dir, 'operator.json');
  if (!fs.existsSync(file)) {
    const { ca, peer } = makeIdentity(DEVNET_MSP, 'operator');
    const saved = {
      mspId: DEVNET_MSP,
      rootCert: ca.certificate,
      certificate: peer.certificate,
      privateKey: peer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    fs.writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  }
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Operator & { privateKey: string };
  return { ...saved, privateKey: createPrivateKey(saved.privateKey) };
}

function configuredOperator(o: NonNullable<FabricNetworkConfig['operator']>): Operator {
  return {
    mspId: o.mspId,
    certificate: o.certificate,
    privateKey: createPrivateKey(o.privateKey),
  };
}

/** The certificate's subject common name. */
function commonName(certificatePem: string): string {
  const subject = new X509Certificate(certificatePem).subject;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
  if (cn === undefined) throw makeError('fabric: the operator certificate has no common name', 'BAD_SETUP');
  return cn;
}

/**
 * Demo funding on a devnet: the operator makes an account eligible and issues it every security
 * of the venue and its cash, one request after another; the connector then credits the engine
 * from the chaincode's events.
 */
class Faucet {
  #serial = new OneAtATime();
  #seen = new Set<string>();

  constructor(
    readonly contract: Contract,
    readonly engine: EnginePort,
    readonly venue: string,
    readonly log: Logger,
  ) {}

  fund(account: string): void {
    if (!/^[A-Za-z0-9._-]{1,64}:[^\s]{1,128}$/.test(account) || this.#seen.has(account)) return;
    this.#seen.add(account);
    this.#serial
      .run(() => this.#fund(account))
      .catch((err: Error) =>
        this.log.warn(
          { venue: this.venue, account, err },
          `${this.venue}: funding ${account} failed: ${err.message}`,
        ),
      );
  }

  idle(): Promise<void> {
    return this.#serial.idle();
  }

  async #fund(account: string): Promise<void> {
    await this.contract.submitTransaction('SetStanding', account, 'true', 'false');
    const specs = this.#specs();
    for (const symbol of new Set(specs.map((s) => s.id.slice(0, s.id.indexOf('@'))))) {
      await this.contract.submitTransaction('Issue', account, symbol, String(GRANT.lots));
    }
    for (const quote of new Set(specs.map((s) => s.quote ?? 'USD'))) {
      await this.contract.submitTransaction('Issue', account, quote, String(GRANT.cashUnits));
    }
  }

  /** The listings of the venue. */
  #specs(): Readonly<InstrumentSpec>[] {
    return this.engine
      .instruments()
      .filter((id) => id.slice(id.indexOf('@') + 1) === this.venue)
      .map((id) => this.engine.specOf(id)!);
  }
}
