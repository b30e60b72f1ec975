/**
 * What the settlement benches share: the ledgers they run on (a local chain and the Fabric
 * devnet, each with 50 funded investors), seeded trades between those investors (sizes that fit
 * their holdings, so all settle), a daemon's progress store in a temporary folder, and timing
 * batches of trades, one after another.
 */
import { id, Wallet } from 'ethers';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Anvil, type Deployment, deploy, fundInvestors } from '../../connectors/evm/index.ts';
import {
  type FabricClient,
  fabricClient,
  makeIdentity,
  startChaincode,
  startDevnet,
} from '../../connectors/fabric/index.ts';
import { type Ledger, Progress, type SettlementInstruction } from '../../connectors/index.ts';
import { XorShift32 } from '../prng.ts';

/** A source of trades of `instrument` between two different `investors` each, seeded. */
export function seededTrades(investors: readonly string[], instrument: string): () => SettlementInstruction {
  const rng = new XorShift32(2026);
  const venue = instrument.slice(instrument.indexOf('@') + 1);
  let tradeId = 0;
  return () => {
    const s = rng.int(0, investors.length - 1);
    const b = (s + rng.int(1, investors.length - 1)) % investors.length;
    const quantity = rng.int(1, 100);
    const cash = quantity * rng.int(100, 200);
    return {
      tradeId: ++tradeId,
      instrument,
      venue,
      buyer: investors[b]!,
      seller: investors[s]!,
      quantity,
      buyerCash: cash + 1,
      sellerCash: cash,
      fee: 1,
      matchedAt: 0,
    };
  };
}

/**
 * Runs at least `perRun` trades (whole batches of `batch`) through `step`, each batch waited for
 * before the next; the total time and each batch's.
 */
export async function inBatches(
  batch: number,
  perRun: number,
  next: () => SettlementInstruction,
  step: (trades: SettlementInstruction[]) => Promise<void>,
): Promise<{ trades: number; ms: number; batchMs: number[] }> {
  const trades = Math.max(batch, Math.floor(perRun / batch) * batch);
  const batchMs: number[] = [];
  const started = performance.now();
  for (let done = 0; done < trades; done += batch) {
    const start = performance.now();
    await step(Array.from({ length: batch }, next));
    batchMs.push(performance.now() - start);
  }
  return { trades, ms: performance.now() - started, batchMs };
}

/**
 * Settles at least `perRun` trades (whole batches of `batch`) through `ledger`, each batch waited
 * for; throws if one fails. `afterBatch` runs after each (untimed work belongs elsewhere).
 */
export function timeBatches(
  ledger: Ledger,
  batch: number,
  perRun: number,
  next: () => SettlementInstruction,
  afterBatch: () => void = () => {},
): Promise<{ trades: number; ms: number; batchMs: number[] }> {
  return inBatches(batch, perRun, next, async (trades) => {
    const outcomes = await ledger.settle(trades);
    if (!outcomes.every((o) => o.ok))
      throw new Error(`a trade failed: ${JSON.stringify(outcomes.find((o) => !o.ok))}`);
    afterBatch();
  });
}

/** Investors on each ledger. */
export const INVESTORS = 50;

/**
 * Anvil (automine, a raised block gas limit) with the contracts (security ACME, cash USD) and
 * `INVESTORS` investors, each with 10,000,000 ACME and 10^15 USD base units in the escrow.
 */
export async function fundedChain(): Promise<{ anvil: Anvil; d: Deployment; investors: Wallet[] }> {
  const anvil = await Anvil.start({ gasLimit: 300_000_000n });
  try {
    const deployer = anvil.devWallet(0);
    const d = await deploy({ deployer, securities: [{ symbol: 'ACME' }], cash: { symbol: 'USD' } });
    const investors = Array.from(
      { length: INVESTORS },
      (_, i) => new Wallet(id(`bench-investor-${i}`), anvil.provider()),
    );
    for (const w of investors) await anvil.rpc('anvil_setBalance', [w.address, '0x56BC75E2D63100000']);
    await fundInvestors(
      d,
      investors.map((wallet) => ({ wallet, securities: { ACME: 10_000_000n }, cash: 10n ** 15n })),
    );
    return { anvil, d, investors };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

/** The devnet as `npm start` runs it: its channel, and its block cutting (its defaults, stated so tables can say so). */
export const DEVNET = { channel: 'bank-net', venue: 'fabric:bank-net', blockMs: 10, blockSize: 100 } as const;

/**
 * The devnet with the settlement chaincode in its own process, configured with BankAMSP its one
 * member, and `INVESTORS` Fabric identities of it (`BankAMSP:investor-N`) in good standing, each
 * issued 10,000,000 ACME and 10^15 USD. Only the operator signs, so only it has a certificate (a
 * devDependency makes it, as in the tests: fine for a bench).
 */
export async function fundedNetwork(): Promise<{
  client: FabricClient;
  investors: string[];
  close(): Promise<void>;
}> {
  const chaincodeName = 'mosaic-settlement';
  const chaincode = await startChaincode({ ccid: `${chaincodeName}:1`, admin: 'BankAMSP:operator' });
  // The operator's organization: a CA and the operator it issues (node:crypto, as the devnet's own).
  const { ca, peer: operatorCert } = makeIdentity('BankAMSP', 'operator');
  const devnet = await startDevnet({
    channel: DEVNET.channel,
    msps: [{ mspId: 'BankAMSP', rootCerts: [ca.certificate] }],
    chaincodes: [{ name: chaincodeName, address: chaincode.address }],
    blockMs: DEVNET.blockMs,
    blockSize: DEVNET.blockSize,
  });
  const operator = { mspId: 'BankAMSP', commonName: 'operator', ...operatorCert };
  const client = fabricClient(devnet.endpoint, operator, {
    channel: DEVNET.channel,
    chaincode: chaincodeName,
  });
  const close = async () => {
    client.close();
    await devnet.close();
    await chaincode.stop();
  };
  try {
    const { contract } = client;
    await contract.submitTransaction(
      'Configure',
      JSON.stringify({
        operator: `${operator.mspId}:${operator.commonName}`,
        feeAccount: 'BankAMSP:fees',
        members: ['BankAMSP'],
        eligibleAttribute: null,
      }),
    );
    const investors = Array.from({ length: INVESTORS }, (_, i) => `BankAMSP:investor-${i}`);
    // Each investor's transactions touch only its own keys (and read the config): no conflicts.
    await Promise.all(
      investors.map(async (account) => {
        await contract.submitTransaction('SetStanding', account, 'true', 'false');
        await contract.submitTransaction('Issue', account, 'ACME', '10000000');
        await contract.submitTransaction('Issue', account, 'USD', String(10n ** 15n));
      }),
    );
    return { client, investors, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A daemon's progress store in a new temporary folder, and how to close it and remove the folder. */
export function tempProgress(name: string): { progress: Progress; remove(): Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mosaic-bench-${name}-`));
  const progress = Progress.open(dir);
  return {
    progress,
    remove: async () => {
      await progress.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
