/**
 * `mosaic start` on a ledger that went back since the exchange last ran on it (issue 13: a stale
 * anvil wrote its state over the newer one, and the next start came up with the chain behind the
 * engine). Each ledger the exchange starts keeps its state in the data folder: the local anvil in
 * `evm-31337/anvil-state.json`, a devnet in `fabric-<venue>/blocks.bin`. Given a first run whose
 * ledger state is saved, and a second run (a normal restart) that settles trades and reads the
 * ledger past the saved state's last block, when the saved state is put back, the next start
 * stops with exit code 1 and a message naming the ledger, the block the exchange read (number and
 * hash), the ledger's own last block, and what to do. On the chain, also another chain in its
 * place: the old state mined on past the block read.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { START_READY } from '../../app/children.ts';
import { Anvil } from '../../connectors/evm/index.ts';
import { startDevnet } from '../../connectors/fabric/index.ts';
import { changesCheckpoint, Progress, readBlockCheckpoint } from '../../connectors/index.ts';
import { killAll, MosaicProcess } from '../support/exchange-process.ts';
import { until } from '../support/wait.ts';

/** How long a run may take to settle a trade on this shared machine. */
const SETTLE_MS = 180_000;

describe('mosaic start on a ledger that went back', { timeout: 900_000 }, () => {
  const running = new Set<ChildProcess>();
  const dirs: string[] = [];
  after(async () => {
    await killAll(running);
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The exchange on `dataDir` with the demo market maker, one ledger kind switched off by `env`. */
  const start = (dataDir: string, env: Record<string, string>) =>
    MosaicProcess.spawn(['start'], START_READY, running, {
      MOSAIC_PORT: '0',
      MOSAIC_LOG_LEVEL: 'silent',
      MOSAIC_DATA_DIR: dataDir,
      ...env,
    });

  /**
   * Runs the exchange until it has settled a trade on `venue` and its change watcher has read
   * the ledger past block `past`, then stops it with Ctrl-C.
   */
  const run = async (dataDir: string, env: Record<string, string>, venue: string, past = -1) => {
    const exchange = await start(dataDir, env);
    await until(
      `a trade settled on ${venue}`,
      async () => {
        const pipelines = (await (await fetch(`${exchange.url}/api/settlements`)).json()) as Array<{
          venue: string;
          settled: number;
        }>;
        return (pipelines.find((p) => p.venue === venue)?.settled ?? 0) > 0;
      },
      () => exchange.output,
      SETTLE_MS,
    );
    await until(
      `${venue} read past block ${past}`,
      async () => ((await readTo(dataDir, venue))?.block ?? -1) > past,
      () => exchange.output,
      SETTLE_MS,
    );
    assert.equal(await exchange.kill('SIGINT'), 0, exchange.output);
  };

  /** The start refused: exit code 1 and the one line it printed. */
  const refused = async (dataDir: string, env: Record<string, string>): Promise<string> => {
    let line = '';
    await assert.rejects(start(dataDir, env), (err: Error) => {
      assert.match(err.message, /mosaic start exited \(1\) before it was ready/);
      line = /^mosaic: cannot start: .*$/m.exec(err.message)?.[0] ?? assert.fail(err.message);
      return true;
    });
    return line;
  };

  it('refuses a local chain put back to an older state, and another chain in its place', async () => {
    const dataDir = tempDir(dirs);
    const env = { MOSAIC_FABRIC: '0' };
    const state = path.join(dataDir, 'evm-31337', 'anvil-state.json');
    const old = path.join(dataDir, 'anvil-state.old.json');
    // Given a first run whose chain state is saved
    await run(dataDir, env, 'evm:31337');
    fs.copyFileSync(state, old);
    const saved = await chainHead(old);
    // and a second run that settled trades and read the chain past the saved state
    await run(dataDir, env, 'evm:31337', saved.block);
    const read = (await readTo(dataDir, 'evm:31337'))!;

    // When the saved state is put back (a stale anvil writing its state over the newer one)
    fs.copyFileSync(old, state);
    // Then the start stops, naming the chain, the block read and the chain's own, and what to do
    const advice =
      'What the exchange recorded there (deposits, settlements, withdrawals) may be missing from it, ' +
      `so the exchange does not start on it: restore its state (kept in ${state}) as it was when the ` +
      `exchange last stopped, or start with a new data folder in place of ${dataDir}`;
    const intro = (found: string) =>
      new RegExp(
        `^mosaic: cannot start: evm:31337: the chain at http://127\\.0\\.0\\.1:\\d+ went back, or is another ` +
          `one: the exchange read it up to block ${read.block} \\(hash ${read.hash}\\), and ${found}\\. `,
      );
    const behind = await refused(dataDir, env);
    assert.match(behind, intro(`its last block is ${saved.block} \\(hash ${saved.hash}\\)`));
    assert.ok(behind.endsWith(advice), behind);

    // When, instead, the saved state is mined on past the block read: another chain at that height
    const anvil = await Anvil.start({ stateFile: state });
    await anvil.rpc('anvil_mine', [`0x${(read.block - saved.block + 1).toString(16)}`]);
    const theirs = (await anvil.provider().getBlock(read.block))!.hash!;
    await anvil.stop();
    // Then the start stops too, naming the hash the chain has at that block
    const other = await refused(dataDir, env);
    assert.notEqual(theirs, read.hash);
    assert.match(
      other,
      intro(`its block ${read.block} has hash ${theirs} \\(its last block is ${read.block + 1}\\)`),
    );
    assert.ok(other.endsWith(advice), other);
  });

  it('refuses a devnet put back to older blocks', async () => {
    const dataDir = tempDir(dirs);
    const env = { MOSAIC_EVM: '0' };
    const blocks = path.join(dataDir, 'fabric-bank-net', 'blocks.bin');
    const saved = `${blocks}.old`;
    const copies = [
      [blocks, saved],
      [`${blocks}.private`, `${saved}.private`],
    ] as const;
    // Given a first run whose devnet blocks are saved
    await run(dataDir, env, 'fabric:bank-net');
    for (const [file, copy] of copies) fs.copyFileSync(file, copy);
    const savedHead = await devnetHead(saved);
    // and a second run that settled trades and read the devnet past the saved blocks
    await run(dataDir, env, 'fabric:bank-net', savedHead);
    const read = (await readTo(dataDir, 'fabric:bank-net'))!;

    // When the saved blocks are put back
    for (const [file, copy] of copies) fs.copyFileSync(copy, file);
    // Then the start stops, naming the devnet, the block read and the devnet's own, and what to do
    const line = await refused(dataDir, env);
    assert.match(
      line,
      new RegExp(
        '^mosaic: cannot start: fabric:bank-net: the devnet at 127\\.0\\.0\\.1:\\d+ \\(channel bank-net\\) ' +
          `went back, or is another one: the exchange read it up to block ${read.block} \\(hash ${read.hash}\\), ` +
          `and its last block is ${savedHead} \\(hash [0-9a-f]{64}\\)\\. `,
      ),
    );
    assert.ok(
      line.endsWith(
        `restore its state (kept in ${blocks}) as it was when the exchange last stopped, ` +
          `or start with a new data folder in place of ${dataDir}`,
      ),
      line,
    );
  });
});

function tempDir(dirs: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-went-back-'));
  dirs.push(dir);
  return dir;
}

/**
 * The block a venue's change watcher read last, from its progress (opened afresh each time, so
 * that it sees what the running exchange wrote).
 */
async function readTo(
  dataDir: string,
  venue: string,
): Promise<{ block: number; hash: string | null } | null> {
  const dir = path.join(dataDir, venue.replace(':', '-'), 'progress');
  if (!fs.existsSync(dir)) return null;
  const progress = Progress.open(dir);
  try {
    return readBlockCheckpoint(progress.checkpoint(changesCheckpoint(venue)));
  } finally {
    await progress.close();
  }
}

/** The last block of a saved anvil state (read by an anvil started on a copy of it). */
async function chainHead(stateFile: string): Promise<{ block: number; hash: string }> {
  const copy = `${stateFile}.probe`;
  fs.copyFileSync(stateFile, copy);
  const anvil = await Anvil.start({ stateFile: copy });
  try {
    const block = (await anvil.provider().getBlock('latest'))!;
    return { block: block.number, hash: block.hash! };
  } finally {
    await anvil.stop();
    fs.rmSync(copy);
  }
}

/** The last block of saved devnet blocks (read by a devnet started on them). */
async function devnetHead(blockFile: string): Promise<number> {
  const devnet = await startDevnet({ channel: 'bank-net', msps: [], chaincodes: [], stateFile: blockFile });
  const head = devnet.height() - 1;
  await devnet.close();
  return head;
}
