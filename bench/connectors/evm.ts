/**
 * Settlement on a local chain: trades settled per second and gas per trade through `EvmLedger`
 * (one `settlePacked` transaction per batch, waited for), for batch sizes 1, 10, 100 and 500,
 * with and without netting. Anvil runs with automine and a raised block gas limit; the trades
 * are seeded, between 50 funded investors, all settling (sizes that fit their escrow).
 *
 *   npm run bench:settlement -- [--trades N] [--json]
 */
import { EvmLedger } from '../../connectors/evm/index.ts';
import { settlementOptions } from '../cli.ts';
import { fundedChain, seededTrades, tempProgress, timeBatches } from './seeded.ts';

const BATCHES = [1, 10, 100, 500];

interface Row {
  batch: number;
  netting: boolean;
  trades: number;
  tradesPerSecond: number;
  gasPerTrade: number;
}

async function main(): Promise<void> {
  const values = settlementOptions('usage: evm.js [--trades N] [--json]');
  const perRun = values.trades;
  const { anvil, d, investors } = await fundedChain();
  const { progress, remove } = tempProgress('evm');
  try {
    const ledger = (netting: boolean) =>
      new EvmLedger({
        venue: 'evm:31337',
        settlement: d.settlement,
        progress,
        netting,
        asset: () => ({
          security: d.addresses.securities.ACME!,
          lotUnits: 1n,
          cash: d.addresses.cash,
          cashUnits: 1n,
        }),
      });
    const instruction = seededTrades(
      investors.map((w) => w.address),
      'ACME@evm:31337',
    );

    const rows: Row[] = [];
    for (const netting of [false, true]) {
      for (const batch of BATCHES) {
        const l = ledger(netting);
        let gas = 0n;
        const { trades, ms } = await timeBatches(l, batch, perRun, instruction, () => {
          gas += l.lastBatch!.gasUsed;
        });
        const seconds = ms / 1000;
        rows.push({
          batch,
          netting,
          trades,
          tradesPerSecond: trades / seconds,
          gasPerTrade: Number(gas) / trades,
        });
        if (!values.json)
          process.stderr.write(`batch ${batch}${netting ? ' (netting)' : ''}: ${trades} trades\n`);
      }
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(rows)}\n`);
      return;
    }
    process.stdout.write(
      '\nSettlement on anvil through EvmLedger (one settlePacked per batch, waited for):\n',
    );
    process.stdout.write('   batch  netting     trades   trades/s  gas/trade\n');
    for (const r of rows) {
      process.stdout.write(
        `${String(r.batch).padStart(8)} ${String(r.netting).padStart(8)} ${String(r.trades).padStart(10)} ` +
          `${r.tradesPerSecond.toFixed(0).padStart(10)} ${r.gasPerTrade.toFixed(0).padStart(10)}\n`,
      );
    }
    const best = Math.max(...rows.map((r) => r.tradesPerSecond));
    const at100 = rows.find((r) => r.batch === 100 && !r.netting)!.gasPerTrade;
    process.stdout.write(
      `\nTargets: >= 2,000 trades/s settled: ${best >= 2000 ? 'met' : 'NOT MET'} (best ${best.toFixed(0)}); ` +
        `<= 35,000 gas per trade at batch 100: ${at100 <= 35_000 ? 'met' : 'NOT MET'} (${at100.toFixed(0)})\n`,
    );
  } finally {
    await anvil.stop();
    await remove();
  }
}

await main();
