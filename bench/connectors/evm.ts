/**
 * Settlement on a local chain: trades settled per second and gas per trade through `EvmLedger`
 * (one `settlePacked` transaction per batch, waited for until mined), for batch sizes 1, 10, 100
 * and 500, up to `--depth` batches in flight at once (the ledger sends them side by side, on
 * consecutive nonces). On three chains, each a fresh anvil:
 *
 * - `automine`: a block per transaction, the block gas limit raised to 300,000,000 (the chain as
 *   fast as it goes: what the code costs), `--trades` trades a row;
 * - `block1` and `block12`: `--block-time 1` and `--block-time 12` (a fast L2's and Ethereum's
 *   block times) and anvil's default block gas limit (30,000,000), each row `--blocks` blocks'
 *   worth of trades (batch x depth x blocks) so that the 12 s rows stay short.
 *
 * Beside each row on a block time, the chain's limit: the trades per second its block gas limit
 * allows at the row's gas per trade (gas limit / gas per trade / block seconds). Every row says
 * how long it ran and the machine's load at its start and end; with `--runs N`, the median of N
 * runs. The trades are seeded, between 50 funded investors, all settling (sizes that fit their
 * escrow).
 *
 *   npm run bench:settlement -- [--trades N] [--blocks N] [--depth N] [--runs N]
 *     [--only automine,block1,block12] [--batch 1,10,100,500] [--json]
 */
import { EvmLedger } from '../../connectors/evm/index.ts';
import { type SettlementRowOptions, settlementRowOptions } from '../cli.ts';
import { machine, medianRun, printTable, type RowRun, settleRow } from './rows.ts';
import { fundedChain, seededTrades, tempProgress } from './seeded.ts';

/** The chains, by name: seconds between blocks (none: automine). */
const CHAINS: Readonly<Record<string, number | undefined>> = {
  automine: undefined,
  block1: 1,
  block12: 12,
};

interface Row extends RowRun {
  chain: string;
  /** Seconds between blocks; null: automine. */
  blockSeconds: number | null;
  /** The chain's block gas limit, as it reports it. */
  gasLimit: number;
  batch: number;
  depth: number;
  /** Trades per second the block gas limit allows at this row's gas per trade; null on automine. */
  limitTradesPerSecond: number | null;
  runsTradesPerSecond: number[];
}

const USAGE =
  'usage: evm.js [--trades N] [--blocks N] [--depth N] [--runs N] [--only automine,block1,block12] ' +
  '[--batch 1,10,100,500] [--json]';

async function main(): Promise<void> {
  const o = settlementRowOptions(USAGE, { settings: Object.keys(CHAINS), batches: [1, 10, 100, 500] });
  const rows: Row[] = [];
  for (const chain of o.settings) {
    const blockSeconds = CHAINS[chain];
    rows.push(...(await chainRows(chain, blockSeconds, o, (r) => tell(o.json, r))));
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ ...machine(), rows })}\n`);
    return;
  }
  print(rows, o.depth);
}

/** The rows of one chain, on a fresh anvil. */
async function chainRows(
  chain: string,
  blockSeconds: number | undefined,
  o: SettlementRowOptions,
  done: (row: Row) => void,
): Promise<Row[]> {
  const { anvil, d, investors } = await fundedChain(blockSeconds);
  const { progress, remove } = tempProgress('evm');
  try {
    const gasLimit = Number((await anvil.provider().getBlock('latest'))!.gasLimit);
    const ledger = () =>
      new EvmLedger({
        venue: 'evm:31337',
        settlement: d.settlement,
        progress,
        asset: () => ({
          security: d.addresses.securities.ACME!,
          lotUnits: 1n,
          cash: d.addresses.cash,
          cashUnits: 1n,
        }),
      });
    const next = seededTrades(
      investors.map((w) => w.address),
      'ACME@evm:31337',
    );
    const rows: Row[] = [];
    for (const batch of o.batches) {
      const perRun = blockSeconds === undefined ? o.trades : batch * o.depth * o.blocks;
      const run = await medianRun(o.runs, () => settleRow(ledger(), batch, o.depth, perRun, next));
      const row: Row = {
        chain,
        blockSeconds: blockSeconds ?? null,
        gasLimit,
        batch,
        depth: o.depth,
        ...run,
        limitTradesPerSecond: blockSeconds === undefined ? null : gasLimit / run.gasPerTrade / blockSeconds,
      };
      rows.push(row);
      done(row);
    }
    return rows;
  } finally {
    await anvil.stop();
    await remove();
  }
}

/** Says on stderr that a row is done (not with --json). */
function tell(json: boolean, r: Row): void {
  if (!json) process.stderr.write(`${r.chain} batch ${r.batch}: ${r.trades} trades in ${r.seconds} s\n`);
}

function print(rows: readonly Row[], depth: number): void {
  process.stdout.write(
    `\nSettlement on anvil through EvmLedger (one settlePacked per batch, waited for until mined; up ` +
      `to ${depth} batch${depth === 1 ? '' : 'es'} in flight). automine: a block per transaction, ` +
      'gas limit raised; block N: a block every N s. limit/s: what the block gas limit allows at ' +
      "the row's gas per trade. load: 1-minute load average at the row's start and end.\n",
  );
  const f = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
  printTable(
    [
      ['chain', 9],
      ['gas limit', 11],
      ['batch', 6],
      ['trades', 7],
      ['seconds', 8],
      ['trades/s', 9],
      ['gas/trade', 9],
      ['limit/s', 8],
      ['load', 11],
    ],
    rows.map((r) => [
      r.chain,
      f(r.gasLimit),
      String(r.batch),
      String(r.trades),
      f(r.seconds, 1),
      f(r.tradesPerSecond, r.tradesPerSecond < 10 ? 2 : 0),
      f(r.gasPerTrade),
      r.limitTradesPerSecond === null ? '-' : f(r.limitTradesPerSecond),
      `${r.load.start}-${r.load.end}`,
    ]),
  );
  const automine = rows.filter((r) => r.chain === 'automine');
  const at100 = automine.find((r) => r.batch === 100)?.gasPerTrade;
  if (automine.length === 0 || at100 === undefined) return;
  const best = Math.max(...automine.map((r) => r.tradesPerSecond));
  process.stdout.write(
    `\nTargets (automine): >= 2,000 trades/s settled: ${best >= 2000 ? 'met' : 'NOT MET'} (best ${best.toFixed(0)}); ` +
      `<= 35,000 gas per trade at batch 100: ${at100 <= 35_000 ? 'met' : 'NOT MET'} (${at100.toFixed(0)})\n`,
  );
}

await main();
