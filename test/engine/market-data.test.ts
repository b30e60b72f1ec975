/**
 * Market data and delivery: events numbered gap-free across commands and stamped with their
 * command; one depth event per changed level per command with the level's final total and order
 * count (bids, then asks, in order of first touch); a BBO event only when the best bid or offer
 * changed; listeners split by audience, and a throwing listener breaks neither the engine nor the
 * other listeners. Every case on both books.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Command, Engine, type EngineEvent, type EventKind, eventToObject } from '../../engine/index.ts';
import { BOOKS, type Ev, spec } from '../support/engine.ts';
import {
  ACME,
  bbo,
  buy,
  type Cmd,
  depth,
  given,
  malformed,
  market,
  sell,
  stop,
  stopLimit,
} from '../support/scenario.ts';

for (const kind of BOOKS) {
  describe(`sequence numbers (${kind} book)`, () => {
    it('events are numbered 1, 2, 3... across commands, each with its command and timestamp', () => {
      const engine = new Engine({ book: kind });
      const seen: Ev[] = [];
      engine.addListener({ onEvent: (e) => seen.push(eventToObject(e)) });
      const cmds: Array<Cmd & { ts: number }> = [
        { type: 'list-instrument', spec: spec(), ts: 0 },
        { ...sell('A', 's1', 2, 10_000), ts: 5 },
        { ...sell('A', 's2', 2, 10_100), ts: 5 },
        { type: 'tick', ts: 6 }, // no events
        { ...buy('B', 'b1', 3, 10_100), ts: 7 }, // several events
        { ...buy('B', 'b9', 0, 10_100), ts: 8 }, // rejected: quantity 0
        { ...buy('B', 'b2', 1, 9_000), ts: 3 }, // rejected: going backwards
        { ...market('C', 'm1', 'sell', 9), ts: 9 },
      ];
      const perCommand: number[] = [];
      for (const [i, c] of cmds.entries()) {
        const before = seen.length;
        const n = engine.execute(c as Command);
        assert.equal(n, seen.length - before, `execute returns the number of events of command ${i + 1}`);
        assert.equal(engine.commandSeq, i + 1);
        perCommand.push(n);
        for (const e of seen.slice(before)) {
          assert.equal(e.commandSeq, i + 1);
          assert.equal(e.ts, i === 6 ? 8 : c.ts, `ts of the events of command ${i + 1}`);
        }
      }
      assert.deepEqual(perCommand, [1, 3, 2, 0, 6, 1, 1, 2]);
      assert.deepEqual(
        seen.map((e) => e.seq),
        seen.map((_, i) => i + 1),
      );
      assert.equal(engine.eventSeq, seen.length);
    });
  });

  describe(`depth and BBO (${kind} book)`, () => {
    it('a sweep publishes each level it changed once, with the final total and count', () => {
      const s = given(kind).orders(
        sell('A', 's1', 2, 10_000),
        sell('B', 's2', 3, 10_000),
        sell('C', 's3', 4, 10_000),
        sell('A', 's4', 1, 10_100),
        sell('B', 's5', 5, 10_200),
      );
      const t = s.when(buy('D', 'b1', 8, 10_100)); // three orders at 10000 touched, one event
      assert.deepEqual(t.market, [depth('sell', 10_000, 1, 1), bbo(0, 0, 10_000, 1)]);
      const u = s.when(buy('D', 'b2', 4, 10_100));
      assert.deepEqual(u.market, [
        depth('buy', 10_100, 2, 1),
        depth('sell', 10_000, 0, 0),
        depth('sell', 10_100, 0, 0),
        bbo(10_100, 2, 10_200, 5),
      ]);
      const v = s.when(buy('E', 'b3', 2, 10_200));
      assert.deepEqual(v.market, [depth('sell', 10_200, 3, 1), bbo(10_100, 2, 10_200, 3)]);
    });

    it('a sweep through twenty levels of two orders each publishes each level once, then one level once', () => {
      const asks: Cmd[] = [];
      for (let i = 0; i < 20; i++) {
        asks.push(sell('A', `a${i}`, 1, 10_000 + i), sell('B', `b${i}`, 1, 10_000 + i));
      }
      const s = given(kind).orders(...asks, sell('C', 'c1', 1, 10_020));
      const t = s.when(market('D', 'm1', 'buy', 40));
      assert.deepEqual(t.market, [
        ...Array.from({ length: 20 }, (_, i) => depth('sell', 10_000 + i, 0, 0)),
        bbo(0, 0, 10_020, 1),
      ]);
      s.orders(sell('A', 'x1', 1, 10_005));
      const u = s.when(buy('D', 'b2', 1, 10_005));
      assert.deepEqual(u.market, [depth('sell', 10_005, 0, 0), bbo(0, 0, 10_020, 1)]);
    });

    it('bids come before asks, and within a side levels come in order of first touch', () => {
      const s = given(kind).orders(
        sell('A', 'a1', 1, 10_300),
        buy('A', 'a2', 1, 9_800),
        sell('A', 'a3', 1, 10_100),
        buy('A', 'a4', 1, 9_900),
        sell('A', 'a5', 1, 10_200),
      );
      const t = s.when({ type: 'cancel-all', account: 'A' });
      assert.deepEqual(t.market, [
        depth('buy', 9_800, 0, 0),
        depth('buy', 9_900, 0, 0),
        depth('sell', 10_300, 0, 0),
        depth('sell', 10_100, 0, 0),
        depth('sell', 10_200, 0, 0),
        bbo(0, 0, 0, 0),
      ]);
    });

    it('a BBO event only when the best price or its size changed', () => {
      const s = given(kind).orders(buy('A', 'b1', 5, 10_000), sell('A', 's1', 5, 10_100));
      // [command, market data]
      const steps: Array<[Cmd, Ev[]]> = [
        [buy('B', 'b2', 2, 9_900), [depth('buy', 9_900, 2, 1)]],
        [sell('B', 's2', 2, 10_200), [depth('sell', 10_200, 2, 1)]],
        [buy('C', 'b3', 1, 10_000), [depth('buy', 10_000, 6, 2), bbo(10_000, 6, 10_100, 5)]],
        [{ type: 'cancel', account: 'B', clientOrderId: 'b2' }, [depth('buy', 9_900, 0, 0)]],
        [
          { type: 'replace', account: 'A', clientOrderId: 'b1', quantity: 4 },
          [depth('buy', 10_000, 5, 2), bbo(10_000, 5, 10_100, 5)],
        ],
        [sell('C', 's3', 1, 10_050), [depth('sell', 10_050, 1, 1), bbo(10_000, 5, 10_050, 1)]],
        [stop('D', 'st', 'buy', 1, 20_000), []],
        [{ type: 'tick' }, []],
        [malformed({ type: 'nonsense' }), []],
      ];
      for (const [cmd, expected] of steps)
        assert.deepEqual(s.when(cmd).market, expected, JSON.stringify(cmd));
    });

    it('a level opened and emptied within one command publishes nothing (nothing visible changed)', () => {
      // A trade at 10000 triggers a buy stop-limit that rests at 9500, then a sell stop that takes it.
      const s = given(kind).orders(
        sell('A', 's1', 1, 10_000),
        buy('A', 'b0', 1, 9_000),
        stopLimit('C', 'x', 'buy', 1, 10_000, 9_500),
        stop('D', 'y', 'sell', 1, 10_000),
      );
      const t = s.when(buy('B', 'b1', 1, 10_000));
      assert.deepEqual(
        t.orders.map((e) => [e.kind, e.clientOrderId ?? e.takerClientOrderId, e.price]),
        [
          ['accepted', 'b1', 10_000],
          ['trade', 'b1', 10_000],
          ['triggered', 'x', 9_500],
          ['triggered', 'y', 0],
          ['trade', 'y', 9_500],
        ],
      );
      assert.deepEqual(t.market, [depth('sell', 10_000, 0, 0), bbo(9_000, 1, 0, 0)]);
    });
  });

  describe(`listeners (${kind} book)`, () => {
    const run = (engine: Engine) => {
      let ts = 0;
      const cmds: Cmd[] = [
        { type: 'list-instrument', spec: spec() },
        sell('A', 's1', 2, 10_000),
        buy('B', 'b1', 3, 10_000),
        { type: 'replace', account: 'B', clientOrderId: 'b1', quantity: 2 },
        stop('C', 'st', 'sell', 1, 10_000),
        sell('D', 's2', 2, 10_000, { tif: 'IOC' }),
        { type: 'cancel', account: 'B', clientOrderId: 'nope' },
        { type: 'set-status', instrument: ACME, status: 'halted' },
      ];
      for (const c of cmds) engine.execute({ ...c, ts: ts++ } as Command);
    };

    it('each audience gets its kinds, in order, and onEvent gets them all', () => {
      const engine = new Engine({ book: kind });
      const got: Record<string, EventKind[]> = {
        event: [],
        order: [],
        trade: [],
        depth: [],
        bbo: [],
        instrument: [],
        account: [],
      };
      const note = (key: string) => (e: EngineEvent) => got[key]?.push(e.kind);
      engine.addListener({
        onEvent: note('event'),
        onOrder: note('order'),
        onTrade: note('trade'),
        onDepth: note('depth'),
        onBbo: note('bbo'),
        onInstrument: note('instrument'),
        onAccount: note('account'),
      });
      run(engine);
      const all = got.event ?? [];
      const only = (kinds: EventKind[]) => all.filter((k) => kinds.includes(k));
      assert.deepEqual(got.order, only(['accepted', 'rejected', 'canceled', 'replaced', 'triggered']));
      assert.deepEqual(got.trade, only(['trade']));
      assert.deepEqual(got.depth, only(['depth']));
      assert.deepEqual(got.bbo, only(['bbo']));
      assert.deepEqual(got.instrument, ['instrument', 'instrument']);
      assert.deepEqual(got.account, []);
      assert.deepEqual([...new Set(all)].sort(), [
        'accepted',
        'bbo',
        'canceled',
        'depth',
        'instrument',
        'rejected',
        'replaced',
        'trade',
        'triggered',
      ]);
    });

    it('a throwing listener is counted and reported; the engine and the other listeners go on', () => {
      const reference = new Engine({ book: kind });
      const expected: Ev[] = [];
      reference.addListener({ onEvent: (e) => expected.push(eventToObject(e)) });
      run(reference);

      const reported: Array<[unknown, string]> = [];
      const engine = new Engine({ book: kind, onListenerError: (err, e) => reported.push([err, e.kind]) });
      const before: Ev[] = [];
      const after: Ev[] = [];
      const trades: Ev[] = [];
      engine.addListener({ onEvent: (e) => before.push(eventToObject(e)) });
      engine.addListener({
        onEvent: () => {
          throw new Error('boom');
        },
      });
      engine.addListener({
        onTrade: () => {
          throw new Error('bad trade handler');
        },
      });
      engine.addListener({
        onEvent: (e) => after.push(eventToObject(e)),
        onTrade: (e) => trades.push(eventToObject(e)),
      });
      run(engine);

      assert.deepEqual(before, expected);
      assert.deepEqual(after, expected);
      const tradeCount = expected.filter((e) => e.kind === 'trade').length;
      assert.equal(tradeCount, 3);
      assert.deepEqual(
        trades,
        expected.filter((e) => e.kind === 'trade'),
      );
      assert.equal(engine.listenerErrors, expected.length + tradeCount);
      assert.equal(reported.length, engine.listenerErrors);
      assert.ok(reported.every(([err]) => err instanceof Error));
      assert.equal(engine.stateHash(), reference.stateHash());
    });

    it('a removed listener hears nothing more', () => {
      const engine = new Engine({ book: kind });
      const heard: EventKind[] = [];
      const remove = engine.addListener({ onEvent: (e) => heard.push(e.kind) });
      engine.execute({ type: 'list-instrument', spec: spec(), ts: 0 });
      remove();
      engine.execute({ ...buy('A', 'b1', 1, 10_000), ts: 1 } as Command);
      assert.deepEqual(heard, ['instrument']);
      assert.equal(engine.liveOrders, 1);
    });
  });
}
