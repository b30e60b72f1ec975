/** `mosaic start`, run as a user runs it: a child process, its output and its exit code. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/mosaic.js', import.meta.url));

async function mosaic(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('mosaic start (engine demo)', () => {
  it('prints trades and the final books, the same for the same seed', async () => {
    const a = await mosaic('start', '--orders', '150', '--seed', '7');
    const b = await mosaic('start', '--orders', '150', '--seed', '7');
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^trade #1 /m);
    assert.match(a.stdout, /ACME@evm:31337 {2}last \d+\.\d{2}/);
    assert.match(a.stdout, /ACME@fabric:bank-net {2}last \d+\.\d{2}/);
    const summary = a.stdout.trim().split('\n').at(-1)!;
    assert.match(
      summary,
      /^150 trader orders, [1-9]\d* trades, \d+ rejected, \d+ live orders, state hash [0-9a-f]{16} \(seed 7\)$/,
    );
    assert.equal(a.stdout, b.stdout);
    const other = await mosaic('start', '--orders', '150', '--seed', '8');
    assert.notEqual(other.stdout.trim().split('\n').at(-1), summary);
  });

  const bad: Array<[string[], RegExp]> = [
    [['start', '--orders', '0'], /--orders must be a whole number from 1 to 1000000, got "0"/],
    [['start', '--orders', '1.5'], /--orders must be a whole number/],
    [['start', '--seed', '-3'], /--seed|Unknown option|argument/],
    [['start', '--wat'], /Unknown option '--wat'/],
    [['launch'], /unknown command "launch"/],
    [['start', 'extra'], /unexpected argument "extra"/],
  ];
  for (const [args, message] of bad) {
    it(`refuses ${args.join(' ')} with a clear error and exit code 2`, async () => {
      const r = await mosaic(...args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: mosaic start/);
      assert.equal(r.stdout, '');
    });
  }
});
