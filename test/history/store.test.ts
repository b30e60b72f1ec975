/**
 * The history store on real LMDB, fed with the events of a real engine: each account's fills
 * and finished orders in pages (newest or oldest first, exclusive bounds by position and time,
 * venues left out), a restart that finds everything and counts nothing twice, and the pages of
 * two shards merged by time. The store's writer runs on a thread of its own; reads are here.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import {
  type Command,
  Engine,
  eventToObject,
  type InstrumentSpec,
  type PublishedEvent,
  type Unstamped,
} from '../../engine/index.ts';
import {
  cursorOf,
  type Entry,
  type FillRecord,
  mergePages,
  ThreadedHistory,
  type OrderRecord,
  type PageQuery,
  parseCursor,
  timeBound,
} from '../../history/index.ts';
import { silentLogger } from '../../common/index.ts';
import { EventBatchWriter } from '../../journal/index.ts';
import { tempDir } from '../journal/support.ts';
import { spec } from '../support/engine.ts';

const ACME = spec().id;
const GILT = 'GILT@fabric:club-net';

/** An engine whose every command's events go to `store`, at times 1000, 2000, … (or as given). */
type Store = ThreadedHistory;

function feed(store: Store, specs: InstrumentSpec[] = [spec(), spec({ id: GILT })], idBase = 0) {
  const engine = new Engine({ idBase });
  let events: PublishedEvent[] = [];
  engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
  let ts = 0;
  const run = (c: Unstamped, at?: number) => {
    ts = at ?? ts + 1000;
    events = [];
    engine.execute({ ...c, ts } as Command);
    store.apply(engine.commandSeq, events);
    return events;
  };
  for (const s of specs) run({ type: 'list-instrument', spec: s });
  return { engine, run };
}

const limit = (
  side: 'buy' | 'sell',
  clientOrderId: string,
  quantity: number,
  price = 10_000,
  instrument = ACME,
) =>
  ({
    type: 'new',
    account: side === 'sell' ? 'ann' : 'bob',
    instrument,
    clientOrderId,
    side,
    orderType: 'limit',
    price,
    quantity,
  }) as Unstamped;

function open(t: TestContext, dir = tempDir(t, 'history'), shard = 0) {
  const store = ThreadedHistory.open({ dir, shard, log: silentLogger });
  t.after(() => store.close());
  return store;
}

const q = (over: Partial<PageQuery> = {}): PageQuery => ({
  kind: 'fills',
  account: 'bob',
  order: 'desc',
  limit: 100,
  ...over,
});
const ids = (page: Entry<FillRecord | OrderRecord>[]) => page.map((e) => (e.record as FillRecord).tradeId);

describe('history store', () => {
  it('given trades, then each account reads its fills newest first, within exclusive bounds', async (t) => {
    const store = open(t);
    const { run } = feed(store);
    run(limit('sell', 's1', 10));
    for (let i = 1; i <= 5; i++) run(limit('buy', `b${i}`, 2));
    const page = await store.page(q());
    assert.deepEqual(ids(page), [5, 4, 3, 2, 1]);
    const first = page.at(-1)!.record as FillRecord;
    assert.deepEqual(
      { ...first },
      {
        tradeId: 1,
        orderId: 2,
        clientOrderId: 'b1',
        instrument: ACME,
        side: 'buy',
        price: 10_000,
        quantity: 2,
        fee: 10,
        liquidity: 'taker',
        ts: 4000,
      },
    );
    const ann = await store.page(q({ account: 'ann', order: 'asc' }));
    assert.deepEqual(ids(ann), [1, 2, 3, 4, 5]);
    assert.equal((ann[0]!.record as FillRecord).liquidity, 'maker');
    assert.equal((ann[0]!.record as FillRecord).side, 'sell');
    // Bounds are exclusive, in either order
    const [p2, p4] = [page[3]!.pos, page[1]!.pos];
    assert.deepEqual(ids(await store.page(q({ below: p4, above: p2 }))), [3]);
    assert.deepEqual(ids(await store.page(q({ below: p4, above: p2, order: 'asc' }))), [3]);
    assert.deepEqual(ids(await store.page(q({ below: p2 }))), [1]);
    assert.deepEqual(ids(await store.page(q({ above: p4, order: 'asc' }))), [5]);
    // Time bounds: trade n came at (n + 3) * 1000
    assert.deepEqual(ids(await store.page(q({ below: timeBound(6000, 'below') }))), [2, 1]);
    assert.deepEqual(ids(await store.page(q({ above: timeBound(6000, 'above') }))), [5, 4]);
    // And a limit cuts the page
    assert.deepEqual(ids(await store.page(q({ limit: 2, order: 'asc' }))), [1, 2]);
  });

  it('given fills on two venues, then a hidden venue is left out without shortening a page', async (t) => {
    const store = open(t);
    const { run } = feed(store);
    run(limit('sell', 's1', 10));
    run(limit('sell', 'g1', 10, 10_000, GILT));
    for (let i = 1; i <= 3; i++) {
      run(limit('buy', `b${i}`, 1));
      run(limit('buy', `g-b${i}`, 1, 10_000, GILT));
    }
    const all = await store.page(q());
    assert.equal(all.length, 6);
    const shown = await store.page(q({ limit: 3, hidden: ['fabric:club-net'] }));
    assert.deepEqual(
      shown.map((e) => e.record.instrument),
      [ACME, ACME, ACME],
    );
  });

  it('given orders that end every way, then the finished orders keep their final state', async (t) => {
    const store = open(t);
    const { run } = feed(store);
    run(limit('sell', 's1', 5, 10_100)); // rests, then filled in two
    run(limit('buy', 'b1', 2, 10_100));
    run(limit('buy', 'b2', 3, 10_200)); // fills s1 at 101.00, filled
    run(limit('buy', 'b3', 4, 9_000)); // rests, then canceled by its owner
    run({ type: 'cancel', account: 'bob', clientOrderId: 'b3' });
    run({ ...limit('buy', 'b4', 4, 9_000), tif: 'GTD', expireAt: 9_500 } as Unstamped, 9_000);
    run({ type: 'tick' }, 10_000); // b4 expires
    run({ ...limit('buy', 'b5', 1, 9_000), instrument: 'NOPE@evm:1' } as Unstamped); // refused
    run(limit('buy', 'b6', 1, 9_000)); // still live
    run({ type: 'cancel', account: 'bob', clientOrderId: 'nope' }); // a refused cancel is no order

    const bob = (await store.page(q({ kind: 'orders', order: 'asc' }))).map((e) => e.record as OrderRecord);
    assert.deepEqual(
      bob.map((o) => [o.clientOrderId, o.status, o.reason, o.filled, o.quantity]),
      [
        ['b1', 'filled', '', 2, 2],
        ['b2', 'filled', '', 3, 3],
        ['b3', 'canceled', 'user', 0, 4],
        ['b4', 'expired', 'expired', 0, 4],
        ['b5', 'rejected', 'unknown instrument NOPE@evm:1', 0, 0],
      ],
    );
    const [b1, , b3, b4, b5] = bob;
    assert.equal(b1!.orderType, 'limit');
    assert.equal(b1!.notional, 2 * 10_100);
    assert.equal(b3!.createdAt, 6000);
    assert.equal(b3!.ts, 7000);
    assert.equal(b4!.tif, 'GTD');
    assert.equal(b5!.orderId, null);
    assert.ok(b5!.code > 0);
    const ann = (await store.page(q({ kind: 'orders', account: 'ann' }))).map((e) => e.record as OrderRecord);
    assert.deepEqual(
      ann.map((o) => [o.clientOrderId, o.status, o.filled, o.notional]),
      [['s1', 'filled', 5, 5 * 10_100]],
    );
    const pos = await store.position('orders', 'bob', b3!.orderId!);
    assert.deepEqual(pos, [7000, 0, pos![2]]);
    assert.equal(await store.position('orders', 'ann', b3!.orderId!), undefined, 'not one of ann’s');
  });

  it('given a store closed and opened again, then it finds everything, and commands seen before change nothing', async (t) => {
    const dir = tempDir(t, 'history');
    const first = ThreadedHistory.open({ dir, log: silentLogger });
    const engine = new Engine();
    const log: PublishedEvent[][] = [];
    let events: PublishedEvent[] = [];
    engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
    const commands: Unstamped[] = [
      { type: 'list-instrument', spec: spec() },
      limit('sell', 's1', 10),
      limit('buy', 'b1', 3),
      limit('buy', 'b2', 3),
      { type: 'tick' },
    ];
    for (const c of commands) {
      events = [];
      engine.execute({ ...c, ts: engine.commandSeq + 1 } as Command);
      log.push(events);
      first.apply(engine.commandSeq, events);
    }
    const before = await first.page(q({ account: 'ann' }));
    assert.equal(first.appliedSeq, 5);
    await first.close();

    const again = open(t, dir);
    assert.equal(again.durableSeq, 5, 'the last command, a tick that wrote nothing else, is recorded');
    log.forEach((events, i) => again.apply(i + 1, events)); // read again after a restart
    assert.deepEqual(await again.page(q({ account: 'ann' })), before);
    // The live order goes on where it was: its next fill finishes it with the right average
    events = [];
    engine.execute({ ...limit('buy', 'b3', 4, 10_000), ts: 10 } as Command);
    again.apply(engine.commandSeq, events);
    const [s1] = (await again.page(q({ kind: 'orders', account: 'ann' }))).map(
      (e) => e.record as OrderRecord,
    );
    assert.deepEqual(
      [s1!.clientOrderId, s1!.status, s1!.filled, s1!.notional],
      ['s1', 'filled', 10, 10 * 10_000],
    );
  });

  it("given a cluster's command messages as event batches, several commands under one sequence, then each command is recorded and a message seen before changes nothing", async (t) => {
    const store = open(t);
    const engine = new Engine();
    let events: PublishedEvent[] = [];
    engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
    /** One message of `commands` at stream sequence `seq`, as a shard's event message holds it. */
    const message = (seq: number, commands: Unstamped[]) => {
      const w = new EventBatchWriter();
      for (const c of commands) {
        events = [];
        engine.execute({ ...c, ts: seq * 1000 } as Command);
        w.command(seq, events);
      }
      return w.take();
    };
    store.applyBatch(1, message(1, [{ type: 'list-instrument', spec: spec() }, limit('sell', 's1', 10)]));
    const second = message(2, [limit('buy', 'b1', 3), limit('buy', 'b2', 3), limit('buy', 'b3', 1)]);
    store.applyBatch(2, second);
    store.applyBatch(2, second);
    assert.equal(store.appliedSeq, 2);
    assert.deepEqual(ids(await store.page(q({ order: 'asc' }))), [1, 2, 3]);
    assert.deepEqual(ids(await store.page(q({ account: 'ann', order: 'asc' }))), [1, 2, 3]);
  });

  it('given two shards, then their pages merge by time, ties broken by shard', async (t) => {
    const [zero, one] = [open(t, undefined, 0), open(t, undefined, 1)];
    const a = feed(zero, [spec()]);
    const b = feed(one, [spec({ id: 'ACME@fabric:bank-net' })], 2 ** 40);
    a.run(limit('sell', 's', 10), 1000);
    b.run({ ...limit('sell', 's', 10), instrument: 'ACME@fabric:bank-net' } as Unstamped, 1000);
    for (const at of [2000, 3000, 5000]) a.run(limit('buy', `a${at}`, 1), at);
    for (const at of [3000, 4000])
      b.run({ ...limit('buy', `b${at}`, 1), instrument: 'ACME@fabric:bank-net' } as Unstamped, at);
    const query = q({ limit: 3 });
    const pages = [await zero.page(query), await one.page(query)];
    const merged = mergePages(pages, query);
    assert.deepEqual(
      merged.map((e) => (e.record as FillRecord).clientOrderId),
      ['a5000', 'b4000', 'b3000'],
    );
    // The next page continues below the last entry, on both shards
    const next = { ...query, below: merged.at(-1)!.pos };
    const rest = mergePages([await zero.page(next), await one.page(next)], next);
    assert.deepEqual(
      rest.map((e) => (e.record as FillRecord).clientOrderId),
      ['a3000', 'a2000'],
    );
    // And a cursor is a position as text
    const cursor = cursorOf(merged.at(-1)!.pos);
    assert.deepEqual(parseCursor(cursor), merged.at(-1)!.pos);
    for (const bad of ['', '1.2', 'a.b.c', '1.2.3.4', '-1.0.3', `${'9'.repeat(17)}.0.1`]) {
      assert.equal(parseCursor(bad), undefined, bad);
    }
  });
});
