/**
 * What `npm run build` does after `tsc -b` has brought `dist/` up to date (only what changed is
 * compiled, then `connectors/evm/compile.js` compiles the contracts unless its cache matches):
 * it removes the outputs of deleted or renamed sources (tsc leaves them, and a stale `*.test.js`
 * would still run), in `dist/` and in each npm workspace's own `dist/` (the chaincode's, which
 * `tsc -b` builds as a referenced project), and gives the `mosaic` command its run bit (tsc
 * writes files without it, and `npx mosaic` runs the file itself).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Removes `*.js`, `*.js.map` and `*.d.ts` files of `dir` (under dist/) whose `.ts` source is gone;
 * returns them.
 */
export function pruneStale(dist: string, root: string, dir = dist): string[] {
  const removed: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      removed.push(...pruneStale(dist, root, file));
      if (fs.readdirSync(file).length === 0) fs.rmdirSync(file);
      continue;
    }
    const m = /^(.*?)(\.js|\.js\.map|\.d\.ts)$/.exec(entry.name);
    if (m === null) continue;
    const source = path.join(root, path.relative(dist, dir), `${m[1]}.ts`);
    if (fs.existsSync(source)) continue;
    fs.rmSync(file);
    removed.push(path.relative(dist, file));
  }
  return removed;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = fileURLToPath(new URL('..', import.meta.url));
  const root = path.dirname(dist);
  const { workspaces = [] } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    workspaces?: string[];
  };
  const removed = [root, ...workspaces.map((w) => path.join(root, w))].flatMap((project) => {
    const out = path.join(project, 'dist');
    return fs.existsSync(out) ? pruneStale(out, project) : [];
  });
  if (removed.length > 0) console.log(`build: removed ${removed.length} outputs of deleted sources`);
  fs.chmodSync(path.join(dist, 'bin', 'mosaic.js'), 0o755);
}
