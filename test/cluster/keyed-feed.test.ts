/**
 * Accounts' events and instruments' market data on subjects of their own, on a real three-node
 * nats-server cluster: a gateway's
 * feed following an account gets that account's state from the shard, then exactly the events of
 * that account after it (a trade in each side's), in order, each command's once, and nothing of
 * the accounts it does not follow. When its connection breaks (its NATS node killed) while the
 * shard goes on through another node, it reads what it missed from the event stream once it is
 * back, in order, nothing twice. Commands sent together in one message are each delivered once,
 * with their own ids, live and when read again. Following an instrument starts from its book as
 * the shard holds it, then delivers its market data only (not another instrument's), also what
 * it missed while its connection was down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import {
  ACCOUNTS,
  type AccountState,
  CommandBatcher,
  CommandBus,
  FORMAT_HEADER,
  INSTRUMENTS,
  type InstrumentRead,
  type KeyedBatch,
  KeyedFeed,
  keyToken,
  OBJECT_HEADER,
  Shard,
  ShardReads,
} from '../../cluster/index.ts';
import type { Unstamped } from '../../engine/index.ts';
import type { PublishedEvent } from '../../journal/index.ts';
import { lineLogger } from '../../common/index.ts';
import { type TestNats, testNats } from '../support/cluster.ts';
import { spec } from '../support/engine.ts';
import { until } from '../support/wait.ts';

const SPEC = spec({ id: 'ACME@evm:31337' });

describe("accounts' events on their own subjects", { timeout: 120_000 }, () => {
  let nats: TestNats;
  let shard: Shard;
  let feed: KeyedFeed<AccountState>;
  let bus: CommandBus;
  const connections: NatsConnection[] = [];
  const log: string[] = [];
  const logger = lineLogger((line) => log.push(line));
  /** Each command delivered, with its message's sequence and its account. */
  const delivered: Array<{
    seq: number;
    account: string;
    ref: string | undefined;
    events: PublishedEvent[];
  }> = [];
  let n = 0;

  /** A connection to one node only, as a process near that node would have. */
  const to = async (node: number) => {
    const nc = await connect({
      servers: [nats.nodes[node]!.url],
      ignoreClusterUpdates: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    connections.push(nc);
    return nc;
  };
  // Sent again while the stream's leader is elected anew (its node killed).
  const send = async (command: Unstamped) => (await bus.sendSurely(0, command, `t-${++n}`)).seq;
  const order = (
    account: string,
    side: 'buy' | 'sell',
    price: number,
    id: string,
    quantity = 2,
    instrument = SPEC.id,
  ): Unstamped => ({
    type: 'new',
    instrument,
    account,
    clientOrderId: id,
    side,
    orderType: 'limit',
    price,
    quantity,
  });
  const logged = () => `log: ${log.join(' | ')}`;
  /** Resolves when `nc` next reconnects (its node back). */
  const reconnected = (nc: NatsConnection) =>
    new Promise<void>((resolve) => {
      void (async () => {
        for await (const s of nc.status()) {
          if (s.type === 'reconnect') return resolve();
        }
      })();
    });

  let far: NatsConnection;
  /** A keyed feed's options at the far node, its keys all on shard 0. */
  const onShard0 = () => ({
    nc: far,
    topology: nats.topology,
    shardsOf: () => [0],
    log: logger,
    onError: (err: Error) => log.push(`error: ${err.message}`),
  });
  const startShard = async () =>
    Shard.start({
      nc: await to(0),
      topology: nats.topology,
      config: { ...nats.config, snapshotEvery: 1_000, tickMs: 0 },
      shard: 0,
      risk: false,
      log: logger,
      onError: (err) => log.push(`error: ${err.message}`),
    });

  before(async () => {
    nats = await testNats(3, { shards: [{ venues: ['*'] }] });
    const near = await to(0);
    bus = new CommandBus(jetstream(near), nats.topology);
    shard = await startShard();
    far = await to(1);
    const reads = new ShardReads(far, nats.topology);
    feed = new KeyedFeed({
      ...onShard0(),
      route: ACCOUNTS,
      read: (s, account) => reads.account(s, account),
      deliver: (b: KeyedBatch) => {
        for (const c of b.commands) delivered.push({ seq: b.seq, account: b.key, ...c });
      },
    });
  });
  after(async () => {
    await feed?.close();
    await shard?.close();
    for (const nc of connections) await nc.close().catch(() => {});
    await nats?.stop();
  });

  it("starts from the account's state, then delivers its events only, each command's once and in order", async () => {
    // Given alice resting two bids before she is followed
    await send({ type: 'list-instrument', spec: SPEC });
    await send(order('alice', 'buy', 10_000, 'a1'));
    const before = await send(order('alice', 'buy', 9_990, 'a2'));
    await until('the shard to execute them', () => shard.stats.seq >= before, logged);
    // When the gateway's feed follows her
    const [state] = await feed.follow('alice');
    // Then her state names both orders, as of a command at least as late as her second
    assert.ok(state!.seq >= before);
    assert.deepEqual(state!.orders.map((o) => o.clientOrderId).sort(), ['a1', 'a2']);
    // When bob sells into her first bid, she cancels her second, and bob trades with carol
    const trade = await send(order('bob', 'sell', 10_000, 'b1'));
    const cancel = await send({ type: 'cancel', account: 'alice', clientOrderId: 'a2' });
    await send(order('carol', 'buy', 9_000, 'c1'));
    const last = await send(order('bob', 'sell', 9_000, 'b2'));
    await until('the shard to execute them', () => shard.stats.seq >= last, logged);
    await until('both of her commands to reach the feed', () => delivered.length >= 2, logged);
    // Then the feed delivered her trade (as maker) and her cancel, with their commands' ids, and nothing else
    assert.deepEqual(
      delivered.map((b) => [b.seq, b.account, b.ref, b.events.map((e) => e.kind)]),
      [
        [trade, 'alice', `t-${trade}`, ['trade']],
        [cancel, 'alice', `t-${cancel}`, ['canceled']],
      ],
    );
    // And it received no message of an account it does not follow (her two commands came in one
    // message or two, as the shard took them)
    assert.ok(feed.received >= 1 && feed.received <= 2, `${feed.received} messages`);
  });

  it('reads again from the event stream what it missed while its connection was down, in order, nothing twice', async () => {
    const seen = delivered.length;
    // Given its NATS node killed while the shard goes on through another one
    await nats.nodes[1]!.kill();
    const missed = [
      await send(order('alice', 'sell', 10_100, 'a3')),
      await send(order('dave', 'buy', 10_100, 'd1', 1)),
      await send({ type: 'cancel', account: 'alice', clientOrderId: 'a3' }),
    ];
    await until('the shard to execute them', () => shard.stats.seq >= missed.at(-1)!, logged);
    // When the node comes back (the feed reconnects), and alice goes on trading
    await nats.nodes[1]!.restart();
    await until('the missed commands to reach the feed', () => delivered.length >= seen + 3, logged, 60_000);
    const live = await send(order('alice', 'buy', 9_000, 'a4'));
    await until('the live one to reach the feed', () => delivered.some((b) => b.seq === live), logged);
    // Then it delivered her accept, her fill (dave's order matched hers) and her cancel, then the live one
    const after = delivered.slice(seen);
    assert.deepEqual(
      after.map((b) => [b.seq, b.events.map((e) => e.kind)]),
      [
        [missed[0], ['accepted']],
        [missed[1], ['trade']],
        [missed[2], ['canceled']],
        [live, ['accepted']],
      ],
    );
    assert.ok(
      log.some((l) => l.includes('reading commands')),
      logged(),
    );
  });

  it('reads again to the next heartbeat when its connection breaks again while it reads what it missed', async () => {
    const seen = delivered.length;
    const readings = () => log.filter((l) => l.includes('reading commands')).length;
    const before = readings();
    // Given its connection broken while alice's order is executed
    await nats.nodes[1]!.kill();
    const missed = await send(order('alice', 'sell', 10_200, 'a5'));
    await until('the shard to execute it', () => shard.stats.seq >= missed, logged);
    // And the shard stopped (no heartbeat), so that the reading started on reconnection waits
    await shard.close();
    let back = reconnected(far);
    await nats.nodes[1]!.restart();
    await back;
    // When the connection breaks again, a command waits for the shard, and both come back
    await nats.nodes[1]!.kill();
    const later = await send({ type: 'cancel', account: 'alice', clientOrderId: 'a5' });
    back = reconnected(far);
    await nats.nodes[1]!.restart();
    await back;
    shard = await startShard();
    // Then it reads the stream twice (to the first heartbeat, then to the one after the second break)
    await until('the second reading', () => readings() - before >= 2, logged, 60_000);
    const live = await send(order('alice', 'buy', 8_000, 'a6'));
    await until(
      'a live command after it to reach the feed',
      () => delivered.some((b) => b.seq === live),
      logged,
    );
    // And delivered her accept, her cancel and her next order, each once and in order
    const got = delivered.slice(seen).map((b) => [b.seq, b.events.map((e) => e.kind)]);
    assert.deepEqual(
      got,
      [
        [missed, ['accepted']],
        [later, ['canceled']],
        [live, ['accepted']],
      ],
      `${JSON.stringify(got)}; ${logged()}`,
    );
  });

  it('delivers each of the commands sent together in one message, live and when read again', async () => {
    const batcher = new CommandBatcher(bus, { sender: 'batch', onRetry: () => {}, forMs: 30_000 });
    const together = (commands: Unstamped[]) =>
      Promise.all(commands.map((c) => batcher.send(0, c, `t-${++n}`, 'evm:31337').then((sent) => sent.seq)));
    // Given two orders of alice and one of bob sent in one turn
    let seen = delivered.length;
    const live = await together([
      order('alice', 'buy', 7_000, 'a7'),
      order('alice', 'buy', 6_900, 'a8'),
      order('bob', 'sell', 7_000, 'b3'),
    ]);
    // Then they went as one message, and the feed delivered each of alice's commands once, with its own id
    assert.equal(new Set(live).size, 1);
    await until('her three commands to reach the feed', () => delivered.length >= seen + 3, logged);
    const kinds = (from: number) =>
      delivered.slice(from).map((b) => [b.seq, b.ref, b.events.map((e) => e.kind)]);
    assert.deepEqual(kinds(seen), [
      [live[0], `t-${n - 2}`, ['accepted']],
      [live[0], `t-${n - 1}`, ['accepted']],
      [live[0], `t-${n}`, ['trade']],
    ]);
    // When its connection breaks while alice's next two commands go in one message
    seen = delivered.length;
    const back = reconnected(far);
    await nats.nodes[1]!.kill();
    const missed = await together([
      { type: 'cancel', account: 'alice', clientOrderId: 'a8' },
      order('alice', 'sell', 9_500, 'a9'),
    ]);
    await until('the shard to execute them', () => shard.stats.seq >= missed[0]!, logged);
    await nats.nodes[1]!.restart();
    await back;
    // Then both are read again from the event stream, each once, in order
    await until('the missed commands to reach the feed', () => delivered.length >= seen + 2, logged, 60_000);
    assert.deepEqual(kinds(seen), [
      [missed[0], `t-${n - 1}`, ['canceled']],
      [missed[0], `t-${n}`, ['accepted']],
    ]);
  });

  it('refuses an account message in a format version it does not know, naming it', async () => {
    const h = headers();
    h.set(FORMAT_HEADER, '3');
    far.publish(nats.topology.accountSubject(0, keyToken('alice')), new Uint8Array(2), { headers: h });
    await until(
      'the refusal',
      () =>
        log.some((l) =>
          l.includes('an account message in format version 3; this release reads versions 1 and 2'),
        ),
      logged,
    );
  });

  it("follows an instrument's market data from its book, and none of another instrument's, also what it missed", async () => {
    const BETA = spec({ id: 'BETA@evm:31337' });
    await send({ type: 'list-instrument', spec: BETA });
    const reads = new ShardReads(far, nats.topology);
    const got: Array<{ seq: number; instrument: string; kinds: string[] }> = [];
    const md = new KeyedFeed<InstrumentRead>({
      ...onShard0(),
      route: INSTRUMENTS,
      read: (s, id) => reads.instrument(s, id),
      deliver: (b) => {
        for (const c of b.commands)
          got.push({ seq: b.seq, instrument: b.key, kinds: c.events.map((e) => e.kind) });
      },
    });
    try {
      // Given a bid of erin's resting on ACME
      const rested = await send(order('erin', 'buy', 5_000, 'e1', 3));
      await until('the shard to execute it', () => shard.stats.seq >= rested, logged);
      // When the feed follows ACME
      let seededFirst = false;
      const [state] = await md.follow(SPEC.id, () => (seededFirst = got.length === 0));
      // Then its state is ACME's book as of a command at least as late, with erin's bid in it, seeded before any event
      assert.ok(seededFirst);
      assert.ok(state!.seq >= rested);
      assert.deepEqual(
        state!.instrument!.bids.find(([price]) => price === 5_000),
        [5_000, 3, 1],
      );
      // When orders go on BETA and on ACME, one of ACME's while the feed's connection is down
      await send(order('frank', 'buy', 4_000, 'f1', 2, BETA.id));
      const live = await send(order('frank', 'sell', 5_000, 'f2', 1));
      await until('the live one to reach the feed', () => got.some((g) => g.seq === live), logged);
      const received = md.received;
      const back = reconnected(far);
      await nats.nodes[1]!.kill();
      const missed = await send(order('frank', 'buy', 4_900, 'f3'));
      await send(order('frank', 'buy', 4_000, 'f4', 2, BETA.id));
      await until('the shard to execute them', () => shard.stats.seq >= missed + 1, logged);
      await nats.nodes[1]!.restart();
      await back;
      await until(
        'the missed one to reach the feed',
        () => got.some((g) => g.seq === missed),
        logged,
        60_000,
      );
      // Then it delivered ACME's trade and new level (with their best prices' change), each once and in order, and nothing of BETA's
      assert.deepEqual(got, [
        { seq: live, instrument: SPEC.id, kinds: ['trade', 'depth', 'bbo'] },
        { seq: missed, instrument: SPEC.id, kinds: ['depth'] }, // below erin's bid: the best prices stay
      ]);
      // And the only message it received live was ACME's
      assert.equal(received, 1);
    } finally {
      await md.close();
    }
  });

  it('carries a command whose events are too large for one NATS message: stored as an object, read again from the stream', async () => {
    const seen = delivered.length;
    // Given gina, followed, resting 12,000 orders (sent 250 to a message)
    await feed.follow('gina');
    const N = 12_000;
    let last = 0;
    for (let i = 0; i < N; i += 250) {
      const entries = Array.from({ length: 250 }, (_, k) => ({
        ref: `g-${i + k}`,
        bytes: bus.encode(order('gina', 'sell', 20_000 + ((i + k) % 400), `g${i + k}`, 1)),
      }));
      last = (await bus.publish(0, 'evm:31337', entries, `g-batch-${i}`)).seq;
    }
    await until('the shard to execute them', () => shard.stats.published >= last, logged, 60_000);
    // When she cancels them all in one command (about 1.3 MB of events)
    const cancel = await send({ type: 'cancel-all', account: 'gina' });
    await until('the shard to publish it', () => shard.stats.published >= cancel, logged, 60_000);
    // Then the event message names an object holding its events, and carries no bytes itself
    const jsm = await jetstreamManager(far);
    const stored = (await jsm.streams.getMessage(nats.topology.eventStream(0), { seq: cancel }))!;
    assert.ok(stored.header.get(OBJECT_HEADER), 'the message names its object');
    assert.equal(stored.data.length, 0);
    // And the feed delivered each of her 12,000 cancels once, read from the stream, in order after her orders
    await until(
      'her cancels to reach the feed',
      () => delivered.some((b) => b.seq === cancel),
      logged,
      60_000,
    );
    const hers = delivered.slice(seen).filter((b) => b.account === 'gina');
    const canceled = hers.filter((b) => b.seq === cancel);
    assert.equal(canceled.length, 1, 'one command');
    assert.equal(canceled[0]!.events.filter((e) => e.kind === 'canceled').length, N);
    assert.equal(hers.filter((b) => b.events.some((e) => e.kind === 'accepted')).length, N);
    assert.ok(hers.every((b, i) => i === 0 || b.seq >= hers[i - 1]!.seq));
    assert.ok(
      log.some((l) => l.includes(`again`) && l.includes(`to ${cancel}`)),
      logged(),
    );
  });
});
