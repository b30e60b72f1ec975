/**
 * The decimal edge: decimal strings to integer ticks and lots and back. Only plain decimals on
 * the grid and within a safe integer convert; each refusal has its own code. Pure functions, so
 * no book is involved.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Code,
  type Converted,
  lotsToQuantity,
  parseDecimal,
  priceToTicks,
  quantityToLots,
  ticksToPrice,
} from '../../engine/index.ts';

/** A conversion with a failure's free-text reason replaced by its presence. */
function shape(c: Converted): unknown {
  if (c.ok) return c;
  assert.equal(typeof c.reason, 'string');
  assert.ok(c.reason.length > 0);
  return { ok: false, code: c.code };
}

const ok = (value: number) => ({ ok: true, value });
const fail = (code: number) => ({ ok: false, code });

// [text, tickSize, expected]
const PRICES: Array<[unknown, string, unknown]> = [
  ['12.34', '0.01', ok(1_234)],
  ['12.3', '0.01', ok(1_230)],
  ['12.340', '0.01', ok(1_234)],
  ['0', '0.01', ok(0)],
  ['0.01', '0.01', ok(1)],
  ['1.10', '0.05', ok(22)],
  ['100', '5', ok(20)],
  ['0.00000001', '0.00000001', ok(1)],
  ['90071992547409.91', '0.01', ok(Number.MAX_SAFE_INTEGER)],
  ['9007199254740991', '1', ok(Number.MAX_SAFE_INTEGER)],
  ['12.345', '0.01', fail(Code.PRICE_NOT_ON_TICK)],
  ['1.07', '0.05', fail(Code.PRICE_NOT_ON_TICK)],
  ['102', '5', fail(Code.PRICE_NOT_ON_TICK)],
  ['0.001', '0.01', fail(Code.PRICE_NOT_ON_TICK)],
  ['90071992547409.92', '0.01', fail(Code.NOT_SAFE_INTEGER)],
  ['9007199254740992', '1', fail(Code.NOT_SAFE_INTEGER)],
  ['1000000000000000000000', '0.01', fail(Code.NOT_SAFE_INTEGER)],
  // Off the tick by less than 10^-20: bignumber.js divides to 20 places, the check must not.
  ['100.000000000000000000001', '0.01', fail(Code.PRICE_NOT_ON_TICK)],
  ['0.00000000000000000001', '2.5', fail(Code.PRICE_NOT_ON_TICK)],
  ['1e3', '0.01', fail(Code.INVALID_DECIMAL)],
  ['-1', '0.01', fail(Code.INVALID_DECIMAL)],
  ['-0', '0.01', fail(Code.INVALID_DECIMAL)],
  ['+1', '0.01', fail(Code.INVALID_DECIMAL)],
  [' 1', '0.01', fail(Code.INVALID_DECIMAL)],
  ['1 ', '0.01', fail(Code.INVALID_DECIMAL)],
  ['1.', '0.01', fail(Code.INVALID_DECIMAL)],
  ['.5', '0.01', fail(Code.INVALID_DECIMAL)],
  ['', '0.01', fail(Code.INVALID_DECIMAL)],
  ['01', '0.01', fail(Code.INVALID_DECIMAL)],
  ['1,000', '0.01', fail(Code.INVALID_DECIMAL)],
  ['0x10', '0.01', fail(Code.INVALID_DECIMAL)],
  ['1.2.3', '0.01', fail(Code.INVALID_DECIMAL)],
  ['Infinity', '0.01', fail(Code.INVALID_DECIMAL)],
  ['NaN', '0.01', fail(Code.INVALID_DECIMAL)],
  ['\u0661', '0.01', fail(Code.INVALID_DECIMAL)], // an Arabic-Indic digit one
  ['1'.repeat(65), '1', fail(Code.INVALID_DECIMAL)],
  [12.34, '0.01', fail(Code.INVALID_DECIMAL)],
  [1_234, '0.01', fail(Code.INVALID_DECIMAL)],
  [1n, '0.01', fail(Code.INVALID_DECIMAL)],
  [null, '0.01', fail(Code.INVALID_DECIMAL)],
  [undefined, '0.01', fail(Code.INVALID_DECIMAL)],
  [{ toString: () => '1' }, '0.01', fail(Code.INVALID_DECIMAL)],
  [['1'], '0.01', fail(Code.INVALID_DECIMAL)],
];

// [text, lotSize, expected]
const QUANTITIES: Array<[unknown, string, unknown]> = [
  ['5', '1', ok(5)],
  ['1.5', '0.5', ok(3)],
  ['0.003', '0.001', ok(3)],
  ['1.500', '0.001', ok(1_500)],
  ['100', '100', ok(1)],
  ['1.5', '1', fail(Code.QUANTITY_NOT_ON_LOT)],
  ['1.000000000000000000001', '1', fail(Code.QUANTITY_NOT_ON_LOT)],
  ['150', '100', fail(Code.QUANTITY_NOT_ON_LOT)],
  ['0.0001', '0.001', fail(Code.QUANTITY_NOT_ON_LOT)],
  ['9007199254740.992', '0.001', fail(Code.NOT_SAFE_INTEGER)],
  ['9007199254740.991', '0.001', ok(Number.MAX_SAFE_INTEGER)],
  ['1e3', '1', fail(Code.INVALID_DECIMAL)],
  ['-1', '1', fail(Code.INVALID_DECIMAL)],
  [' 1', '1', fail(Code.INVALID_DECIMAL)],
  ['1.', '1', fail(Code.INVALID_DECIMAL)],
  ['.5', '0.5', fail(Code.INVALID_DECIMAL)],
  ['', '1', fail(Code.INVALID_DECIMAL)],
  [5, '1', fail(Code.INVALID_DECIMAL)],
  [true, '1', fail(Code.INVALID_DECIMAL)],
];

describe('priceToTicks', () => {
  for (const [text, tick, expected] of PRICES) {
    it(`${JSON.stringify(String(text))} (${typeof text}) at tick ${tick}`, () => {
      assert.deepEqual(shape(priceToTicks(text, tick)), expected);
    });
  }
});

describe('quantityToLots', () => {
  for (const [text, lot, expected] of QUANTITIES) {
    it(`${JSON.stringify(String(text))} (${typeof text}) at lot ${lot}`, () => {
      assert.deepEqual(shape(quantityToLots(text, lot)), expected);
    });
  }
});

describe('ticksToPrice and lotsToQuantity', () => {
  // [ticks, tickSize, decimals, text]
  const prices: Array<[number, string, number, string]> = [
    [1_234, '0.01', 2, '12.34'],
    [5, '0.01', 4, '0.0500'],
    [0, '0.01', 2, '0.00'],
    [22, '0.05', 2, '1.10'],
    [20, '5', 0, '100'],
    [Number.MAX_SAFE_INTEGER, '0.01', 2, '90071992547409.91'],
    [Number.MAX_SAFE_INTEGER, '0.00000001', 8, '90071992.54740991'],
  ];
  for (const [ticks, tick, decimals, text] of prices) {
    it(`${ticks} ticks of ${tick} is ${text}, and back`, () => {
      assert.equal(ticksToPrice(ticks, tick, decimals), text);
      assert.deepEqual(priceToTicks(text, tick), { ok: true, value: ticks });
    });
  }

  // [lots, lotSize, decimals, text]
  const quantities: Array<[number, string, number, string]> = [
    [3, '0.001', 3, '0.003'],
    [1_500, '0.001', 3, '1.500'],
    [7, '1', 0, '7'],
    [2, '100', 0, '200'],
    [Number.MAX_SAFE_INTEGER, '1', 0, '9007199254740991'],
  ];
  for (const [lots, lot, decimals, text] of quantities) {
    it(`${lots} lots of ${lot} is ${text}, and back`, () => {
      assert.equal(lotsToQuantity(lots, lot, decimals), text);
      assert.deepEqual(quantityToLots(text, lot), { ok: true, value: lots });
    });
  }
});

describe('parseDecimal', () => {
  it('parses plain decimals exactly and refuses everything else', () => {
    assert.equal(parseDecimal('0.1')?.plus('0.2').toFixed(), '0.3');
    assert.equal(
      parseDecimal('123456789012345678901234567890.5')?.toFixed(),
      '123456789012345678901234567890.5',
    );
    for (const bad of ['1e3', '-1', ' 1', '1.', '.5', '', 1, null])
      assert.equal(parseDecimal(bad), null, String(bad));
  });
});
