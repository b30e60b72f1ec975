/**
 * The history under load and SIGKILL. The crash child (test/journal/crash-child.ts --history)
 * runs a durable engine flat out with a history store reading its events, snapshots every 300
 * commands keeping one, and is killed after a seeded random number of acknowledgements, over and
 * over; each life starts by catching its history up from the journal. At the end, opened once
 * more in this process: every trade the engine made has exactly its two fills (a taker's and a
 * maker's), and every order it accepted is either live in the engine or finished in the history
 * exactly once, with as much filled, at as much notional, as its fills add up to; and the
 * candles of every interval count each trade once, as the trades' fills give them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { XorShift32 } from '../../bench/prng.ts';
import { type FillRecord, ThreadedHistory, type OrderRecord } from '../../history/index.ts';
import { DurableEngine, listSegments, listSnapshots } from '../../journal/index.ts';
import { liveAndDie, tempDir, Workload } from '../journal/support.ts';
import { candlesOf, type Interval, INTERVALS, type SeenTrade, storedCandles } from '../support/candles.ts';
import { lineLogger } from '../../common/index.ts';

const CYCLES = 12;
const SEED = 20_251_113;

describe('history across SIGKILLs under load', () => {
  it(
    `after ${CYCLES} kills at random moments, every trade has its two fills and every finished order one record`,
    { timeout: 180_000 },
    async (t) => {
      const dir = tempDir(t, 'history-crash');
      const rng = new XorShift32(SEED);
      const snapshots = new Set<number>();
      let acks = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        // Every third life goes on past a checkpoint of the history, which lets the journal be
        // compacted behind it (the others may die before their first one).
        const life = await liveAndDie(dir, 2000 + cycle, rng.int(2000, 8000), ['--history'], cycle % 3 === 2);
        assert.doesNotMatch(
          life.stderr,
          /failed|not in the history|corrupt/,
          `cycle ${cycle}: ${life.stderr}`,
        );
        acks += life.acks.length;
        for (const s of listSnapshots(dir)) snapshots.add(s.seq);
      }
      assert.ok(snapshots.size >= 3, `the kills met ${snapshots.size} snapshots`);
      assert.ok(listSegments(dir)[0]!.firstSeq > 1, 'the journal was compacted');

      // When it opens once more, its history catching up from the journal
      const lines: string[] = [];
      const store = ThreadedHistory.open({
        dir: path.join(dir, 'history'),
        log: lineLogger((l) => lines.push(l)),
      });
      const d = DurableEngine.open({ dir, readers: [store], log: lineLogger((l) => lines.push(l)) });
      t.after(async () => {
        await d.close();
        await store.close();
      });
      const { order: orderSeq, trade: tradeSeq } = d.engine.snapshot().seqs;
      const everything = async <R>(kind: 'fills' | 'orders', account: string) =>
        (await store.page({ kind, account, order: 'asc', limit: Number.MAX_SAFE_INTEGER })).map(
          (e) => e.record as R,
        );

      // Then each trade has a taker's fill and a maker's, and no more
      const byTrade = new Map<number, Array<FillRecord & { account: string }>>();
      const filled = new Map<number, number>();
      const notional = new Map<number, number>();
      const finished = new Map<number, OrderRecord[]>();
      for (const account of new Workload(1).accounts) {
        for (const f of await everything<FillRecord>('fills', account)) {
          byTrade.set(f.tradeId, [...(byTrade.get(f.tradeId) ?? []), { ...f, account }]);
          filled.set(f.orderId, (filled.get(f.orderId) ?? 0) + f.quantity);
          notional.set(f.orderId, (notional.get(f.orderId) ?? 0) + f.quantity * f.price);
        }
        for (const o of await everything<OrderRecord>('orders', account)) {
          if (o.orderId !== null) finished.set(o.orderId, [...(finished.get(o.orderId) ?? []), o]);
        }
      }
      assert.ok(tradeSeq > 100, `only ${tradeSeq} trades`);
      assert.equal(byTrade.size, tradeSeq, 'a fill for every trade, and for no other');
      for (let id = 1; id <= tradeSeq; id++) {
        const pair = byTrade.get(id) ?? [];
        assert.deepEqual(
          pair.map((f) => f.liquidity).sort(),
          ['maker', 'taker'],
          `trade ${id}: ${JSON.stringify(pair)}`,
        );
        assert.equal(pair[0]!.quantity, pair[1]!.quantity);
      }
      // And each order is live or finished once, its fills adding up to what it filled
      let ended = 0;
      for (let id = 1; id <= orderSeq; id++) {
        const live = d.engine.order(id);
        const records = finished.get(id) ?? [];
        assert.equal(
          records.length,
          live === undefined ? 1 : 0,
          `order ${id}: live ${live !== undefined}, ${records.length} records`,
        );
        const cum = live?.filled ?? records[0]!.filled;
        assert.equal(filled.get(id) ?? 0, cum, `order ${id}: fills add up to what it filled`);
        if (records[0]?.status === 'filled') assert.equal(records[0].filled, records[0].quantity);
        if (records[0] !== undefined) {
          assert.equal(
            records[0].notional,
            notional.get(id) ?? 0,
            `order ${id}: its average price is its fills'`,
          );
        }
        ended += records.length;
      }
      assert.equal(finished.size, ended, 'no finished order the engine did not number');
      // And the candles of every interval count each trade once: the trade of each taker's fill
      const trades: SeenTrade[] = [...byTrade.values()].map((pair) => {
        const f = pair.find((x) => x.liquidity === 'taker')!;
        return { tradeId: f.tradeId, price: String(f.price), quantity: String(f.quantity), ts: f.ts };
      });
      const instrument = byTrade.get(1)![0]!.instrument;
      for (const interval of Object.keys(INTERVALS) as Interval[]) {
        assert.deepEqual(
          await storedCandles(store, instrument, interval),
          candlesOf(trades, interval),
          interval,
        );
      }
      t.diagnostic(
        `${acks} acknowledged, ${orderSeq} orders (${ended} finished), ${tradeSeq} trades, ${snapshots.size} snapshots; history at ${store.appliedSeq}`,
      );
    },
  );
});
