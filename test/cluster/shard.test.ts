/**
 * An engine shard on a real nats-server: the command stream is its journal and the event stream
 * its output, one message per command message at the same sequence (a message may hold several
 * commands, executed in order, each with its id); any follower of the stream holds
 * the same state; command ids make a command sent twice count once; snapshots go to the
 * bucket and a restarted shard (or a new follower) starts from them. Messages carry the format
 * version in a header: one without it (an earlier release's) is version 1, one in a version this
 * release does not know stops the shard rather than be executed as something else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import {
  CommandBatcher,
  CommandBus,
  commandEventsOf,
  COMMANDS_FORMAT,
  EVENTS_FORMAT,
  eventsOf,
  FORMAT_HEADER,
  ID_SPAN,
  Shard,
  ShardFollower,
} from '../../cluster/index.ts';
import { encodeCommand, encodeSnapshot, MAX_COMMAND_BYTES } from '../../journal/index.ts';
import { loadSnapshot, saveSnapshot, snapshotStore } from '../../cluster/nats.ts';
import { tempDir } from '../journal/support.ts';
import { type TestNats, testNats } from '../support/cluster.ts';
import { spec } from '../support/engine.ts';
import { until } from '../support/wait.ts';
import { lineLogger } from '../../common/index.ts';

const SPEC = spec({ id: 'ACME@evm:31337' });

/** The events of a message fetched from an event stream, read as the cluster reads them. */
const stored = (m: StoredMsg) =>
  eventsOf({ headers: m.header, data: m.data, json: <T>() => m.json<T>() }, `event ${m.seq}`);

describe('an engine shard on NATS JetStream', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let bus: CommandBus;
  const log: string[] = [];
  const shards: Shard[] = [];

  const start = async (shard: number, snapshotEvery = 1_000) => {
    const s = await Shard.start({
      nc,
      topology: nats.topology,
      config: { ...nats.config, snapshotEvery, tickMs: 0 },
      shard,
      risk: false,
      log: lineLogger((line) => log.push(line)),
      onError: (err) => log.push(`error: ${err.message}`),
    });
    shards.push(s);
    return s;
  };
  const follow = async (shard: number) => {
    const f = await ShardFollower.open({
      nc,
      topology: nats.topology,
      shard,
      risk: false,
      replicas: 1,
      log: lineLogger((line) => log.push(line)),
      onError: (err) => log.push(`error: ${err.message}`),
    });
    f.start();
    return f;
  };
  const logged = () => `log: ${log.join(' | ')}`;
  const order = (account: string, side: 'buy' | 'sell', n: number) =>
    ({
      type: 'new',
      instrument: SPEC.id,
      account,
      clientOrderId: `${account}-${n}`,
      side,
      orderType: 'limit',
      price: 10_000 + (n % 5),
      quantity: 3,
    }) as const;

  before(async () => {
    nats = await testNats(1, { shards: [{ venues: ['evm:31337'] }, { venues: ['*'] }] });
    nc = await nats.connect();
    bus = new CommandBus(jetstream(nc), nats.topology);
  });
  after(async () => {
    for (const s of shards) await s.close();
    await nats.stop();
  });

  it('executes its stream in order, publishes one event message per command at its sequence, and a follower agrees', async () => {
    // Given shard 0 running
    const shard = await start(0);
    // When a listing and a crossing flow of orders are sent
    await bus.send(0, { type: 'list-instrument', spec: SPEC }, 'list-acme');
    for (let i = 0; i < 40; i++)
      await bus.send(0, order(i % 2 ? 'alice' : 'bob', i % 2 ? 'buy' : 'sell', i), `o-${i}`);
    // Then the shard executed all 41 and the event stream holds 41 messages, sequence for sequence
    await until('the shard to publish 41', () => shard.stats.published === 41, logged);
    const jsm = await jetstreamManager(nc);
    const events = await jsm.streams.info(nats.topology.eventStream(0));
    assert.equal(events.state.last_seq, 41);
    assert.equal(events.state.messages, 41);
    const m1 = (await jsm.streams.getMessage(nats.topology.eventStream(0), { seq: 1 }))!;
    assert.equal(m1.subject, 'mosaic.evt.0.evm:31337');
    assert.equal(stored(m1)[0]!.kind, 'instrument');
    // And a message of an order that rests (no listing, trade, verdict or withdrawal) goes under the venue's subject, on `.orders`
    const m2 = (await jsm.streams.getMessage(nats.topology.eventStream(0), { seq: 2 }))!;
    assert.deepEqual(
      stored(m2).map((e) => e.kind),
      ['accepted', 'depth', 'bbo'],
    );
    assert.equal(m2.subject, 'mosaic.evt.0.evm:31337.orders');
    // And trades happened, and a follower started afresh holds the same state
    assert.ok(shard.follower.engine.instrument(SPEC.id)!.lastPrice > 0, 'the orders traded');
    const f = await follow(0);
    await f.caughtUp();
    assert.equal(f.engine.stateHash(), shard.follower.engine.stateHash());
    await f.close();
  });

  it('applies a command sent twice under one id once, and answers the first sequence', async () => {
    const shard = shards[0]!;
    const first = await bus.send(0, order('carol', 'buy', 900), 'retry-me');
    const again = await bus.send(0, order('carol', 'buy', 900), 'retry-me');
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
    await until('the shard to reach it', () => shard.stats.published >= first.seq, logged);
    assert.equal(shard.follower.engine.openOrders('carol').length, 1);
  });

  it('rejects a message that is not a command, as one command', async () => {
    const shard = shards[0]!;
    await until('the shard to reach the end', () => shard.stats.published === shard.follower.seq, logged);
    const commands = shard.follower.engine.commandSeq;
    const ack = await jetstream(nc).publish('mosaic.cmd.0.evm:31337', new Uint8Array([1, 2, 3]));
    await until('the shard to reach it', () => shard.stats.published >= ack.seq, logged);
    assert.equal(shard.follower.seq, ack.seq);
    assert.equal(shard.follower.engine.commandSeq, commands + 1);
    const msg = (await (
      await jetstreamManager(nc)
    ).streams.getMessage(nats.topology.eventStream(0), { seq: ack.seq }))!;
    const [reject] = stored(msg);
    assert.equal(reject!.kind, 'rejected');
    const stream = nats.topology.commandStream(0);
    assert.ok(
      log.some((l) => l.includes(`command ${ack.seq} of ${stream} does not decode`)),
      logged(),
    );
  });

  it('executes the commands of one message in order, each with its id, and stores their events as one message at its sequence', async () => {
    const shard = shards[0]!;
    await until('the shard to reach the end', () => shard.stats.published === shard.follower.seq, logged);
    const commands = shard.follower.engine.commandSeq;
    // Given a message of three commands, the second not a command at all
    const entries = [
      { ref: 'k-1', bytes: bus.encode({ ...order('kim', 'buy', 700), price: 1 }) },
      { ref: 'k-2', bytes: Uint8Array.from([1, 2, 3]) },
      { ref: 'k-3', bytes: bus.encode({ type: 'cancel', account: 'kim', clientOrderId: 'kim-700' }) },
    ];
    const sent = await bus.publish(0, 'evm:31337', entries, 'k-batch');
    await until('the shard to take it', () => shard.stats.published >= sent.seq, logged);
    // Then it executed three commands at one stream sequence: the order, a rejection, the cancel
    assert.equal(shard.follower.seq, sent.seq);
    assert.equal(shard.follower.engine.commandSeq, commands + 3);
    const m = (await (
      await jetstreamManager(nc)
    ).streams.getMessage(nats.topology.eventStream(0), {
      seq: sent.seq,
    }))!;
    assert.equal(m.subject, 'mosaic.evt.0.evm:31337.orders'); // orders only: no trade, listing, verdict or withdrawal
    const got = commandEventsOf(
      { headers: m.header, data: m.data, json: <T>() => m.json<T>() },
      m.seq,
      'event',
    );
    assert.deepEqual(
      got.map((c) => [
        c.seq,
        c.ref,
        c.events.map((e) => e.kind).filter((k) => ['accepted', 'rejected', 'canceled', 'trade'].includes(k)),
      ]),
      [
        [sent.seq, 'k-1', ['accepted']],
        [sent.seq, 'k-2', ['rejected']],
        [sent.seq, 'k-3', ['canceled']],
      ],
    );
    assert.equal(shard.follower.engine.openOrders('kim').length, 0);
  });

  it("sends a turn's commands for one shard and venue as one message, others apart, and at most 256 a message", async () => {
    const batcher = new CommandBatcher(bus, { sender: 'test', onRetry: () => {}, forMs: 30_000 });
    const shard = shards[0]!;
    // Given 257 orders for one venue, and a command of no venue, sent in one turn
    const orders = Array.from({ length: 257 }, (_, i) =>
      batcher.send(0, { ...order('lee', 'buy', 1_000 + i), price: 1 }, `l-${i}`),
    );
    const tick = batcher.send(0, { type: 'tick' }, 'l-tick');
    const seqs = (await Promise.all(orders)).map((sent) => sent.seq);
    // Then the first 256 share a message, the last has one of its own, and so has the tick
    assert.equal(new Set(seqs.slice(0, 256)).size, 1);
    assert.notEqual(seqs[256], seqs[0]);
    const t = (await tick).seq;
    assert.ok(!seqs.includes(t));
    await until('the shard to take them', () => shard.stats.published >= Math.max(t, ...seqs), logged);
    assert.equal(shard.follower.engine.openOrders('lee').length, 257);
  });

  it('numbers orders of shard 1 from 2^40, apart from shard 0', async () => {
    const shard1 = await start(1);
    const spec = { ...SPEC, id: 'ACME@fabric:bank-net' };
    await bus.send(1, { type: 'list-instrument', spec }, 'list-acme-fabric');
    const sent = await bus.send(1, { ...order('dave', 'buy', 1), instrument: spec.id }, 'd-1');
    await until('shard 1 to take it', () => shard1.stats.published >= sent.seq, logged);
    const [o] = shard1.follower.engine.openOrders('dave');
    assert.ok(o!.orderId > ID_SPAN && o!.orderId < 2 * ID_SPAN, `order id ${o!.orderId}`);
    assert.equal(nats.topology.shardOfId(o!.orderId), 1);
  });

  it('stores snapshots, purges what they cover, and restarts (or starts a follower) from them', async () => {
    // Given shard 0 restarted with a snapshot every 10 commands
    await shards.shift()!.close();
    const shard = await start(0, 10);
    await shard.follower.caughtUp();
    const before = shard.follower.seq;
    for (let i = 100; i < 135; i++)
      await bus.send(0, order(i % 2 ? 'erin' : 'frank', i % 2 ? 'buy' : 'sell', i), `o-${i}`);
    // (`before` may miss a command still on its way at the start: wait for all it executed)
    await until(
      'two snapshots',
      () =>
        shard.stats.snapshots >= 2 &&
        shard.stats.published >= before + 35 &&
        shard.stats.published === shard.follower.seq,
      logged,
    );
    // Then the stream lost the commands the older snapshot covers, and nothing was published twice
    const jsm = await jetstreamManager(nc);
    const cmds = await jsm.streams.info(nats.topology.commandStream(0));
    assert.ok(cmds.state.first_seq > 1, `first command kept: ${cmds.state.first_seq}`);
    const evts = await jsm.streams.info(nats.topology.eventStream(0));
    assert.equal(evts.state.messages, shard.follower.seq);
    // And a new follower starts from the stored snapshot and agrees
    const f = await follow(0);
    assert.ok(f.snapshotSeq > before, `follower started at snapshot ${f.snapshotSeq}`);
    await f.caughtUp();
    assert.equal(f.engine.stateHash(), shard.follower.engine.stateHash());
    await f.close();
    // And a second instance of the shard running at once publishes nothing twice
    const twin = await start(0, 10);
    for (let i = 200; i < 220; i++) await bus.send(0, order('gina', 'buy', i), `o-${i}`);
    await until(
      'both to reach the end',
      () => shard.follower.seq === twin.follower.seq && shard.stats.published === twin.follower.seq,
      logged,
    );
    const again = await jsm.streams.info(nats.topology.eventStream(0));
    assert.equal(again.state.last_seq, shard.follower.seq);
    assert.equal(twin.follower.engine.stateHash(), shard.follower.engine.stateHash());
    assert.ok(!log.some((l) => l.startsWith('error')), log.filter((l) => l.startsWith('error')).join('\n'));
  });

  it('keeps its history from the event messages it stores once caught up, reading the stream only when behind', async (t) => {
    // Given shard 0's instances closed, and one started with a history folder that holds nothing
    for (const old of shards.filter((x) => x.follower.shard === 0)) await old.close();
    const dir = tempDir(t, 'history');
    const withHistory = () =>
      Shard.start({
        nc,
        topology: nats.topology,
        config: { ...nats.config, snapshotEvery: 1_000, tickMs: 0 },
        shard: 0,
        risk: false,
        log: lineLogger((line) => log.push(line)),
        onError: (err) => log.push(`error: ${err.message}`),
        historyDir: dir,
      });
    let shard = await withHistory();
    // Closed again at the end whatever happens (closing twice is harmless): a shard left open keeps the test running.
    t.after(() => shard.close());
    const history = () => shard.history!;
    const state = () =>
      `history at ${history().store.appliedSeq} (${history().readings} readings), shard at ${shard.follower.seq}, published ${shard.stats.published}; ${logged()}`;
    // Then it reads the stream (once, when it holds anything) up to what is stored
    await until('the history to catch up', () => history().store.appliedSeq === shard.stats.published, state);
    const read = history().readings;
    assert.equal(read, shard.stats.published > 0 ? 1 : 0);
    // When orders trade
    for (let i = 0; i < 6; i++)
      await bus.send(0, order(i % 2 ? 'mia' : 'ned', i % 2 ? 'sell' : 'buy', 300 + i), `h-${i}`);
    await until('the shard to store them', () => shard.stats.published === shard.follower.seq, logged);
    // Then the history holds them without reading the stream again
    await until(
      'the history to hold them',
      () => history().store.appliedSeq === shard.stats.published,
      state,
    );
    assert.equal(history().readings, read);
    const fills = await history().store.page({ kind: 'fills', account: 'mia', order: 'asc', limit: 100 });
    assert.ok(fills.length > 0, 'mia traded');
    // When a message comes that is not the next (as out of order), then it reads the stream to the last stored
    const at = history().store.appliedSeq;
    history().published(at + 2, new Uint8Array(0));
    assert.equal(history().readings, read + 1);
    // And when it restarts after an instance without this history executed more, it catches up from the stream
    await shard.close();
    const other = await start(0);
    const late = await bus.send(0, order('ned', 'buy', 400), 'h-late');
    await until('the other instance to store it', () => other.stats.published >= late.seq, logged);
    await other.close();
    shards.splice(shards.indexOf(other), 1);
    shard = await withHistory();
    await until('the history to catch up again', () => history().store.appliedSeq >= late.seq, state);
    assert.equal(history().readings, 1);
    await shard.close();
    shards.push(await start(0));
  });

  it("loads a snapshot at the stream sequence it names, and one stored by an earlier release (no stream line) at its engine's", async () => {
    const store = await snapshotStore(jetstream(nc), nats.topology, 1);
    const engine = shards[0]!.follower.engine;
    const snapshot = {
      commandSeq: engine.commandSeq,
      state: engine.snapshot(),
      stateHash: engine.stateHash(),
    };
    // Given a snapshot as this release stores it, at a stream sequence other than its command count
    await saveSnapshot(store, nats.topology, 7, 5, snapshot);
    const now = (await loadSnapshot(store, nats.topology, 7, 'fast'))!;
    assert.equal(now.seq, 5);
    assert.equal(now.engine.stateHash(), snapshot.stateHash);
    // And one as earlier releases stored it, the engine's snapshot alone
    await store.putBlob(
      { name: nats.topology.snapshotName(8) },
      encodeSnapshot(snapshot.commandSeq, snapshot.state, snapshot.stateHash),
    );
    const old = (await loadSnapshot(store, nats.topology, 8, 'fast'))!;
    assert.equal(old.seq, snapshot.commandSeq);
    assert.equal(old.engine.stateHash(), snapshot.stateHash);
  });

  it('marks command messages with format version 2 and event messages with 3, executes a command without the mark (as earlier releases sent them), and stops at a version it does not know', async () => {
    const shard1 = shards.find((s) => s.follower.shard === 1)!;
    const jsm = await jetstreamManager(nc);
    const subject = nats.topology.commandSubject(1, 'fabric:bank-net');
    const instrument = 'ACME@fabric:bank-net';
    // Given a command sent as this release sends it
    const sent = await bus.send(1, { ...order('hana', 'buy', 1), instrument }, 'h-1');
    await until('shard 1 to take it', () => shard1.stats.published >= sent.seq, logged);
    // Then its command message and its event message carry the format version
    const versions: Array<[string, string]> = [
      [nats.topology.commandStream(1), String(COMMANDS_FORMAT)],
      [nats.topology.eventStream(1), String(EVENTS_FORMAT)],
    ];
    for (const [stream, version] of versions) {
      const m = (await jsm.streams.getMessage(stream, { seq: sent.seq }))!;
      assert.equal(m.header.get(FORMAT_HEADER), version, stream);
    }
    // When a command comes without the header, as earlier releases sent them
    const buf = Buffer.alloc(MAX_COMMAND_BYTES);
    const n = encodeCommand({ ...order('ivan', 'sell', 1), instrument, ts: 0 }, buf, 0);
    const legacy = await jetstream(nc).publish(subject, buf.subarray(0, n), { msgID: 'h-2' });
    await until('shard 1 to take it', () => shard1.stats.published >= legacy.seq, logged);
    // Then it is executed as version 1: the order is accepted and trades
    const events = stored((await jsm.streams.getMessage(nats.topology.eventStream(1), { seq: legacy.seq }))!);
    assert.deepStrictEqual(
      events.filter((e) => e.kind === 'accepted' || e.kind === 'trade').map((e) => e.kind),
      ['accepted', 'trade'],
    );
    // When a command comes in a format version this release does not know
    const h = headers();
    h.set(FORMAT_HEADER, '3');
    const newer = await jetstream(nc).publish(subject, buf.subarray(0, n), { msgID: 'h-3', headers: h });
    // Then the shard stops before it, saying which message and which version, and executes nothing
    const stopped = `error: shard 1: command ${newer.seq} of ${nats.topology.commandStream(1)} (header ${FORMAT_HEADER}) is in format version 3; this release reads command messages in versions 1 and 2 only`;
    await until('shard 1 to stop', () => log.some((l) => l.startsWith(stopped)), logged);
    assert.equal(shard1.follower.seq, legacy.seq);
    assert.equal((await jsm.streams.info(nats.topology.eventStream(1))).state.last_seq, legacy.seq);
  });
});
