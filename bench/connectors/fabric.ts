/**
 * Settlement on the Fabric devnet: trades settled per second through `FabricLedger` (one
 * `SettleBatch` transaction per batch, endorsed by the settlement chaincode in its own process,
 * submitted and waited for until committed), for batch sizes 1, 10 and 100, up to `--depth`
 * batches in flight at once, as the daemon sends them: the ledger makes a batch that shares a key
 * (a balance, a verdict key) with one before it once that one is submitted, and endorses it once
 * that one is committed. On two block cuttings, each a fresh devnet:
 *
 * - `fast`: the devnet's defaults, as `npm start` runs it (a block 10 ms after its first
 *   transaction or at 100 transactions: the network as fast as it goes), `--trades` trades a row;
 * - `test-network`: Fabric's own test network's ordering (fabric-samples configtx.yaml:
 *   BatchTimeout 2 s, MaxMessageCount 10, PreferredMaxBytes 512 KB), each row `--blocks` blocks'
 *   worth of trades (batch x depth x blocks).
 *
 * Beside each row, the network's limit at that block cutting: empty transactions committed per
 * second (`BalanceOf` of an account that holds nothing, submitted as a transaction: it reads one
 * key and writes none; 1,000 of them, 100 in flight, through the same client), times the row's
 * batch size: trades per second if a settlement transaction cost no more than an empty one; and
 * the chaincode's state calls per batch (each a round trip to the peer, counted by the devnet).
 * Every row says how long it ran and the machine's load at its start and end; with `--runs N`,
 * the median of N runs. The trades are seeded, between 50 Fabric identities of BankAMSP
 * (`BankAMSP:investor-N`) that the operator registered with `SetStanding` and funded with
 * `Issue`, all settling. The devnet runs in the bench's process, the chaincode in its own.
 *
 *   npm run bench:settlement-fabric -- [--trades N] [--blocks N] [--depth N] [--runs N]
 *     [--only fast,test-network] [--batch 1,10,100] [--json]
 */
import type { Contract } from '@hyperledger/fabric-gateway';
import {
  DEVNET_BLOCKS,
  type DevnetBlocks,
  FABRIC_TEST_NETWORK_BLOCKS,
  FabricLedger,
} from '../../connectors/fabric/index.ts';
import { type SettlementRowOptions, settlementRowOptions } from '../cli.ts';
import { machine, medianRun, printTable, type RowRun, settleRow } from './rows.ts';
import { DEVNET, fundedNetwork, inBatches, seededTrades, tempProgress } from './seeded.ts';

const VENUE = DEVNET.venue;
const ACME = `ACME@${VENUE}`;

/** The block cuttings, by name; `timed`: a row runs `--blocks` blocks' worth of trades. */
const CUTTINGS: Readonly<Record<string, { blocks: DevnetBlocks; timed: boolean }>> = {
  fast: { blocks: DEVNET_BLOCKS, timed: false },
  'test-network': { blocks: FABRIC_TEST_NETWORK_BLOCKS, timed: true },
};

/** Empty transactions per measure of the limit, and how many in flight at once. */
const EMPTY_TXS = 1_000;
const EMPTY_IN_FLIGHT = 100;

interface Row extends Omit<RowRun, 'gasPerTrade'> {
  cutting: string;
  blockMs: number;
  blockSize: number;
  /** Null: no byte limit. */
  blockBytes: number | null;
  batch: number;
  depth: number;
  /** Empty transactions committed per second at this block cutting. */
  emptyTxPerSecond: number;
  /** `emptyTxPerSecond` times the batch size. */
  limitTradesPerSecond: number;
  /** The chaincode's state calls to the devnet per batch (reads and writes; each a round trip), over all runs. */
  stateCallsPerBatch: number;
  runsTradesPerSecond: number[];
}

const USAGE =
  'usage: fabric.js [--trades N] [--blocks N] [--depth N] [--runs N] [--only fast,test-network] ' +
  '[--batch 1,10,100] [--json]';

async function main(): Promise<void> {
  const o = settlementRowOptions(USAGE, { settings: Object.keys(CUTTINGS), batches: [1, 10, 100] });
  const rows: Row[] = [];
  for (const cutting of o.settings) {
    for (const row of await cuttingRows(cutting, o)) {
      rows.push(row);
      if (!o.json)
        process.stderr.write(`${cutting} batch ${row.batch}: ${row.trades} trades in ${row.seconds} s\n`);
    }
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ ...machine(), rows })}\n`);
    return;
  }
  print(rows, o.depth);
}

/** The rows of one block cutting, on a fresh devnet. */
async function cuttingRows(cutting: string, o: SettlementRowOptions): Promise<Row[]> {
  const { blocks, timed } = CUTTINGS[cutting]!;
  const { client, investors, stateCalls, close } = await fundedNetwork(blocks);
  const { gateway, contract } = client;
  const { progress, remove } = tempProgress('fabric');
  try {
    const emptyTxPerSecond = await emptyTransactions(contract);
    const next = seededTrades(investors, ACME);
    const rows: Row[] = [];
    for (const batch of o.batches) {
      const perRun = timed ? batch * o.depth * o.blocks : o.trades;
      const ledger = () =>
        new FabricLedger({
          venue: VENUE,
          gateway,
          contract,
          progress,
          asset: (instrument) => (instrument === ACME ? { security: 'ACME', cash: 'USD' } : undefined),
        });
      const callsBefore = stateCalls();
      // The network charges no gas: its rows leave gas out.
      const { gasPerTrade: _none, ...run } = await medianRun(o.runs, () =>
        settleRow(ledger(), batch, o.depth, perRun, next),
      );
      const batches = o.runs * Math.ceil(perRun / batch);
      rows.push({
        cutting,
        blockMs: blocks.blockMs,
        blockSize: blocks.blockSize,
        blockBytes: blocks.blockBytes ?? null,
        batch,
        depth: o.depth,
        ...run,
        emptyTxPerSecond,
        limitTradesPerSecond: emptyTxPerSecond * batch,
        stateCallsPerBatch: Math.round(((stateCalls() - callsBefore) / batches) * 10) / 10,
      });
    }
    return rows;
  } finally {
    await close();
    await remove();
  }
}

/**
 * Empty transactions committed per second: `BalanceOf` of an account that holds nothing, submitted
 * as a transaction (the chaincode's cheapest that writes nothing: one read), `EMPTY_IN_FLIGHT` at once.
 */
async function emptyTransactions(contract: Contract): Promise<number> {
  const { trades, ms } = await inBatches(
    1,
    EMPTY_TXS,
    () => ['BankAMSP:nobody', 'ACME'],
    async ([args]) => {
      const status = await (await contract.submitAsync('BalanceOf', { arguments: args! })).getStatus();
      if (!status.successful) throw new Error(`an empty transaction failed: code ${status.code}`);
    },
    EMPTY_IN_FLIGHT,
  );
  return trades / (ms / 1000);
}

function print(rows: readonly Row[], depth: number): void {
  process.stdout.write(
    '\nSettlement on the Fabric devnet through FabricLedger (one SettleBatch per batch, waited for ' +
      `until committed; up to ${depth} batch${depth === 1 ? '' : 'es'} in flight). A block is cut ` +
      'block ms after its first transaction, at block size transactions or at block bytes. ' +
      'empty tx/s: empty transactions committed per second at that cutting; limit/s: that times ' +
      "the batch size. calls/batch: the chaincode's state calls to the peer per batch (each a round " +
      "trip). load: 1-minute load average at the row's start and end.\n",
  );
  const f = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
  printTable(
    [
      ['cutting', 12],
      ['block ms', 8],
      ['block size', 10],
      ['block bytes', 11],
      ['batch', 6],
      ['trades', 7],
      ['seconds', 8],
      ['trades/s', 9],
      ['ms/batch', 9],
      ['empty tx/s', 10],
      ['limit/s', 8],
      ['calls/batch', 11],
      ['load', 11],
    ],
    rows.map((r) => [
      r.cutting,
      String(r.blockMs),
      String(r.blockSize),
      r.blockBytes === null ? '-' : f(r.blockBytes),
      String(r.batch),
      String(r.trades),
      f(r.seconds, 1),
      f(r.tradesPerSecond, r.tradesPerSecond < 10 ? 2 : 0),
      f(r.msPerBatch, 1),
      f(r.emptyTxPerSecond),
      f(r.limitTradesPerSecond),
      f(r.stateCallsPerBatch, 1),
      `${r.load.start}-${r.load.end}`,
    ]),
  );
}

await main();
