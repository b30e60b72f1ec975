/**
 * Cross-ledger settlement (docs/settlement.md, "Cross-ledger trades"): each trade's security leg
 * on the Fabric devnet and its cash leg on anvil, both locked under the SHA-256 of the trade's
 * secret, sent through the ledgers' `legs` in batches as the daemons send them: per batch, the
 * security legs locked on the network and the cash legs on the chain at the same time, then the
 * security legs claimed with the secrets, then the cash legs; each step one transaction per
 * ledger, waited for (committed on the network, mined on the chain). For batch sizes 1, 10 and
 * 100: trades per second, the median and p99 time from a batch's start (its trades' match) to
 * both its legs claimed, each step's time, gas per trade on the chain (cash lock and claim) and
 * transactions per batch on each ledger. Not in it: the engine, the gateway, and the daemons'
 * reports to the engine between the steps. Trades are seeded between 50 investors, each funded
 * on both ledgers (investor N: the key `bench-investor-N` on the chain, `BankAMSP:investor-N` on
 * the network), all settling.
 *
 *   npm run bench:settlement-cross -- [--trades N] [--json]
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { EvmLedger } from '../../connectors/evm/index.ts';
import { FabricLedger } from '../../connectors/fabric/index.ts';
import { hashlockOf, type LegTerms, secretOf, type SettlementInstruction } from '../../connectors/index.ts';
import { settlementOptions } from '../cli.ts';
import { latency } from '../engine/stats.ts';
import { DEVNET, fundedChain, fundedNetwork, inBatches, seededTrades, tempProgress } from './seeded.ts';

const BATCHES = [1, 10, 100];
const CHAIN = 'evm:31337';
const SECURITY = `ACME@${DEVNET.venue}`;
const CASH = `USD@${CHAIN}`;
/** The security leg expires this long after the match, the cash leg this margin later (as `htlc` sets them). */
const LOCK_SECONDS = 3_600;
const MARGIN_SECONDS = 60;

/** Each step's time, ms. */
interface Steps {
  lockFabric: number;
  lockEvm: number;
  claimFabric: number;
  claimEvm: number;
}

interface Row {
  batch: number;
  trades: number;
  tradesPerSecond: number;
  /** From a batch's start to both legs of its trades claimed, over the row's batches, ms. */
  p50Ms: number;
  p99Ms: number;
  /** Mean time of each step per batch, ms (the two locks run side by side). */
  stepMs: Steps;
  /** Gas of the cash legs' lock and claim transactions, per trade. */
  gasPerTrade: number;
  fabricTxPerBatch: number;
  evmTxPerBatch: number;
}

/** The two ledgers as the daemons hold them, the operator's key, and investors' chain addresses by network identity. */
interface Cross {
  evm: EvmLedger;
  fabric: FabricLedger;
  key: Buffer;
  address: ReadonlyMap<string, string>;
}

/** A trade's two legs, as the daemons' `LegKeeper` writes them (the trade names the network's parties). */
function legsOf(c: Cross, t: SettlementInstruction, hashlock: string, matched: number): [LegTerms, LegTerms] {
  const expiry = matched + LOCK_SECONDS;
  return [
    {
      tradeId: t.tradeId,
      security: true,
      asset: SECURITY,
      from: t.seller,
      to: t.buyer,
      amount: t.quantity,
      fee: 0,
      hashlock,
      expiry,
    },
    {
      tradeId: t.tradeId,
      security: false,
      asset: CASH,
      from: c.address.get(t.buyer)!,
      to: c.address.get(t.seller)!,
      amount: t.buyerCash,
      fee: t.fee,
      hashlock,
      expiry: expiry + MARGIN_SECONDS,
    },
  ];
}

/** Throws unless each leg's outcome is its trade's, in `state`. */
function expectAll(
  what: string,
  legs: readonly LegTerms[],
  outcomes: ReadonlyArray<{ tradeId: number; state: string }>,
  state: string,
): void {
  legs.forEach((l, i) => {
    const o = outcomes[i];
    if (o?.tradeId !== l.tradeId || o.state !== state)
      throw new Error(`${what}: trade ${l.tradeId} is not ${state}: ${JSON.stringify(o)}`);
  });
}

/** How many transactions the outcomes came from. */
const txs = (outcomes: ReadonlyArray<{ ref?: string }>) => new Set(outcomes.map((o) => o.ref)).size;

/** At least `perRun` trades in batches of `batch`, each batch as the daemons send one (see above). */
async function row(c: Cross, batch: number, perRun: number, next: () => SettlementInstruction): Promise<Row> {
  const steps: Steps = { lockFabric: 0, lockEvm: 0, claimFabric: 0, claimEvm: 0 };
  const timed = async <T>(step: keyof Steps, run: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await run();
    steps[step] += performance.now() - start;
    return result;
  };
  let gas = 0n;
  let fabricTxs = 0;
  let evmTxs = 0;
  const { trades, ms, batchMs } = await inBatches(batch, perRun, next, async (instructions) => {
    const matched = Math.floor(Date.now() / 1000);
    const secrets = instructions.map((t) => secretOf(c.key, t.tradeId));
    const legs = instructions.map((t, i) => legsOf(c, t, hashlockOf(secrets[i]!), matched));
    const security = legs.map(([a]) => a);
    const cash = legs.map(([, b]) => b);
    const [lockedA, lockedB] = await Promise.all([
      timed('lockFabric', () => c.fabric.legs.lock(security)),
      timed('lockEvm', () => c.evm.legs.lock(cash)),
    ]);
    gas += c.evm.lastBatch!.gasUsed;
    expectAll('security lock', security, lockedA, 'locked');
    expectAll('cash lock', cash, lockedB, 'locked');
    const claimedA = await timed('claimFabric', () => c.fabric.legs.claim(security, secrets));
    expectAll('security claim', security, claimedA, 'claimed');
    const claimedB = await timed('claimEvm', () => c.evm.legs.claim(cash, secrets));
    gas += c.evm.lastBatch!.gasUsed;
    expectAll('cash claim', cash, claimedB, 'claimed');
    fabricTxs += txs(lockedA) + txs(claimedA);
    evmTxs += txs(lockedB) + txs(claimedB);
  });
  const batches = batchMs.length;
  const l = latency(Float64Array.from(batchMs));
  return {
    batch,
    trades,
    tradesPerSecond: trades / (ms / 1000),
    p50Ms: l.p50Us / 1000,
    p99Ms: l.p99Us / 1000,
    stepMs: {
      lockFabric: steps.lockFabric / batches,
      lockEvm: steps.lockEvm / batches,
      claimFabric: steps.claimFabric / batches,
      claimEvm: steps.claimEvm / batches,
    },
    gasPerTrade: Number(gas) / trades,
    fabricTxPerBatch: fabricTxs / batches,
    evmTxPerBatch: evmTxs / batches,
  };
}

async function main(): Promise<void> {
  const values = settlementOptions('usage: cross-ledger.js [--trades N] [--json]');
  const loadStart = loadavg()[0]!;
  const chain = await fundedChain();
  try {
    const network = await fundedNetwork();
    const evmProgress = tempProgress('cross-evm');
    const fabricProgress = tempProgress('cross-fabric');
    try {
      const { d } = chain;
      const c: Cross = {
        evm: new EvmLedger({
          venue: CHAIN,
          settlement: d.settlement,
          progress: evmProgress.progress,
          asset: () => undefined,
          token: (asset) => (asset === CASH ? { address: d.addresses.cash, units: 1n } : undefined),
        }),
        fabric: new FabricLedger({
          venue: DEVNET.venue,
          gateway: network.client.gateway,
          contract: network.client.contract,
          progress: fabricProgress.progress,
          asset: () => undefined,
        }),
        key: randomBytes(32),
        address: new Map(network.investors.map((name, i) => [name, chain.investors[i]!.address])),
      };
      const next = seededTrades(network.investors, SECURITY);
      const rows: Row[] = [];
      for (const batch of BATCHES) {
        rows.push(await row(c, batch, values.trades, next));
        if (!values.json) process.stderr.write(`batch ${batch}: ${rows.at(-1)!.trades} trades\n`);
      }
      const loadAvg = { start: round2(loadStart), end: round2(loadavg()[0]!) };
      if (values.json) {
        const machine = { node: process.version, cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}` };
        const devnet = { blockMs: DEVNET.blockMs, blockSize: DEVNET.blockSize };
        process.stdout.write(`${JSON.stringify({ ...machine, loadAvg, devnet, rows })}\n`);
      } else {
        print(rows, loadAvg);
      }
    } finally {
      await network.close();
      await evmProgress.remove();
      await fabricProgress.remove();
    }
  } finally {
    await chain.anvil.stop();
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function print(rows: readonly Row[], loadAvg: { start: number; end: number }): void {
  process.stdout.write(
    '\nCross-ledger settlement: security legs on the Fabric devnet (FabricLedger.legs; blocks cut ' +
      `${DEVNET.blockMs} ms after their first transaction), cash legs on anvil (EvmLedger.legs, ` +
      'automine). Per batch: both locks at once, then the security claim, then the cash claim, ' +
      'each one transaction per ledger, waited for. F: Fabric, E: EVM; step times are means per batch.\n',
  );
  process.stdout.write(
    '   batch   trades trades/s   p50 ms   p99 ms | lock F ms lock E ms claim F ms claim E ms | gas/trade F tx E tx\n',
  );
  const f = (n: number, digits: number, width: number) => n.toFixed(digits).padStart(width);
  for (const r of rows) {
    const s = r.stepMs;
    process.stdout.write(
      `${f(r.batch, 0, 8)} ${f(r.trades, 0, 8)} ${f(r.tradesPerSecond, 0, 8)} ${f(r.p50Ms, 1, 8)} ` +
        `${f(r.p99Ms, 1, 8)} | ${f(s.lockFabric, 1, 9)} ${f(s.lockEvm, 1, 9)} ${f(s.claimFabric, 1, 10)} ` +
        `${f(s.claimEvm, 1, 10)} | ${f(r.gasPerTrade, 0, 9)} ${f(r.fabricTxPerBatch, 0, 4)} ` +
        `${f(r.evmTxPerBatch, 0, 4)}\n`,
    );
  }
  process.stdout.write(`\nLoad average (1 min): ${loadAvg.start} at the start, ${loadAvg.end} at the end.\n`);
}

await main();
