/**
 * The chaincode's loggers (fabric-shim's and fabric-contract-api's, winston) with `quiet-logs`
 * loaded first, in a process of their own as the chaincode runs: at WARNING a warning is still
 * written and a debug or info line is skipped before winston formats it; at DEBUG every level is
 * written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const QUIET = fileURLToPath(
  new URL('quiet-logs.js', import.meta.resolve('mosaic-settlement-chaincode/main')),
);

/** What a process writes when it logs one line at each of three levels through both packages' loggers. */
function logged(level: string): string {
  const script = `
    await import(${JSON.stringify(QUIET)});
    const { createRequire } = await import('node:module');
    const require = createRequire(${JSON.stringify(QUIET)});
    for (const pkg of ['fabric-shim', 'fabric-contract-api']) {
      const logger = require(pkg + '/lib/logger.js').getLogger('test');
      // A debug line's text is only made if the logger takes it: a getter shows whether it was read.
      logger.debug({ get message() { process.stdout.write('formatted ' + pkg + ' debug\\n'); return 'd'; } });
      logger.info(pkg + ' info line');
      logger.warn(pkg + ' warning line');
    }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: level },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout + run.stderr;
}

describe('chaincode logs', () => {
  it('at WARNING writes warnings and skips debug and info lines unformatted', () => {
    const out = logged('WARNING');
    for (const pkg of ['fabric-shim', 'fabric-contract-api']) {
      assert.match(out, new RegExp(`${pkg} warning line`));
      assert.doesNotMatch(out, new RegExp(`${pkg} info line`));
      assert.doesNotMatch(out, new RegExp(`formatted ${pkg} debug`));
    }
  });

  it('at DEBUG writes every level', () => {
    const out = logged('DEBUG');
    for (const pkg of ['fabric-shim', 'fabric-contract-api']) {
      assert.match(out, new RegExp(`${pkg} warning line`));
      assert.match(out, new RegExp(`${pkg} info line`));
      assert.match(out, new RegExp(`formatted ${pkg} debug`));
    }
  });
});
