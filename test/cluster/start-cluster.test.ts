/**
 * `mosaic start` with `cluster.enabled`: the exchange as a cluster on one machine, each part its
 * own process, with a nats-server of its own on a port it picked. It serves orders, and Ctrl-C
 * stops every part.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { killAll, MosaicProcess } from '../support/exchange-process.ts';
import { makeWallet } from '../support/identities.ts';
import { login, WsClient } from '../support/ws-client.ts';

/** Whether a process id is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('mosaic start with cluster.enabled', { timeout: 120_000 }, () => {
  const running = new Set<ChildProcess>();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-start-cluster-'));
  after(async () => {
    await killAll(running);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs NATS, the shards and the gateway as processes, serves orders, and stops them all on Ctrl-C', async () => {
    const file = path.join(dir, 'mosaic.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        dataDir: path.join(dir, 'data'),
        port: 0,
        risk: false,
        demo: { instruments: true, marketMaker: false, fundAccounts: false },
        connectors: [],
        cluster: {
          enabled: true,
          servers: ['127.0.0.1:0'],
          shards: [{ venues: ['evm:31337'] }, { venues: ['*'] }],
        },
      }),
    );
    const mosaic = await MosaicProcess.start(file, running);
    assert.match(mosaic.output, /a cluster on NATS JetStream/);
    const pids = [...mosaic.output.matchAll(/: pid (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(pids.length, 3, `two shards and a gateway:\n${mosaic.output}`);
    const natsPort = Number(/nats-server \(JetStream\) nats:\/\/127\.0\.0\.1:(\d+)/.exec(mosaic.output)?.[1]);
    assert.ok(natsPort > 0, mosaic.output);

    const client = await WsClient.connect(mosaic.url);
    await login(client, makeWallet());
    client.send({
      op: 'new',
      instrument: 'ACME@fabric:bank-net',
      side: 'buy',
      orderType: 'limit',
      price: '99.00',
      quantity: '1',
      clientOrderId: 'c1',
    });
    const placed = await client.next((m) => m.clientOrderId === 'c1' && m.status === 'new', 20_000);
    assert.equal(placed.type, 'exec');
    await client.close();

    assert.equal(await mosaic.kill('SIGINT'), 0, mosaic.output);
    for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} still runs`);
    const listening = await new Promise<boolean>((resolve) => {
      const s = net.connect(natsPort, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    assert.equal(listening, false, 'nats-server still listens');
  });
});
