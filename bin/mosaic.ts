#!/usr/bin/env node
/**
 * The `mosaic` command. `mosaic start` runs the exchange with embedded defaults; `mosaic
 * engine`, `mosaic connector` run the processes of a cluster deployment on NATS JetStream;
 * `mosaic journal ...` looks at a journal folder.
 */
import { parseArgs } from 'node:util';
import type { Config, Embedded, LocalCluster } from '../app/index.ts';
import { JOURNAL_USAGE, journalCommand, UsageError } from '../journal/index.ts';

// The exchange's parts load only for the commands that run them: `mosaic journal` starts in a
// fifth of the time (0.2 s against 1.1 s here) without the gateway, the ledgers' clients and NATS.
const app = () => import('../app/index.ts');
const isBadConfig = async (err: unknown) =>
  (await import('../gateway/index.ts')).isGatewayError(err, 'BAD_CONFIG');

/** The usage, with that of the cluster's processes (which loads their parts). */
async function usage(): Promise<string> {
  const { ENGINE_USAGE, GATEWAY_USAGE, CONNECTOR_USAGE } = await app();
  return `usage: mosaic start [--config FILE]
${JOURNAL_USAGE.replace('usage: ', '       ')}

  start     run the exchange: engine (journal in ./data), gateway on http://127.0.0.1:8080
            (dashboard /, WebSocket /ws, REST /api, docs /docs), demo instruments and a demo
            market maker. Settings: a JSON config file (--config or MOSAIC_CONFIG) and MOSAIC_*
            variables (MOSAIC_PORT, MOSAIC_HOST, MOSAIC_DATA_DIR, MOSAIC_MARKET_MAKER=0, ...;
            see docs/configuration.md). Ctrl-C stops it cleanly. With cluster.enabled (or
            MOSAIC_CLUSTER=1) it runs the parts as processes on NATS JetStream instead, with a
            local nats-server (docs/deployment.md).
  journal   verify a journal folder, replay it to its state hash, or print its commands
  demo-identity NAME [--config FILE]
            a Fabric identity DemoInvestorsMSP:NAME for trying the demo (its certificate and
            key, JSON on standard output), issued by the demo investors' CA that \`mosaic start\`
            makes in the data folder; log in with it, or link it to an Ethereum key's account
            (docs/ws-protocol.md)

A cluster deployment (docs/deployment.md) runs these instead, each its own process:
${ENGINE_USAGE.replace('usage: ', '  ')}
${GATEWAY_USAGE.replace('usage: ', '  ')}
${CONNECTOR_USAGE.replace('usage: ', '  ')}`;
}

/** A command line it cannot run: what is wrong, then the usage; exit 2. */
async function fail(message: string): Promise<never> {
  process.stderr.write(`mosaic: ${message}\n\n${await usage()}\n`);
  process.exit(2);
}

/** A bad setting: the message names it and what it may be, so no usage follows; exit 2. */
function badConfig(message: string): never {
  process.stderr.write(`mosaic: ${message}\n`);
  process.exit(2);
}

/** A command's `[--config FILE]` (else MOSAIC_CONFIG) and its arguments; a bad option exits with the usage. */
async function configArgs(argv: string[]): Promise<{ file: string | undefined; positionals: string[] }> {
  let parsed: { values: { config?: string }; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { config: { type: 'string' } }, allowPositionals: true });
  } catch (err) {
    return fail((err as Error).message);
  }
  return { file: parsed.values.config ?? process.env.MOSAIC_CONFIG, positionals: parsed.positionals };
}

/** The configuration of `file` and the variables; a bad setting exits 2 with its message. */
async function configOf(file: string | undefined): Promise<Config> {
  const { loadConfig } = await app();
  try {
    return loadConfig(process.env, file);
  } catch (err) {
    if (await isBadConfig(err)) badConfig((err as Error).message);
    throw err;
  }
}

async function start(argv: string[]): Promise<void> {
  const { file, positionals } = await configArgs(argv);
  if (positionals.length > 0) return fail(`unexpected argument "${positionals[0]}"`);
  const config = await configOf(file);
  const { startExchange, connectSettlement } = await app();
  if (config.cluster.enabled) {
    await startCluster(config, file);
    return;
  }
  let gateway: Embedded;
  try {
    // Its logs (recovery, settlement, requests) are pino JSON lines on standard output.
    gateway = await startExchange(config, { connect: connectSettlement(config) });
  } catch (err) {
    process.stderr.write(`mosaic: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `Mosaic is running at ${gateway.url}\n` +
      `  dashboard ${gateway.url}/   WebSocket ${gateway.url.replace(/^http/, 'ws')}/ws   docs ${gateway.url}/docs\n` +
      `  journal ${config.dataDir}   market maker ${config.demo.marketMaker ? 'on' : 'off'}   Ctrl-C to stop\n` +
      gateway.connectors.map((c) => `  settlement ${c.venue}: ${c.describe}\n`).join(''),
  );
  onCtrlC('closing connections, flushing the journal', async () => {
    await gateway.close();
    return `stopped at command ${gateway.exchange.engine.commandSeq}, journal flushed`;
  });
}

/** `mosaic demo-identity NAME`: a demo investor's Fabric identity, JSON on standard output. */
async function demoIdentity(argv: string[]): Promise<void> {
  const { file, positionals } = await configArgs(argv);
  const [name, ...more] = positionals;
  if (name === undefined) return fail('demo-identity needs a NAME');
  if (more.length > 0) return fail(`unexpected argument "${more[0]}"`);
  const config = await configOf(file);
  const { demoIdentity } = await app();
  try {
    process.stdout.write(`${JSON.stringify(demoIdentity(config.dataDir, name), null, 2)}\n`);
  } catch (err) {
    if (await isBadConfig(err)) badConfig((err as Error).message);
    throw err;
  }
}

/** On the first SIGINT or SIGTERM: says what it stops, runs `close`, prints what it says, exits 0 (1 if it failed). */
function onCtrlC(what: string, close: () => Promise<string>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping (${what})\n`);
    close().then(
      (done) => {
        process.stdout.write(`${done}\n`);
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`mosaic: error while stopping: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** `mosaic start` with `cluster.enabled`: the parts as processes on NATS, on this machine. */
async function startCluster(config: Config, file: string | undefined): Promise<void> {
  const log = (line: string) => process.stderr.write(`mosaic: ${line}\n`);
  const { startLocalCluster } = await app();
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster(config, file === '' ? undefined : file, log);
  } catch (err) {
    process.stderr.write(`mosaic: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `Mosaic is running at ${cluster.url} (a cluster on NATS JetStream, each part its own process)\n` +
      cluster.parts.map((p) => `  ${p}\n`).join('') +
      '  Ctrl-C to stop\n',
  );
  onCtrlC('gateway, daemons, shards, NATS', async () => {
    await cluster.stop();
    return 'stopped';
  });
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${await usage()}\n`);
      return;
    case 'start':
      await start(rest);
      return;
    case 'engine':
    case 'gateway':
    case 'connector': {
      const { runEngine, runGateway, runConnector, StartError } = await app();
      try {
        await { engine: runEngine, gateway: runGateway, connector: runConnector }[command](rest);
      } catch (err) {
        if (await isBadConfig(err)) badConfig((err as Error).message);
        if (err instanceof StartError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
          await fail((err as Error).message);
        }
        process.stderr.write(`mosaic: cannot start: ${(err as Error).message}\n`);
        process.exit(1);
      }
      return;
    }
    case 'demo-identity':
      await demoIdentity(rest);
      return;
    case 'journal':
      try {
        process.exitCode = journalCommand(rest, (line) => process.stdout.write(`${line}\n`));
      } catch (err) {
        if (err instanceof UsageError) await fail(err.message);
        throw err;
      }
      return;
    default:
      await fail(`unknown command "${command}"`);
  }
}

await main(process.argv.slice(2));
