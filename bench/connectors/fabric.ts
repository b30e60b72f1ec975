/**
 * Settlement on the Fabric devnet: trades settled per second through `FabricLedger` (one
 * `SettleBatch` transaction per batch, endorsed by the settlement chaincode in its own process,
 * submitted and waited for until committed), for batch sizes 1, 10 and 100, one batch at a time
 * as the daemon sends them. The trades are seeded, between 50 Fabric identities of BankAMSP
 * (`BankAMSP:investor-N`) that the operator registered with `SetStanding` and funded with
 * `Issue`, all settling. Only the operator signs, so only it has a certificate (a devDependency
 * makes it, as in the tests: fine for a bench).
 *
 *   npm run bench:settlement-fabric -- [--trades N] [--json]
 */
import { FabricLedger } from '../../connectors/fabric/index.ts';
import { settlementOptions } from '../cli.ts';
import { DEVNET, fundedNetwork, seededTrades, tempProgress, timeBatches } from './seeded.ts';

const BATCHES = [1, 10, 100];
const VENUE = DEVNET.venue;
const ACME = `ACME@${VENUE}`;
/** The devnet's block cutting, as `npm start` runs it (its defaults), stated so the table can say so. */
const BLOCK_MS = DEVNET.blockMs;
const BLOCK_SIZE = DEVNET.blockSize;

interface Row {
  batch: number;
  trades: number;
  tradesPerSecond: number;
  /** Mean wall time of one batch: endorse, submit, commit status. */
  msPerBatch: number;
  blockMs: number;
  blockSize: number;
}

async function main(): Promise<void> {
  const values = settlementOptions('usage: fabric.js [--trades N] [--json]');
  const perRun = values.trades;
  const { client, investors, close } = await fundedNetwork();
  const { gateway, contract } = client;
  const { progress, remove } = tempProgress('fabric');
  try {
    const instruction = seededTrades(investors, ACME);

    const rows: Row[] = [];
    for (const batch of BATCHES) {
      const ledger = new FabricLedger({
        venue: VENUE,
        gateway,
        contract,
        progress,
        asset: (instrument) => (instrument === ACME ? { security: 'ACME', cash: 'USD' } : undefined),
      });
      const { trades, ms } = await timeBatches(ledger, batch, perRun, instruction);
      rows.push({
        batch,
        trades,
        tradesPerSecond: trades / (ms / 1000),
        msPerBatch: ms / (trades / batch),
        blockMs: BLOCK_MS,
        blockSize: BLOCK_SIZE,
      });
      if (!values.json) process.stderr.write(`batch ${batch}: ${trades} trades\n`);
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(rows)}\n`);
      return;
    }
    process.stdout.write(
      '\nSettlement on the Fabric devnet through FabricLedger (one SettleBatch per batch, waited for ' +
        `until committed; devnet blocks cut ${BLOCK_MS} ms after their first transaction or at ` +
        `${BLOCK_SIZE} transactions):\n`,
    );
    process.stdout.write('   batch     trades   trades/s   ms/batch   block ms block size\n');
    for (const r of rows) {
      process.stdout.write(
        `${String(r.batch).padStart(8)} ${String(r.trades).padStart(10)} ` +
          `${r.tradesPerSecond.toFixed(0).padStart(10)} ${r.msPerBatch.toFixed(1).padStart(10)} ` +
          `${String(r.blockMs).padStart(10)} ${String(r.blockSize).padStart(10)}\n`,
      );
    }
  } finally {
    await close();
    await remove();
  }
}

await main();
