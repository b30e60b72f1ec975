/**
 * The journal's binary command codec: every command type reads back exactly as written, with
 * each optional field present or absent; a command that cannot be written exactly is refused
 * with a CodecError naming the field; bytes that are not exactly one command are refused too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Command, InstrumentSpec } from '../../engine/index.ts';
import { CodecError, decodeCommand, encodeCommand } from '../../journal/index.ts';
import { spec } from '../support/engine.ts';

/** The room `encodeCommand` may need after its offset (MAX_COMMAND_BYTES, 64 KiB). */
const ROOM = 64 * 1024;
const AT = 7;

function encode(c: Command): Buffer {
  const buf = Buffer.alloc(AT + ROOM, 0xee);
  const end = encodeCommand(c, buf, AT);
  return buf.subarray(AT, end);
}

function roundTrip(c: Command): Command {
  const bytes = encode(c);
  // Decoded from inside a larger buffer, as the journal does.
  const host = Buffer.concat([Buffer.from([1, 2, 3]), bytes, Buffer.from([4, 5])]);
  return decodeCommand(host, 3, 3 + bytes.length);
}

const base = { ts: 1_700_000_000_123, instrument: 'ACME@evm:31337', account: 'alice' };

const newOrders: Array<[string, Command]> = [
  [
    'new market, no optional field',
    { type: 'new', ...base, clientOrderId: 'm1', side: 'sell', orderType: 'market', quantity: 5 },
  ],
  [
    'new limit with price',
    {
      type: 'new',
      ...base,
      clientOrderId: 'l1',
      side: 'buy',
      orderType: 'limit',
      quantity: 10,
      price: 9_950,
    },
  ],
  [
    'new stop with stopPrice and tif',
    {
      type: 'new',
      ...base,
      clientOrderId: 's1',
      side: 'buy',
      orderType: 'stop',
      quantity: 3,
      stopPrice: 10_100,
      tif: 'FOK',
    },
  ],
  [
    'new stop-limit with every optional field, postOnly true',
    {
      type: 'new',
      ...base,
      clientOrderId: 'sl1',
      side: 'sell',
      orderType: 'stop-limit',
      quantity: 7,
      price: 9_900,
      stopPrice: 9_950,
      tif: 'GTD',
      expireAt: 1_700_000_999_000,
      postOnly: true,
      stp: 'decrement-and-cancel',
    },
  ],
  [
    'new limit with postOnly false',
    {
      type: 'new',
      ...base,
      clientOrderId: 'p0',
      side: 'buy',
      orderType: 'limit',
      quantity: 1,
      price: 1,
      postOnly: false,
    },
  ],
  ...(['GTC', 'GTD', 'IOC', 'FOK'] as const).map((tif): [string, Command] => [
    `new limit tif ${tif}`,
    {
      type: 'new',
      ...base,
      clientOrderId: `t-${tif}`,
      side: 'buy',
      orderType: 'limit',
      quantity: 2,
      price: 5,
      tif,
    },
  ]),
  ...(['cancel-newest', 'cancel-oldest', 'cancel-both', 'decrement-and-cancel'] as const).map(
    (stp): [string, Command] => [
      `new market stp ${stp}`,
      {
        type: 'new',
        ...base,
        clientOrderId: `x-${stp}`,
        side: 'sell',
        orderType: 'market',
        quantity: 2,
        stp,
      },
    ],
  ),
  [
    'new with unicode, empty and 4096-character strings',
    {
      type: 'new',
      ts: 0,
      instrument: '',
      account: 'ünïcødé 日本 🚀',
      clientOrderId: 'é'.repeat(4096),
      side: 'buy',
      orderType: 'limit',
      quantity: 1,
      price: 2,
    },
  ],
  [
    'new with numbers a double keeps exactly (not what the engine accepts)',
    {
      type: 'new',
      ts: -0,
      instrument: 'X',
      account: 'a',
      clientOrderId: 'c',
      side: 'sell',
      orderType: 'limit',
      quantity: 0.1 + 0.2,
      price: Number.NaN,
      stopPrice: Number.POSITIVE_INFINITY,
      expireAt: Number.MAX_SAFE_INTEGER,
    },
  ],
];

const others: Array<[string, Command]> = [
  ['cancel by orderId', { type: 'cancel', ts: 5, account: 'bob', orderId: 42 }],
  ['cancel by clientOrderId', { type: 'cancel', ts: 5, account: 'bob', clientOrderId: 'c-42' }],
  ['cancel naming both', { type: 'cancel', ts: 5, account: 'bob', orderId: 1, clientOrderId: 'c-1' }],
  ['cancel naming neither', { type: 'cancel', ts: 5, account: 'bob' }],
  ['cancel-all', { type: 'cancel-all', ts: 6, account: 'bob' }],
  [
    'cancel-all on one instrument',
    { type: 'cancel-all', ts: 6, account: 'bob', instrument: 'ACME@evm:31337' },
  ],
  ['replace price by orderId', { type: 'replace', ts: 7, account: 'carol', orderId: 9, price: 10_010 }],
  [
    'replace quantity by clientOrderId',
    { type: 'replace', ts: 7, account: 'carol', clientOrderId: 'q', quantity: 3 },
  ],
  [
    'replace with every field',
    { type: 'replace', ts: 7, account: 'carol', orderId: 9, clientOrderId: 'q', price: 1, quantity: 2 },
  ],
  ['replace with no change', { type: 'replace', ts: 7, account: 'carol', orderId: 9 }],
  ['list-instrument', { type: 'list-instrument', ts: 0, spec: spec() }],
  [
    'list-instrument with every optional spec field',
    {
      type: 'list-instrument',
      ts: 0,
      spec: spec({ id: 'BOND@fabric:bank-net', status: 'halted', quote: 'EUR', quoteUnit: '0.01' }),
    },
  ],
  ['set-status halted', { type: 'set-status', ts: 8, instrument: 'ACME@evm:31337', status: 'halted' }],
  ['set-status open', { type: 'set-status', ts: 8, instrument: 'ACME@evm:31337', status: 'open' }],
  ['tick', { type: 'tick', ts: 9 }],
  ['deposit', { type: 'deposit', ts: 10, account: 'dan', asset: 'USD@evm:31337', amount: 1_000_000 }],
  ['withdraw', { type: 'withdraw', ts: 11, account: 'dan', asset: 'ACME@evm:31337', amount: 25 }],
  ...[undefined, true, false].flatMap((eligible) =>
    [undefined, true, false].map((frozen): [string, Command] => {
      const c: Command = { type: 'set-account', ts: 12, account: 'erin', venue: 'evm:31337' };
      if (eligible !== undefined) c.eligible = eligible;
      if (frozen !== undefined) c.frozen = frozen;
      return [`set-account eligible ${eligible} frozen ${frozen}`, c];
    }),
  ),
  ['settle ok', { type: 'settle', ts: 13, tradeId: 77, ok: true }],
  [
    'settle failed with a reason',
    { type: 'settle', ts: 13, tradeId: 78, ok: false, reason: 'reverted: 0x08c379a0' },
  ],
  ['settle failed without a reason', { type: 'settle', ts: 13, tradeId: 79, ok: false }],
  [
    'settle with its ledger reference and cost',
    { type: 'settle', ts: 13, tradeId: 80, ok: true, ref: '0xabc', gas: 17_064.5, gasFee: '17064500000000' },
  ],
  [
    'request-withdrawal',
    { type: 'request-withdrawal', ts: 15, account: 'dan', asset: 'USD@evm:31337', amount: 4_200 },
  ],
  ['settle-withdrawal released', { type: 'settle-withdrawal', ts: 16, withdrawalId: 3, ok: true }],
  [
    'settle-withdrawal refused, with its reason, reference and cost',
    {
      type: 'settle-withdrawal',
      ts: 16,
      withdrawalId: 4,
      ok: false,
      reason: 'TO_FROZEN',
      ref: '0xdef',
      gas: 61_000,
      gasFee: '61000000000000',
    },
  ],
  [
    'update-instrument with every field',
    {
      type: 'update-instrument',
      ts: 14,
      instrument: 'ACME@evm:31337',
      makerFeeBps: -2,
      takerFeeBps: 6,
      bandBps: 300,
      referencePrice: 1234,
    },
  ],
  [
    'update-instrument with one field',
    { type: 'update-instrument', ts: 14, instrument: 'X@e:1', bandBps: 0 },
  ],
];

describe('journal codec: round trip', () => {
  for (const [name, command] of [...newOrders, ...others]) {
    it(`given ${name}, when encoded and decoded, then it reads back deep-equal`, () => {
      assert.deepStrictEqual(roundTrip(command), command);
    });
  }

  it('covers every command type', () => {
    const types = new Set([...newOrders, ...others].map(([, c]) => c.type));
    assert.deepStrictEqual(
      [...types].sort(),
      [
        'cancel',
        'cancel-all',
        'deposit',
        'list-instrument',
        'new',
        'replace',
        'request-withdrawal',
        'set-account',
        'set-status',
        'settle',
        'settle-withdrawal',
        'tick',
        'update-instrument',
        'withdraw',
      ].sort(),
    );
  });

  it('keeps the type tags journals were written with: new types come after them', () => {
    const tags: Array<[Command, number]> = [
      [
        {
          type: 'new',
          ts: 0,
          instrument: 'X@e:1',
          account: 'a',
          clientOrderId: 'c',
          side: 'buy',
          orderType: 'market',
          quantity: 1,
        },
        0,
      ],
      [{ type: 'deposit', ts: 0, account: 'a', asset: 'X@e:1', amount: 1 }, 7],
      [{ type: 'withdraw', ts: 0, account: 'a', asset: 'X@e:1', amount: 1 }, 8],
      [{ type: 'settle', ts: 0, tradeId: 1, ok: true }, 10],
      [{ type: 'update-instrument', ts: 0, instrument: 'X@e:1', bandBps: 1 }, 11],
      [{ type: 'request-withdrawal', ts: 0, account: 'a', asset: 'X@e:1', amount: 1 }, 12],
      [{ type: 'settle-withdrawal', ts: 0, withdrawalId: 1, ok: true }, 13],
    ];
    for (const [command, tag] of tags) assert.equal(encode(command)[0], tag, command.type);
  });

  it('property: any well-formed command reads back deep-equal, and any cut of it is refused', () => {
    fc.assert(
      fc.property(commandArb, fc.nat(), (command, cut) => {
        const bytes = encode(command);
        assert.deepStrictEqual(decodeCommand(bytes, 0, bytes.length), command);
        const short = cut % bytes.length;
        assert.throws(() => decodeCommand(bytes, 0, short), CodecError);
      }),
      { numRuns: 2000, seed: 20_240_611 },
    );
  });
});

describe('journal codec: commands it cannot write exactly', () => {
  const order = {
    type: 'new',
    ts: 1,
    instrument: 'ACME@evm:31337',
    account: 'alice',
    clientOrderId: 'o1',
    side: 'buy',
    orderType: 'limit',
    quantity: 1,
    price: 100,
  };
  const cases: Array<[string, unknown, string]> = [
    ['non-boolean postOnly', { ...order, postOnly: 'yes' }, 'postOnly'],
    ['postOnly as a number', { ...order, postOnly: 1 }, 'postOnly'],
    ['unknown side', { ...order, side: 'long' }, 'side'],
    ['unknown order type', { ...order, orderType: 'iceberg' }, 'orderType'],
    ['unknown tif', { ...order, tif: 'DAY' }, 'tif'],
    ['unknown stp', { ...order, stp: 'none' }, 'stp'],
    ['unknown command type', { ...order, type: 'amend' }, 'type'],
    ['ts as a string', { ...order, ts: '1' }, 'ts'],
    ['missing ts', { ...order, ts: undefined }, 'ts'],
    ['price as a string', { ...order, price: '100' }, 'price'],
    ['price as a bigint', { ...order, price: 100n }, 'price'],
    ['quantity null', { ...order, quantity: null }, 'quantity'],
    ['stopPrice as a string', { ...order, stopPrice: '1' }, 'stopPrice'],
    ['expireAt as a string', { ...order, expireAt: '2' }, 'expireAt'],
    ['account as a number', { ...order, account: 42 }, 'account'],
    ['missing clientOrderId', { ...order, clientOrderId: undefined }, 'clientOrderId'],
    [
      'ill-formed UTF-16 clientOrderId (lone high surrogate)',
      { ...order, clientOrderId: 'a\uD800b' },
      'clientOrderId',
    ],
    ['ill-formed UTF-16 account (lone low surrogate)', { ...order, account: '\uDC00' }, 'account'],
    ['instrument longer than 4096 characters', { ...order, instrument: 'I'.repeat(4097) }, 'instrument'],
    ['cancel orderId as a string', { type: 'cancel', ts: 1, account: 'a', orderId: '7' }, 'orderId'],
    [
      'cancel clientOrderId ill-formed',
      { type: 'cancel', ts: 1, account: 'a', clientOrderId: '\uD83D' },
      'clientOrderId',
    ],
    [
      'cancel-all instrument as a number',
      { type: 'cancel-all', ts: 1, account: 'a', instrument: 3 },
      'instrument',
    ],
    [
      'replace quantity as a string',
      { type: 'replace', ts: 1, account: 'a', orderId: 1, quantity: '2' },
      'quantity',
    ],
    [
      'set-status with an unknown status',
      { type: 'set-status', ts: 1, instrument: 'X', status: 'closed' },
      'status',
    ],
    [
      'deposit amount as a string',
      { type: 'deposit', ts: 1, account: 'a', asset: 'USD@evm:1', amount: '5' },
      'amount',
    ],
    ['withdraw without an asset', { type: 'withdraw', ts: 1, account: 'a', amount: 5 }, 'asset'],
    [
      'set-account eligible as a string',
      { type: 'set-account', ts: 1, account: 'a', venue: 'v', eligible: 'yes' },
      'eligible',
    ],
    [
      'set-account frozen as a number',
      { type: 'set-account', ts: 1, account: 'a', venue: 'v', frozen: 0 },
      'frozen',
    ],
    ['settle without ok', { type: 'settle', ts: 1, tradeId: 1 }, 'ok'],
    ['settle tradeId as a string', { type: 'settle', ts: 1, tradeId: '1', ok: true }, 'tradeId'],
    [
      'settle reason ill-formed',
      { type: 'settle', ts: 1, tradeId: 1, ok: false, reason: '\uDFFF' },
      'reason',
    ],
    ['settle gas as a string', { type: 'settle', ts: 1, tradeId: 1, ok: true, gas: '1' }, 'gas'],
    ['settle gasFee as a number', { type: 'settle', ts: 1, tradeId: 1, ok: true, gasFee: 1 }, 'gasFee'],
    ['settle ref as a number', { type: 'settle', ts: 1, tradeId: 1, ok: true, ref: 1 }, 'ref'],
  ];
  for (const [name, command, field] of cases) {
    it(`given ${name}, when encoded, then CodecError names ${field}`, () => {
      const buf = Buffer.alloc(ROOM);
      assert.throws(
        () => encodeCommand(command as Command, buf, 0),
        (err: unknown) => {
          assert.ok(err instanceof CodecError, `expected a CodecError, got ${String(err)}`);
          assert.equal(err.name, 'CodecError');
          assert.match(err.message, new RegExp(`^${field} `));
          return true;
        },
      );
    });
  }

  for (const value of [null, undefined, 'new', 5]) {
    it(`given ${String(value)} instead of a command, when encoded, then CodecError`, () => {
      assert.throws(() => encodeCommand(value as unknown as Command, Buffer.alloc(ROOM), 0), CodecError);
    });
  }
});

describe('journal codec: bytes that are not exactly one command', () => {
  for (const [name, command] of [...newOrders.slice(0, 4), ...others]) {
    it(`given ${name} cut at every length, when decoded, then CodecError`, () => {
      const bytes = encode(command);
      for (let end = 0; end < bytes.length; end++) {
        assert.throws(() => decodeCommand(bytes, 0, end), CodecError, `cut at ${end} of ${bytes.length}`);
      }
    });
  }

  for (const [name, command] of [newOrders[3]!, ...others.slice(0, 3), others.at(-1)!]) {
    it(`given ${name} followed by stray bytes, when decoded, then CodecError counts them`, () => {
      const bytes = encode(command);
      for (const extra of [1, 2, 9]) {
        const buf = Buffer.concat([bytes, Buffer.alloc(extra, 0)]);
        assert.throws(
          () => decodeCommand(buf, 0, buf.length),
          (err: unknown) =>
            err instanceof CodecError && new RegExp(`^${extra} stray bytes`).test(err.message),
        );
      }
    });
  }

  it('given an unknown type tag, a bad side or a list-instrument spec that is not JSON, then CodecError', () => {
    const tick = encode({ type: 'tick', ts: 1 });
    tick[0] = 200;
    assert.throws(() => decodeCommand(tick, 0, tick.length), /unknown command type 200/);
    const order = encode(newOrders[0]![1]);
    // type(1) ts(8) mask(1) instrument(2+14) account(2+5) clientOrderId(2+2), then the side.
    const sideAt = 1 + 8 + 1 + 2 + 14 + 2 + 5 + 2 + 2;
    order[sideAt] = 9;
    assert.throws(() => decodeCommand(order, 0, order.length), /unknown side 9/);
    const listing = encode({ type: 'list-instrument', ts: 0, spec: spec() });
    listing[1 + 8 + 2] = '<'.charCodeAt(0);
    assert.throws(
      () => decodeCommand(listing, 0, listing.length),
      (err: unknown) => err instanceof CodecError && /not JSON/.test(err.message),
    );
  });
});

// ---- arbitraries -------------------------------------------------------------------------------

const text = fc.string({ unit: 'binary', maxLength: 24 });
const num = fc.double();
const ts = fc.oneof(fc.nat(), num);

const newArb = fc.record(
  {
    type: fc.constant('new' as const),
    ts,
    instrument: text,
    account: text,
    clientOrderId: text,
    side: fc.constantFrom('buy' as const, 'sell' as const),
    orderType: fc.constantFrom('limit' as const, 'market' as const, 'stop' as const, 'stop-limit' as const),
    quantity: num,
    price: num,
    stopPrice: num,
    tif: fc.constantFrom('GTC' as const, 'GTD' as const, 'IOC' as const, 'FOK' as const),
    expireAt: num,
    postOnly: fc.boolean(),
    stp: fc.constantFrom(
      'cancel-newest' as const,
      'cancel-oldest' as const,
      'cancel-both' as const,
      'decrement-and-cancel' as const,
    ),
  },
  {
    noNullPrototype: true,
    requiredKeys: ['type', 'ts', 'instrument', 'account', 'clientOrderId', 'side', 'orderType', 'quantity'],
  },
);
const cancelArb = fc.record(
  { type: fc.constant('cancel' as const), ts, account: text, orderId: num, clientOrderId: text },
  { noNullPrototype: true, requiredKeys: ['type', 'ts', 'account'] },
);
const cancelAllArb = fc.record(
  { type: fc.constant('cancel-all' as const), ts, account: text, instrument: text },
  { noNullPrototype: true, requiredKeys: ['type', 'ts', 'account'] },
);
const replaceArb = fc.record(
  {
    type: fc.constant('replace' as const),
    ts,
    account: text,
    orderId: num,
    clientOrderId: text,
    price: num,
    quantity: num,
  },
  { noNullPrototype: true, requiredKeys: ['type', 'ts', 'account'] },
);
const specArb: fc.Arbitrary<InstrumentSpec> = fc.record(
  {
    id: text,
    tickSize: text,
    lotSize: text,
    priceDecimals: fc.integer(),
    quantityDecimals: fc.integer(),
    minQty: fc.integer(),
    maxQty: fc.integer(),
    maxPrice: fc.integer(),
    referencePrice: fc.integer(),
    bandBps: fc.integer(),
    makerFeeBps: fc.integer(),
    takerFeeBps: fc.integer(),
    status: fc.constantFrom('open' as const, 'halted' as const),
    quote: text,
    quoteUnit: text,
  },
  {
    noNullPrototype: true,
    requiredKeys: ['id', 'tickSize', 'lotSize', 'priceDecimals', 'quantityDecimals', 'minQty', 'maxQty'],
  },
) as fc.Arbitrary<InstrumentSpec>;
const listArb = fc.record(
  { type: fc.constant('list-instrument' as const), ts, spec: specArb },
  { noNullPrototype: true },
);
const statusArb = fc.record(
  {
    type: fc.constant('set-status' as const),
    ts,
    instrument: text,
    status: fc.constantFrom('open' as const, 'halted' as const),
  },
  { noNullPrototype: true },
);
const tickArb = fc.record({ type: fc.constant('tick' as const), ts }, { noNullPrototype: true });
const transferArb = fc.record(
  {
    type: fc.constantFrom('deposit' as const, 'withdraw' as const, 'request-withdrawal' as const),
    ts,
    account: text,
    asset: text,
    amount: num,
  },
  { noNullPrototype: true },
);
const accountArb = fc.record(
  {
    type: fc.constant('set-account' as const),
    ts,
    account: text,
    venue: text,
    eligible: fc.boolean(),
    frozen: fc.boolean(),
  },
  { noNullPrototype: true, requiredKeys: ['type', 'ts', 'account', 'venue'] },
);
const settleArb = fc.record(
  {
    type: fc.constant('settle' as const),
    ts,
    tradeId: num,
    ok: fc.boolean(),
    reason: text,
    ref: text,
    gas: num,
    gasFee: text,
  },
  { noNullPrototype: true, requiredKeys: ['type', 'ts', 'tradeId', 'ok'] },
);
const settleWithdrawalArb = fc.record(
  {
    type: fc.constant('settle-withdrawal' as const),
    ts,
    withdrawalId: num,
    ok: fc.boolean(),
    reason: text,
    ref: text,
    gas: num,
    gasFee: text,
  },
  { noNullPrototype: true, requiredKeys: ['type', 'ts', 'withdrawalId', 'ok'] },
);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  newArb,
  cancelArb,
  cancelAllArb,
  replaceArb,
  listArb,
  statusArb,
  tickArb,
  transferArb,
  accountArb,
  settleArb,
  settleWithdrawalArb,
) as fc.Arbitrary<Command>;
