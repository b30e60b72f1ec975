/**
 * The feed's candle channels against a real engine and a real history store (LMDB, its writer
 * on a thread of its own), each command's events reaching the store first, as the durable engine
 * hands them over: candles seeded from the store on first use, the trades published while the
 * seed is read counted once, and a seed ahead of the events the feed has (a cluster's shard
 * history) counting nothing twice; one update per command that traded; the snapshot's size;
 * slow consumers conflated and resynced with a snapshot. The candles are checked against those
 * the test computes from the trades channel.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { isGatewayError } from '../../gateway/errors.ts';
import { MarketData } from '../../gateway/feed/index.ts';
import { ThreadedHistory } from '../../history/index.ts';
import { silentLogger } from '../../common/index.ts';
import { tempDir } from '../journal/support.ts';
import { candlesOf, ClientCandles, type SeenTrade } from '../support/candles.ts';
import { spec } from '../support/engine.ts';
import { ACME, ALL, Market, type Msg, TestClient } from '../support/feed.ts';

const HOUR = Date.UTC(2026, 0, 5, 11);
const ACK = Buffer.from('{"type":"subscribed"}');

/** A market whose events reach a history store, and a client that watches its trades from the start. */
function market(t: TestContext, options: ConstructorParameters<typeof Market>[1] = {}) {
  const store = ThreadedHistory.open({ dir: tempDir(t, 'feed-candles'), log: silentLogger });
  t.after(() => store.close());
  const m = new Market([spec()], options, false, store);
  const trades = new TestClient();
  m.feed.subscribe(trades, `trades:${ACME}`, ALL);
  const seen: SeenTrade[] = [];
  /** The trades seen so far. */
  const traded = () => {
    for (const msg of trades.take()) seen.push(...(msg.trades ?? []));
    return seen;
  };
  /** At `at`, `a` rests a sell and `b` takes `qty` of it at `price` (ticks): one trade. */
  const trade = (at: number, price: number, qty = 1) => {
    m.ts = at - 1;
    m.limit('a', 'sell', qty, price);
    m.ts = at - 1;
    m.limit('b', 'buy', qty, price);
  };
  return { m, trade, traded };
}

const fed = (messages: readonly Msg[]) => {
  const copy = new ClientCandles();
  for (const msg of messages) copy.apply(msg);
  return copy;
};

describe('feed: candles', () => {
  it('seeds a channel from the history on first use, counts trades published while it is read once, then sends one update per command that traded', async (t) => {
    const { m, trade, traded } = market(t);
    trade(HOUR + 100, 10_000, 2);
    // When a client subscribes, and a trade is published while the candles are read from the history
    const c = new TestClient();
    const joining = m.feed.subscribe(c, `candles.1m:${ACME}`, ALL, undefined, ACK);
    assert.ok(joining instanceof Promise, 'the candles are read from the history first');
    trade(HOUR + 60_000, 10_100);
    assert.deepEqual(c.take(), []);
    await joining;
    // Then the snapshot counts each trade once
    const [ack, snap] = c.take();
    assert.equal(ack!.type, 'subscribed');
    assert.deepEqual([snap!.type, snap!.seq, snap!.candles], ['snapshot', 0, candlesOf(traded(), '1m', 0)]);
    assert.equal(candlesOf(traded(), '1m').length, 2);
    // And each command that trades sends one update of the candles it changed; one that rests sends none
    trade(HOUR + 60_500, 9_900, 3);
    m.limit('a', 'buy', 1, 9_000);
    trade(HOUR + 120_000, 10_000);
    const updates = c.take();
    assert.deepEqual(
      updates.map((u) => [u.type, u.seq, u.candles!.map((x) => x.t)]),
      [
        ['update', 1, [HOUR + 60_000]],
        ['update', 2, [HOUR + 120_000]],
      ],
    );
    assert.deepEqual(fed([snap!, ...updates]).candles, candlesOf(traded(), '1m'));
  });

  it('takes a seed ahead of the events the feed has (a shard history ahead of its gateway) without counting a trade twice', async (t) => {
    const { m, trade, traded } = market(t);
    trade(HOUR, 10_000);
    // Given a feed behind the history: two trades the history holds that the feed has not had yet
    m.hold = true;
    trade(HOUR + 1_500, 10_200, 2);
    trade(HOUR + 2_500, 9_800);
    // When a client subscribes, the first of them reaches the feed while the seed is read, the second after it
    const c = new TestClient();
    const joining = m.feed.subscribe(c, `candles.1s:${ACME}`, ALL);
    m.deliver(2); // the first trade's two commands
    await joining;
    m.deliver();
    m.hold = false;
    // Then the snapshot has every trade once, and the trades it had already send no update
    const [snap, ...rest] = c.take();
    assert.deepEqual(rest, []);
    assert.deepEqual(snap!.candles, candlesOf(traded(), '1s'));
    // And the next trade is counted once too
    trade(HOUR + 2_600, 10_300);
    const [update] = c.take();
    assert.equal(update!.seq, 1);
    assert.deepEqual(fed([snap!, update!]).candles, candlesOf(traded(), '1s'));
  });

  it('keeps the last `candles` of an interval for the snapshot; REST reads any of them from the history with the channel sequence', async (t) => {
    const { m, trade, traded } = market(t, { candles: 3 });
    for (let k = 0; k < 5; k++) trade(HOUR + k * 1_000, 10_000 + k);
    const c = new TestClient();
    await m.feed.subscribe(c, `candles.1s:${ACME}`, ALL);
    trade(HOUR + 5_000, 10_010);
    const all = candlesOf(traded(), '1s');
    const [snap, update] = c.take();
    assert.deepEqual(snap!.candles, all.slice(2, 5));
    assert.deepEqual(update!.candles, all.slice(5));
    const view = await m.feed.candles(ACME, '1s', { limit: 10 });
    assert.deepEqual([view.seq, view.epoch, view.candles], [1, m.feed.epoch, all]);
    // A feed without a history has no candles: UNAVAILABLE, naming the instrument
    const bare = new MarketData(m.engine);
    await assert.rejects(
      bare.subscribe(new TestClient(), `candles.1h:${ACME}`, ALL)!,
      (err: unknown) => isGatewayError(err, 'UNAVAILABLE') && err.message.includes(ACME),
    );
  });

  it('conflates a slow candle subscriber once, and resyncs it with a snapshot once drained', async (t) => {
    const { m, trade, traded } = market(t, { slowBytes: 1000, hardBytes: 100_000 });
    const slow = new TestClient();
    await m.feed.subscribe(slow, `candles.1h:${ACME}`, ALL);
    slow.take();
    slow.bufferedAmount = 5000;
    trade(HOUR, 10_000);
    trade(HOUR + 1, 10_100);
    assert.deepEqual(slow.take(), [{ type: 'conflated', channel: `candles.1h:${ACME}`, seq: 1 }]);
    slow.bufferedAmount = 100;
    m.feed.tick();
    const [snap] = slow.take();
    assert.deepEqual([snap!.type, snap!.seq, snap!.candles], ['snapshot', 2, candlesOf(traded(), '1h')]);
    trade(HOUR + 2, 9_900);
    assert.deepEqual(
      slow.take().map((x) => [x.type, x.seq]),
      [['update', 3]],
    );
  });
});
