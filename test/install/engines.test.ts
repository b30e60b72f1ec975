/**
 * The install is clean on the Node version the README names: that version is the one
 * `package.json` declares, and every package the lockfile installs supports it, so `npm ci` warns
 * of no unsupported engine (`EBADENGINE`) and `npm ci --engine-strict` in CI refuses nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import semver from 'semver';

const root = new URL('../../../', import.meta.url);
const json = <T>(file: string): T => JSON.parse(fs.readFileSync(new URL(file, root), 'utf8')) as T;

interface Manifest {
  engines?: { node?: string } | string[];
}

describe('install engines', () => {
  const declared = json<Manifest>('package.json').engines;
  const range = Array.isArray(declared) ? undefined : declared?.node;
  const named = /^Node\.js (\d+\.\d+) or later\./m.exec(fs.readFileSync(new URL('README.md', root), 'utf8'));

  it('the README names the lowest Node version package.json accepts', () => {
    assert.ok(range !== undefined, 'package.json declares engines.node');
    assert.ok(named !== null, 'the README names a Node version ("Node.js X.Y or later.")');
    assert.equal(semver.minVersion(range)?.version, `${named[1]}.0`);
  });

  it('every package in the lockfile supports that version', () => {
    const lowest = semver.minVersion(range!)!;
    const lock = json<{ packages: Record<string, Manifest> }>('package-lock.json');
    const unsupported = Object.entries(lock.packages).flatMap(([where, p]) => {
      const node = Array.isArray(p.engines) ? undefined : p.engines?.node;
      return node === undefined || semver.satisfies(lowest, node) ? [] : [`${where} (node ${node})`];
    });
    assert.deepEqual(unsupported, [], `packages that do not support Node ${lowest.version}`);
  });
});
