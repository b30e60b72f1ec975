/**
 * Invariants of matching over random command streams (fast-check, seeded; STYLE.md, Tests 12),
 * each on both books. fast-check draws a stream's seed, length and shape (accounts, price
 * spread, book size) for the seeded generator in test/support/random-commands.ts; shrinking
 * the length finds the first command that breaks a property. Properties: no crossed book at
 * rest; quantity conserved per order; no fill beyond an order's size; FIFO within a price
 * level; fees as the instrument's rates say; the rules of time in force, post-only, expiry,
 * stops, self-trade prevention and halts; the same commands replay to the same events and
 * state hash.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type BookKind,
  type Command,
  Engine,
  eventToObject,
  feeFor,
  type OrderView,
  type Side,
} from '../../engine/index.ts';
import { BOOKS, type Ev } from '../support/engine.ts';
import { LISTINGS, RandomCommands } from '../support/random-commands.ts';

const SEED = 42;
const RUNS = 250;

interface Stream {
  seed: number;
  length: number;
  accounts: number;
  spread: number;
  maxLive: number;
}

const stream: fc.Arbitrary<Stream> = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  length: fc.integer({ min: 1, max: 400 }),
  accounts: fc.integer({ min: 2, max: 5 }),
  spread: fc.integer({ min: 1, max: 12 }),
  maxLive: fc.integer({ min: 4, max: 100 }),
});

/** Looks at every command of a stream: `before` it runs, and `after` with its events. */
interface Checker {
  before?(cmd: Command, engine: Engine): void;
  after(cmd: Command, events: Ev[], engine: Engine): void;
}

/** Runs a stream on one book through a checker; returns the commands and every event (JSON). */
function drive(
  book: BookKind,
  s: Stream,
  checker?: Checker,
): { commands: Command[]; log: string[]; hash: string } {
  const gen = new RandomCommands(s.seed, s);
  const errors: unknown[] = [];
  const engine = new Engine({ book, onListenerError: (err) => errors.push(err) });
  let events: Ev[] = [];
  const log: string[] = [];
  engine.addListener({
    onEvent: (e) => {
      gen.observe(e);
      const ev = eventToObject(e);
      events.push(ev);
      log.push(JSON.stringify(ev));
    },
  });
  const commands = gen.listings();
  for (const c of commands) engine.execute(c);
  for (let i = 0; i < s.length; i++) {
    const cmd = gen.next();
    commands.push(cmd);
    checker?.before?.(cmd, engine);
    events = [];
    engine.execute(cmd);
    assert.deepEqual(errors, [], 'a listener threw');
    try {
      checker?.after(cmd, events, engine);
    } catch (err) {
      // Name the command, so that the stream reproduces: `new RandomCommands(seed, stream)`.
      const where = `at command #${i} of ${JSON.stringify(s)}: ${JSON.stringify(cmd)}`;
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${where}`, { cause: err });
    }
  }
  return { commands, log, hash: engine.stateHash() };
}

/** Counts of what the streams exercised, by name, so that no property holds vacuously. */
type Seen = Record<string, number>;
const see = (seen: Seen, what: string) => {
  seen[what] = (seen[what] ?? 0) + 1;
};

/**
 * Runs `make(seen)`'s checker over fast-check's streams on one book, then requires that each
 * of `wanted` was seen at least once.
 */
function holds(book: BookKind, make: (seen: Seen) => Checker, wanted: string[]): void {
  const seen: Seen = {};
  fc.assert(
    fc.property(stream, (s) => {
      drive(book, s, make(seen));
    }),
    { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
  );
  for (const what of wanted)
    assert.ok((seen[what] ?? 0) > 0, `never exercised ${what}: ${JSON.stringify(seen)}`);
}

const opposite = (side: Side): Side => (side === 'buy' ? 'sell' : 'buy');
/** Whether price `a` ranks before `b` on `side`. */
const better = (side: Side, a: number, b: number): boolean => (side === 'buy' ? a > b : a < b);

// ---- no crossed book ------------------------------------------------------------------------

const uncrossed = (seen: Seen): Checker => ({
  after(_cmd, events, engine) {
    if (events.some((e) => e.kind === 'trade')) see(seen, 'trade');
    for (const { id } of LISTINGS) {
      const { bids, asks } = engine.depth(id, 1);
      const bid = bids[0]?.[0];
      const ask = asks[0]?.[0];
      if (bid !== undefined && ask !== undefined) {
        see(seen, 'two-sided');
        assert.ok(bid < ask, `${id} crossed: bid ${bid} >= ask ${ask}`);
      }
      for (const side of ['buy', 'sell'] as const) {
        const orders = engine.restingOrders(id, side);
        for (let i = 1; i < orders.length; i++) {
          assert.ok(
            !better(side, orders[i]!.price, orders[i - 1]!.price),
            `${id} ${side} side out of price order`,
          );
        }
      }
    }
  },
});

// ---- quantity conservation and no overfill ------------------------------------------------

/** What the events say happened to one order. */
interface OrderTally {
  /** `accepted.quantity`. */
  quantity: number;
  /** Sum over replaces of (new leaves - leaves before). */
  adjust: number;
  /** Sum of the positive adjustments (size-ups). */
  sizeUps: number;
  /** Sum of trade quantities. */
  filled: number;
  /** Sum of `canceled.quantity`. */
  canceled: number;
  /** Open quantity as the engine reported it after the previous command. */
  leaves: number;
}

/**
 * Per order: filled + leaves + canceled = quantity + adjust at every event and after every
 * command, where filled and canceled are summed from trades and cancels, adjust from replaces,
 * and leaves is what the events and `engine.order()` report (0 once the order is gone).
 * Also: `accepted` matches the command, a replace sets the leaves the command asked for.
 */
class Conservation implements Checker {
  #orders = new Map<number, OrderTally>();

  constructor(readonly seen: Seen) {}

  after(cmd: Command, events: Ev[], engine: Engine): void {
    const open = (a: OrderTally) => a.quantity + a.adjust - a.filled - a.canceled;
    const get = (id: unknown) => {
      const a = this.#orders.get(id as number);
      assert.ok(a !== undefined, `event for order ${String(id)}, never accepted`);
      return a;
    };
    for (const e of events) {
      switch (e.kind) {
        case 'accepted': {
          const q = e.quantity as number;
          assert.equal(e.leaves, q, 'accepted: leaves = quantity');
          if (cmd.type === 'new') assert.equal(q, cmd.quantity, 'accepted: the quantity asked for');
          this.#orders.set(e.orderId as number, {
            quantity: q,
            adjust: 0,
            sizeUps: 0,
            filled: 0,
            canceled: 0,
            leaves: q,
          });
          break;
        }
        case 'trade': {
          const qty = e.quantity as number;
          assert.ok(qty > 0, 'trade quantity > 0');
          const taker = get(e.takerOrderId);
          const maker = get(e.makerOrderId);
          taker.filled += qty;
          maker.filled += qty;
          assert.equal(e.takerFilled, taker.filled, 'taker filled = sum of its trades');
          assert.equal(e.makerFilled, maker.filled, 'maker filled = sum of its trades');
          see(this.seen, 'trade');
          assert.equal(e.takerLeaves, open(taker), 'taker: filled + leaves + canceled = quantity + adjust');
          assert.equal(e.makerLeaves, open(maker), 'maker: filled + leaves + canceled = quantity + adjust');
          break;
        }
        case 'canceled': {
          const a = get(e.orderId);
          assert.ok((e.quantity as number) > 0, 'canceled quantity > 0');
          a.canceled += e.quantity as number;
          see(this.seen, `canceled:${String(e.reason)}`);
          assert.equal(e.filled, a.filled, 'canceled: filled = sum of trades');
          assert.equal(e.leaves, open(a), 'canceled: filled + leaves + canceled = quantity + adjust');
          break;
        }
        case 'replaced': {
          assert.equal(cmd.type, 'replace', 'replaced only by a replace');
          if (cmd.type !== 'replace') break;
          const a = get(e.orderId);
          const q = e.quantity as number;
          assert.equal(q, cmd.quantity ?? a.leaves, 'replaced: the new leaves asked for');
          if (cmd.price !== undefined) assert.equal(e.price, cmd.price, 'replaced: the price asked for');
          assert.equal(e.leaves, q, 'replaced: leaves = new quantity');
          assert.equal(e.filled, a.filled, 'replaced: filled = sum of trades');
          see(this.seen, q > a.leaves ? 'size-up' : q < a.leaves ? 'size-down' : 'price-only');
          a.adjust += q - a.leaves;
          if (q > a.leaves) a.sizeUps += q - a.leaves;
          assert.equal(open(a), q);
          break;
        }
        default:
      }
    }
    let live = 0;
    for (const [id, a] of this.#orders) {
      const view = engine.order(id);
      const leaves = view?.leaves ?? 0;
      assert.equal(
        a.filled + leaves + a.canceled,
        a.quantity + a.adjust,
        `order ${id}: filled ${a.filled} + leaves ${leaves} + canceled ${a.canceled} != quantity ${a.quantity} + replace adjustments ${a.adjust}`,
      );
      if (view !== undefined) {
        assert.equal(view.filled, a.filled, `order ${id}: engine filled = sum of its trades`);
        live++;
      }
      a.leaves = leaves;
      if (leaves === 0) this.#orders.delete(id);
    }
    assert.equal(engine.liveOrders, live, 'every live order was accepted and not yet done');
  }
}

/**
 * No order fills beyond its size: no trade takes more than either side's open quantity, and
 * cumulative fills never exceed what was accepted plus the size-ups of later replaces.
 */
class NoOverfill implements Checker {
  /** Per live order: [size (accepted + size-ups), open quantity, filled, accepted quantity]. */
  #orders = new Map<number, [number, number, number, number]>();

  constructor(readonly seen: Seen) {}

  after(_cmd: Command, events: Ev[], engine: Engine): void {
    const fill = (id: unknown, qty: number) => {
      const o = this.#orders.get(id as number)!;
      assert.ok(qty <= o[1], `order ${String(id)} filled ${qty} with only ${o[1]} open`);
      o[1] -= qty;
      o[2] += qty;
      assert.ok(o[2] <= o[0], `order ${String(id)} filled ${o[2]} of a size of ${o[0]}`);
      if (o[2] === o[0]) see(this.seen, 'filled-to-size');
      if (o[2] > o[3]) see(this.seen, 'filled-beyond-accepted-after-size-up');
    };
    for (const e of events) {
      const o = this.#orders.get(e.orderId as number);
      if (e.kind === 'accepted') {
        const q = e.quantity as number;
        this.#orders.set(e.orderId as number, [q, q, 0, q]);
      } else if (e.kind === 'trade') {
        fill(e.takerOrderId, e.quantity as number);
        fill(e.makerOrderId, e.quantity as number);
      } else if (e.kind === 'canceled' && o !== undefined) {
        o[1] -= e.quantity as number;
        assert.ok(o[1] >= 0, `order ${String(e.orderId)} canceled more than it had open`);
      } else if (e.kind === 'replaced' && o !== undefined) {
        const q = e.quantity as number;
        if (q > o[1]) o[0] += q - o[1];
        o[1] = q;
      }
    }
    for (const [id, o] of this.#orders) {
      if (o[1] === 0) this.#orders.delete(id);
      else assert.equal(engine.order(id)?.filled, o[2], `order ${id}: filled`);
    }
  }
}

// ---- FIFO within a level ------------------------------------------------------------------

/**
 * Among resting orders at one price, a taker meets them in arrival order: the makers it traded
 * with (or canceled by self-trade prevention) at a level are a prefix of that level's queue as
 * it stood before the command, each but the last used up; levels go in price priority, and
 * every level better than the last one it reached is used up. Commands in which stops trigger
 * (several takers) are left out.
 */
class Fifo implements Checker {
  /** `instrument|side|price` -> order ids in queue order, before the command. */
  #queues = new Map<string, number[]>();
  #where = new Map<number, OrderView>();

  constructor(readonly seen: Seen) {}

  before(_cmd: Command, engine: Engine): void {
    this.#queues.clear();
    this.#where.clear();
    for (const { id } of LISTINGS) {
      for (const side of ['buy', 'sell'] as const) {
        for (const o of engine.restingOrders(id, side)) {
          const key = `${id}|${side}|${o.price}`;
          let q = this.#queues.get(key);
          if (q === undefined) this.#queues.set(key, (q = []));
          q.push(o.orderId);
          this.#where.set(o.orderId, o);
        }
      }
    }
  }

  after(_cmd: Command, events: Ev[], engine: Engine): void {
    if (events.some((e) => e.kind === 'triggered')) return;
    const entry = events.find(
      (e) => e.kind === 'accepted' || (e.kind === 'replaced' && e.keptPriority === false),
    );
    if (entry === undefined) {
      assert.ok(!events.some((e) => e.kind === 'trade'), 'a trade without a taker entering');
      return;
    }
    const taker = entry.orderId as number;
    const instrument = entry.instrument as string;
    const makerSide = opposite(entry.side as Side);
    // Orders that left before matching began: expired ones, and the replaced order itself.
    const gone = new Set<number>([taker]);
    for (const e of events)
      if (e.kind === 'canceled' && e.reason === 'expired') gone.add(e.orderId as number);

    const hits: number[] = [];
    for (const e of events) {
      const trade = e.kind === 'trade';
      if (!trade && !(e.kind === 'canceled' && e.reason === 'stp' && e.orderId !== taker)) continue;
      const id = (trade ? e.makerOrderId : e.orderId) as number;
      if (trade) {
        assert.equal(e.takerOrderId, taker, 'one taker per command');
        assert.equal(this.#where.get(id)?.price, e.price, `maker ${id} trades at its resting price`);
      } else {
        see(this.seen, 'stp-canceled-maker');
      }
      const o = this.#where.get(id);
      assert.ok(o !== undefined && !gone.has(id), `maker ${id} was not resting when the command began`);
      assert.equal(o.instrument, instrument);
      assert.equal(o.side, makerSide);
      if (hits[hits.length - 1] !== id) hits.push(id);
    }
    if (hits.length === 0) return;

    const queue = (price: number) =>
      (this.#queues.get(`${instrument}|${makerSide}|${price}`) ?? []).filter((id) => !gone.has(id));
    const prices = [...new Set(hits.map((id) => this.#where.get(id)!.price))];
    for (let i = 1; i < prices.length; i++) {
      assert.ok(
        better(makerSide, prices[i - 1]!, prices[i]!),
        `levels out of price priority: ${prices.join(', ')}`,
      );
    }
    for (const price of prices) {
      const atLevel = hits.filter((id) => this.#where.get(id)!.price === price);
      assert.deepEqual(
        atLevel,
        queue(price).slice(0, atLevel.length),
        `makers at ${price} out of arrival order`,
      );
      if (atLevel.length > 1) see(this.seen, 'several-makers-at-a-level');
      for (const id of atLevel.slice(0, -1)) {
        assert.equal(
          engine.order(id),
          undefined,
          `maker ${id} at ${price} left open while a later one was met`,
        );
      }
    }
    if (prices.length > 1) see(this.seen, 'several-levels');
    const last = prices[prices.length - 1]!;
    for (const [key, ids] of this.#queues) {
      const [inst, side, p] = key.split('|');
      if (inst !== instrument || side !== makerSide || !better(makerSide, Number(p), last)) continue;
      for (const id of ids) {
        if (gone.has(id)) continue;
        assert.equal(engine.order(id), undefined, `maker ${id} at ${p} skipped for a worse price ${last}`);
      }
    }
  }
}

// ---- order rules --------------------------------------------------------------------------

/** What the rules need to know of an order, from its command and events. */
interface Terms {
  tif: string;
  postOnly: boolean;
  /** The limit price (0 for market and stop orders); a replace may change it. */
  price: number;
  side: Side;
  quantity: number;
  filled: number;
}

/**
 * The rules of types.ts, checked on every command: nobody trades with himself; a post-only
 * order never takes; a taker never trades through its limit; IOC and FOK orders never rest; a
 * FOK order fills completely at once or not at all; no GTD order outlives its expiry; no stop
 * waits whose trigger the last trade price has reached; a halted instrument neither accepts
 * orders nor trades.
 */
class Rules implements Checker {
  #orders = new Map<number, Terms>();
  #halted = new Set<string>();

  constructor(readonly seen: Seen) {}

  before(_cmd: Command, engine: Engine): void {
    this.#halted.clear();
    for (const { id } of LISTINGS) if (engine.instrument(id)?.status === 'halted') this.#halted.add(id);
  }

  after(cmd: Command, events: Ev[], engine: Engine): void {
    const entered = new Set<number>();
    const unfilled = new Set<number>();
    for (const e of events) {
      const id = e.orderId as number;
      if (this.#halted.has(e.instrument as string)) {
        assert.ok(
          e.kind !== 'accepted' && e.kind !== 'trade' && e.kind !== 'replaced',
          `${e.kind} on halted ${String(e.instrument)}`,
        );
      }
      switch (e.kind) {
        case 'accepted': {
          assert.equal(cmd.type, 'new');
          if (cmd.type !== 'new') break;
          this.#orders.set(id, {
            tif: e.tif as string,
            postOnly: cmd.postOnly === true,
            price: e.price as number,
            side: e.side as Side,
            quantity: e.quantity as number,
            filled: 0,
          });
          if (e.orderType === 'limit' || e.orderType === 'market') entered.add(id);
          break;
        }
        case 'triggered':
          see(this.seen, 'triggered');
          entered.add(id);
          break;
        case 'replaced':
          this.#orders.get(id)!.price = e.price as number;
          break;
        case 'trade': {
          assert.notEqual(e.makerAccount, e.takerAccount, `trade ${String(e.tradeId)} between one account`);
          const taker = this.#orders.get(e.takerOrderId as number)!;
          taker.filled += e.quantity as number;
          assert.ok(!taker.postOnly, `post-only order ${String(e.takerOrderId)} took liquidity`);
          if (taker.price > 0) {
            const through =
              taker.side === 'buy' ? (e.price as number) > taker.price : (e.price as number) < taker.price;
            assert.ok(
              !through,
              `order ${String(e.takerOrderId)} traded at ${String(e.price)} through its limit ${taker.price}`,
            );
          }
          break;
        }
        case 'canceled':
          if (e.reason === 'fok-unfilled') {
            see(this.seen, 'fok-unfilled');
            unfilled.add(id);
          }
          break;
        default:
      }
    }
    for (const id of entered) {
      const o = this.#orders.get(id)!;
      if (o.tif !== 'IOC' && o.tif !== 'FOK') continue;
      assert.equal(engine.order(id), undefined, `${o.tif} order ${id} rests`);
      if (o.tif === 'FOK') {
        if (unfilled.has(id)) assert.equal(o.filled, 0, `FOK order ${id} partly filled, then canceled`);
        else assert.equal(o.filled, o.quantity, `FOK order ${id} filled ${o.filled} of ${o.quantity}`);
        see(this.seen, unfilled.has(id) ? 'fok-none' : 'fok-all');
      }
    }
    for (const account of 'abcde') {
      for (const o of engine.openOrders(account)) {
        if (o.tif === 'GTD')
          assert.ok(o.expireAt > cmd.ts, `GTD order ${o.orderId} lives past ${o.expireAt}`);
        if (o.state !== 'waiting') continue;
        const last = engine.instrument(o.instrument)!.lastPrice;
        const due = last > 0 && (o.side === 'buy' ? last >= o.stopPrice : last <= o.stopPrice);
        assert.ok(!due, `stop ${o.orderId} at ${o.stopPrice} still waits with the last trade at ${last}`);
      }
    }
    for (const id of this.#orders.keys()) if (engine.order(id) === undefined) this.#orders.delete(id);
  }
}

// ---- fees ---------------------------------------------------------------------------------

/** `notional * bps / 10000`, a charge rounded up and a rebate toward zero, in exact integers. */
function fee(notional: number, bps: number): number {
  const n = BigInt(notional) * BigInt(bps);
  return Number(bps >= 0 ? (n + 9999n) / 10000n : n / 10000n);
}

/**
 * Each trade's fees are the instrument's rates on its notional (`feeFor` and an exact BigInt
 * computation agree); a maker rebate never exceeds the taker fee; per account, the fees on its
 * trades add up to the sum computed from the trades' notionals.
 */
class Fees implements Checker {
  #fromEvents = new Map<string, number>();
  #fromRates = new Map<string, number>();

  constructor(readonly seen: Seen) {}

  after(_cmd: Command, events: Ev[]): void {
    for (const e of events) {
      if (e.kind !== 'trade') continue;
      const s = LISTINGS.find((l) => l.id === e.instrument)!;
      const notional = (e.price as number) * (e.quantity as number);
      const maker = fee(notional, s.makerFeeBps);
      const taker = fee(notional, s.takerFeeBps);
      if (s.makerFeeBps < 0 && maker !== 0) see(this.seen, 'rebate');
      if ((notional * s.takerFeeBps) % 10000 !== 0) see(this.seen, 'rounded-up');
      const what = `trade ${String(e.tradeId)} (${notional} at ${s.makerFeeBps}/${s.takerFeeBps} bps)`;
      // Strict equality (Object.is): a fee is a plain integer, so 0 and -0 differ here, as they
      // do in any deep comparison of events and after a JSON round trip.
      assert.equal(e.makerFee, maker, `${what}: maker fee ${String(e.makerFee)}, want ${maker}`);
      assert.equal(e.takerFee, taker, `${what}: taker fee ${String(e.takerFee)}, want ${taker}`);
      assert.equal(feeFor(notional, s.makerFeeBps), maker, `${what}: feeFor for the maker`);
      assert.equal(feeFor(notional, s.takerFeeBps), taker, `${what}: feeFor for the taker`);
      assert.ok(
        (e.makerFee as number) + (e.takerFee as number) >= 0,
        `${what}: the rebate exceeds the taker fee`,
      );
      const add = (m: Map<string, number>, account: unknown, n: number) =>
        m.set(account as string, (m.get(account as string) ?? 0) + n);
      add(this.#fromEvents, e.makerAccount, e.makerFee as number);
      add(this.#fromEvents, e.takerAccount, e.takerFee as number);
      add(this.#fromRates, e.makerAccount, maker);
      add(this.#fromRates, e.takerAccount, taker);
    }
    for (const [account, total] of this.#fromRates) {
      assert.equal(this.#fromEvents.get(account), total, `fees of ${account} on its trades`);
    }
  }
}

// ---- the suite ----------------------------------------------------------------------------

describe('matching properties (fast-check, seeded)', () => {
  for (const book of BOOKS) {
    describe(`${book} book`, () => {
      it('never rests crossed: best bid < best ask after every command', () =>
        holds(book, uncrossed, ['trade', 'two-sided']));

      it('conserves quantity per order: filled + leaves + canceled = quantity + replace adjustments', () =>
        holds(book, (seen) => new Conservation(seen), [
          'trade',
          'size-up',
          'size-down',
          'price-only',
          'canceled:stp',
          'canceled:expired',
          'canceled:fok-unfilled',
          'canceled:ioc-remainder',
          'canceled:user',
          'canceled:cancel-all',
        ]));

      it('fills no order beyond its size', () =>
        holds(book, (seen) => new NoOverfill(seen), [
          'filled-to-size',
          'filled-beyond-accepted-after-size-up',
        ]));

      it('meets resting orders of a level in arrival order, levels in price order', () =>
        holds(book, (seen) => new Fifo(seen), [
          'several-makers-at-a-level',
          'several-levels',
          'stp-canceled-maker',
        ]));

      it('charges fees by the instrument rates; a rebate never exceeds the taker fee', () =>
        holds(book, (seen) => new Fees(seen), ['rebate', 'rounded-up']));

      it('keeps the rules of time in force, post-only, expiry, stops, self-trade prevention and halts', () =>
        holds(book, (seen) => new Rules(seen), ['triggered', 'fok-unfilled', 'fok-none', 'fok-all']));

      it('replays the same commands to the same events and state hash', () => {
        fc.assert(
          fc.property(stream, (s) => {
            const first = drive(book, s);
            const errors: unknown[] = [];
            const replay = (kind: BookKind) => {
              const engine = new Engine({ book: kind, onListenerError: (err) => errors.push(err) });
              const log: string[] = [];
              engine.addListener({ onEvent: (e) => log.push(JSON.stringify(eventToObject(e))) });
              for (const c of first.commands) engine.execute(c);
              return { log, hash: engine.stateHash() };
            };
            const again = replay(book);
            assert.deepEqual(again.log, first.log, 'replayed events differ');
            assert.equal(again.hash, first.hash, 'replayed state hash differs');
            assert.equal(
              replay(book === 'fast' ? 'reference' : 'fast').hash,
              first.hash,
              'the other book ends elsewhere',
            );
            assert.deepEqual(errors, []);
          }),
          { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
        );
      });
    });
  }
});
