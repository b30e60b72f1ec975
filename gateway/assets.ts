/**
 * Files shipped beside the code (the dashboard page, the protocol document), found from the
 * project root whether the gateway runs from its sources or from the build in dist/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/** The folder holding package.json above this module. */
export function projectRoot(): string {
  if (root !== null) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (package.json) above the gateway');
    dir = up;
  }
  root = dir;
  return dir;
}

/** Reads a file by its path from the project root. */
export function readAsset(relative: string): Buffer {
  return fs.readFileSync(path.join(projectRoot(), relative));
}
