/**
 * Candles in the history store on real LMDB, fed with the events of a real engine at times the
 * test chooses: each interval's candles as the test computes them from the trades, read by open
 * time within bounds; and the catch-up of a writer that died after committing commands past its
 * checkpoint (a second writer on the same folder records them again, as a start does): no trade
 * counted twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../common/index.ts';
import {
  type Command,
  Engine,
  eventToObject,
  type PublishedEvent,
  type Unstamped,
} from '../../engine/index.ts';
import { type CandleInterval, ThreadedHistory } from '../../history/index.ts';
import { SyncHistoryWriter } from '../../history/sync-writer.ts';
import { EventBatchWriter } from '../../journal/index.ts';
import { tempDir } from '../journal/support.ts';
import { candlesOf, INTERVALS, type SeenTrade, storedCandles } from '../support/candles.ts';
import { spec } from '../support/engine.ts';

const ACME = spec().id;
const BETA = 'BETA@evm:31337';
const HOUR = Date.UTC(2026, 0, 5, 11);
const NAMES = Object.keys(INTERVALS) as CandleInterval[];

/** An engine whose commands' events are kept per command, and the trades it made (ticks and lots as text). */
function engine() {
  const e = new Engine();
  let events: PublishedEvent[] = [];
  e.addListener({ onEvent: (x) => events.push(eventToObject(x)) });
  const log: Array<[number, PublishedEvent[]]> = [];
  const trades = new Map<string, SeenTrade[]>();
  const run = (c: Unstamped, ts: number) => {
    events = [];
    e.execute({ ...c, ts } as Command);
    log.push([e.commandSeq, events]);
    for (const x of events) {
      if (x.kind !== 'trade') continue;
      const list = trades.get(x.instrument) ?? [];
      list.push({ tradeId: x.tradeId, price: String(x.price), quantity: String(x.quantity), ts: x.ts });
      trades.set(x.instrument, list);
    }
  };
  /** At `ts`: one sell resting `qty` at `price`, one buy taking it. */
  const trade = (ts: number, price: number, qty = 1, instrument = ACME) => {
    const order = { type: 'new', instrument, orderType: 'limit', price, quantity: qty } as const;
    run({ ...order, account: 'ann', side: 'sell', clientOrderId: `s${log.length}` } as Unstamped, ts);
    run({ ...order, account: 'bob', side: 'buy', clientOrderId: `b${log.length}` } as Unstamped, ts);
  };
  run({ type: 'list-instrument', spec: spec() }, 0);
  run({ type: 'list-instrument', spec: spec({ id: BETA }) }, 0);
  return { log, trades, trade, run };
}

describe('history: candles', () => {
  it('given trades across boundaries of every interval, then each interval has the candles the trades give, read by open time', async (t) => {
    const store = ThreadedHistory.open({ dir: tempDir(t, 'history-candles'), log: silentLogger });
    t.after(() => store.close());
    const { log, trades, trade } = engine();
    trade(HOUR - 1, 10_000, 3);
    trade(HOUR - 1, 10_200);
    trade(HOUR, 9_900, 2);
    trade(HOUR + 59_999, 10_050);
    trade(HOUR + 60_000, 10_100, 4, BETA);
    trade(HOUR + 300_000, 10_000, 5);
    for (const [seq, events] of log) store.apply(seq, events);
    for (const i of NAMES) {
      for (const id of [ACME, BETA])
        assert.deepEqual(await storedCandles(store, id, i), candlesOf(trades.get(id)!, i));
    }
    // Bounds are open times, inclusive; a limit keeps the most recent, oldest first
    const ts = async (q: { from?: number; to?: number; limit: number }) =>
      (await store.candles({ instrument: ACME, interval: '1m', ...q })).map((c) => c.t);
    assert.deepEqual(await ts({ limit: 10 }), [HOUR - 60_000, HOUR, HOUR + 300_000]);
    assert.deepEqual(await ts({ from: HOUR, to: HOUR + 300_000, limit: 10 }), [HOUR, HOUR + 300_000]);
    assert.deepEqual(await ts({ from: HOUR + 1, to: HOUR + 299_999, limit: 10 }), []);
    assert.deepEqual(await ts({ limit: 2 }), [HOUR, HOUR + 300_000]);
    assert.deepEqual(await ts({ to: HOUR, limit: 1 }), [HOUR]);
  });

  it('given a writer that died after committing commands past its checkpoint, then the start that records them again counts each trade once', async (t) => {
    const dir = tempDir(t, 'history-candles');
    const { log, trades, trade } = engine();
    const batch = (from: number, to: number) => {
      const w = new EventBatchWriter();
      for (const [seq, events] of log.filter(([s]) => s >= from && s <= to)) w.command(seq, events);
      return w.take();
    };
    trade(HOUR + 100, 10_000, 2);
    trade(HOUR + 200, 10_300);
    trade(HOUR + 1_100, 9_700, 3);
    const first = log.at(-1)![0];
    // Given a writer that committed every command, in two transactions, and was never closed (no checkpoint yet)
    const dead = new SyncHistoryWriter(dir, 0, silentLogger);
    dead.write(batch(1, 4));
    dead.write(batch(5, first));
    assert.equal(dead.position.committed, first);
    // When the next start's writer reads the commands after its checkpoint again, then new ones
    const writer = new SyncHistoryWriter(dir, 0, silentLogger);
    assert.ok(writer.position.durable < first, `it starts at ${writer.position.durable}, before ${first}`);
    writer.write(batch(writer.position.durable + 1, first));
    trade(HOUR + 1_200, 10_500);
    writer.write(batch(first + 1, log.at(-1)![0]));
    writer.close();
    // Then every candle counts each trade once
    const store = ThreadedHistory.open({ dir, log: silentLogger });
    t.after(() => store.close());
    for (const i of NAMES)
      assert.deepEqual(await storedCandles(store, ACME, i), candlesOf(trades.get(ACME)!, i), i);
  });
});
