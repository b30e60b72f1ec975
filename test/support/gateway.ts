/**
 * The gateway suites' harness: a real exchange started in-process on a free loopback port with a
 * fresh data folder (the client is `ws-client.ts`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectSettlement } from '../../app/settlement.ts';
import { type Config, defaultConfig, type Embedded, startExchange } from '../../app/index.ts';
import { lineLogger } from '../../common/index.ts';

/**
 * Starts an exchange with the demo instruments, no market maker, quiet logs, on port 0; its
 * `close` also removes the data folder. With `settlement`, the configured connectors run too
 * (as under `mosaic start`: the EVM one on a local anvil); without, no ledger settles. `now`
 * is the sequencer's clock: the times of the commands.
 */
export async function testGateway(
  adjust: (c: Config) => void = () => {},
  options: { settlement?: boolean; log?: (line: string) => void; now?: () => number } = {},
): Promise<Embedded> {
  const config = defaultConfig();
  config.port = 0;
  config.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-gw-'));
  config.logLevel = 'silent';
  config.demo.marketMaker = false;
  adjust(config);
  const gw = await startExchange(config, {
    ...(options.settlement === true ? { connect: connectSettlement(config) } : {}),
    ...(options.log === undefined ? {} : { log: lineLogger(options.log) }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const close = gw.close.bind(gw);
  return Object.assign(gw, {
    async close() {
      await close();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  });
}

/** A value of the `/metrics` of the server at `url` (0 when the series is absent), e.g. `mosaic_ws_closed_total{reason="slowConsumer"}`. */
export async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
