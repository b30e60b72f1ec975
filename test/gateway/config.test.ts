/**
 * Configuration errors are short: each problem once, naming the setting, where it came from, and
 * for a setting of a few values those values; a setting of several shapes is judged by the shape
 * it has. (`test/cli/start.test.ts` runs the same through `mosaic start`.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isGatewayError, loadConfig } from '../../gateway/index.ts';

describe('configuration errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-config-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (content: unknown) => {
    const f = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(f, JSON.stringify(content));
    return f;
  };
  const problems = (env: Record<string, string>, content?: unknown): string[] => {
    try {
      loadConfig(env, content === undefined ? undefined : file(content));
    } catch (err) {
      assert.ok(isGatewayError(err, 'BAD_CONFIG'), String(err));
      return (err.info.problems as string[]).map((p) => p.replace(/ \(in [^)]*\)/, ' (in FILE)'));
    }
    assert.fail('the configuration was accepted');
  };

  const cases: Array<[string, Record<string, string>, unknown, string[]]> = [
    [
      'a log level that is none of the levels',
      { MOSAIC_LOG_LEVEL: 'verbose' },
      undefined,
      [
        '/logLevel (from MOSAIC_LOG_LEVEL): must be "fatal", "error", "warn", "info", "debug" or "silent", got "verbose"',
      ],
    ],
    [
      'a log level of another type',
      {},
      { logLevel: true },
      ['/logLevel (in FILE): must be "fatal", "error", "warn", "info", "debug" or "silent", got true'],
    ],
    [
      'contracts of neither shape',
      {},
      { evm: { contracts: 5 } },
      ['/evm/contracts (in FILE): must be null or object, got 5'],
    ],
    [
      'contracts with one address wrong: that field, not the null branch',
      {},
      {
        evm: {
          contracts: {
            settlement: '0x12',
            registry: `0x${'1'.repeat(40)}`,
            cash: {},
            securities: {},
          },
        },
      },
      ['/evm/contracts/settlement (in FILE): must match pattern "^0x[0-9a-fA-F]{40}$"'],
    ],
    [
      'an unknown setting, nested',
      {},
      { evm: { maxFeeGwei: 10, maxFee: 10 } },
      ['/evm/maxFee (in FILE): unknown setting'],
    ],
    [
      'a batch replacement sooner than 100 ms, and a fee bump below what nodes ask',
      {},
      { evm: { replaceAfterMs: 50, feeBumpPercent: 5 } },
      ['/evm/replaceAfterMs (in FILE): must be >= 100', '/evm/feeBumpPercent (in FILE): must be >= 10'],
    ],
    [
      'more problems than TypeBox keeps by default (8 errors), every one named',
      { MOSAIC_LOG_LEVEL: 'verbose', MOSAIC_PORT: '70000' },
      { evm: { maxFeeGwei: 0 }, feed: { retain: 0 } },
      [
        '/port (from MOSAIC_PORT): must be <= 65535',
        '/logLevel (from MOSAIC_LOG_LEVEL): must be "fatal", "error", "warn", "info", "debug" or "silent", got "verbose"',
        '/evm/maxFeeGwei (in FILE): must be > 0',
        '/feed/retain (in FILE): must be >= 1',
      ],
    ],
  ];
  for (const [name, env, content, expected] of cases) {
    it(`given ${name}: ${expected.length === 1 ? 'one problem' : 'each problem once'}`, () => {
      assert.deepEqual(problems(env, content), expected);
    });
  }
});
