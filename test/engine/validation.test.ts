/**
 * Validation: every malformed new order, timestamp, command and listing is refused with its own
 * result code, and a refusal changes nothing but the sequences (state hash, snapshot, books and
 * live orders equal to those of a twin engine that saw only an unknown command). Listing,
 * duplicate listing, halt and resume. Every case on both books.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BookKind, Code, checkSpec, type Command, type InstrumentSpec } from '../../engine/index.ts';
import { BOOKS, spec } from '../support/engine.ts';
import {
  ACME,
  buy,
  type Cmd,
  given,
  malformed,
  market,
  rejected,
  rejectedOrder,
  sell,
  stop,
  stopLimit,
  withoutChange,
} from '../support/scenario.ts';

/** minQty 2, maxQty 1000, maxPrice 100000, band 10% around 10000: prices 9000..11000. */
const LISTING = spec({ minQty: 2, maxQty: 1_000, maxPrice: 100_000, referencePrice: 10_000, bandBps: 1_000 });

const base = buy('A', 'n1', 5, 10_000);
const with_ = (fields: Record<string, unknown>) => ({ ...base, ...fields }) as typeof base;
const without = (field: string) => {
  const c: Record<string, unknown> = { ...base };
  delete c[field];
  return c as typeof base;
};

// [case, command, code]
const BAD_ORDERS: Array<[string, ReturnType<typeof buy>, number]> = [
  ['an unknown instrument', with_({ instrument: 'NOPE@evm:31337' }), Code.UNKNOWN_INSTRUMENT],
  ['an instrument that is not a string', with_({ instrument: 7 }), Code.UNKNOWN_INSTRUMENT],
  ['an empty account', with_({ account: '' }), Code.INVALID_ACCOUNT],
  ['an account of 65 characters', with_({ account: 'a'.repeat(65) }), Code.INVALID_ACCOUNT],
  ['an account that is not a string', with_({ account: 42 }), Code.INVALID_ACCOUNT],
  ['no clientOrderId', without('clientOrderId'), Code.INVALID_CLIENT_ORDER_ID],
  ['an empty clientOrderId', with_({ clientOrderId: '' }), Code.INVALID_CLIENT_ORDER_ID],
  [
    'a clientOrderId of 65 characters',
    with_({ clientOrderId: 'c'.repeat(65) }),
    Code.INVALID_CLIENT_ORDER_ID,
  ],
  ['side BUY', with_({ side: 'BUY' }), Code.INVALID_SIDE],
  ['no side', without('side'), Code.INVALID_SIDE],
  ['orderType iceberg', with_({ orderType: 'iceberg' }), Code.INVALID_ORDER_TYPE],
  ['tif DAY', with_({ tif: 'DAY' }), Code.INVALID_TIF],
  ['stp none', with_({ stp: 'none' }), Code.INVALID_STP],
  ['quantity 0', with_({ quantity: 0 }), Code.INVALID_QUANTITY],
  ['quantity -5', with_({ quantity: -5 }), Code.INVALID_QUANTITY],
  ['quantity 2.5', with_({ quantity: 2.5 }), Code.INVALID_QUANTITY],
  ['quantity "5"', with_({ quantity: '5' }), Code.INVALID_QUANTITY],
  ['quantity NaN', with_({ quantity: Number.NaN }), Code.INVALID_QUANTITY],
  ['quantity 2^53', with_({ quantity: 2 ** 53 }), Code.INVALID_QUANTITY],
  ['no quantity', without('quantity'), Code.INVALID_QUANTITY],
  ['quantity below minQty', with_({ quantity: 1 }), Code.QUANTITY_BELOW_MIN],
  ['quantity above maxQty', with_({ quantity: 1_001 }), Code.QUANTITY_ABOVE_MAX],
  ['price 0', with_({ price: 0 }), Code.INVALID_PRICE],
  ['price -10000', with_({ price: -10_000 }), Code.INVALID_PRICE],
  ['price 10000.5', with_({ price: 10_000.5 }), Code.INVALID_PRICE],
  ['price "10000"', with_({ price: '10000' }), Code.INVALID_PRICE],
  ['a limit order without price', without('price'), Code.INVALID_PRICE],
  ['price above maxPrice', with_({ price: 100_001 }), Code.PRICE_ABOVE_MAX],
  ['price below the band', with_({ price: 8_999 }), Code.PRICE_OUTSIDE_BAND],
  ['price above the band', with_({ price: 11_001 }), Code.PRICE_OUTSIDE_BAND],
  ['a market order with a price', market('A', 'n1', 'buy', 5, { price: 10_000 }), Code.INVALID_COMBINATION],
  ['a limit order with a stopPrice', with_({ stopPrice: 10_500 }), Code.INVALID_COMBINATION],
  ['a market order with GTC', market('A', 'n1', 'sell', 5, { tif: 'GTC' }), Code.INVALID_COMBINATION],
  [
    'a stop order with GTD',
    stop('A', 'n1', 'buy', 5, 10_500, { tif: 'GTD', expireAt: 999 }),
    Code.INVALID_COMBINATION,
  ],
  [
    'a stop order with a price',
    stop('A', 'n1', 'buy', 5, 10_500, { price: 10_600 }),
    Code.INVALID_COMBINATION,
  ],
  [
    'a stop order without stopPrice',
    market('A', 'n1', 'buy', 5, { orderType: 'stop' }),
    Code.INVALID_STOP_PRICE,
  ],
  ['stopPrice 0', stop('A', 'n1', 'buy', 5, 0), Code.INVALID_STOP_PRICE],
  ['stopPrice 1.5', stop('A', 'n1', 'buy', 5, 1.5), Code.INVALID_STOP_PRICE],
  ['stopPrice above maxPrice', stop('A', 'n1', 'buy', 5, 100_001), Code.INVALID_STOP_PRICE],
  [
    'a stop-limit with a price outside the band',
    stopLimit('A', 'n1', 'sell', 5, 10_000, 8_000),
    Code.PRICE_OUTSIDE_BAND,
  ],
  ['GTD expiring at ts', with_({ tif: 'GTD', expireAt: 0 }), Code.INVALID_EXPIRY],
  ['postOnly on IOC', with_({ postOnly: true, tif: 'IOC' }), Code.INVALID_COMBINATION],
  ['a duplicate live clientOrderId', with_({ clientOrderId: 'a1' }), Code.DUPLICATE_CLIENT_ORDER_ID],
  ['a post-only order that would take', with_({ postOnly: true, price: 10_100 }), Code.POST_ONLY_WOULD_TAKE],
];

/** A book with one bid and one ask, a waiting stop and a GTD order. */
function setup(kind: BookKind) {
  return () =>
    given(kind, LISTING).orders(
      buy('A', 'a1', 5, 9_900),
      sell('B', 'b1', 5, 10_100),
      stop('B', 'b2', 'sell', 3, 9_500),
      buy('B', 'b3', 2, 9_800, { tif: 'GTD', expireAt: 1_000 }),
    );
}

const INVALID_SPECS: Array<[string, Partial<InstrumentSpec> | null]> = [
  ['a lower-case symbol', { id: 'acme@evm:31337' }],
  ['an id without venue', { id: 'ACME' }],
  ['an id without venue name', { id: 'ACME@evm' }],
  ['an empty id', { id: '' }],
  ['tickSize 0', { tickSize: '0' }],
  ['tickSize -0.01', { tickSize: '-0.01' }],
  ['tickSize 1e-2', { tickSize: '1e-2' }],
  ['tickSize as a number', { tickSize: 0.01 as unknown as string }],
  ['lotSize 0', { lotSize: '0' }],
  ['lotSize .5', { lotSize: '.5' }],
  ['priceDecimals below the tick decimals', { priceDecimals: 1 }],
  ['priceDecimals 19', { priceDecimals: 19 }],
  ['priceDecimals 2.5', { priceDecimals: 2.5 }],
  ['quantityDecimals below the lot decimals', { lotSize: '0.1', quantityDecimals: 0 }],
  ['minQty 0', { minQty: 0 }],
  ['maxQty below minQty', { minQty: 10, maxQty: 9 }],
  ['maxPrice 0', { maxPrice: 0 }],
  ['maxPrice * maxQty beyond a safe integer', { maxPrice: 10_000_000_000, maxQty: 1_000_000 }],
  ['referencePrice above maxPrice', { referencePrice: 1_000_000_001 }],
  ['referencePrice -1', { referencePrice: -1 }],
  ['bandBps 10001', { bandBps: 10_001 }],
  ['bandBps -1', { bandBps: -1 }],
  ['takerFeeBps -1', { takerFeeBps: -1 }],
  ['takerFeeBps 1001', { takerFeeBps: 1_001 }],
  ['takerFeeBps 1.5', { takerFeeBps: 1.5 }],
  ['makerFeeBps 1001', { makerFeeBps: 1_001 }],
  ['a rebate larger than the taker fee', { makerFeeBps: -6, takerFeeBps: 5 }],
  ['status closed', { status: 'closed' as 'open' }],
  ['a spec that is null', null],
];

const VALID_SPECS: Array<[string, Partial<InstrumentSpec>]> = [
  ['the standard spec', {}],
  ['a rebate equal to the taker fee', { makerFeeBps: -5, takerFeeBps: 5 }],
  ['the widest band', { bandBps: 10_000, referencePrice: 1 }],
  ['maxPrice * maxQty exactly safe', { maxPrice: 9_007_199_254_740_991, maxQty: 1, minQty: 1 }],
  ['a listing that starts halted', { status: 'halted' }],
  ['fractional lots', { lotSize: '0.001', quantityDecimals: 3 }],
];

describe('checkSpec', () => {
  for (const [name, fields] of INVALID_SPECS) {
    it(`refuses ${name}`, () => {
      const s = fields === null ? (null as unknown as InstrumentSpec) : spec(fields);
      const problem = checkSpec(s);
      assert.equal(typeof problem, 'string');
      assert.ok((problem ?? '').length > 0);
    });
  }
  for (const [name, fields] of VALID_SPECS) {
    it(`accepts ${name}`, () => assert.equal(checkSpec(spec(fields)), null));
  }
});

for (const kind of BOOKS) {
  describe(`new-order validation (${kind} book)`, () => {
    for (const [name, cmd, code] of BAD_ORDERS) {
      it(`${name}: ${code}`, () => {
        const known = typeof cmd.instrument === 'string' && cmd.instrument === ACME;
        const t = withoutChange(setup(kind), cmd);
        assert.deepEqual(t.all, [rejectedOrder(code, cmd, known ? ACME : '')]);
      });
    }

    it('the same order, well formed, is accepted', () => {
      assert.deepEqual(
        setup(kind)()
          .when(base)
          .orders.map((e) => e.kind),
        ['accepted'],
      );
    });
  });

  describe(`timestamps and commands (${kind} book)`, () => {
    const at100 = () => setup(kind)().orders({ type: 'tick', ts: 100 });
    const badTs: Array<[string, unknown]> = [
      ['negative', -1],
      ['fractional', 100.5],
      ['going backwards', 99],
      ['a string', '101'],
      ['null', null],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['beyond a safe integer', 2 ** 53],
    ];
    for (const [name, ts] of badTs) {
      it(`a ${name} timestamp is INVALID_TIMESTAMP and expires nothing`, () => {
        const cmd = malformed({ ...buy('A', 'n1', 5, 9_900), ts: ts as number });
        // The GTD order expiring at 1000 must survive even a timestamp past it.
        const t = withoutChange(at100, cmd);
        assert.deepEqual(t.all, [rejected(Code.INVALID_TIMESTAMP)]);
        assert.equal(t.raw[0]?.ts, 100, 'a rejected timestamp reports the last good one');
      });
    }

    it('a timestamp equal to the previous one is fine', () => {
      const s = at100();
      assert.deepEqual(
        s.when({ ...buy('A', 'n1', 5, 9_900), ts: 100 }).orders.map((e) => e.kind),
        ['accepted'],
      );
    });

    it('an unknown command type is INVALID_COMMAND', () => {
      const t = withoutChange(at100, malformed({ type: 'amend' }));
      assert.deepEqual(t.all, [rejected(Code.INVALID_COMMAND)]);
    });

    it('a command that is not an object is INVALID_COMMAND, and the engine goes on', () => {
      for (const bad of [null, 42, 'new']) {
        const s = at100();
        const hash = s.engine.stateHash();
        const twin = at100();
        s.engine.execute(bad as unknown as Command);
        twin.run(malformed({ type: 'no-such-command', ts: 100 }));
        assert.equal(s.engine.stateHash(), twin.engine.stateHash());
        assert.notEqual(s.engine.stateHash(), hash);
        assert.deepEqual(
          s.when(base).orders.map((e) => e.kind),
          ['accepted'],
        );
      }
    });

    it('risk commands on an engine without risk are RISK_OFF', () => {
      const t = withoutChange(at100, { type: 'deposit', account: 'A', asset: 'USD@evm:31337', amount: 5 });
      assert.deepEqual(t.all, [rejected(Code.RISK_OFF)]);
    });
  });

  describe(`listing, halt and resume (${kind} book)`, () => {
    for (const [name, fields] of INVALID_SPECS) {
      it(`a listing with ${name} is INVALID_INSTRUMENT`, () => {
        const s =
          fields === null
            ? (null as unknown as InstrumentSpec)
            : spec({ ...fields, id: fields.id ?? 'NEW@evm:1' });
        const t = withoutChange(setup(kind), { type: 'list-instrument', spec: s });
        assert.deepEqual(t.all, [rejected(Code.INVALID_INSTRUMENT)]);
        assert.deepEqual(setup(kind)().engine.instruments(), [ACME]);
      });
    }

    it('a second listing of an id is DUPLICATE_INSTRUMENT', () => {
      const t = withoutChange(setup(kind), { type: 'list-instrument', spec: spec({ tickSize: '0.05' }) });
      assert.deepEqual(t.all, [rejected(Code.DUPLICATE_INSTRUMENT)]);
    });

    it('a listing publishes an instrument event and the instrument trades', () => {
      const s = given(kind);
      const t = s.when({ type: 'list-instrument', spec: spec({ id: 'BETA@fabric:bank-net' }) });
      assert.deepEqual(t.all, [{ kind: 'instrument', instrument: 'BETA@fabric:bank-net', status: 'open' }]);
      assert.deepEqual(s.engine.instruments(), [ACME, 'BETA@fabric:bank-net']);
      const u = s.when(buy('A', 'x', 1, 10_000, { instrument: 'BETA@fabric:bank-net' }));
      assert.deepEqual(u.orders, [s.accepted('x')]);
    });

    it('while halted: new orders and replaces are refused, cancels work; after resuming orders trade', () => {
      const s = setup(kind)();
      assert.deepEqual(s.when({ type: 'set-status', instrument: ACME, status: 'halted' }).all, [
        { kind: 'instrument', instrument: ACME, status: 'halted' },
      ]);
      const halted = () => setup(kind)().orders({ type: 'set-status', instrument: ACME, status: 'halted' });
      for (const cmd of [
        sell('C', 'c1', 5, 9_900),
        market('C', 'c1', 'buy', 2),
        stop('C', 'c1', 'sell', 2, 9_000),
      ]) {
        assert.deepEqual(withoutChange(halted, cmd).all, [rejectedOrder(Code.INSTRUMENT_HALTED, cmd)]);
      }
      assert.deepEqual(s.queue('buy'), ['a1:5@9900', 'b3:2@9800']);
      assert.deepEqual(s.when({ type: 'cancel', account: 'A', clientOrderId: 'a1' }).orders, [
        s.canceled('a1', { quantity: 5, reason: 'user' }),
      ]);
      assert.deepEqual(s.when({ type: 'set-status', instrument: ACME, status: 'open' }).all, [
        { kind: 'instrument', instrument: ACME, status: 'open' },
      ]);
      assert.deepEqual(
        s.when(buy('C', 'c1', 5, 10_100)).orders.map((e) => e.kind),
        ['accepted', 'trade'],
      );
    });

    it('an instrument listed halted refuses orders until opened', () => {
      const s = given(kind, spec({ status: 'halted' }));
      const cmd = buy('A', 'x', 1, 10_000);
      assert.deepEqual(s.when(cmd).all, [rejectedOrder(Code.INSTRUMENT_HALTED, cmd)]);
      s.orders({ type: 'set-status', instrument: ACME, status: 'open' });
      assert.deepEqual(s.when(cmd).orders, [s.accepted('x')]);
    });

    const badStatus: Array<[string, Cmd, number]> = [
      [
        'an unknown instrument',
        { type: 'set-status', instrument: 'NOPE@evm:1', status: 'halted' },
        Code.UNKNOWN_INSTRUMENT,
      ],
      [
        'an unknown status',
        malformed({ type: 'set-status', instrument: ACME, status: 'closed' }),
        Code.INVALID_COMMAND,
      ],
    ];
    for (const [name, cmd, code] of badStatus) {
      it(`set-status with ${name} is refused`, () => {
        assert.deepEqual(withoutChange(setup(kind), cmd).all, [rejected(code)]);
      });
    }
  });
}
