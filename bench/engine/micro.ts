/**
 * Micro-benchmarks of the fast book through `Engine.execute`, on the `benchmark` package:
 *
 *   insert   rest a non-crossing limit order in a book of 10,000
 *   cancel   cancel a resting order by order id
 *   amend    size-down a resting order (100 -> 50 lots; keeps priority)
 *   match-1  a buy that takes exactly one ask level (one maker, one trade)
 *   sweep-10 a buy that takes exactly ten ask levels (ten makers, ten trades)
 *
 * One iteration is one `execute`. State stays bounded because each benchmark cycle's untimed
 * setup makes exactly what its `count` iterations consume (the orders to cancel, amend or take)
 * and its untimed teardown removes what they left (the inserted or amended orders). Setup and
 * teardown run in Benchmark.js's compiled test outside the timer, which is why the cases are given
 * as source strings that reach their state through one global.
 *
 * Then the engine's hand-made structures against the standard ones they replace
 * (micro-tables.ts, micro-levels.ts), each pair in the same run, with the ratio of their throughputs.
 *
 *   npm run bench:micro [-- --json] [-- --only engine|structures]
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Benchmark from 'benchmark';
import {
  type CancelCommand,
  Engine,
  type EngineEvent,
  type NewOrderCommand,
  type ReplaceCommand,
} from '../../engine/index.ts';
import { XorShift32 } from '../prng.ts';
import { benchListing } from './adapter-mosaic.ts';
import type { MicroCase, StructureCase } from './micro-case.ts';
import { levelCases } from './micro-levels.ts';
import { tableCases } from './micro-tables.ts';
import { MID } from './workloads.ts';

// A full collection after each cycle's teardown (untimed), so that the garbage of setup and
// teardown is not collected inside the next cycle's timed loop. Works without --expose-gc.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const INSTRUMENT = 'MICRO@bench:mosaic';
const BASE_ORDERS = 10_000;
const CAPACITY = 1 << 17;
const TS = 1;

/** A case's state: what the compiled benchmark calls. */
abstract class Case implements MicroCase {
  /** Preallocated for more live orders than a cycle makes, so no cycle pays for growing the tables. */
  readonly engine = new Engine({ book: 'fast', capacity: CAPACITY });
  trades = 0;
  rejects = 0;
  /** Order ids of the orders entered by the current cycle's setup (the first `idCount`). */
  protected ids = new Float64Array(1024);
  protected idCount = 0;
  protected i = 0;
  /** Whether accepted orders' ids go to `ids` (only during untimed setup). */
  #recording = false;
  #problem: string | null = null;

  constructor(
    readonly key: string,
    readonly title: string,
    /** Whether the base book has asks (the matching cases bring their own). */
    baseAsks: boolean,
  ) {
    this.engine.addListener({
      onTrade: () => {
        this.trades++;
      },
      onOrder: (e: EngineEvent) => {
        if (e.kind === 'rejected') this.rejects++;
        else if (e.kind === 'accepted' && this.#recording) this.#record(e.orderId);
      },
    });
    this.engine.execute(benchListing(INSTRUMENT));
    const rng = new XorShift32(42);
    for (let k = 0; k < BASE_ORDERS; k++) {
      const buy = !baseAsks || (k & 1) === 0;
      const offset = rng.int(1, 50);
      this.engine.execute(
        order(`base-${buy ? 'b' : 's'}`, `b${k}`, buy, buy ? MID - offset : MID + offset, rng.int(1, 100)),
      );
    }
  }

  /** Untimed, before `count` iterations. */
  abstract begin(count: number): void;
  /** One timed iteration: one `execute`. */
  abstract run(): void;
  /** Untimed, after the iterations: back to the base book. */
  end(): void {
    for (const account of ['bench-b', 'bench-s'])
      this.engine.execute({ type: 'cancel-all', ts: TS, account });
    this.expect(
      this.engine.liveOrders === BASE_ORDERS,
      `${this.engine.liveOrders} orders left after a cycle`,
    );
    collect();
  }

  /** Records the first thing that looked wrong (checked after the run). */
  protected expect(ok: boolean, what: string): void {
    if (!ok && this.#problem === null) this.#problem = what;
  }

  get problem(): string | null {
    if (this.rejects > 0) return `${this.rejects} commands rejected`;
    return this.#problem;
  }

  /** Enters `n` orders made by `make` (untimed) and keeps their ids. */
  protected enter(n: number, make: (k: number) => NewOrderCommand): void {
    this.idCount = 0;
    this.i = 0;
    this.#recording = true;
    for (let k = 0; k < n; k++) this.engine.execute(make(k));
    this.#recording = false;
    this.expect(this.idCount === n, `setup entered ${this.idCount} of ${n} orders`);
  }

  #record(id: number): void {
    if (this.idCount === this.ids.length) {
      const grown = new Float64Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[this.idCount++] = id;
  }
}

function order(
  account: string,
  clientOrderId: string,
  buy: boolean,
  price: number,
  quantity: number,
): NewOrderCommand {
  return {
    type: 'new',
    ts: TS,
    instrument: INSTRUMENT,
    account,
    clientOrderId,
    side: buy ? 'buy' : 'sell',
    orderType: 'limit',
    quantity,
    price,
  };
}

/**
 * A client order id not used before: the engine refuses an id an account has used, even after
 * its order ended, so commands reused from cycle to cycle take a new one each time (untimed).
 */
let clientSeq = 0;
function freshId(): string {
  return `c${clientSeq++}`;
}

/** Passive orders at the W1 prices, prebuilt as a ring of commands reused from cycle to cycle. */
class Passive {
  readonly cmds: NewOrderCommand[] = [];
  readonly #rng = new XorShift32(7);

  /** At least `n` commands, the first `n` with fresh client order ids. */
  ensure(n: number): NewOrderCommand[] {
    for (let k = this.cmds.length; k < n; k++) {
      const buy = this.#rng.int(0, 1) === 0;
      const offset = this.#rng.int(1, 50);
      this.cmds.push(order(buy ? 'bench-b' : 'bench-s', '', buy, buy ? MID - offset : MID + offset, 100));
    }
    for (let k = 0; k < n; k++) this.cmds[k]!.clientOrderId = freshId();
    return this.cmds;
  }
}

class InsertCase extends Case {
  #passive = new Passive();
  #cmds: NewOrderCommand[] = [];

  constructor() {
    super('insert', 'insert (rest a limit order)', true);
  }

  begin(count: number): void {
    this.#cmds = this.#passive.ensure(count);
    this.i = 0;
  }

  run(): void {
    this.engine.execute(this.#cmds[this.i++]!);
  }

  override end(): void {
    const resting = this.engine.liveOrders - BASE_ORDERS;
    this.expect(resting === this.i, `${resting} of ${this.i} inserts rest`);
    super.end();
  }
}

class CancelCase extends Case {
  #passive = new Passive();
  #cancel: CancelCommand = { type: 'cancel', ts: TS, account: '', orderId: 0 };
  #cmds: NewOrderCommand[] = [];

  constructor() {
    super('cancel', 'cancel (by order id)', true);
  }

  begin(count: number): void {
    this.#cmds = this.#passive.ensure(count);
    this.enter(count, (k) => this.#cmds[k]!);
  }

  run(): void {
    const c = this.#cancel;
    c.account = this.#cmds[this.i]!.account;
    c.orderId = this.ids[this.i++]!;
    this.engine.execute(c);
  }
}

class AmendCase extends Case {
  #passive = new Passive();
  #replace: ReplaceCommand = { type: 'replace', ts: TS, account: '', orderId: 0, quantity: 50 };
  #cmds: NewOrderCommand[] = [];

  constructor() {
    super('amend', 'amend (size-down 100 -> 50)', true);
  }

  begin(count: number): void {
    this.#cmds = this.#passive.ensure(count);
    this.enter(count, (k) => this.#cmds[k]!);
  }

  run(): void {
    const c = this.#replace;
    c.account = this.#cmds[this.i]!.account;
    c.orderId = this.ids[this.i++]!;
    this.engine.execute(c);
  }
}

/** A buy that takes exactly `levels` ask levels of one 10-lot order each, best first. */
class MatchCase extends Case {
  readonly #levels: number;
  /** Taker commands, reused from cycle to cycle with new client order ids. */
  readonly #takers: NewOrderCommand[] = [];
  /** Maker commands, reused from cycle to cycle with new prices and client order ids. */
  readonly #makers: NewOrderCommand[] = [];
  #count = 0;
  #tradesBefore = 0;

  constructor(key: string, title: string, levels: number) {
    super(key, title, false);
    this.#levels = levels;
  }

  begin(count: number): void {
    const n = count * this.#levels;
    const makers = this.#makers;
    for (let k = makers.length; k < n; k++) makers.push(order('bench-s', '', false, MID + 1, 10));
    const takers = this.#takers;
    for (let k = takers.length; k < count; k++)
      takers.push(order('taker', '', true, 1_000_000, 10 * this.#levels));
    for (let k = 0; k < count; k++) takers[k]!.clientOrderId = freshId();
    // Worst level first, so that each new level is the best (the cheap end of the level array).
    this.enter(n, (k) => {
      const m = makers[k]!;
      m.price = MID + n - k;
      m.clientOrderId = freshId();
      return m;
    });
    this.#count = count;
    this.#tradesBefore = this.trades;
  }

  run(): void {
    this.engine.execute(this.#takers[this.i++]!);
  }

  override end(): void {
    const trades = this.trades - this.#tradesBefore;
    this.expect(trades === this.#count * this.#levels, `${trades} trades for ${this.#count} takers`);
    super.end();
  }
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && only !== 'engine' && only !== 'structures') {
  process.stderr.write(`--only takes engine or structures, not ${only}\n`);
  process.exit(2);
}
const ENGINE_CASES: Case[] =
  only === 'structures'
    ? []
    : [
        new InsertCase(),
        new CancelCase(),
        new AmendCase(),
        new MatchCase('match1', 'match one level (1 trade)', 1),
        new MatchCase('sweep10', 'sweep ten levels (10 trades)', 10),
      ];
const STRUCTURE_CASES: StructureCase[] = only === 'engine' ? [] : [...tableCases(), ...levelCases()];
const CASES: MicroCase[] = [...ENGINE_CASES, ...STRUCTURE_CASES];

const GLOBAL = '__mosaicMicro';
(globalThis as Record<string, unknown>)[GLOBAL] = Object.fromEntries(CASES.map((c) => [c.key, c]));

interface MicroResult {
  name: string;
  opsPerSec: number;
  rmePct: number;
  samples: number;
  problem: string | null;
}

/** A hand-made structure against the standard one, measured in the same run. */
interface Ratio {
  pair: string;
  handMade: string;
  handMadeOpsPerSec: number;
  plain: string;
  plainOpsPerSec: number;
  /** handMadeOpsPerSec / plainOpsPerSec. */
  ratio: number;
}

function ratios(results: MicroResult[]): Ratio[] {
  const out: Ratio[] = [];
  const rate = (c: StructureCase) => results.find((r) => r.name === c.title)?.opsPerSec ?? 0;
  for (const h of STRUCTURE_CASES) {
    if (!h.handMade) continue;
    const p = STRUCTURE_CASES.find((c) => c.pair === h.pair && !c.handMade)!;
    const [a, b] = [rate(h), rate(p)];
    out.push({
      pair: h.pair,
      handMade: h.title,
      handMadeOpsPerSec: a,
      plain: p.title,
      plainOpsPerSec: b,
      ratio: b > 0 ? Math.round((a / b) * 100) / 100 : 0,
    });
  }
  return out;
}

function main(): void {
  const json = process.argv.includes('--json');
  const results: MicroResult[] = [];
  const suite = new Benchmark.Suite('mosaic fast book');
  for (const c of CASES) {
    const ref = `${GLOBAL}.${c.key}`;
    // Structure cases run a fixed count per cycle (a tiny minTime never asks for more), so that
    // their tables keep their engine size.
    const fixed = 'count' in c ? { initCount: (c as StructureCase).count, minTime: 1e-6, maxTime: 2 } : {};
    suite.add(c.title, {
      setup: `${ref}.begin(this.count);`,
      fn: `${ref}.run();`,
      teardown: `${ref}.end();`,
      ...fixed,
    });
  }
  suite.on('cycle', (event: Benchmark.Event) => {
    const b = event.target as Benchmark.Target & { error?: unknown };
    const c = CASES.find((x) => x.title === b.name)!;
    const r: MicroResult = {
      name: b.name ?? c.key,
      opsPerSec: Math.round(b.hz ?? 0),
      rmePct: Math.round((b.stats?.rme ?? 0) * 100) / 100,
      samples: b.stats?.sample.length ?? 0,
      problem: b.error ? String(b.error) : c.problem,
    };
    results.push(r);
    if (!json) {
      process.stdout.write(
        `${r.name.padEnd(64)} ${r.opsPerSec.toLocaleString('en-US').padStart(12)} ops/sec ` +
          `±${r.rmePct.toFixed(2)}% (${r.samples} samples)${r.problem ? `  PROBLEM: ${r.problem}` : ''}\n`,
      );
    } else {
      process.stderr.write(`${String(b)}\n`);
    }
  });
  suite.on('complete', () => {
    const pairs = ratios(results);
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ suite: 'micro', node: process.version, results, ratios: pairs }, null, 2)}\n`,
      );
      return;
    }
    if (pairs.length === 0) return;
    process.stdout.write('\nhand-made / plain, same run (ops/s):\n');
    for (const r of pairs) {
      process.stdout.write(
        `  ${r.pair.padEnd(52)} ${r.handMadeOpsPerSec.toLocaleString('en-US').padStart(12)} / ` +
          `${r.plainOpsPerSec.toLocaleString('en-US').padStart(12)} = ${r.ratio.toFixed(2)}x\n`,
      );
    }
  });
  suite.run({ async: false });
}

main();
