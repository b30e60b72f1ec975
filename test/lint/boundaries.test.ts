/**
 * The folders' boundaries, as `npm run lint` enforces them (rule `mosaic/doors` in
 * eslint.config.js): given a source file at a path in the tree, when it imports across a folder,
 * then ESLint, with the repository's own configuration, reports the import that bypasses a door
 * and lets the one through the door pass.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The `mosaic/doors` messages ESLint gives `code` as if it were the file at `file`. */
async function doorProblems(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${file}` });
  return result!.messages.filter((m) => m.ruleId === 'mosaic/doors').map((m) => m.message);
}

const refused: [file: string, code: string, message: string][] = [
  [
    'gateway/feed/x.ts',
    "export type { EventSubscriber } from '../../journal/ports.ts';",
    '../../journal/ports.ts: import it through journal/index.ts',
  ],
  [
    'cluster/x.ts',
    "export { spawnSupervised } from '../connectors/supervised.ts';",
    '../connectors/supervised.ts: import it through connectors/index.ts',
  ],
  [
    'gateway/x.ts',
    "export { startEvmConnector } from '../connectors/evm/index.ts';",
    '../connectors/evm/index.ts: import it through connectors/index.ts',
  ],
  [
    'engine/x.ts',
    "export * from '../journal/index.ts';",
    '../journal/index.ts: engine/ imports nothing outside engine/',
  ],
  [
    'connectors/evm/x.ts',
    "export { fabricClient } from '../fabric/client.ts';",
    '../fabric/client.ts: import it through connectors/fabric/index.ts',
  ],
  [
    'gateway/x.ts',
    "export const names = await import('./feed/names.ts');",
    './feed/names.ts: import it through gateway/feed/index.ts',
  ],
  [
    'gateway/x.ts',
    "export * from '../app/index.ts';",
    '../app/index.ts: app/ wires the parts: only bin/ uses it',
  ],
  [
    'connectors/x.ts',
    "export { Config } from '../app/index.ts';",
    '../app/index.ts: app/ wires the parts: only bin/ uses it',
  ],
  [
    'bin/x.ts',
    "export { startExchange } from '../app/embedded.ts';",
    '../app/embedded.ts: import it through app/index.ts',
  ],
  [
    'connectors/x.ts',
    "export { retry } from '../common/retry.ts';",
    '../common/retry.ts: import it through common/index.ts',
  ],
  [
    'common/x.ts',
    "export { makeError } from '../gateway/index.ts';",
    '../gateway/index.ts: common/ imports nothing outside common/',
  ],
];

const allowed: [file: string, code: string][] = [
  ['gateway/feed/x.ts', "export type { EventSubscriber } from '../../journal/index.ts';"],
  ['cluster/x.ts', "export { spawnSupervised, ledgerKind } from '../connectors/index.ts';"],
  ['engine/x.ts', "export { Engine } from './engine.ts';"],
  ['bin/x.ts', "export { startExchange } from '../app/index.ts';"],
  ['cluster/x.ts', "export { retry } from '../common/index.ts';"],
  ['common/x.ts', "export { Backoff } from './retry.ts';"],
  ['connectors/evm/x.ts', "export { TRADES } from '../ledger.ts';"],
  ['connectors/fabric/x.ts', "export { startDevnet } from './devnet/index.ts';"],
  ['gateway/x.ts', "export { default } from './plugins/rest.ts';"],
  ['test/x.ts', "export type { EventSubscriber } from '../journal/ports.ts';"],
  ['bench/x.ts', "export { Settler } from '../connectors/settler.ts';"],
];

describe('folder boundaries (npm run lint)', () => {
  for (const [file, code, message] of refused) {
    it(`refuses in ${file}: ${code}`, async () => {
      assert.deepEqual(await doorProblems(file, code), [message]);
    });
  }
  for (const [file, code] of allowed) {
    it(`allows in ${file}: ${code}`, async () => {
      assert.deepEqual(await doorProblems(file, code), []);
    });
  }
});
