/**
 * Test support shared by the engine suites: a standard instrument spec, an engine with
 * instruments listed, and a recorder that keeps plain copies of every event.
 */
import {
  type BookKind,
  type Command,
  Engine,
  eventToObject,
  type InstrumentSpec,
} from '../../engine/index.ts';

/** Both book implementations: suites run every case on each. */
export const BOOKS: readonly BookKind[] = ['reference', 'fast'];

/** A plain instrument: tick 0.01, lot 1, no band, maker 1 bp rebate, taker 5 bp. */
export function spec(overrides: Partial<InstrumentSpec> = {}): InstrumentSpec {
  return {
    id: 'ACME@evm:31337',
    tickSize: '0.01',
    lotSize: '1',
    priceDecimals: 2,
    quantityDecimals: 0,
    minQty: 1,
    maxQty: 1_000_000,
    maxPrice: 1_000_000_000,
    referencePrice: 0,
    bandBps: 0,
    makerFeeBps: -1,
    takerFeeBps: 5,
    ...overrides,
  };
}

export type Ev = Record<string, unknown>;

/** An engine with a recorder attached and the given instruments listed at ts 0. */
export function engineWith(
  kind: BookKind,
  specs: InstrumentSpec[] = [spec()],
): { engine: Engine; events: Ev[] } {
  const engine = new Engine({ book: kind });
  const events: Ev[] = [];
  engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
  for (const s of specs) engine.execute({ type: 'list-instrument', ts: 0, spec: s });
  events.length = 0;
  return { engine, events };
}

/** A command without its timestamp (a scenario stamps it). */
export type Cmd = DistributiveOmit<Command, 'ts'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * An engine with pre-trade risk on, and `run`, which stamps a command with the next timestamp,
 * executes it, and returns its events as plain objects.
 */
export function riskEngine(): { engine: Engine; run: (c: Cmd) => Ev[] } {
  const engine = new Engine({ risk: true });
  const events: Ev[] = [];
  engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
  let ts = 1;
  const run = (c: Cmd): Ev[] => {
    events.length = 0;
    engine.execute({ ...c, ts: ts++ } as Command);
    return [...events];
  };
  return { engine, run };
}

/** A limit order of `account` on `instrument`, its client order id `id`. */
export function limitOrder(
  instrument: string,
  account: string,
  id: string,
  side: 'buy' | 'sell',
  price: number,
  quantity: number,
): Cmd {
  return { type: 'new', instrument, account, clientOrderId: id, side, orderType: 'limit', price, quantity };
}
