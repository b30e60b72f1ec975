/**
 * The `mosaic` command as the README shows it, `npx mosaic ...` in the project folder, after the
 * build the test run began with (`npm test` builds first, as `npm start` does). npx runs the
 * project's own `bin` (through a link in npm's cache made at its first use), so the built file
 * must keep its run bit across builds; a build compiles only what changed (each `npm start` builds)
 * and leaves nothing of deleted sources behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pruneStale } from '../../bin/build.ts';
import { DurableEngine } from '../../journal/index.ts';
import { drive, tempDir, Workload } from '../journal/support.ts';
import { silentLogger } from '../../common/index.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = path.join(ROOT, 'dist', 'bin', 'mosaic.js');

describe('npx mosaic', () => {
  it('runs `npx mosaic journal verify DIR` from the project folder, as the README shows', async (t) => {
    const dir = tempDir(t, 'npx');
    const d = DurableEngine.open({ dir, snapshotEvery: 0, log: silentLogger });
    await drive(d, new Workload(7), 120);
    await d.close();
    // npx runs the file itself: without its run bit a shell says "Permission denied".
    assert.equal(fs.statSync(BIN).mode & 0o111, 0o111, `${BIN} is not executable`);
    const { stdout } = await promisify(execFile)('npx', ['mosaic', 'journal', 'verify', dir], {
      cwd: ROOT,
      timeout: 120_000,
    });
    assert.match(stdout, /journal: 120 records, sequences 1 to 120/);
    assert.match(stdout, /verify: ok/);
  });

  it('build: a build with nothing changed rewrites nothing (no TypeScript or Solidity compiled again)', async () => {
    // `npm test` built just before; so does `npm start`, at every start.
    const stamps = () => {
      const out = new Map<string, number>();
      for (const f of fs.readdirSync(path.join(ROOT, 'dist'), { recursive: true }) as string[]) {
        const stat = fs.statSync(path.join(ROOT, 'dist', f));
        if (stat.isFile()) out.set(f, stat.mtimeMs);
      }
      return out;
    };
    const before = stamps();
    await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 120_000 });
    const after = stamps();
    const changed = [...after].filter(([f, t]) => before.get(f) !== t).map(([f]) => f);
    assert.deepEqual(changed, [], 'files rewritten by a build with nothing to do');
    assert.equal(after.size, before.size);
  });

  it('build: outputs of deleted sources are removed, those of present sources and other files kept', (t) => {
    const root = tempDir(t, 'build');
    const dist = path.join(root, 'dist');
    const files: Record<string, string> = {
      'a/kept.ts': 'source',
      'dist/a/kept.js': 'out',
      'dist/a/kept.js.map': 'map',
      'dist/a/gone.js': 'stale',
      'dist/a/gone.js.map': 'stale',
      'dist/a/gone.d.ts': 'stale',
      'dist/b/only-stale.test.js': 'stale',
      'dist/a/artifacts.json': 'data',
      'dist/.tsbuildinfo': 'info',
    };
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    }
    assert.deepEqual(pruneStale(dist, root).sort(), [
      'a/gone.d.ts',
      'a/gone.js',
      'a/gone.js.map',
      'b/only-stale.test.js',
    ]);
    assert.deepEqual(fs.readdirSync(path.join(dist, 'a')).sort(), [
      'artifacts.json',
      'kept.js',
      'kept.js.map',
    ]);
    assert.equal(fs.existsSync(path.join(dist, 'b')), false, 'an emptied folder is removed');
  });
});
