/**
 * A daemon's ledger changes across NATS, each applied once: sent under `change:<venue>:<ref>`;
 * a change recorded as being sent when the daemon died is looked for in the command stream at
 * the next start (found: its sequence recorded, not sent again; not found: read again from the
 * ledger), so it counts once even after JetStream's deduplication window.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CommandBus, DaemonPort, Shard } from '../../cluster/index.ts';
import { type LedgerChange, Progress } from '../../connectors/index.ts';
import { type TestNats, testNats } from '../support/cluster.ts';
import { spec } from '../support/engine.ts';
import { until } from '../support/wait.ts';
import { silentLogger } from '../../common/index.ts';

const VENUE = 'evm:31337';
const USD = `USD@${VENUE}`;
const deposit = (ref: string, amount: number): LedgerChange => ({
  ref,
  kind: 'deposit',
  account: 'alice',
  asset: USD,
  amount,
});

describe('ledger changes from a daemon across NATS', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let shard: Shard;
  const ports: DaemonPort[] = [];
  const stores: Progress[] = [];

  before(async () => {
    nats = await testNats(1, { dedupeMinutes: 1 });
    nc = await nats.connect();
    shard = await Shard.start({
      nc,
      topology: nats.topology,
      config: { ...nats.config, tickMs: 0 },
      shard: 0,
      risk: true,
      log: silentLogger,
      onError: (err) => assert.fail(err),
    });
    // The venue's instrument, so that its cash is an asset the engine takes deposits of
    await new CommandBus(jetstream(nc), nats.topology).send(
      0,
      { type: 'list-instrument', spec: spec() },
      'list',
    );
  });
  after(async () => {
    for (const p of ports) await p.close();
    for (const s of stores) await s.close();
    await shard.close();
    await nats.stop();
  });

  const open = async () => {
    const port = await DaemonPort.open({
      nc,
      topology: nats.topology,
      config: nats.config,
      venue: VENUE,
      risk: true,
      log: silentLogger,
      onError: (err) => assert.fail(err),
    });
    ports.push(port);
    return port;
  };
  const balance = () => shard.follower.engine.balances('alice').find((b) => b.asset === USD)?.available ?? 0;

  it('applies a change once, sent twice; after a crash, finds one that went out and reads again one that did not', async () => {
    const dir = path.join(nats.dir, 'progress');
    fs.mkdirSync(dir, { recursive: true });
    const progress = Progress.open(dir);
    stores.push(progress);
    const port = await open();
    // A change applied, then seen again (the ledger read again from an older checkpoint)
    assert.equal(await port.changes.apply(deposit('tx1:0', 100), progress), true);
    assert.equal(await port.changes.apply(deposit('tx1:0', 100), progress), false);
    await until('the deposit in the engine', () => balance() === 100);

    // Given the daemon died between sending a change and recording its sequence, and another
    // change was recorded as being sent but never went out
    const after = shard.follower.seq;
    progress.recordChangeSending('tx2:0', after);
    const bus = new CommandBus(jetstream(nc), nats.topology);
    const sent = await bus.send(
      0,
      { type: 'deposit', account: 'alice', asset: USD, amount: 20 },
      `change:${VENUE}:tx2:0`,
    );
    progress.recordChangeSending('tx3:0', after);
    // When the daemon starts again
    const again = await open();
    // Then the first is found in the stream, at its sequence; the second is forgotten, to be read again
    assert.equal(await again.changes.reconcile(progress), 1);
    assert.equal(progress.changeSeq('tx2:0'), sent.seq);
    assert.equal(progress.changeSeq('tx3:0'), undefined);
    assert.equal(await again.changes.apply(deposit('tx2:0', 20), progress), false);
    assert.equal(await again.changes.apply(deposit('tx3:0', 3), progress), true);
    // And each is applied once: a change sent after them is applied after any second copy of theirs
    assert.equal(await again.changes.apply(deposit('tx4:0', 1000), progress), true);
    await until('the later deposit in the engine', () => balance() >= 1123);
    assert.equal(balance(), 1123, 'each change applied once');
  });
});
