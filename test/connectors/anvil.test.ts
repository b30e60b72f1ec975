/**
 * The local chain's process: an anvil never outlives the process that started it, and when that
 * process is killed outright, anvil still stops in order and its state file keeps every block.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Anvil } from '../../connectors/evm/index.ts';
import { until, within } from '../support/wait.ts';

const ANVIL_MODULE = new URL('../../connectors/evm/index.js', import.meta.url).href;

/** Whether something answers JSON-RPC on the port. */
async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
    });
    return res.ok;
  } catch {
    return false;
  }
}

describe('the local anvil', () => {
  it('stops, writing its state, when the process that started it is killed with SIGKILL', async () => {
    // Given a process that started anvil with a state file and mined five blocks
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-anvil-'));
    const stateFile = path.join(dir, 'state.json');
    const code = `
      const { Anvil } = await import(${JSON.stringify(ANVIL_MODULE)});
      const a = await Anvil.start({ stateFile: ${JSON.stringify(stateFile)} });
      await a.rpc('anvil_mine', ['0x5']);
      process.stdout.write('port ' + a.port + '\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const port = await within(
      'the anvil the child started',
      new Promise<number>((resolve) =>
        child.stdout.on('data', () => {
          const m = /port (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        }),
      ),
      () => out,
    );
    assert.ok(await answers(port));

    // When that process is killed outright
    child.kill('SIGKILL');

    // Then anvil goes too, and its state file holds the five blocks
    await until('anvil to stop with the process that started it', async () => !(await answers(port)));
    await until('its state file', () => fs.existsSync(stateFile));
    const again = await Anvil.start({ stateFile });
    try {
      assert.equal(await again.rpc('eth_blockNumber'), '0x5');
    } finally {
      await again.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
