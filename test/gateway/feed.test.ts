/**
 * The market-data feed (gateway/feed) against a real engine: each command's events go through
 * `eventToObject` to `feed.publish`, as the durable engine delivers them. Clients here are
 * in-memory `FeedClient`s that keep every frame and can pretend to be slow. A client-side book
 * is rebuilt from snapshot and updates the way the protocol tells a client to, and checked
 * against the engine, its checksums and its sequence numbers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Command,
  Engine,
  eventToObject,
  lotsToQuantity,
  type PublishedEvent,
  ticksToPrice,
} from '../../engine/index.ts';
import { isGatewayError } from '../../gateway/errors.ts';
import { bookChecksum, crc32, MarketData } from '../../gateway/feed/index.ts';
import { Decimals } from '../../gateway/decimals.ts';
import { spec } from '../support/engine.ts';
import { ACME, ALL, type Level, Market, type Msg, TestClient } from '../support/feed.ts';
import { LISTINGS, RandomCommands } from '../support/random-commands.ts';

// ---- harness (the clients and the market: ../support/feed.ts) ------------------------------

/** A client-side L2 book for one channel, kept as the protocol says, with every check it allows. */
class ClientBook {
  bids = new Map<string, Level>();
  asks = new Map<string, Level>();
  seq = -1;
  depth: number;
  checks = 0;

  constructor(depth: number) {
    this.depth = depth;
  }

  apply(m: Msg): void {
    if (m.type === 'heartbeat' || m.type === 'conflated') return;
    if (m.type === 'snapshot') {
      this.bids.clear();
      this.asks.clear();
    } else {
      assert.equal(m.type, 'update');
      assert.equal(m.seq, this.seq + 1, `${m.channel}: seq ${m.seq} after ${this.seq}`);
    }
    this.seq = m.seq;
    for (const [side, levels] of [
      [this.bids, m.bids!],
      [this.asks, m.asks!],
    ] as const) {
      for (const l of levels) {
        if (l[1] === '0') {
          assert.ok(side.delete(l[0]), `${m.channel}: removes ${l[0]}, which it does not have`);
        } else side.set(l[0], l);
      }
    }
    const { bids, asks } = this.levels();
    assert.ok(
      bids.length <= this.depth && asks.length <= this.depth,
      `${m.channel}: more than ${this.depth}`,
    );
    assert.equal(bookChecksum(bids, asks, Math.min(this.depth, 10)), m.checksum, `${m.channel}: checksum`);
    this.checks++;
  }

  levels(): { bids: Level[]; asks: Level[] } {
    const bids = [...this.bids.values()].sort((a, b) => Number(b[0]) - Number(a[0]));
    const asks = [...this.asks.values()].sort((a, b) => Number(a[0]) - Number(b[0]));
    return { bids, asks };
  }
}

/** The engine's own book as wire strings, best `n` levels a side. */
function engineBook(engine: Engine, id: string, n: number): { bids: Level[]; asks: Level[] } {
  const s = engine.instrument(id)!.spec;
  const wire = ([p, q]: [number, number, number]): Level => [
    ticksToPrice(p, s.tickSize, s.priceDecimals),
    lotsToQuantity(q, s.lotSize, s.quantityDecimals),
  ];
  const { bids, asks } = engine.depth(id, n);
  return { bids: bids.map(wire), asks: asks.map(wire) };
}

function throwsCode(fn: () => void, code: string): void {
  assert.throws(fn, (err: unknown) => isGatewayError(err) && err.code === code);
}

// ---- scenarios ----------------------------------------------------------------------------

describe('feed: checksum and decimals', () => {
  it('crc32 is the IEEE one (zlib, PNG), and the doc example string gives its checksum', () => {
    assert.equal(crc32('123456789'), 0xcbf43926);
    assert.equal(crc32(''), 0);
    const bids: Level[] = [
      ['99.99', '12'],
      ['99.98', '40'],
    ];
    const asks: Level[] = [['100.01', '5']];
    assert.equal(bookChecksum(bids, asks, 10), crc32('99.99:12:100.01:5:99.98:40'));
    assert.equal(bookChecksum(bids, asks, 1), crc32('99.99:12:100.01:5'));
  });

  it('formats ticks and lots exactly as the engine units do', () => {
    const cases: Array<[string, number]> = [
      ['0.01', 2],
      ['0.05', 4],
      ['1', 0],
      ['1', 3],
      ['0.001', 3],
      ['2.5', 1],
      ['0.00000001', 8],
    ];
    for (const [unit, decimals] of cases) {
      const d = new Decimals(unit, decimals);
      for (const n of [0, 1, 7, 10, 99, 100, 12345, 999_999_999, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
        assert.equal(d.format(n), ticksToPrice(n, unit, decimals), `${n} x ${unit} (${decimals})`);
      }
    }
  });
});

describe('feed: L2 book channels', () => {
  it('sends a snapshot, then updates numbered gap-free, each with a checksum that verifies', () => {
    const m = new Market([spec()]);
    m.limit('a', 'buy', 12, 9999);
    const c = new TestClient();
    m.feed.subscribe(c, `book.10:${ACME}`, ALL);
    const [snap] = c.take();
    assert.deepEqual(snap, {
      type: 'snapshot',
      channel: `book.10:${ACME}`,
      seq: 0,
      bids: [['99.99', '12']],
      asks: [],
      checksum: crc32('99.99:12'),
      ts: 1,
    });
    m.limit('b', 'sell', 5, 10001);
    m.limit('a', 'buy', 40, 9998);
    m.limit('c', 'sell', 12, 9999); // takes the best bid
    const book = new ClientBook(10);
    book.apply(snap!);
    const updates = c.take();
    assert.deepEqual(
      updates.map((u) => [u.type, u.seq, u.bids, u.asks]),
      [
        ['update', 1, [], [['100.01', '5']]],
        ['update', 2, [['99.98', '40']], []],
        ['update', 3, [['99.99', '0']], []],
      ],
    );
    for (const u of updates) book.apply(u);
    assert.deepEqual(book.levels(), engineBook(m.engine, ACME, 10));
  });

  it('a book.N channel sends only top-N changes, including levels that enter or leave the top N', () => {
    const m = new Market([spec()]);
    m.limit('a', 'buy', 1, 100);
    const first = m.lastOrder;
    m.limit('a', 'buy', 2, 99);
    m.limit('a', 'buy', 3, 98);
    const c = new TestClient();
    m.feed.subscribe(c, `book.1:${ACME}`, ALL);
    const book = new ClientBook(1);
    for (const msg of c.take()) book.apply(msg);
    m.limit('a', 'buy', 5, 97); // outside the top 1: nothing
    assert.deepEqual(c.take(), []);
    m.cancel('a', first); // 99 enters the top 1
    let [u] = c.take();
    assert.deepEqual(u!.bids, [
      ['1.00', '0'],
      ['0.99', '2'],
    ]);
    book.apply(u!);
    m.limit('a', 'buy', 4, 101); // a better level pushes 99 out of view
    [u] = c.take();
    assert.deepEqual(u!.bids, [
      ['1.01', '4'],
      ['0.99', '0'],
    ]);
    book.apply(u!);
    assert.deepEqual(book.levels(), engineBook(m.engine, ACME, 1));
    assert.equal(u!.seq, 2);
  });

  it('lists instruments listed after it started, and reads those listed before from the engine', () => {
    const before = new Market([spec()], {}, true);
    before.limit('a', 'sell', 3, 500);
    const late = new MarketData(before.engine);
    const c = new TestClient();
    late.subscribe(c, `book.5:${ACME}`, ALL);
    assert.deepEqual(c.take()[0]!.asks, [['5.00', '3']]);
    before.run({ type: 'list-instrument', ts: 9, spec: spec({ id: 'NEW@evm:31337' }) });
    before.feed.subscribe(c, 'ticker:NEW@evm:31337', ALL);
    assert.equal(c.take()[0]!.type, 'snapshot');
  });

  it("answers REST with the book at the last command, its channel's sequence, and its recent trades", async () => {
    const m = new Market([spec()], { trades: 2 });
    const sub = new TestClient();
    m.feed.subscribe(sub, `book.1:${ACME}`, ALL);
    m.limit('a', 'buy', 10, 100);
    m.limit('a', 'buy', 10, 99);
    m.limit('b', 'sell', 1, 100);
    m.limit('b', 'sell', 1, 100);
    m.limit('b', 'sell', 2, 100);
    const view = await m.feed.book(ACME, 1);
    const last = sub.take().at(-1)!;
    assert.deepEqual(view, {
      seq: last.seq,
      epoch: m.feed.epoch,
      commandSeq: m.engine.commandSeq,
      bids: [['1.00', '6']],
      asks: [],
      checksum: crc32('1.00:6'),
    });
    assert.deepEqual(
      (await m.feed.trades(ACME)).map((t) => [t.price, t.quantity, t.side]),
      [
        ['1.00', '1', 'sell'],
        ['1.00', '2', 'sell'],
      ],
    );
    await assert.rejects(
      m.feed.book('NOPE@evm:1', 5),
      (err: unknown) => isGatewayError(err) && err.code === 'UNKNOWN_INSTRUMENT',
    );
  });
});

describe('feed: trades and ticker', () => {
  it('one trades update per command, the snapshot holds the last trades oldest first, and the ticker the whole state', () => {
    const m = new Market([spec()], { trades: 3 });
    const trades = new TestClient();
    const ticker = new TestClient();
    m.feed.subscribe(ticker, `ticker:${ACME}`, ALL);
    assert.deepEqual(ticker.take(), [
      {
        type: 'snapshot',
        channel: `ticker:${ACME}`,
        seq: 0,
        bid: null,
        ask: null,
        last: null,
        volume: '0',
        ts: m.clock,
      },
    ]);
    m.feed.subscribe(trades, `trades:${ACME}`, ALL);
    assert.deepEqual(trades.take()[0]!.trades, []);
    m.limit('a', 'sell', 5, 10001);
    m.limit('a', 'sell', 5, 10002);
    m.limit('b', 'buy', 7, 10002); // two trades in one command
    const [u] = trades.take();
    assert.equal(u!.seq, 1);
    assert.deepEqual(
      u!.trades!.map((t) => [t.tradeId, t.price, t.quantity, t.side, t.ts]),
      [
        [1, '100.01', '5', 'buy', 3],
        [2, '100.02', '2', 'buy', 3],
      ],
    );
    const tick = ticker.take();
    assert.deepEqual(
      tick.map((t) => [t.seq, t.bid, t.ask, t.last, t.volume]),
      [
        [1, null, ['100.01', '5'], null, '0'],
        // The second offer left the best one as it was: no update.
        [2, null, ['100.02', '3'], '100.02', '7'],
      ],
    );
    m.limit('c', 'buy', 1, 10002);
    m.limit('c', 'buy', 1, 10002);
    const late = new TestClient();
    m.feed.subscribe(late, `trades:${ACME}`, ALL);
    const [snap] = late.take();
    assert.equal(snap!.seq, 3);
    assert.deepEqual(
      snap!.trades!.map((t) => t.tradeId),
      [2, 3, 4],
    );
  });
});

describe('feed: consolidated books and privacy', () => {
  const EVM = spec({ id: 'ACME@evm:31337' });
  const FAB = spec({
    id: 'ACME@fabric:bank-net',
    tickSize: '0.005',
    priceDecimals: 3,
    lotSize: '0.5',
    quantityDecimals: 1,
  });
  const BOND = spec({ id: 'BOND@fabric:bank-net' });
  const publicOnly = (venue: string): boolean => venue !== 'fabric:bank-net';

  it('merges the venues by numeric price, with the breakdown per venue and a checksum over the merged levels', () => {
    const m = new Market([EVM, FAB, BOND]);
    m.limit('a', 'buy', 10, 100, EVM.id); // 1.00 x 10
    m.limit('a', 'buy', 3, 200, FAB.id); // 1.000 x 1.5
    m.limit('a', 'buy', 1, 199, FAB.id); // 0.995 x 0.5
    m.limit('a', 'sell', 2, 101, EVM.id); // 1.01 x 2
    const c = new TestClient();
    m.feed.subscribe(c, 'consolidated.10:ACME', ALL);
    const [snap] = c.take();
    assert.deepEqual(snap!.bids, [
      ['1.000', '11.5', { 'evm:31337': '10', 'fabric:bank-net': '1.5' }],
      ['0.995', '0.5', { 'fabric:bank-net': '0.5' }],
    ]);
    assert.deepEqual(snap!.asks, [['1.010', '2.0', { 'evm:31337': '2' }]]);
    const book = new ClientBook(10);
    book.apply(snap!);
    m.limit('b', 'sell', 10, 100, EVM.id); // takes the evm bid at 1.00
    const [u] = c.take();
    assert.deepEqual(u!.bids, [['1.000', '1.5', { 'fabric:bank-net': '1.5' }]]);
    book.apply(u!);
    m.limit('b', 'sell', 1, 201, FAB.id);
    book.apply(c.take()[0]!);
    assert.deepEqual(
      book.levels().asks.map((l) => l[0]),
      ['1.005', '1.010'],
    );
  });

  it('a venue the session may not see is neither subscribable nor merged', () => {
    const m = new Market([EVM, FAB, BOND]);
    m.limit('a', 'buy', 10, 100, EVM.id);
    m.limit('a', 'buy', 3, 200, FAB.id);
    const c = new TestClient();
    throwsCode(() => m.feed.subscribe(c, `book.10:${FAB.id}`, publicOnly), 'UNKNOWN_INSTRUMENT');
    throwsCode(() => m.feed.subscribe(c, `trades:${FAB.id}`, publicOnly), 'UNKNOWN_INSTRUMENT');
    throwsCode(() => m.feed.subscribe(c, 'consolidated.5:BOND', publicOnly), 'UNKNOWN_INSTRUMENT');
    assert.equal(c.frames.length, 0);
    m.feed.subscribe(c, 'consolidated.10:ACME', publicOnly);
    const member = new TestClient();
    m.feed.subscribe(member, 'consolidated.10:ACME', ALL);
    // Shown with the decimals of the venues merged: nothing hints at the hidden one.
    assert.deepEqual(c.take()[0]!.bids, [['1.00', '10', { 'evm:31337': '10' }]]);
    assert.equal(member.take()[0]!.bids!.length, 1);
    m.limit('a', 'buy', 1, 150, FAB.id); // only the member sees it
    assert.deepEqual(c.take(), []);
    assert.deepEqual(member.take()[0]!.bids, [['0.750', '0.5', { 'fabric:bank-net': '0.5' }]]);
    assert.equal(m.feed.stats().channels, 2, 'one channel per distinct visibility');
    assert.ok(m.feed.unsubscribe(c, 'consolidated.10:ACME'));
    assert.ok(!m.feed.unsubscribe(c, 'consolidated.10:ACME'));
  });
});

describe('feed: books followed on first use (a cluster gateway)', () => {
  /** A real engine's listings, whose books are read only when the feed asks, as a shard answers a read. */
  function lazyMarket() {
    const m = new Market([spec(), spec({ id: 'BETA@evm:31337' }), spec({ id: 'GAMMA@evm:31337' })], {}, true);
    const asked: Array<{ id: string; answer: (ok: boolean) => void }> = [];
    const dropped: string[] = [];
    const feed = new MarketData(
      {
        instruments: () => m.engine.instruments(),
        instrument: (id) => m.engine.instrument(id),
        followBook: (id, seed) =>
          new Promise<void>((resolve, reject) => {
            asked.push({
              id,
              answer: (ok) => {
                if (!ok) return reject(new Error('shard 0 did not answer'));
                const { bids, asks } = m.engine.depth(id, Number.MAX_SAFE_INTEGER);
                seed({ seq: m.engine.commandSeq, lastPrice: 0, bids, asks });
                resolve();
              },
            });
          }),
        unfollowBook: (id) => dropped.push(id),
      },
      { now: () => m.clock, lingerMs: 60_000 },
    );
    // The engine's events reach this feed too, as the followed instruments' subjects would carry them
    const events: PublishedEvent[] = [];
    m.engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
    const run = (f: () => void) => {
      events.length = 0;
      f();
      feed.publish(m.engine.commandSeq, events);
    };
    return { m, feed, asked, dropped, run };
  }

  it('reads a book on its first subscription, answers once it has it, and takes the events after it', async () => {
    const { m, feed, asked, run } = lazyMarket();
    run(() => m.limit('a', 'buy', 5, 100));
    // When a client subscribes to ACME's book, which nobody watched
    const first = new TestClient();
    const joining = feed.subscribe(
      first,
      `book.10:${ACME}`,
      ALL,
      undefined,
      Buffer.from('{"type":"subscribed"}'),
    );
    // Then the feed asks for ACME's book only, and sends nothing until it has it
    assert.ok(joining instanceof Promise);
    assert.deepEqual(
      asked.map((a) => a.id),
      [ACME],
    );
    run(() => m.limit('a', 'buy', 7, 99)); // an event before the book is read: in the book read
    assert.deepEqual(first.take(), []);
    // When the book comes
    asked[0]!.answer(true);
    await joining;
    // Then the client gets its answer, then a snapshot of the book as read
    const [ack, snap] = first.take();
    assert.equal(ack!.type, 'subscribed');
    assert.deepEqual(snap!.bids, [
      ['1.00', '5'],
      ['0.99', '7'],
    ]);
    // And a later subscriber is answered at once, and both get the updates after it
    const second = new TestClient();
    assert.equal(feed.subscribe(second, `book.10:${ACME}`, ALL), undefined);
    assert.equal(second.take()[0]!.type, 'snapshot');
    run(() => m.limit('b', 'sell', 2, 100));
    assert.deepEqual(first.take()[0]!.bids, [['1.00', '3']]);
    assert.deepEqual(second.take()[0]!.bids, [['1.00', '3']]);
    // And the REST book of it, as its commandSeq, names the last command that changed it
    assert.equal((await feed.book(ACME, 10)).commandSeq, m.engine.commandSeq);
  });

  it('stops following an instrument nobody watched for lingerMs, and on its next use reads it again, with a snapshot for an old fromSeq', async () => {
    const { m, feed, asked, dropped, run } = lazyMarket();
    run(() => m.limit('a', 'buy', 5, 100));
    // Given a client that watched ACME's book and trades, then left
    const client = new TestClient();
    const first = feed.subscribe(client, `book.10:${ACME}`, ALL);
    asked[0]!.answer(true);
    await first;
    feed.subscribe(client, `trades:${ACME}`, ALL);
    run(() => m.limit('b', 'sell', 2, 100)); // a trade
    const last = client.take().at(-1)!;
    feed.drop(client);
    // When less than lingerMs passes, nothing changes; once it has passed, the feed stops following ACME
    m.clock += 59_000;
    feed.tick();
    assert.deepEqual(dropped, []);
    m.clock += 2_000;
    feed.tick();
    assert.deepEqual(dropped, [ACME]);
    run(() => m.limit('c', 'buy', 7, 99)); // while nobody follows it: not applied here
    // Then its next use reads its book again, as the engine holds it now
    const again = new TestClient();
    const resumed = feed.subscribe(
      again,
      `book.10:${ACME}`,
      ALL,
      last.seq,
      Buffer.from('{"type":"subscribed"}'),
    );
    assert.ok(resumed instanceof Promise);
    assert.equal(asked.length, 2);
    asked[1]!.answer(true);
    await resumed;
    // And a fromSeq from before is not replayed: a snapshot of the book as it is
    const [ack, snap] = again.take();
    assert.equal(ack!.type, 'subscribed');
    assert.equal(snap!.type, 'snapshot');
    assert.ok(snap!.seq > last.seq);
    assert.deepEqual(snap!.bids, [
      ['1.00', '3'],
      ['0.99', '7'],
    ]);
    // And its trades start again from there (the one before is forgotten)
    assert.deepEqual(await feed.trades(ACME), []);
  });

  it('forgets a subscription withdrawn or closed while its book is read, and answers UNAVAILABLE when it cannot be read', async () => {
    const { feed, asked } = lazyMarket();
    // When a client subscribes to BETA and unsubscribes before its book comes, and another closes meanwhile
    const gone = new TestClient();
    const closed = new TestClient();
    const joining = feed.subscribe(gone, 'trades:BETA@evm:31337', ALL);
    const dropped = feed.subscribe(closed, 'ticker:BETA@evm:31337', ALL);
    assert.equal(feed.unsubscribe(gone, 'trades:BETA@evm:31337'), true);
    feed.drop(closed);
    // Then one read was asked for both, and once it is answered neither client gets anything
    assert.equal(asked.length, 1);
    asked[0]!.answer(true);
    await joining;
    await dropped;
    assert.deepEqual(gone.take(), []);
    assert.deepEqual(closed.take(), []);
    // When GAMMA's book cannot be read
    const client = new TestClient();
    const failing = feed.subscribe(client, 'book.1:GAMMA@evm:31337', ALL);
    asked[1]!.answer(false);
    // Then the subscription fails UNAVAILABLE, naming the instrument, having sent nothing
    await assert.rejects(
      failing!,
      (err: unknown) => isGatewayError(err) && err.code === 'UNAVAILABLE' && /GAMMA/.test(err.message),
    );
    assert.deepEqual(client.take(), []);
    // And the next use asks again
    const book = feed.book('GAMMA@evm:31337', 1);
    assert.equal(asked.length, 3);
    asked[2]!.answer(true);
    assert.deepEqual((await book).bids, []);
  });
});

describe('feed: channel names', () => {
  it('refuses names that are not of the protocol with UNKNOWN_CHANNEL, unknown instruments with UNKNOWN_INSTRUMENT', () => {
    const m = new Market([spec()]);
    const c = new TestClient();
    for (const name of [
      'book.7:X',
      'nope:X',
      'book.10:',
      'book.10',
      'trades',
      'book.010:ACME@evm:31337',
      'consolidated.3:ACME',
      'ticker:',
      '',
    ]) {
      throwsCode(() => m.feed.subscribe(c, name, ALL), 'UNKNOWN_CHANNEL');
    }
    for (const name of ['book.10:X', 'trades:ACME@evm:1', 'ticker:ACME', 'consolidated.1:NOPE']) {
      throwsCode(() => m.feed.subscribe(c, name, ALL), 'UNKNOWN_INSTRUMENT');
    }
    assert.equal(c.frames.length, 0);
    assert.equal(m.feed.stats().channels, 0);
  });
});

describe('feed: resubscribe from a sequence number', () => {
  it('replays retained updates without a snapshot, and sends a snapshot when they are pruned or unknown', () => {
    const m = new Market([spec()], { retain: 4 });
    const c = new TestClient();
    m.feed.subscribe(c, `book.5:${ACME}`, ALL);
    for (let i = 0; i < 3; i++) m.limit('a', 'buy', 1, 100 + i);
    const seen = c.take();
    m.feed.drop(c);
    m.limit('a', 'buy', 1, 200);
    m.limit('a', 'buy', 1, 201);
    const again = new TestClient();
    m.feed.subscribe(again, `book.5:${ACME}`, ALL, 3);
    const replay = again.take();
    assert.deepEqual(
      replay.map((r) => [r.type, r.seq]),
      [
        ['update', 4],
        ['update', 5],
      ],
    );
    const book = new ClientBook(5);
    for (const msg of [...seen, ...replay]) book.apply(msg);
    assert.deepEqual(book.levels(), engineBook(m.engine, ACME, 5));

    const quiet = new TestClient();
    m.feed.subscribe(quiet, `book.5:${ACME}`, ALL, 5);
    assert.deepEqual(quiet.take(), [], 'nothing after the last seq: nothing to send');
    const pruned = new TestClient();
    m.feed.subscribe(pruned, `book.5:${ACME}`, ALL, 0); // updates 1..5, only 2..5 retained
    assert.deepEqual(
      pruned.take().map((r) => [r.type, r.seq]),
      [['snapshot', 5]],
    );
    const future = new TestClient();
    m.feed.subscribe(future, `book.5:${ACME}`, ALL, 99); // e.g. from before a server restart
    assert.deepEqual(
      future.take().map((r) => [r.type, r.seq]),
      [['snapshot', 5]],
    );
  });

  it('keeps memory bounded: never more than `retain` frames a channel', () => {
    const m = new Market([spec()], { retain: 16 });
    const c = new TestClient();
    m.feed.subscribe(c, `book.100:${ACME}`, ALL);
    m.feed.subscribe(c, `ticker:${ACME}`, ALL);
    let largest = 0;
    for (let i = 0; i < 2000; i++) {
      m.limit('a', i % 2 === 0 ? 'buy' : 'sell', 1 + (i % 7), i % 2 === 0 ? 100 - (i % 50) : 200 + (i % 50));
      for (const f of c.frames.splice(0)) largest = Math.max(largest, f.length);
    }
    const { retainedBytes } = m.feed.stats();
    assert.ok(retainedBytes > 0 && retainedBytes <= 2 * 16 * largest, `${retainedBytes} bytes retained`);
  });
});

describe('feed: heartbeats', () => {
  it('a channel idle for heartbeatMs sends its last seq; one that sent something does not', () => {
    const m = new Market([spec()], { heartbeatMs: 1000 });
    const c = new TestClient();
    m.feed.subscribe(c, `book.1:${ACME}`, ALL);
    m.limit('a', 'buy', 1, 100);
    c.take();
    m.clock += 999;
    m.feed.tick();
    assert.deepEqual(c.take(), []);
    m.clock += 1;
    m.feed.tick();
    assert.deepEqual(c.take(), [{ type: 'heartbeat', channel: `book.1:${ACME}`, seq: 1 }]);
    m.clock += 500;
    m.feed.tick();
    m.limit('a', 'buy', 1, 101);
    m.clock += 600;
    m.feed.tick();
    assert.deepEqual(
      c.take().map((x) => x.type),
      ['update'],
    );
  });
});

describe('feed: slow consumers', () => {
  it('conflates a slow client once, sends it nothing more, resyncs it with a snapshot once drained', () => {
    const m = new Market([spec()], { slowBytes: 1000, hardBytes: 100_000 });
    const slow = new TestClient();
    const fast = new TestClient();
    m.feed.subscribe(slow, `book.10:${ACME}`, ALL);
    m.feed.subscribe(fast, `book.10:${ACME}`, ALL);
    slow.take();
    slow.bufferedAmount = 5000;
    m.limit('a', 'buy', 1, 100);
    m.limit('a', 'buy', 1, 101);
    assert.deepEqual(slow.take(), [{ type: 'conflated', channel: `book.10:${ACME}`, seq: 1 }]);
    assert.equal(m.feed.stats().conflated, 1);
    assert.equal(m.feed.stats().conflations, 1);
    assert.equal(m.feed.stats().withheld, 2);
    slow.bufferedAmount = 300; // below slowBytes, not yet below a quarter of it
    m.feed.tick();
    assert.deepEqual(slow.take(), []);
    slow.bufferedAmount = 100;
    m.feed.tick();
    const [snap] = slow.take();
    assert.equal(snap!.type, 'snapshot');
    assert.equal(snap!.seq, 2);
    m.limit('a', 'buy', 1, 102);
    assert.deepEqual(
      slow.take().map((x) => [x.type, x.seq]),
      [['update', 3]],
    );
    assert.equal(fast.take().length, 4);
    assert.equal(m.feed.stats().conflated, 0);
  });

  it("lowers the slow threshold to each client's share of totalBytes when many are connected", () => {
    const m = new Market([spec()], { slowBytes: 10_000, hardBytes: 100_000, totalBytes: 4000 });
    const clients = [new TestClient(), new TestClient(), new TestClient(), new TestClient()];
    for (const c of clients) m.feed.subscribe(c, `book.10:${ACME}`, ALL);
    for (const c of clients) c.take();
    // Four clients share 4,000 bytes: 1,000 each, well under slowBytes.
    clients[0]!.bufferedAmount = 1500;
    clients[1]!.bufferedAmount = 900;
    m.limit('a', 'buy', 1, 100);
    assert.deepEqual(clients[0]!.take(), [{ type: 'conflated', channel: `book.10:${ACME}`, seq: 1 }]);
    assert.deepEqual(
      clients[1]!.take().map((x) => x.type),
      ['update'],
    );
    // With one client left its share is the whole 4,000 bytes.
    for (const c of clients.slice(1)) m.feed.drop(c);
    clients[0]!.bufferedAmount = 900;
    m.feed.tick();
    assert.equal(clients[0]!.take()[0]!.type, 'snapshot');
  });

  it('resyncs on a later publish as well, and closes a client past hardBytes with 1008', () => {
    const m = new Market([spec()], { slowBytes: 1000, hardBytes: 10_000 });
    const c = new TestClient();
    m.feed.subscribe(c, `ticker:${ACME}`, ALL);
    m.feed.subscribe(c, `book.1:${ACME}`, ALL);
    c.take();
    c.bufferedAmount = 2000;
    m.limit('a', 'buy', 1, 100);
    assert.equal(c.take().filter((x) => x.type === 'conflated').length, 2);
    c.bufferedAmount = 0;
    m.limit('a', 'buy', 1, 101);
    assert.deepEqual(
      c.take().map((x) => [x.type, x.seq]),
      [
        ['snapshot', 2],
        ['snapshot', 2],
      ],
    );
    c.bufferedAmount = 20_000;
    m.limit('a', 'buy', 1, 102);
    assert.deepEqual(c.closed, [1008, 'slow consumer']);
    const stats = m.feed.stats();
    assert.equal(stats.dropped, 1);
    assert.equal(stats.subscriptions, 0);
    m.limit('a', 'buy', 1, 103);
    assert.deepEqual(c.take(), []);
  });

  it('a client already slow when it subscribes gets the notice, not the snapshot', () => {
    const m = new Market([spec()], { slowBytes: 1000 });
    const c = new TestClient();
    c.bufferedAmount = 4000;
    m.feed.subscribe(c, `book.100:${ACME}`, ALL);
    assert.deepEqual(
      c.take().map((x) => x.type),
      ['conflated'],
    );
  });
});

describe('feed: a long seeded random run', () => {
  it('client books rebuilt from snapshot and updates equal the engine, with every checksum and seq checked', () => {
    const gen = new RandomCommands(2024);
    const engine = new Engine();
    let events: PublishedEvent[] = [];
    engine.addListener({
      onEvent: (e) => {
        gen.observe(e);
        events.push(eventToObject(e));
      },
    });
    let clock = 0;
    const feed = new MarketData(engine, { now: () => clock, retain: 12 });
    const run = (cmd: Command): void => {
      events = [];
      engine.execute(cmd);
      feed.publish(engine.commandSeq, events);
    };
    for (const c of gen.listings()) run(c);
    const depths = [1, 5, 10, 100];
    const books: Array<{ id: string; n: number; client: TestClient; book: ClientBook }> = [];
    for (const s of LISTINGS) {
      for (const n of depths) {
        const client = new TestClient();
        feed.subscribe(client, `book.${n}:${s.id}`, ALL);
        books.push({ id: s.id, n, client, book: new ClientBook(n) });
      }
    }
    const tape = new TestClient();
    feed.subscribe(tape, `trades:${LISTINGS[0]!.id}`, ALL);
    const resumed = { replay: 0, snapshot: 0 };
    let tradeSeq = -1;
    let trades = 0;
    for (let i = 0; i < 30_000; i++) {
      run(gen.next());
      clock += 10;
      if (i % 100 === 0) feed.tick();
      // Now and then a client goes away for 40 commands and comes back from the last seq it saw:
      // a replay when the updates are still retained (12 a channel), else a snapshot.
      const away = books[Math.floor(i / 997) % books.length]!;
      if (i % 997 === 0) feed.drop(away.client);
      if (i % 997 === 40) {
        away.client = new TestClient();
        feed.subscribe(away.client, `book.${away.n}:${away.id}`, ALL, away.book.seq);
        const first = away.client.take();
        if (first.length > 0) resumed[first[0]!.type === 'snapshot' ? 'snapshot' : 'replay']++;
        for (const msg of first) away.book.apply(msg);
      }
      for (const b of books) for (const msg of b.client.take()) b.book.apply(msg);
      for (const msg of tape.take()) {
        if (msg.type === 'heartbeat') continue;
        if (msg.type === 'update') {
          assert.equal(msg.seq, tradeSeq + 1);
          trades += msg.trades!.length;
        }
        tradeSeq = msg.seq;
      }
      if (i % 500 === 0 || i === 29_999) {
        for (const b of books) {
          if (b === away && i % 997 < 40) continue; // disconnected
          assert.deepEqual(b.book.levels(), engineBook(engine, b.id, b.n), `${b.id} / ${b.n}`);
        }
      }
    }
    assert.ok(trades > 1000, `only ${trades} trades`);
    assert.ok(resumed.replay > 0 && resumed.snapshot > 0, JSON.stringify(resumed));
    assert.ok(books.every((b) => b.book.checks > 100));
  });
});
