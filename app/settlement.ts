/**
 * The settlement connectors a configuration asks for: `connectSettlement` starts them on the
 * exchange's recovered engine in this process (what `mosaic start` and the test harness share);
 * `startConnector` starts one on any engine port (also a cluster shard's, for `mosaic
 * connector`). If one fails to start, those started are stopped again.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Logger, makeOnce } from '../common/index.ts';
import {
  type Connector,
  type ConnectorSettings,
  type EnginePort,
  type Htlc,
  ledgerKind,
  localPort,
} from '../connectors/index.ts';
import { type Config, listings } from './config.ts';
import type { StartOptions } from './embedded.ts';
import { makeError } from '../gateway/index.ts';

type Connect = NonNullable<StartOptions['connect']>;

export function connectSettlement(config: Config): Connect {
  return async (exchange, log) => {
    const started: Connector[] = [];
    const engine = localPort(exchange);
    try {
      for (const settings of config.connectors) {
        // The connectors name their venue in each line's fields themselves.
        if (settings.enabled) started.push(await startConnector(config, settings, engine, log));
      }
    } catch (err) {
      for (const c of started) await c.close();
      throw err;
    }
    return started;
  };
}

/**
 * The connector of one venue's ledger on `engine`; `onFailure` is told if its daemon stops on a
 * failure no retry can get past (its `daemon.failure` says which).
 */
export function startConnector(
  config: Config,
  settings: ConnectorSettings,
  engine: EnginePort,
  log: Logger,
  onFailure?: (err: Error) => void,
): Promise<Connector> {
  const kind = ledgerKind(settings.kind)!;
  const ofVenue = (id: string) => id.slice(id.indexOf('@') + 1) === settings.venue;
  // What the venue lists now, and the demo listings about to be made: a new local chain deploys a
  // token for each at its first start.
  const listed = engine.instruments().map((id) => engine.specOf(id)!);
  const instruments = [...listed, ...listings(config)].filter((s) => ofVenue(s.id));
  // A permissioned venue's members that this kind of ledger names (an MSP holds no EVM assets).
  const venue = config.venues[settings.venue];
  const prefix = `${kind.identity}:`;
  const members =
    venue?.permissioned === true
      ? venue.members.filter((m) => m.startsWith(prefix)).map((m) => m.slice(prefix.length))
      : [];
  return kind.start(settings, {
    dataDir: config.dataDir,
    engine,
    instruments,
    members,
    log,
    ...(onFailure === undefined ? {} : { onFailure }),
    htlc: htlcOf(config),
  });
}

/**
 * The hash time-locks of the configuration: its timing, and the operator's key read from
 * `htlc.keyFile` (at least 32 bytes), or from `<dataDir>/htlc.key`, made (32 random bytes, read
 * by the owner only) when it is not there yet.
 */
export function htlcOf(config: Config): Htlc {
  const { keyFile, ...settings } = config.htlc;
  const file = keyFile === '' ? path.join(config.dataDir, 'htlc.key') : keyFile;
  if (keyFile === '') makeOnce(file, () => crypto.randomBytes(32));
  let key: Buffer;
  try {
    key = fs.readFileSync(file);
  } catch (err) {
    throw makeError(`htlc.keyFile ${file} cannot be read: ${(err as Error).message}`, 'BAD_CONFIG', {}, err);
  }
  if (key.length < 32)
    throw makeError(`htlc.keyFile ${file} holds ${key.length} bytes; it needs 32 or more`, 'BAD_CONFIG');
  return { settings, key };
}
