/**
 * The engine configuration a journal folder was made with (`mosaic.json`), so that recovery and
 * `mosaic journal replay` rebuild the same engine: the same commands give the same state only
 * under the same configuration (pre-trade risk on or off).
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeError } from './errors.ts';

export interface JournalConfig {
  /** Pre-trade risk on. */
  risk: boolean;
}

const FILE = 'mosaic.json';

/** The folder's configuration, or null for a folder that has none yet. Throws if it is unreadable. */
export function readConfig(dir: string): JournalConfig | null {
  const file = path.join(dir, FILE);
  if (!fs.existsSync(file)) return null;
  let data: { format?: unknown; risk?: unknown };
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof data;
  } catch {
    throw makeError(`${file} is not JSON`, 'BAD_CONFIG', { file });
  }
  if (data.format !== 'mosaic-journal' || typeof data.risk !== 'boolean') {
    throw makeError(`${file} is not a Mosaic journal configuration`, 'BAD_CONFIG', { file });
  }
  return { risk: data.risk };
}

/** The configuration to use: the folder's own, or `wanted` written down for a new folder. */
export function settleConfig(dir: string, wanted: JournalConfig): JournalConfig {
  const found = readConfig(dir);
  if (found !== null) {
    if (found.risk !== wanted.risk) {
      throw makeError(
        `${dir} was journaled with pre-trade risk ${found.risk ? 'on' : 'off'}; open it the same way`,
        'BAD_CONFIG',
        { dir },
      );
    }
    return found;
  }
  fs.writeFileSync(
    path.join(dir, FILE),
    `${JSON.stringify({ format: 'mosaic-journal', version: 1, ...wanted })}\n`,
  );
  return wanted;
}
