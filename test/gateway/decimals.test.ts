/**
 * The gateway's fast decimal reading against the exact reference (bignumber.js in
 * engine/units.ts): on random and adversarial strings, wherever the fast path answers, it answers
 * what the reference does; it leaves every refusal, and only those or the out-of-range, to it; and
 * the instrument codec, which takes the fast answer first, gives every order the reference's
 * ticks and lots, or its refusal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import BigNumber from 'bignumber.js';
import fc from 'fast-check';
import { lotsToQuantity, priceToTicks, quantityToLots } from '../../engine/index.ts';
import { Decimals, times } from '../../gateway/decimals.ts';
import { InstrumentCodec } from '../../gateway/instrument-codec.ts';
import { isGatewayError } from '../../gateway/index.ts';

const UNITS = ['1', '0.01', '0.05', '0.5', '2.5', '25', '0.001', '0.00000001', '0.25', '100', '0.0001'];

/** Strings a client might send, valid or not: decimals near the grid, and everything a parser trips on. */
const texts = fc.oneof(
  // On or near a grid: integers and fractions with up to 20 digits on each side.
  fc
    .tuple(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.option(fc.stringMatching(/^\d{1,20}$/)))
    .map(([i, f]) => (f === null ? i.toString() : `${i}.${f}`)),
  fc.integer({ min: 0, max: 10_000_000 }).map((n) => (n / 100).toString()),
  fc.integer({ min: 0, max: 10_000_000 }).map((n) => (n / 100).toFixed(4)),
  // Adversarial.
  fc.constantFrom(
    '',
    '.',
    '.5',
    '5.',
    '1..2',
    '-1',
    '+1',
    '1e3',
    '1E3',
    ' 1',
    '1 ',
    '0x10',
    '01',
    '00.5',
    '0',
    '0.0',
    '0.00',
    'NaN',
    'Infinity',
    '١٢',
    '9007199254740991',
    '9007199254740992',
    '9007199254740993',
    '90071992547409910',
    '0.000000000000000000001',
    '123456789012345678901234567890',
    `1${'0'.repeat(40)}`,
    `0.${'0'.repeat(63)}1`,
    `1.${'0'.repeat(70)}`,
  ),
  fc.string({ maxLength: 24 }),
  fc.stringMatching(/^[0-9.]{0,30}$/),
);

const units = fc.constantFrom(...UNITS);

function codecOf(tickSize: string, lotSize: string, quoteUnit?: string): InstrumentCodec {
  return new InstrumentCodec({
    id: 'X@evm:1',
    tickSize,
    lotSize,
    ...(quoteUnit === undefined ? {} : { quoteUnit }),
    priceDecimals: 8,
    quantityDecimals: 8,
    minQty: 1,
    maxQty: 1,
    maxPrice: 1,
    referencePrice: 1,
    bandBps: 0,
    makerFeeBps: 0,
    takerFeeBps: 0,
  });
}

describe('decimals: reading wire decimals exactly, fast', () => {
  it('answers, where it answers, what bignumber.js does; leaves refusals to it', () => {
    fc.assert(
      fc.property(texts, units, (text, unit) => {
        const fast = new Decimals(unit, 8).units(text);
        const reference = quantityToLots(text, unit);
        if (fast === -1) return; // the reference decides
        assert.ok(
          reference.ok,
          `fast path answered ${fast} for ${JSON.stringify(text)} / ${unit}, refused by the reference`,
        );
        assert.equal(fast, reference.value, `${JSON.stringify(text)} / ${unit}`);
      }),
      { numRuns: 20_000 },
    );
  });

  it("formats any number of units as bignumber.js does, past safe integers and below the unit's places too", () => {
    const counts = fc.oneof(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom(0, 1, 9, 10, 99, 100, Number.MAX_SAFE_INTEGER, 2 ** 60, 1e21),
    );
    fc.assert(
      fc.property(counts, units, fc.integer({ min: 0, max: 10 }), (n, unit, decimals) => {
        const d = new Decimals(unit, decimals);
        const reference = lotsToQuantity(n, unit, decimals);
        assert.equal(d.format(n), reference, `${n} x ${unit}, ${decimals} places`);
        assert.equal(d.format(n), reference, 'again, from the cache');
      }),
      { numRuns: 20_000 },
    );
  });

  it("the instrument codec's notional amounts (fees) are the exact products, in the cash unit's places", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        units,
        units,
        fc.constantFrom('1', '0.01', '0.000001', '0.00000001'),
        (n, tickSize, lotSize, quoteUnit) => {
          const codec = codecOf(tickSize, lotSize, quoteUnit);
          const notionalUnit = new BigNumber(tickSize).times(lotSize).toFixed();
          const places = new BigNumber(quoteUnit).decimalPlaces() ?? 0;
          assert.equal(codec.notional(n), times(n, notionalUnit, places));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('answers ordinary prices and quantities itself (the point of it)', () => {
    const d = new Decimals('0.01', 2);
    for (const [text, ticks] of [
      ['100.25', 10025],
      ['0.01', 1],
      ['99.9', 9990],
      ['12', 1200],
      ['12.500', 1250],
      ['90071992547409.91', 9007199254740991],
    ] as const) {
      assert.equal(d.units(text), ticks, text);
    }
    for (const text of ['100.255', '-1', '1e2', '01', '0.001', '90071992547409.92']) {
      assert.equal(d.units(text), -1, text);
    }
  });

  it("the instrument codec (the shared order rules) gives the reference's ticks and lots, or its refusal in its words, for any string", () => {
    fc.assert(
      fc.property(texts, units, units, (text, tickSize, lotSize) => {
        const codec = codecOf(tickSize, lotSize);
        for (const [read, reference] of [
          [() => codec.ticks(text), priceToTicks(text, tickSize)],
          [() => codec.lots(text), quantityToLots(text, lotSize)],
        ] as const) {
          if (reference.ok && reference.value > 0) {
            assert.equal(read(), reference.value);
          } else {
            // In the reference's words (the shared order rules must not drift from them).
            const words = reference.ok ? 'must be greater than 0' : reference.reason;
            assert.throws(read, (err) => isGatewayError(err, 'BAD_DECIMAL') && err.message.includes(words));
          }
        }
      }),
      { numRuns: 20_000 },
    );
  });
});
