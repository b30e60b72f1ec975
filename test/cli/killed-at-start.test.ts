/**
 * The exchange SIGKILLed while it starts, at each stage of its start-up (chosen by the log line
 * that says the stage was reached: anvil up, a chaincode process up, a devnet up, the banner),
 * embedded and as a local cluster with its nats-server: nothing it started outlives it (the
 * process table holds nothing of it soon after), and the next start on the same data comes up.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processesWith } from '../support/exchange-process.ts';
import { until } from '../support/wait.ts';

const CLI = fileURLToPath(new URL('../../bin/mosaic.js', import.meta.url));

describe('mosaic start killed during start-up', { timeout: 480_000 }, () => {
  const dirs: string[] = [];
  const children = new Set<ChildProcess>();
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Starts `mosaic start` (in a process group of its own, as a terminal would) and SIGKILLs it
   * as soon as its output matches `stage`; then waits until nothing of it is left.
   */
  async function killAt(env: Record<string, string>, stage: RegExp, args: string[] = []): Promise<void> {
    const run = randomUUID();
    const child = spawn(process.execPath, [CLI, 'start', ...args], {
      env: { ...process.env, MOSAIC_PORT: '0', MOSAIC_TEST_RUN: run, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.add(child);
    let out = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const look = (b: Buffer) => {
        out += b.toString();
        if (stage.test(out)) {
          child.kill('SIGKILL');
          resolve();
        }
      };
      child.stdout!.on('data', look);
      child.stderr!.on('data', look);
      child.once('exit', (code) => reject(new Error(`exited (${code}) before ${stage}:\n${out}`)));
      setTimeout(() => reject(new Error(`no ${stage} within 120 s:\n${out}`)), 120_000).unref();
    });
    await exited;
    children.delete(child);
    let left: string[] = [];
    await until(
      `nothing left after a SIGKILL at ${stage}`,
      () => (left = processesWith('MOSAIC_TEST_RUN', run)).length === 0,
      () => `left:\n${left.join('\n')}\noutput:\n${out}`,
      10_000,
    );
  }

  it('embedded: killed once anvil is started, is up, a chaincode is up, a devnet is up, and at the banner', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-killed-'));
    dirs.push(dir);
    const env = { MOSAIC_DATA_DIR: dir };
    for (const stage of [
      /evm:31337: anvil started/,
      /evm:31337: local anvil up/,
      /fabric:bank-net: chaincode process up/,
      /fabric:bank-net: devnet up/,
      /fabric:club-net: chaincode process up/,
      /Mosaic is running at/,
      /evm:31337: anvil started/,
    ]) {
      await killAt(env, stage);
    }
    // Then a start on the same data comes up and stops cleanly
    await killAt(env, /Mosaic is running at/);
    assert.ok(fs.existsSync(path.join(dir, 'evm-31337', 'anvil-state.json')));
  });

  it('as a local cluster: killed once nats-server is up, a shard is up, a daemon is up, and at the banner', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-killed-cluster-'));
    dirs.push(dir);
    const file = path.join(dir, 'mosaic.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        dataDir: path.join(dir, 'data'),
        port: 0,
        cluster: { enabled: true, servers: ['127.0.0.1:0'] },
      }),
    );
    for (const stage of [/nats-server up/, /engine shard 0 up/, /evm connector up/, /is running at/]) {
      await killAt({}, stage, ['--config', file]);
    }
  });
});
