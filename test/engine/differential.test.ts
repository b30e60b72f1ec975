/**
 * The seeded differential test (STYLE.md, Tests 10): over a million random commands go to an
 * engine on the reference book and one on the fast book. After every command both must have
 * emitted the same events; every 1,000 commands both must have the same state hash and the same
 * resting orders. A mismatch names the seed, the command index, the command and the first
 * differing event, so that `new RandomCommands(seed)` reproduces it. The run also counts what
 * it exercised (trades, self-trade cancels, expiries, stops, FOK, replaces, rejections...) and
 * requires each to have happened, so that it cannot pass on a stream that does nothing.
 *
 * Two of the seeded streams have moving prices (`moving`, as bench:engine's W4): the mids walk,
 * jump, swing and crash, so price levels open and close across a wide range of prices, where
 * the fast book's sorted level array inserts and removes anywhere, not only near the best. Those
 * runs must close levels at a few thousand distinct prices.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, type Command, Engine, type EngineEvent, eventToObject } from '../../engine/index.ts';
import { LISTINGS, RandomCommands } from '../support/random-commands.ts';

/** Seeds, stream lengths (together at least 1,000,000 commands) and whether prices move. */
const RUNS: ReadonlyArray<[seed: number, commands: number, moving: boolean]> = [
  [42, 250_000, false],
  [7, 250_000, false],
  [20240601, 250_000, true],
  [0x5eed, 250_000, true],
];
/** Distinct prices at which a moving run must have closed a level (a still one closes a few dozen). */
const MOVING_LEVEL_PRICES = 2_000;
const HASH_EVERY = 1_000;

/** What a stream exercised, counted from the reference engine's events. */
class Tally {
  readonly counts: Record<string, number> = {
    trade: 0,
    'canceled:stp': 0,
    'canceled:expired': 0,
    'canceled:fok-unfilled': 0,
    'canceled:ioc-remainder': 0,
    'canceled:user': 0,
    'canceled:cancel-all': 0,
    triggered: 0,
    'replaced:kept': 0,
    'replaced:moved': 0,
    rejected: 0,
    'rejected:post-only': 0,
    'rejected:halted': 0,
    'rejected:band': 0,
    'rejected:unknown-order': 0,
    'rejected:duplicate-client-id': 0,
    'rejected:not-amendable': 0,
    'instrument:halted': 0,
    'accepted:GTD': 0,
  };
  /** Instrument and price of every level that closed (a depth event with no order left). */
  readonly closedLevels = new Set<string>();

  observe(e: EngineEvent): void {
    const c = this.counts;
    switch (e.kind) {
      case 'trade':
        c.trade!++;
        return;
      case 'canceled': {
        const key = `canceled:${e.reason}`;
        c[key] = (c[key] ?? 0) + 1;
        return;
      }
      case 'triggered':
        c.triggered!++;
        return;
      case 'replaced':
        c[e.keptPriority ? 'replaced:kept' : 'replaced:moved']!++;
        return;
      case 'rejected': {
        c.rejected!++;
        const key = REJECTIONS[e.code];
        if (key !== undefined) c[key] = (c[key] ?? 0) + 1;
        return;
      }
      case 'settlement': {
        // Counted only when risk is on; not among the counts every run must show.
        const key = e.ok ? 'settlement:ok' : 'settlement:failed';
        c[key] = (c[key] ?? 0) + 1;
        return;
      }
      case 'withdrawal': {
        // Counted only when risk is on, as settlements are.
        const key = `withdrawal:${e.status}`;
        c[key] = (c[key] ?? 0) + 1;
        return;
      }
      case 'instrument':
        if (e.status === 'halted') c['instrument:halted']!++;
        return;
      case 'accepted':
        if (e.tif === 'GTD') c['accepted:GTD']!++;
        return;
      case 'depth':
        if (e.count === 0) this.closedLevels.add(`${e.instrument} ${e.price}`);
        return;
      default:
    }
  }
}

const REJECTIONS: Record<number, string> = {
  [Code.POST_ONLY_WOULD_TAKE]: 'rejected:post-only',
  [Code.INSTRUMENT_HALTED]: 'rejected:halted',
  [Code.PRICE_OUTSIDE_BAND]: 'rejected:band',
  [Code.UNKNOWN_ORDER]: 'rejected:unknown-order',
  [Code.DUPLICATE_CLIENT_ORDER_ID]: 'rejected:duplicate-client-id',
  [Code.NOT_AMENDABLE]: 'rejected:not-amendable',
  [Code.RISK_INSUFFICIENT_BALANCE]: 'rejected:insufficient',
  [Code.RISK_FROZEN]: 'rejected:frozen',
  [Code.RISK_NOT_ELIGIBLE]: 'rejected:not-eligible',
  [Code.RISK_UNKNOWN_TRADE]: 'rejected:unknown-trade',
};

/** An engine with the stream's instruments listed, whose events land in `log` as JSON lines. */
function engineFor(book: 'reference' | 'fast', log: string[], errors: unknown[], risk: boolean): Engine {
  const engine = new Engine({ book, risk, onListenerError: (err) => errors.push(err) });
  engine.addListener({ onEvent: (e) => log.push(JSON.stringify(eventToObject(e))) });
  return engine;
}

function mismatch(seed: number, index: number, cmd: Command, ref: string[], fast: string[]): string {
  let i = 0;
  while (i < ref.length && i < fast.length && ref[i] === fast[i]) i++;
  return [
    `books disagree: seed ${seed}, command #${index} (0-based, after the listings)`,
    `command: ${JSON.stringify(cmd)}`,
    `first differing event #${i} of ${ref.length} (reference) / ${fast.length} (fast):`,
    `  reference: ${ref[i] ?? '(none)'}`,
    `  fast:      ${fast[i] ?? '(none)'}`,
  ].join('\n');
}

/** Runs one seeded stream through both books; returns what it exercised. */
function runStream(seed: number, n: number, risk = false, moving = false): Tally {
  const gen = new RandomCommands(seed, { risk, moving });
  const tally = new Tally();
  const errors: unknown[] = [];
  const refLog: string[] = [];
  const fastLog: string[] = [];
  const ref = engineFor('reference', refLog, errors, risk);
  const fast = engineFor('fast', fastLog, errors, risk);
  ref.addListener({
    onEvent: (e) => {
      gen.observe(e);
      tally.observe(e);
    },
  });
  for (const c of gen.listings()) {
    ref.execute(c);
    fast.execute(c);
  }
  for (let i = 0; i < n; i++) {
    const cmd = gen.next();
    refLog.length = 0;
    fastLog.length = 0;
    ref.execute(cmd);
    fast.execute(cmd);
    let same = refLog.length === fastLog.length;
    for (let j = 0; same && j < refLog.length; j++) same = refLog[j] === fastLog[j];
    if (!same) assert.fail(mismatch(seed, i, cmd, refLog, fastLog));
    if (errors.length > 0)
      assert.fail(`a listener threw at seed ${seed}, command #${i}: ${String(errors[0])}`);
    if ((i + 1) % HASH_EVERY === 0 || i === n - 1) compareState(seed, i, gen, ref, fast);
  }
  return tally;
}

function compareState(seed: number, index: number, gen: RandomCommands, ref: Engine, fast: Engine): void {
  const where = `seed ${seed}, after command #${index}`;
  assert.equal(fast.stateHash(), ref.stateHash(), `state hashes differ: ${where}`);
  assert.equal(fast.liveOrders, ref.liveOrders, `live orders differ: ${where}`);
  for (const s of LISTINGS) {
    for (const side of ['buy', 'sell'] as const) {
      const a = JSON.stringify(ref.restingOrders(s.id, side));
      const b = JSON.stringify(fast.restingOrders(s.id, side));
      assert.equal(b, a, `resting ${side} orders of ${s.id} differ: ${where}`);
    }
    assert.deepEqual(fast.depth(s.id, 1_000), ref.depth(s.id, 1_000), `depth of ${s.id} differs: ${where}`);
  }
  for (const account of gen.accounts) {
    const a = JSON.stringify(ref.openOrders(account));
    const b = JSON.stringify(fast.openOrders(account));
    assert.equal(b, a, `open orders of ${account} differ: ${where}`);
  }
}

describe('differential: reference book vs fast book, seeded', () => {
  const total = RUNS.reduce((sum, [, n]) => sum + n, 0);

  it('covers at least 1,000,000 commands', () => {
    assert.ok(total >= 1_000_000, `only ${total} commands`);
  });

  for (const [seed, n, moving] of RUNS) {
    const title = `seed ${seed}${moving ? ', moving prices' : ''}: ${n.toLocaleString('en')} commands give equal events and state hashes`;
    it(title, () => {
      const { counts, closedLevels } = runStream(seed, n, false, moving);
      for (const [what, count] of Object.entries(counts)) {
        assert.ok(count > 0, `seed ${seed} never exercised ${what}: ${JSON.stringify(counts)}`);
      }
      if (moving) {
        assert.ok(
          closedLevels.size >= MOVING_LEVEL_PRICES,
          `seed ${seed} closed levels at only ${closedLevels.size} distinct prices`,
        );
      }
    });
  }

  it('with pre-trade risk on: 200,000 commands give equal events and state hashes', () => {
    const { counts } = runStream(99, 200_000, true);
    for (const what of [
      'trade',
      'settlement:ok',
      'settlement:failed',
      'withdrawal:pending',
      'withdrawal:released',
      'withdrawal:refused',
      'rejected:insufficient',
      'rejected:frozen',
      'rejected:not-eligible',
      'rejected:unknown-trade',
      'canceled:stp',
      'triggered',
      'replaced:moved',
    ]) {
      assert.ok((counts[what] ?? 0) > 0, `the risk run never exercised ${what}: ${JSON.stringify(counts)}`);
    }
  });
});
