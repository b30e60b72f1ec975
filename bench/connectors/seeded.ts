/**
 * What the settlement benches share: the ledgers they run on (a local chain and the Fabric
 * devnet, each with 50 funded investors, at the block times asked), seeded trades between those
 * investors (sizes that fit their holdings, so all settle), a daemon's progress store in a
 * temporary folder, and timing batches of trades, up to a number of them at once.
 */
import { id, Wallet } from 'ethers';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Anvil, type Deployment, deploy, fundInvestors } from '../../connectors/evm/index.ts';
import {
  DEVNET_BLOCKS,
  type DevnetBlocks,
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
 * Runs at least `perRun` items (whole batches of `batch`) through `step`, up to `depth` batches at
 * once (as the daemon hands them over: a ledger orders those that must not overlap itself): each
 * of `depth` lanes makes and sends its next batch once its last is done. The total time, and
 * each batch's from its sending to its end. A failed batch fails the whole, and no lane sends
 * another.
 */
export async function inBatches<T>(
  batch: number,
  perRun: number,
  next: () => T,
  step: (items: T[]) => Promise<void>,
  depth = 1,
): Promise<{ trades: number; ms: number; batchMs: number[] }> {
  const trades = Math.max(batch, Math.floor(perRun / batch) * batch);
  const batchMs: number[] = [];
  let made = 0;
  let failed = false;
  const lane = async () => {
    while (made < trades && !failed) {
      made += batch;
      const items = Array.from({ length: batch }, next);
      const start = performance.now();
      try {
        await step(items);
      } catch (err) {
        failed = true;
        throw err;
      }
      batchMs.push(performance.now() - start);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: depth }, lane));
  return { trades, ms: performance.now() - started, batchMs };
}

/**
 * Settles at least `perRun` trades (whole batches of `batch`, up to `depth` at once, those that
 * share the ledger's state one after another) through `ledger`; throws if one fails. With the
 * time, the gas the ledger charged them (0 where none).
 */
export async function timeBatches(
  ledger: Ledger,
  batch: number,
  perRun: number,
  next: () => SettlementInstruction,
  depth = 1,
): Promise<{ trades: number; ms: number; batchMs: number[]; gas: number }> {
  let gas = 0;
  const timed = await inBatches(
    batch,
    perRun,
    next,
    async (trades) => {
      const outcomes = await ledger.settle(trades);
      if (!outcomes.every((o) => o.ok))
        throw new Error(`a trade failed: ${JSON.stringify(outcomes.find((o) => !o.ok))}`);
      for (const o of outcomes) gas += o.gas ?? 0;
    },
    depth,
  );
  return { ...timed, gas };
}

/** Investors on each ledger. */
export const INVESTORS = 50;

/**
 * Anvil with the contracts (security ACME, cash USD) and `INVESTORS` investors, each with
 * 10,000,000 ACME and 10^15 USD base units in the escrow. Without `blockTime`: automine (a block
 * per transaction) and a raised block gas limit (300,000,000); with it: anvil `--block-time
 * blockTime` and its default block gas limit (30,000,000), the setup mined at once
 * (`evm_setAutomine`) and then the chain put back to a block every `blockTime` seconds
 * (`evm_setIntervalMining`, the mode `--block-time` starts in).
 */
export async function fundedChain(
  blockTime?: number,
): Promise<{ anvil: Anvil; d: Deployment; investors: Wallet[] }> {
  const anvil = await Anvil.start(blockTime === undefined ? { gasLimit: 300_000_000n } : { blockTime });
  try {
    if (blockTime !== undefined) await anvil.rpc('evm_setAutomine', [true]);
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
    if (blockTime !== undefined) await anvil.rpc('evm_setIntervalMining', [blockTime]);
    return { anvil, d, investors };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

/** The devnet as `npm start` runs it: its channel, and its block cutting (its defaults, stated so tables can say so). */
export const DEVNET = { channel: 'bank-net', venue: 'fabric:bank-net', ...DEVNET_BLOCKS } as const;

/**
 * The devnet, cutting blocks as `blocks` says (default: as `npm start` runs it), with the
 * settlement chaincode in its own process, configured with BankAMSP its one member, and
 * `INVESTORS` Fabric identities of it (`BankAMSP:investor-N`) in good standing, each issued
 * 10,000,000 ACME and 10^15 USD. Only the operator signs, so only it has a certificate (made with
 * node:crypto, as the devnet's own).
 */
export async function fundedNetwork(blocks: DevnetBlocks = DEVNET_BLOCKS): Promise<{
  client: FabricClient;
  investors: string[];
  /** How many state calls the chaincode has made of the devnet so far, all types together. */
  stateCalls(): number;
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
    ...blocks,
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
    const stateCalls = () => Object.values(devnet.stateCalls()).reduce((a, b) => a + b, 0);
    return { client, investors, stateCalls, close };
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
