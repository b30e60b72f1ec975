/**
 * Given / when / then for the engine scenario suites (STYLE.md, Tests 11). `given(kind)` lists
 * instruments on an engine over one book kind, `.orders(...)` runs commands that must not be
 * rejected, `.when(cmd)` runs the command under test and returns its events. Timestamps advance
 * by one per command unless a command names its own.
 *
 * Expected events are built from the commands the scenario ran and the order ids the engine gave
 * them (`s.accepted('b1')`, `s.trade('b1', 's1', {...})`), so a test writes only the fields its
 * case is about while still comparing whole events. Fees are computed by `refFee`, a BigInt
 * reference independent of `engine/fees.ts`. The free-text `reason` of a rejection is compared
 * as `REASON` (any non-empty string); its code is compared exactly.
 */
import assert from 'node:assert/strict';
import {
  type BookKind,
  type CancelReason,
  type Command,
  Engine,
  eventToObject,
  type InstrumentSpec,
  type NewOrderCommand,
  type OrderType,
  type Side,
  type TimeInForce,
} from '../../engine/index.ts';
import { type Ev, spec } from './engine.ts';

/** The default instrument of `spec()`. */
export const ACME = 'ACME@evm:31337';
/** Placeholder for the free-text reason of a rejection. */
export const REASON = '<reason>';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A command; the scenario stamps `ts` when it is left out. */
export type Cmd = DistributiveOmit<Command, 'ts'> & { ts?: number };
type NewOrder = Omit<NewOrderCommand, 'ts'> & { ts?: number };
type Extra = Partial<Omit<NewOrderCommand, 'type'>>;

/** A limit buy on ACME. */
export function buy(
  account: string,
  clientOrderId: string,
  quantity: number,
  price: number,
  extra: Extra = {},
): NewOrder {
  return order(account, clientOrderId, 'buy', 'limit', quantity, { price, ...extra });
}

/** A limit sell on ACME. */
export function sell(
  account: string,
  clientOrderId: string,
  quantity: number,
  price: number,
  extra: Extra = {},
): NewOrder {
  return order(account, clientOrderId, 'sell', 'limit', quantity, { price, ...extra });
}

/** A market order on ACME. */
export function market(
  account: string,
  clientOrderId: string,
  side: Side,
  quantity: number,
  extra: Extra = {},
): NewOrder {
  return order(account, clientOrderId, side, 'market', quantity, extra);
}

/** A stop order (a market order once triggered) on ACME. */
export function stop(
  account: string,
  clientOrderId: string,
  side: Side,
  quantity: number,
  stopPrice: number,
  extra: Extra = {},
): NewOrder {
  return order(account, clientOrderId, side, 'stop', quantity, { stopPrice, ...extra });
}

/** A stop-limit order (a limit order at `price` once triggered) on ACME. */
export function stopLimit(
  account: string,
  clientOrderId: string,
  side: Side,
  quantity: number,
  stopPrice: number,
  price: number,
  extra: Extra = {},
): NewOrder {
  return order(account, clientOrderId, side, 'stop-limit', quantity, { stopPrice, price, ...extra });
}

function order(
  account: string,
  clientOrderId: string,
  side: Side,
  orderType: OrderType,
  quantity: number,
  extra: Extra,
): NewOrder {
  return { type: 'new', instrument: ACME, account, clientOrderId, side, orderType, quantity, ...extra };
}

/** A deliberately malformed command, for validation cases. */
export function malformed(fields: Record<string, unknown>): Cmd {
  return fields as unknown as Cmd;
}

/**
 * The fee on `notional` at `bps`, by BigInt arithmetic: a charge rounds up, a rebate toward
 * zero. The oracle for `feeFor` and for every trade event's fees.
 */
export function refFee(notional: number, bps: number): number {
  if (bps === 0) return 0;
  const product = BigInt(notional) * BigInt(Math.abs(bps));
  const q = product / 10000n;
  if (bps < 0) return q === 0n ? 0 : -Number(q);
  return Number(product % 10000n === 0n ? q : q + 1n);
}

/** A depth event (without sequence numbers and timestamp). */
export function depth(side: Side, price: number, quantity: number, count: number, instrument = ACME): Ev {
  return { kind: 'depth', instrument, side, price, quantity, count };
}

/** A BBO event (without sequence numbers and timestamp). */
export function bbo(
  bidPrice: number,
  bidQty: number,
  askPrice: number,
  askQty: number,
  instrument = ACME,
): Ev {
  return { kind: 'bbo', instrument, bidPrice, bidQty, askPrice, askQty };
}

/** A rejection; fields default to what a rejected command without them reports ('' and 0). */
export function rejected(
  code: number,
  f: {
    instrument?: string;
    orderId?: number;
    account?: string;
    clientOrderId?: string;
    newOrder?: boolean;
  } = {},
): Ev {
  return {
    kind: 'rejected',
    instrument: f.instrument ?? '',
    orderId: f.orderId ?? 0,
    account: f.account ?? '',
    clientOrderId: f.clientOrderId ?? '',
    code,
    reason: REASON,
    newOrder: f.newOrder ?? false,
  };
}

/** The rejection of a new order's command: its account and clientOrderId where they are strings. */
export function rejectedOrder(code: number, c: NewOrder, instrument: string = c.instrument): Ev {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return rejected(code, {
    instrument,
    account: text(c.account),
    clientOrderId: text(c.clientOrderId),
    newOrder: true,
  });
}

/** An event without its sequence numbers and timestamp, a rejection's reason as `REASON`. */
function strip(e: Ev): Ev {
  const { seq: _seq, commandSeq: _commandSeq, ts: _ts, ...rest } = e;
  if (rest.kind === 'rejected' && typeof rest.reason === 'string' && rest.reason.length > 0) {
    rest.reason = REASON;
  }
  return rest;
}

const MARKET_DATA = new Set(['depth', 'bbo']);

/** The events of one command. */
export class Then {
  /** As emitted, with sequence numbers and timestamps. */
  readonly raw: Ev[];
  /** Every event, stripped (see `strip`). */
  readonly all: Ev[];
  /** Order, trade and instrument events, stripped. */
  readonly orders: Ev[];
  /** Depth and BBO events, stripped. */
  readonly market: Ev[];

  constructor(raw: Ev[]) {
    this.raw = raw;
    this.all = raw.map(strip);
    this.orders = this.all.filter((e) => !MARKET_DATA.has(e.kind as string));
    this.market = this.all.filter((e) => MARKET_DATA.has(e.kind as string));
  }
}

interface Placed {
  cmd: NewOrder;
  orderId: number;
}

export class Scenario {
  readonly engine: Engine;
  #log: Ev[] = [];
  #clock = 0;
  #specs = new Map<string, InstrumentSpec>();
  #placed = new Map<string, Placed>();

  constructor(
    readonly kind: BookKind,
    specs: InstrumentSpec[],
  ) {
    this.engine = new Engine({ book: kind });
    this.engine.addListener({ onEvent: (e) => this.#log.push(eventToObject(e)) });
    for (const s of specs) this.instrument(s);
  }

  /** Timestamp of the last command run. */
  get clock(): number {
    return this.#clock;
  }

  /** Lists another instrument. */
  instrument(s: InstrumentSpec): this {
    const evs = this.run({ type: 'list-instrument', spec: s });
    assert.deepEqual(
      evs.map((e) => e.kind),
      ['instrument'],
      `listing ${s.id}`,
    );
    this.#specs.set(s.id, s);
    return this;
  }

  /** Runs commands that must not be rejected (orders, cancels, halts, ticks...). */
  orders(...cmds: Cmd[]): this {
    for (const c of cmds) {
      const bad = this.run(c).filter((e) => e.kind === 'rejected');
      assert.deepEqual(bad, [], `given: ${JSON.stringify(c)}`);
    }
    return this;
  }

  /** Runs the command under test. */
  when(c: Cmd): Then {
    return new Then(this.run(c));
  }

  /** Runs a command and returns its events as emitted. */
  run(c: Cmd): Ev[] {
    const ts = c.ts === undefined ? this.#clock + 1 : c.ts;
    this.#log.length = 0;
    this.engine.execute({ ...c, ts } as Command);
    if (Number.isSafeInteger(ts) && ts >= this.#clock) this.#clock = ts;
    const evs = [...this.#log];
    if (c.type === 'new') {
      const acc = evs.find((e) => e.kind === 'accepted');
      if (acc !== undefined) this.#placed.set(c.clientOrderId, { cmd: c, orderId: acc.orderId as number });
    }
    return evs;
  }

  /** The order id the engine gave the order entered with this clientOrderId. */
  id(clientOrderId: string): number {
    return this.#order(clientOrderId).orderId;
  }

  /** Resting orders of a side in priority order, as `clientOrderId:leaves@price`. */
  queue(side: Side, instrument = ACME): string[] {
    return this.engine
      .restingOrders(instrument, side)
      .map((o) => `${o.clientOrderId}:${o.leaves}@${o.price}`);
  }

  /** Every level of both sides as [price, qty, count], best first. */
  book(instrument = ACME): { bids: Array<[number, number, number]>; asks: Array<[number, number, number]> } {
    return this.engine.depth(instrument, Number.MAX_SAFE_INTEGER);
  }

  // ---- expected events -----------------------------------------------------------------------

  /** The `accepted` event of an order, as its command implies. */
  accepted(clientOrderId: string): Ev {
    const { cmd, orderId } = this.#order(clientOrderId);
    return {
      kind: 'accepted',
      instrument: cmd.instrument,
      orderId,
      account: cmd.account,
      clientOrderId,
      side: cmd.side,
      orderType: cmd.orderType,
      tif: cmd.tif ?? defaultTif(cmd.orderType),
      price: cmd.price ?? 0,
      stopPrice: cmd.stopPrice ?? 0,
      expireAt: cmd.expireAt ?? 0,
      quantity: cmd.quantity,
      leaves: cmd.quantity,
    };
  }

  /** A trade of `taker` against `maker`; fees from the instrument's spec unless given. */
  trade(
    taker: string,
    maker: string,
    t: {
      tradeId: number;
      price: number;
      quantity: number;
      takerLeaves: number;
      takerFilled: number;
      makerLeaves: number;
      makerFilled: number;
      takerFee?: number;
      makerFee?: number;
    },
  ): Ev {
    const tk = this.#order(taker);
    const mk = this.#order(maker);
    const s = this.#specs.get(tk.cmd.instrument);
    assert.ok(s, `no spec for ${tk.cmd.instrument}`);
    const notional = t.price * t.quantity;
    return {
      kind: 'trade',
      instrument: tk.cmd.instrument,
      tradeId: t.tradeId,
      price: t.price,
      quantity: t.quantity,
      aggressor: tk.cmd.side,
      takerOrderId: tk.orderId,
      takerAccount: tk.cmd.account,
      takerClientOrderId: taker,
      takerLeaves: t.takerLeaves,
      takerFilled: t.takerFilled,
      takerFee: t.takerFee ?? refFee(notional, s.takerFeeBps),
      makerOrderId: mk.orderId,
      makerAccount: mk.cmd.account,
      makerClientOrderId: maker,
      makerLeaves: t.makerLeaves,
      makerFilled: t.makerFilled,
      makerFee: t.makerFee ?? refFee(notional, s.makerFeeBps),
    };
  }

  /** A `canceled` event: `quantity` canceled now, `leaves` left after (default 0). */
  canceled(
    clientOrderId: string,
    c: { quantity: number; reason: CancelReason; leaves?: number; filled?: number },
  ): Ev {
    const { cmd, orderId } = this.#order(clientOrderId);
    return {
      kind: 'canceled',
      instrument: cmd.instrument,
      orderId,
      account: cmd.account,
      clientOrderId,
      side: cmd.side,
      quantity: c.quantity,
      leaves: c.leaves ?? 0,
      filled: c.filled ?? 0,
      reason: c.reason,
    };
  }

  /** A `replaced` event: the new price and open quantity. */
  replaced(
    clientOrderId: string,
    r: { price: number; quantity: number; keptPriority: boolean; filled?: number },
  ): Ev {
    const { cmd, orderId } = this.#order(clientOrderId);
    return {
      kind: 'replaced',
      instrument: cmd.instrument,
      orderId,
      account: cmd.account,
      clientOrderId,
      side: cmd.side,
      price: r.price,
      quantity: r.quantity,
      leaves: r.quantity,
      filled: r.filled ?? 0,
      keptPriority: r.keptPriority,
    };
  }

  /** The `triggered` event of a stop: it now enters as a market (stop) or limit (stop-limit) order. */
  triggered(clientOrderId: string): Ev {
    const { cmd, orderId } = this.#order(clientOrderId);
    return {
      kind: 'triggered',
      instrument: cmd.instrument,
      orderId,
      account: cmd.account,
      clientOrderId,
      side: cmd.side,
      orderType: cmd.orderType === 'stop' ? 'market' : 'limit',
      tif: cmd.tif ?? defaultTif(cmd.orderType),
      price: cmd.price ?? 0,
      stopPrice: cmd.stopPrice ?? 0,
      // A waiting stop never traded: it enters with its whole size.
      quantity: cmd.quantity,
      leaves: cmd.quantity,
      filled: 0,
    };
  }

  #order(clientOrderId: string): Placed {
    const p = this.#placed.get(clientOrderId);
    assert.ok(p, `no accepted order ${clientOrderId} in this scenario`);
    return p;
  }
}

function defaultTif(type: OrderType): TimeInForce {
  return type === 'market' || type === 'stop' ? 'IOC' : 'GTC';
}

/** An engine on `kind` with the given instruments listed at ts 0 (default: ACME as `spec()`). */
export function given(kind: BookKind, ...specs: InstrumentSpec[]): Scenario {
  return new Scenario(kind, specs.length === 0 ? [spec()] : specs);
}

/**
 * Runs `cmd` on one scenario and, on a twin built the same way, a command the engine refuses
 * outright (unknown type) at the same timestamp. A rejection must change nothing but the
 * sequences, so both must then have equal state hashes, snapshots, books and live orders.
 * Returns the events of `cmd`.
 */
export function withoutChange(setup: () => Scenario, cmd: Cmd): Then {
  const s = setup();
  const twin = setup();
  const then = s.when(cmd);
  twin.run(malformed({ type: 'no-such-command', ts: s.engine.snapshot().seqs.ts }));
  assert.equal(s.engine.stateHash(), twin.engine.stateHash(), 'state hash');
  assert.deepEqual(s.engine.snapshot(), twin.engine.snapshot(), 'snapshot');
  for (const id of s.engine.instruments()) assert.deepEqual(s.book(id), twin.book(id), `book of ${id}`);
  assert.equal(s.engine.liveOrders, twin.engine.liveOrders, 'live orders');
  return then;
}
