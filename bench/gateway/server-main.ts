/**
 * The exchange under test, in a process of its own (forked by server.ts): a gateway on a free
 * loopback port with a fresh data folder, the demo instruments and demo funding, quiet logs, no
 * market maker and the rate and per-address limits raised out of the way unless asked for the
 * defaults (the abuse scenario: the market maker and the limits as `npm start` has them). Tells
 * the parent its URL, then answers `mark` (CPU and memory since the last mark) and `stop` (closes, removes the data
 * folder, exits so that a `--cpu-prof` profile gets written).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, startExchange } from '../../app/index.ts';
import { FileJournal } from '../../journal/index.ts';
import { childArgs } from './child.ts';
import { UNLIMITED } from './unlimited.ts';
import { silentLogger } from '../../common/index.ts';
import { type FromServer, type Limits, ownStats, type ServerStats, type ToServer } from './server.ts';

async function main(): Promise<void> {
  const { dataParent, defaultLimits, limits, marketMaker } = childArgs<{
    dataParent?: string;
    defaultLimits?: boolean;
    limits?: Partial<Limits>;
    marketMaker?: boolean;
  }>();
  const dataDir = fs.mkdtempSync(path.join(dataParent ?? os.tmpdir(), 'mosaic-bench-gw-'));
  const config = defaultConfig();
  config.port = 0;
  config.dataDir = dataDir;
  config.logLevel = 'silent';
  config.demo.marketMaker = marketMaker === true;
  if (defaultLimits !== true) Object.assign(config.limits, UNLIMITED);
  Object.assign(config.limits, limits ?? {});
  const gateway = await startExchange(config, { log: silentLogger });
  const journal = gateway.exchange.durable.journal;
  let cpu = process.cpuUsage();
  let at = performance.now();
  let batches = journal instanceof FileJournal ? journal.stats.batches : 0;
  let seq = gateway.exchange.engine.commandSeq;

  const stats = (): ServerStats => {
    const used = process.cpuUsage(cpu);
    const now = performance.now();
    const nowBatches = journal instanceof FileJournal ? journal.stats.batches : 0;
    const nowSeq = gateway.exchange.engine.commandSeq;
    const feed = gateway.feed.stats();
    const levels = gateway.exchange.engine.depth('ACME@evm:31337', 1000);
    const s: ServerStats = {
      ...ownStats(now - at, used),
      commands: nowSeq - seq,
      journalBatches: nowBatches - batches,
      feedFramesSent: feed.framesSent,
      feedConflated: feed.conflated,
      feedDropped: feed.dropped,
      bookLevels: levels.bids.length + levels.asks.length,
    };
    cpu = process.cpuUsage();
    at = now;
    batches = nowBatches;
    seq = nowSeq;
    return s;
  };

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void gateway.close().finally(() => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  };
  const send = (m: FromServer) => process.send!(m);
  process.on('message', (msg: ToServer) => {
    if (msg.op === 'mark') send({ op: 'stats', stats: stats() });
    else if (msg.op === 'stop') stop();
  });
  // The parent is gone without a `stop`: do not outlive it.
  process.on('disconnect', stop);
  send({ op: 'ready', url: gateway.url.replace(/^http/, 'ws') + '/ws', limits: config.limits });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
