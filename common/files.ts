/** Files a process makes once and keeps: a secret or a CA made at the first start. */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes `contents()` to `file` (readable by its owner only) unless the file is there; another
 * process making it at the same time wins, and its file is the one kept.
 */
export function makeOnce(file: string, contents: () => string | Uint8Array): void {
  if (fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, contents(), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
