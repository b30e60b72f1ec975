/**
 * Bad input over the WebSocket, against the real exchange in-process: every malformed, mistyped
 * or forbidden request gets an `error` with the protocol's code and a message naming the field
 * or value, the connection stays usable (a ping gets its pong, and nothing else is answered),
 * and nothing changes (no command reaches the engine, books and live orders are as they were).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Wallet } from 'ethers';
import type { Unstamped } from '../../engine/index.ts';
import { type Config, type Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import {
  evmLogin,
  issue,
  makeMsp,
  makeWallet,
  type ReceivedChallenge,
  x509Login,
} from '../support/identities.ts';
import { within } from '../support/wait.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';

const ACME = 'ACME@evm:31337';
const ACME_BANK = 'ACME@fabric:bank-net';
const GILT = 'GILT@fabric:club-net';

// ---- harness ------------------------------------------------------------------------------

/** A gateway on a fresh data folder, with every command it submits recorded. */
async function start(
  tweak: (config: Config) => void = () => {},
): Promise<{ gw: Embedded; submitted: Unstamped[]; dataDir: string }> {
  const gw = await testGateway(tweak);
  const submitted: Unstamped[] = [];
  const submit = gw.exchange.submit.bind(gw.exchange);
  gw.exchange.submit = (command) => {
    submitted.push(command);
    return submit(command);
  };
  return { gw, submitted, dataDir: gw.config.dataDir };
}

async function stop(gw: Embedded, dataDir: string, clients: WsClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
  await gw.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

interface State {
  commandSeq: number;
  submitted: number;
  liveOrders: number;
  books: Record<string, unknown>;
}

function stateOf(gw: Embedded, submitted: Unstamped[]): State {
  const engine = gw.exchange.engine;
  const books: Record<string, unknown> = {};
  for (const id of engine.instruments()) books[id] = engine.depth(id, 100);
  return { commandSeq: engine.commandSeq, submitted: submitted.length, liveOrders: engine.liveOrders, books };
}

/** Nothing but the exchange's own idle `tick` reached the engine, and books and orders are as they were. */
function assertUnchanged(gw: Embedded, submitted: Unstamped[], was: State): void {
  const since = submitted.slice(was.submitted);
  assert.deepEqual(
    since.filter((c) => c.type !== 'tick'),
    [],
    'no command may reach the engine',
  );
  const now = stateOf(gw, submitted);
  assert.equal(now.commandSeq, was.commandSeq + since.length, 'commandSeq moved by more than idle ticks');
  assert.equal(now.liveOrders, was.liveOrders, 'live orders changed');
  assert.deepEqual(now.books, was.books, 'a book changed');
}

/** A frame: a value sent as JSON, or a raw text or binary frame. */
type Frame = { json: unknown } | { text: string } | { binary: Buffer };

function sendFrame(client: WsClient, frame: Frame): void {
  if ('json' in frame) client.send(frame.json);
  else if ('text' in frame) client.sendRaw(frame.text);
  else client.sendRaw(frame.binary, true);
}

const json = (value: unknown): Frame => ({ json: value });

// ---- the exchange and its sessions -----------------------------------------------------------

let gw: Embedded;
let submitted: Unstamped[];
let dataDir: string;
let anon: WsClient;
let alice: WsClient;
let bob: WsClient;
let club: WsClient;
let aliceWallet: Wallet;
let bobWallet: Wallet;
let aliceAccount: string;
/** Bob's resting sell at 102.00 ('b-rest-1'). */
let bobOrderId: number;
/** Alice's resting buy at 99.00 ('a-rest-buy'). */
let aliceOrderId: number;

/** Places a limit order and waits for its final report; returns that report. */
async function place(
  client: WsClient,
  order: {
    instrument: string;
    clientOrderId: string;
    side: string;
    quantity: string;
    price: string;
    tif?: string;
  },
  status: string,
): Promise<Msg> {
  const id = client.newId();
  client.send({ op: 'new', id, orderType: 'limit', ...order });
  const report = await client.next(
    (m) =>
      m.type === 'exec' &&
      m.clientOrderId === order.clientOrderId &&
      (m.status === status || m.status === 'rejected'),
  );
  assert.equal(report.status, status, JSON.stringify(report));
  return report;
}

/**
 * Sends `frame` and expects exactly one answer, an `error` of `code` whose message matches
 * `message`, then a pong to a ping, and no change anywhere. Returns the error.
 */
async function refused(
  client: WsClient,
  frame: Frame,
  code: string,
  message: RegExp,
  echo?: string | number,
): Promise<Msg> {
  await gw.exchange.durable.flush();
  const was = stateOf(gw, submitted);
  const from = client.messages.length;
  sendFrame(client, frame);
  const error = await client.next((m) => m.type === 'error');
  await client.ping();
  const answers = client.since(from);
  assert.deepEqual(
    answers.map((m) => m.type),
    ['error', 'pong'],
    `expected only the error and the pong, got ${JSON.stringify(answers).slice(0, 600)}`,
  );
  assert.equal(error.code, code, JSON.stringify(error));
  assert.match(error.message as string, message);
  if (echo !== undefined) assert.equal(error.id, echo, 'the error carries the request id');
  await gw.exchange.durable.flush();
  assertUnchanged(gw, submitted, was);
  assert.equal(client.malformed.length, 0);
  return error;
}

before(async () => {
  const msp = await makeMsp('ClubMSP');
  const carol = await issue(msp, 'carol');
  ({ gw, submitted, dataDir } = await start((c) => {
    c.msps = [msp.config];
    // Hundreds of cases on a few connections: the rate limit has its own gateway below.
    c.limits = {
      ...c.limits,
      messagesPerSecond: 1_000_000,
      burst: 1_000_000,
      accountMessagesPerSecond: 1_000_000,
      accountBurst: 1_000_000,
      accountOrdersPerSecond: 1_000_000,
      accountOrderBurst: 1_000_000,
    };
  }));
  [anon, alice, bob, club] = await Promise.all([
    WsClient.connect(gw.url),
    WsClient.connect(gw.url),
    WsClient.connect(gw.url),
    WsClient.connect(gw.url),
  ]);
  aliceWallet = makeWallet();
  bobWallet = makeWallet();
  aliceAccount = (await login(alice, aliceWallet)).account;
  await login(bob, bobWallet, 'eip712');
  const challenge = await club.request({ op: 'challenge' });
  const clubLogin = await club.request({ ...x509Login(carol, challenge as unknown as ReceivedChallenge) });
  assert.equal(clubLogin.type, 'login', JSON.stringify(clubLogin));
  assert.ok((clubLogin.venues as string[]).includes('fabric:club-net'));

  aliceOrderId = (
    await place(
      alice,
      { instrument: ACME, clientOrderId: 'a-rest-buy', side: 'buy', quantity: '10', price: '99.00' },
      'new',
    )
  ).orderId as number;
  await place(
    alice,
    { instrument: ACME, clientOrderId: 'a-rest-sell', side: 'sell', quantity: '10', price: '105.00' },
    'new',
  );
  await place(
    alice,
    { instrument: ACME_BANK, clientOrderId: 'a-bank', side: 'buy', quantity: '5', price: '99.00' },
    'new',
  );
  bobOrderId = (
    await place(
      bob,
      { instrument: ACME, clientOrderId: 'b-rest-1', side: 'sell', quantity: '7', price: '102.00' },
      'new',
    )
  ).orderId as number;
  await place(
    club,
    { instrument: GILT, clientOrderId: 'c-gilt', side: 'buy', quantity: '3', price: '98.00' },
    'new',
  );
  await gw.exchange.durable.flush();
});

after(async () => {
  await stop(gw, dataDir, [anon, alice, bob, club]);
});

// ---- frames that are not messages -------------------------------------------------------------

describe('frames that are not a JSON object', () => {
  const cases: Array<[string, Frame, string, RegExp]> = [
    ['malformed JSON', { text: '{"op":"ping",' }, 'BAD_JSON', /not valid JSON/],
    ['an empty text frame', { text: '' }, 'BAD_JSON', /not valid JSON/],
    ['trailing garbage', { text: '{"op":"ping"} x' }, 'BAD_JSON', /not valid JSON/],
    ['a JSON array', json([{ op: 'ping' }]), 'BAD_MESSAGE', /must be a JSON object with an "op" field/],
    ['a JSON number', json(42), 'BAD_MESSAGE', /must be a JSON object/],
    ['a JSON string', json('ping'), 'BAD_MESSAGE', /must be a JSON object/],
    ['JSON null', json(null), 'BAD_MESSAGE', /must be a JSON object/],
    ['JSON true', json(true), 'BAD_MESSAGE', /must be a JSON object/],
    [
      'a binary frame',
      { binary: Buffer.from('{"op":"ping","id":1}') },
      'BAD_JSON',
      /must be text \(JSON\), not binary/,
    ],
  ];
  for (const [name, frame, code, message] of cases) {
    it(`${name}: ${code}`, async () => {
      await refused(alice, frame, code, message);
    });
  }
});

describe('the envelope', () => {
  it('a missing op: BAD_MESSAGE, echoing the id', async () => {
    await refused(alice, json({ id: 11 }), 'BAD_MESSAGE', /needs an "op" string field/, 11);
  });

  it('an op that is not a string: BAD_MESSAGE', async () => {
    await refused(alice, json({ op: 5, id: 'x' }), 'BAD_MESSAGE', /needs an "op" string field/, 'x');
  });

  for (const op of ['fly', 'PING', 'ping ', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    it(`unknown op ${JSON.stringify(op)}: UNKNOWN_OP listing the ops`, async () => {
      const error = await refused(
        alice,
        json({ op, id: 12 }),
        'UNKNOWN_OP',
        /unknown op ".*"; the ops are ping, /,
        12,
      );
      assert.ok((error.message as string).includes(`"${op}"`));
    });
  }

  it('a very long unknown op is quoted shortened', async () => {
    const error = await refused(alice, json({ op: 'z'.repeat(5000) }), 'UNKNOWN_OP', /unknown op "z{40}"/);
    assert.ok((error.message as string).length < 300);
  });

  const badIds: Array<[string, unknown]> = [
    ['an empty string', ''],
    ['65 characters', 'i'.repeat(65)],
    ['negative', -1],
    ['fractional', 1.5],
    ['unsafe', 2 ** 53],
    ['boolean', true],
    ['an object', { a: 1 }],
    ['null', null],
  ];
  for (const [name, id] of badIds) {
    it(`an id that is ${name}: BAD_MESSAGE naming id, not echoed`, async () => {
      const error = await refused(alice, json({ op: 'ping', id }), 'BAD_MESSAGE', /^ping: id /);
      assert.equal(error.id, undefined);
    });
  }

  it('prototype keys are unknown fields and pollute nothing', async () => {
    await refused(
      alice,
      { text: '{"op":"ping","__proto__":{"polluted":1}}' },
      'BAD_MESSAGE',
      /unknown field "__proto__"/,
    );
    await refused(
      alice,
      json({ op: 'ping', constructor: { prototype: { polluted: 1 } } }),
      'BAD_MESSAGE',
      /unknown field "constructor"/,
    );
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('a deeply nested value in a field: BAD_MESSAGE naming the field', async () => {
    const deep = `${'['.repeat(8000)}${']'.repeat(8000)}`;
    await refused(alice, { text: `{"op":"ping","id":${deep}}` }, 'BAD_MESSAGE', /^ping: id /);
    await refused(
      alice,
      { text: `{"op":"cancel","id":3,"orderId":${deep}}` },
      'BAD_MESSAGE',
      /^cancel: orderId /,
      3,
    );
  });
});

// ---- schemas, op by op ----------------------------------------------------------------------

/** A valid message of each op, with every optional field present. */
function templates(): Record<string, Record<string, unknown>> {
  return {
    ping: { op: 'ping', id: 1 },
    challenge: { op: 'challenge', id: 1 },
    login: {
      op: 'login',
      id: 1,
      scheme: 'eip191',
      nonce: 'ab'.repeat(32),
      address: makeWallet().address,
      signature: `0x${'11'.repeat(65)}`,
      cancelOnDisconnect: false,
    },
    'login (x509)': {
      op: 'login',
      id: 1,
      scheme: 'x509',
      nonce: 'ab'.repeat(32),
      mspId: 'ClubMSP',
      certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      signature: 'MEUCIQ==',
      cancelOnDisconnect: true,
    },
    new: {
      op: 'new',
      id: 1,
      instrument: ACME,
      clientOrderId: 'tpl-1',
      side: 'buy',
      orderType: 'stop-limit',
      quantity: '1',
      price: '98.00',
      stopPrice: '104.00',
      tif: 'GTD',
      expireAt: Date.now() + 60_000,
      postOnly: false,
      stp: 'cancel-newest',
    },
    cancel: { op: 'cancel', id: 1, orderId: 1 },
    replace: { op: 'replace', id: 1, orderId: 1, price: '99.00', quantity: '2' },
    'cancel-all': { op: 'cancel-all', id: 1, instrument: ACME },
    subscribe: { op: 'subscribe', id: 1, channel: 'book.10:ACME@evm:31337', fromSeq: 0 },
    unsubscribe: { op: 'unsubscribe', id: 1, channel: 'book.10:ACME@evm:31337' },
  };
}

const REQUIRED: Record<string, string[]> = {
  login: ['scheme', 'nonce', 'address', 'signature'],
  'login (x509)': ['scheme', 'nonce', 'mspId', 'certificate', 'signature'],
  new: ['instrument', 'clientOrderId', 'side', 'orderType', 'quantity'],
  subscribe: ['channel'],
  unsubscribe: ['channel'],
};

/** A value of another JSON type than `value`. */
function wrongType(value: unknown): unknown {
  if (typeof value === 'string') return 12;
  if (typeof value === 'number') return '12';
  if (typeof value === 'boolean') return 'yes';
  return null;
}

describe('a field of the wrong type', () => {
  for (const [name, tpl] of Object.entries(templates())) {
    const op = tpl.op as string;
    for (const field of Object.keys(tpl)) {
      if (field === 'op') continue;
      const bad = field === 'id' ? true : wrongType(tpl[field]);
      it(`${name}.${field} = ${JSON.stringify(bad)}: BAD_MESSAGE naming ${field}`, async () => {
        const msg = { ...tpl, [field]: bad };
        const error = await refused(alice, json(msg), 'BAD_MESSAGE', new RegExp(`^${op}: ${field} `));
        assert.match(
          error.message as string,
          new RegExp(`got ${JSON.stringify(JSON.stringify(bad)).slice(1, -1)}`),
        );
      });
    }
  }
});

describe('an unknown field', () => {
  for (const [name, tpl] of Object.entries(templates())) {
    const op = tpl.op as string;
    it(`${name} with "extra": BAD_MESSAGE naming it`, async () => {
      await refused(
        alice,
        json({ ...tpl, id: 21, extra: 1 }),
        'BAD_MESSAGE',
        new RegExp(`^${op}: unknown field "extra"`),
        21,
      );
    });
  }

  it('two unknown fields are both named', async () => {
    await refused(alice, json({ op: 'ping', a: 1, b: [] }), 'BAD_MESSAGE', /^ping: unknown fields "a", "b"/);
  });

  it('a nested object where a value belongs', async () => {
    await refused(alice, json({ ...templates().new, side: { buy: true } }), 'BAD_MESSAGE', /^new: side /);
  });
});

describe('a missing required field', () => {
  for (const [name, fields] of Object.entries(REQUIRED)) {
    for (const field of fields) {
      it(`${name} without ${field}: BAD_MESSAGE naming it`, async () => {
        const msg: Record<string, unknown> = { ...templates()[name], id: 22 };
        const op = msg.op as string;
        delete msg[field];
        await refused(alice, json(msg), 'BAD_MESSAGE', new RegExp(`^${op}: missing field "${field}"`), 22);
      });
    }
  }
});

describe('values out of range', () => {
  const tpl = templates();
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['clientOrderId of 65 characters', { ...tpl.new, clientOrderId: 'c'.repeat(65) }, /^new: clientOrderId /],
    ['an empty clientOrderId', { ...tpl.new, clientOrderId: '' }, /^new: clientOrderId /],
    [
      'an instrument of 65 characters',
      { ...tpl.new, instrument: `${'A'.repeat(50)}@evm:31337xxxxx` },
      /^new: instrument /,
    ],
    ['an unknown side', { ...tpl.new, side: 'short' }, /^new: side /],
    ['an unknown orderType', { ...tpl.new, orderType: 'iceberg' }, /^new: orderType /],
    ['an unknown tif', { ...tpl.new, tif: 'DAY' }, /^new: tif /],
    ['an unknown stp', { ...tpl.new, stp: 'none' }, /^new: stp /],
    ['a negative expireAt', { ...tpl.new, expireAt: -1 }, /^new: expireAt /],
    ['a fractional expireAt', { ...tpl.new, expireAt: 1.5 }, /^new: expireAt /],
    ['orderId 0', { ...tpl.cancel, orderId: 0 }, /^cancel: orderId /],
    ['a negative orderId', { ...tpl.cancel, orderId: -5 }, /^cancel: orderId /],
    ['an unsafe orderId', { ...tpl.replace, orderId: 2 ** 60 }, /^replace: orderId /],
    [
      'a channel of 129 characters',
      { ...tpl.subscribe, channel: `book.10:${'A'.repeat(121)}` },
      /^subscribe: channel /,
    ],
    ['a negative fromSeq', { ...tpl.subscribe, fromSeq: -1 }, /^subscribe: fromSeq /],
    ['an unknown login scheme', { ...tpl.login, scheme: 'eip4361' }, /^login: scheme /],
    [
      'a signature of 1025 characters',
      { ...tpl.login, signature: `0x${'a'.repeat(1023)}` },
      /^login: .*signature/,
    ],
  ];
  for (const [name, msg, message] of cases) {
    it(`${name}: BAD_MESSAGE`, async () => {
      await refused(alice, json(msg), 'BAD_MESSAGE', message);
    });
  }
});

// ---- decimals -------------------------------------------------------------------------------

describe('decimals', () => {
  const limit = {
    op: 'new',
    id: 31,
    instrument: ACME,
    clientOrderId: 'dec-1',
    side: 'buy',
    orderType: 'limit',
    quantity: '1',
    price: '98.00',
  };
  const stop = { ...limit, orderType: 'stop', price: undefined, stopPrice: '104.00', side: 'buy' };
  const replace = { op: 'replace', id: 31, clientOrderId: 'a-rest-buy' };

  const notDecimals = [
    'abc',
    '1e5',
    '-1',
    '+1',
    ' 1',
    '1 ',
    '1.',
    '.5',
    '0x10',
    'Infinity',
    'NaN',
    '01',
    '1,5',
    '１',
  ];
  for (const text of notDecimals) {
    it(`${JSON.stringify(text)} as quantity, price, stopPrice and in a replace: BAD_DECIMAL naming field and value`, async () => {
      const shown = new RegExp(JSON.stringify(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      for (const [msg, field] of [
        [{ ...limit, quantity: text }, 'quantity'],
        [{ ...limit, price: text }, 'price'],
        [{ ...stop, stopPrice: text }, 'stopPrice'],
        [{ ...replace, price: text }, 'price'],
        [{ ...replace, quantity: text }, 'quantity'],
      ] as const) {
        const error = await refused(alice, json(msg), 'BAD_DECIMAL', new RegExp(`\\b${field}\\b`), 31);
        assert.match(error.message as string, shown);
      }
    });
  }

  const offGrid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['zero quantity', { ...limit, quantity: '0' }, /quantity must be greater than 0, got "0"/],
    ['zero price', { ...limit, price: '0' }, /price must be greater than 0, got "0"/],
    ['zero price written 0.00', { ...limit, price: '0.00' }, /price must be greater than 0/],
    ['zero stopPrice', { ...stop, stopPrice: '0' }, /stopPrice must be greater than 0/],
    [
      'price 100.001 off the 0.01 tick',
      { ...limit, price: '100.001' },
      /price "100.001" .*multiple of the tick 0\.01/,
    ],
    [
      'stopPrice 104.005 off the tick',
      { ...stop, stopPrice: '104.005' },
      /stopPrice "104.005" .*multiple of the tick 0\.01/,
    ],
    [
      'quantity 1.5 off the lot of 1',
      { ...limit, quantity: '1.5' },
      /quantity "1.5" .*multiple of the lot 1/,
    ],
    [
      'a replace price off the tick',
      { ...replace, price: '99.999' },
      /price "99.999" .*multiple of the tick/,
    ],
    [
      'a replace quantity off the lot',
      { ...replace, quantity: '0.5' },
      /quantity "0.5" .*multiple of the lot/,
    ],
    ['a replace to quantity 0', { ...replace, quantity: '0' }, /quantity must be greater than 0/],
    [
      'a quantity too large for a safe integer',
      { ...limit, quantity: '90071992547409930' },
      /quantity .*too large/,
    ],
    ['a price too large for a safe integer', { ...limit, price: '900719925474099.30' }, /price .*too large/],
    ['a quantity of 41 digits', { ...limit, quantity: `1${'0'.repeat(40)}` }, /quantity/],
    ['a price of 41 characters', { ...limit, price: `1.${'0'.repeat(39)}` }, /price/],
  ];
  for (const [name, msg, message] of offGrid) {
    it(`${name}: BAD_DECIMAL`, async () => {
      await refused(alice, json(msg), 'BAD_DECIMAL', message, 31);
    });
  }
});

describe('order type rules', () => {
  const base = { op: 'new', id: 41, instrument: ACME, clientOrderId: 'type-1', side: 'buy', quantity: '1' };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'a market order with a price',
      { ...base, orderType: 'market', price: '100.00' },
      /a market order takes no "price"/,
    ],
    ['a limit order without a price', { ...base, orderType: 'limit' }, /a limit order needs "price"/],
    ['a stop order without stopPrice', { ...base, orderType: 'stop' }, /a stop order needs "stopPrice"/],
    [
      'a stop order with a price',
      { ...base, orderType: 'stop', stopPrice: '104.00', price: '104.00' },
      /a stop order takes no "price"/,
    ],
    [
      'a stop-limit order without stopPrice',
      { ...base, orderType: 'stop-limit', price: '104.00' },
      /a stop-limit order needs "stopPrice"/,
    ],
    [
      'a stop-limit order without price',
      { ...base, orderType: 'stop-limit', stopPrice: '104.00' },
      /a stop-limit order needs "price"/,
    ],
    [
      'a limit order with stopPrice',
      { ...base, orderType: 'limit', price: '98.00', stopPrice: '97.00' },
      /a limit order takes no "stopPrice"/,
    ],
    [
      'a market order with stopPrice',
      { ...base, orderType: 'market', stopPrice: '97.00' },
      /a market order takes no "stopPrice"/,
    ],
  ];
  for (const [name, msg, message] of cases) {
    it(`${name}: BAD_MESSAGE`, async () => {
      await refused(alice, json(msg), 'BAD_MESSAGE', message, 41);
    });
  }
});

// ---- what a message names ---------------------------------------------------------------------

describe('instruments', () => {
  const order = (instrument: string) => ({
    op: 'new',
    id: 51,
    instrument,
    clientOrderId: 'inst-1',
    side: 'buy',
    orderType: 'limit',
    quantity: '1',
    price: '98.00',
  });

  it('an unknown instrument in new and cancel-all: UNKNOWN_INSTRUMENT naming it', async () => {
    await refused(
      alice,
      json(order('NOPE@evm:31337')),
      'UNKNOWN_INSTRUMENT',
      /unknown instrument "NOPE@evm:31337"/,
      51,
    );
    await refused(
      alice,
      json(order('acme@evm:31337')),
      'UNKNOWN_INSTRUMENT',
      /unknown instrument "acme@evm:31337"/,
      51,
    );
    await refused(
      alice,
      json({ op: 'cancel-all', id: 52, instrument: 'NOPE@evm:31337' }),
      'UNKNOWN_INSTRUMENT',
      /unknown instrument "NOPE@evm:31337"/,
      52,
    );
  });

  /** The error for `target`, with that name taken out, to compare with another's. */
  const shape = (error: Msg, target: string) =>
    JSON.parse(JSON.stringify(error).split(JSON.stringify(target).slice(1, -1)).join('<X>')) as unknown;

  it('a permissioned instrument in order entry looks exactly like an unknown one to a non-member', async () => {
    const other = 'GILX@fabric:club-net';
    for (const make of [
      (i: string) => order(i),
      (i: string) => ({ op: 'cancel-all', id: 53, instrument: i }),
    ]) {
      const a = await refused(
        alice,
        json(make(GILT)),
        'UNKNOWN_INSTRUMENT',
        /unknown instrument/,
        make(GILT).id,
      );
      const b = await refused(
        alice,
        json(make(other)),
        'UNKNOWN_INSTRUMENT',
        /unknown instrument/,
        make(GILT).id,
      );
      assert.deepEqual(shape(a, GILT), shape(b, other));
    }
  });

  it('a permissioned instrument in market data looks exactly like an unknown one to a non-member', async () => {
    /** Everything a subscribe is answered, up to a pong, shaped for comparison. */
    const answers = async (client: WsClient, channel: string, target: string) => {
      const from = client.messages.length;
      client.send({ op: 'subscribe', id: 54, channel });
      await client.ping();
      return client.since(from).map((m) => (m.type === 'pong' ? 'pong' : shape(m, target)));
    };
    for (const client of [alice, anon]) {
      for (const [hidden, unknown] of [
        [`book.10:${GILT}`, 'book.10:GILX@fabric:club-net'],
        [`trades:${GILT}`, 'trades:GILX@fabric:club-net'],
        [`ticker:${GILT}`, 'ticker:GILX@fabric:club-net'],
        ['consolidated.10:GILT', 'consolidated.10:GILX'],
        [`candles.1m:${GILT}`, 'candles.1m:GILX@fabric:club-net'],
      ] as const) {
        const target = (name: string) => name.slice(name.indexOf(':') + 1);
        const a = await answers(client, hidden, target(hidden));
        const b = await answers(client, unknown, target(unknown));
        assert.deepEqual(a, b, `${hidden} vs ${unknown}`);
        assert.ok(
          a.some((m) => typeof m === 'object' && (m as Msg).code === 'UNKNOWN_INSTRUMENT'),
          JSON.stringify(a),
        );
      }
    }
  });

  it('a member does see it (the control)', async () => {
    const channel = `book.10:${GILT}`;
    const ack = await club.request({ op: 'subscribe', channel });
    assert.equal(ack.type, 'subscribed');
    const snap = await club.next((m) => m.type === 'snapshot' && m.channel === channel);
    assert.deepEqual(snap.bids, [['98.00', '3']]);
    assert.equal((await club.request({ op: 'unsubscribe', channel })).type, 'unsubscribed');
  });
});

describe('order entry before login', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    [
      'new',
      {
        op: 'new',
        id: 61,
        instrument: ACME,
        clientOrderId: 'anon-1',
        side: 'buy',
        orderType: 'market',
        quantity: '1',
      },
    ],
    [
      'new on an unknown instrument',
      {
        op: 'new',
        id: 61,
        instrument: 'NOPE@x:y',
        clientOrderId: 'anon-1',
        side: 'buy',
        orderType: 'market',
        quantity: '1',
      },
    ],
    ['cancel', { op: 'cancel', id: 61, orderId: 1 }],
    ['cancel of another account order by id', { op: 'cancel', id: 61, orderId: 1 }],
    ['replace', { op: 'replace', id: 61, clientOrderId: 'a-rest-buy', price: '98.00' }],
    ['cancel-all', { op: 'cancel-all', id: 61 }],
  ];
  for (const [name, msg] of cases) {
    it(`${name}: AUTH_REQUIRED saying to log in`, async () => {
      await refused(anon, json(msg), 'AUTH_REQUIRED', /log in first: send "challenge", then "login"/, 61);
    });
  }
});

describe('login', () => {
  it('a signature by another key: AUTH_FAILED, and the connection stays anonymous', async () => {
    const challenge = (await anon.request({ op: 'challenge' })) as unknown as ReceivedChallenge;
    const forged = { ...evmLogin(makeWallet(), challenge, 'eip191'), address: aliceWallet.address, id: 71 };
    await refused(
      anon,
      json(forged),
      'AUTH_FAILED',
      /eip191 signature was made by 0x[0-9a-fA-F]{40}, not 0x/,
      71,
    );
    await refused(anon, json({ op: 'cancel-all', id: 72 }), 'AUTH_REQUIRED', /log in first/, 72);
  });

  it('a signature that is not one: AUTH_FAILED naming the signature', async () => {
    const challenge = (await anon.request({ op: 'challenge' })) as unknown as ReceivedChallenge;
    const bad = { ...evmLogin(aliceWallet, challenge, 'eip712'), signature: '0x1234', id: 73 };
    await refused(anon, json(bad), 'AUTH_FAILED', /eip712 signature is not 0x and 130 hex digits/, 73);
  });

  it('a reused nonce: CHALLENGE_EXPIRED', async () => {
    const other = await WsClient.connect(gw.url);
    const challenge = (await other.request({ op: 'challenge' })) as unknown as ReceivedChallenge;
    const good = evmLogin(aliceWallet, challenge, 'eip191');
    assert.equal((await other.request({ ...good })).type, 'login');
    await refused(
      anon,
      json({ ...good, id: 74 }),
      'CHALLENGE_EXPIRED',
      /nonce "[0-9a-f]+.*" is unknown, already used or expired/,
      74,
    );
    await refused(anon, json({ op: 'cancel-all', id: 75 }), 'AUTH_REQUIRED', /log in first/, 75);
    await other.close();
  });

  it('a nonce the server never issued: CHALLENGE_EXPIRED', async () => {
    const msg = {
      ...evmLogin(
        aliceWallet,
        { nonce: 'cd'.repeat(32), message: 'x', typedData: templatesTyped() },
        'eip191',
      ),
      id: 76,
    };
    await refused(
      anon,
      json(msg),
      'CHALLENGE_EXPIRED',
      /unknown, already used or expired: ask for a new challenge/,
      76,
    );
  });

  it('a second login on one connection: ALREADY_LOGGED_IN, still logged in as before', async () => {
    const challenge = (await alice.request({ op: 'challenge' })) as unknown as ReceivedChallenge;
    const asBob = { ...evmLogin(bobWallet, challenge, 'eip191'), id: 77 };
    await refused(alice, json(asBob), 'ALREADY_LOGGED_IN', /logged in already/, 77);
    // still Alice: her own order can be named, Bob's cannot
    await refused(
      alice,
      json({ op: 'cancel', id: 78, orderId: bobOrderId }),
      'UNKNOWN_ORDER',
      /no live order/,
      78,
    );
    assert.equal(gw.exchange.engine.order(aliceOrderId)?.account, aliceAccount);
  });
});

/** Typed data of the right shape for a challenge the server never issued. */
function templatesTyped(): ReceivedChallenge['typedData'] {
  return {
    domain: { name: 'Mosaic', version: '1' },
    types: {
      Login: [
        { name: 'nonce', type: 'string' },
        { name: 'expires', type: 'uint256' },
      ],
    },
    primaryType: 'Login',
    message: { nonce: 'cd'.repeat(32), expires: Date.now() + 60_000 },
  } as ReceivedChallenge['typedData'];
}

describe("another account's orders", () => {
  const cases: Array<[string, () => Record<string, unknown>, RegExp]> = [
    [
      'cancel by orderId',
      () => ({ op: 'cancel', id: 81, orderId: bobOrderId }),
      /no live order \d+ of this account/,
    ],
    [
      'cancel by clientOrderId',
      () => ({ op: 'cancel', id: 81, clientOrderId: 'b-rest-1' }),
      /no live order with clientOrderId "b-rest-1" of this account/,
    ],
    [
      'replace by orderId',
      () => ({ op: 'replace', id: 81, orderId: bobOrderId, price: '101.50' }),
      /no live order \d+ of this account/,
    ],
    [
      'replace by clientOrderId',
      () => ({ op: 'replace', id: 81, clientOrderId: 'b-rest-1', quantity: '1' }),
      /no live order with clientOrderId "b-rest-1"/,
    ],
    [
      'cancel of an order that never was',
      () => ({ op: 'cancel', id: 81, orderId: 9_000_000 }),
      /no live order 9000000 of this account/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(`${name}: UNKNOWN_ORDER, and Bob's order is untouched and unreported`, async () => {
      const order = gw.exchange.engine.order(bobOrderId);
      const bobSaw = bob.messages.length;
      await refused(alice, json(make()), 'UNKNOWN_ORDER', message, 81);
      assert.deepEqual(gw.exchange.engine.order(bobOrderId), order);
      await bob.ping();
      assert.deepEqual(
        bob.since(bobSaw).map((m) => m.type),
        ['pong'],
      );
    });
  }
});

describe('naming an order', () => {
  const cases: Array<[string, () => Record<string, unknown>, RegExp]> = [
    [
      'cancel with both orderId and clientOrderId',
      () => ({ op: 'cancel', id: 91, orderId: aliceOrderId, clientOrderId: 'a-rest-buy' }),
      /^cancel: name the order by "orderId" or by "clientOrderId", exactly one of them/,
    ],
    ['cancel with neither', () => ({ op: 'cancel', id: 91 }), /^cancel: name the order .*exactly one/],
    [
      'replace with both',
      () => ({ op: 'replace', id: 91, orderId: aliceOrderId, clientOrderId: 'a-rest-buy', price: '98.50' }),
      /^replace: name the order .*exactly one/,
    ],
    [
      'replace with neither',
      () => ({ op: 'replace', id: 91, price: '98.50' }),
      /^replace: name the order .*exactly one/,
    ],
    [
      'replace with nothing to change',
      () => ({ op: 'replace', id: 91, orderId: aliceOrderId }),
      /replace: give a new "price", a new "quantity", or both/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(`${name}: BAD_MESSAGE`, async () => {
      await refused(alice, json(make()), 'BAD_MESSAGE', message, 91);
    });
  }
});

describe('client order ids', () => {
  const again = (clientOrderId: string) => ({
    op: 'new',
    id: 101,
    instrument: ACME,
    clientOrderId,
    side: 'buy',
    orderType: 'limit',
    quantity: '1',
    price: '97.00',
  });
  const dup = (coid: string) =>
    new RegExp(`clientOrderId "${coid}" was used before by this account; each order needs a new one`);

  it('of a live order: DUPLICATE_CLIENT_ORDER_ID', async () => {
    await refused(alice, json(again('a-rest-buy')), 'DUPLICATE_CLIENT_ORDER_ID', dup('a-rest-buy'), 101);
  });

  it('of a canceled order: DUPLICATE_CLIENT_ORDER_ID, never a second order', async () => {
    await place(
      alice,
      { instrument: ACME, clientOrderId: 'dup-canceled', side: 'buy', quantity: '1', price: '96.00' },
      'new',
    );
    assert.equal((await alice.request({ op: 'cancel', clientOrderId: 'dup-canceled' })).type, 'ack');
    await alice.next(
      (m) => m.type === 'exec' && m.clientOrderId === 'dup-canceled' && m.status === 'canceled',
    );
    await refused(alice, json(again('dup-canceled')), 'DUPLICATE_CLIENT_ORDER_ID', dup('dup-canceled'), 101);
  });

  it('of a filled order: DUPLICATE_CLIENT_ORDER_ID, never a second order', async () => {
    await place(
      bob,
      { instrument: ACME, clientOrderId: 'b-fill', side: 'sell', quantity: '2', price: '101.00' },
      'new',
    );
    await place(
      alice,
      {
        instrument: ACME,
        clientOrderId: 'dup-filled',
        side: 'buy',
        quantity: '2',
        price: '101.00',
        tif: 'IOC',
      },
      'filled',
    );
    await refused(alice, json(again('dup-filled')), 'DUPLICATE_CLIENT_ORDER_ID', dup('dup-filled'), 101);
  });

  it('of another account is free to use (ids are per account)', async () => {
    const report = await place(
      alice,
      { instrument: ACME, clientOrderId: 'b-rest-1', side: 'buy', quantity: '1', price: '95.00' },
      'new',
    );
    assert.equal((await alice.request({ op: 'cancel', orderId: report.orderId })).type, 'ack');
    await alice.next((m) => m.type === 'exec' && m.orderId === report.orderId && m.status === 'canceled');
    assert.equal(gw.exchange.engine.orderOf(aliceAccount, 'b-rest-1'), undefined);
    assert.notEqual(gw.exchange.engine.order(bobOrderId), undefined);
  });

  it('sent twice at once: one order, one DUPLICATE_CLIENT_ORDER_ID', async () => {
    const from = alice.messages.length;
    alice.send({ ...again('dup-pipe'), id: 102 });
    alice.send({ ...again('dup-pipe'), id: 103, price: '97.50' });
    await alice.next((m) => m.type === 'exec' && m.clientOrderId === 'dup-pipe' && m.status === 'new');
    await alice.ping();
    const second = alice.since(from).filter((m) => m.id === 103);
    assert.deepEqual(
      second.map((m) => [m.type, m.code]),
      [['error', 'DUPLICATE_CLIENT_ORDER_ID']],
    );
    const open = gw.exchange.engine.openOrders(aliceAccount).filter((o) => o.clientOrderId === 'dup-pipe');
    assert.equal(open.length, 1);
    assert.equal(open[0]!.price, 9700);
  });
});

describe('market data channels', () => {
  const unknownChannels = [
    'book.7:ACME@evm:31337',
    'book:ACME@evm:31337',
    'nope',
    'trades:',
    'book.10',
    'BOOK.10:ACME@evm:31337',
    'consolidated.3:ACME',
    'quotes:ACME@evm:31337',
    'candles.2m:ACME@evm:31337',
    'candles:ACME@evm:31337',
    'candles.1M:ACME@evm:31337',
  ];
  for (const channel of unknownChannels) {
    it(`subscribe to ${JSON.stringify(channel)}: UNKNOWN_CHANNEL naming it, and no "subscribed"`, async () => {
      const error = await refused(
        anon,
        json({ op: 'subscribe', id: 111, channel }),
        'UNKNOWN_CHANNEL',
        /^unknown channel /,
        111,
      );
      assert.ok((error.message as string).includes(JSON.stringify(channel)));
    });
  }

  for (const channel of [
    'book.10:NOPE@evm:31337',
    'trades:ACME',
    'ticker:ACME@evm:1',
    'consolidated.5:NOPE',
    'candles.1m:NOPE@evm:31337',
  ]) {
    it(`subscribe to ${JSON.stringify(channel)}: UNKNOWN_INSTRUMENT, and no "subscribed"`, async () => {
      await refused(
        anon,
        json({ op: 'subscribe', id: 112, channel }),
        'UNKNOWN_INSTRUMENT',
        /^unknown instrument "/,
        112,
      );
    });
  }

  it('unsubscribe from a channel not subscribed: UNKNOWN_CHANNEL', async () => {
    await refused(
      anon,
      json({ op: 'unsubscribe', id: 113, channel: 'book.10:ACME@evm:31337' }),
      'UNKNOWN_CHANNEL',
      /not subscribed to "book.10:ACME@evm:31337"/,
      113,
    );
  });
});

// ---- frames over the size limit -------------------------------------------------------------

describe('an oversized frame', () => {
  it('closes that connection with 1009, executes nothing, and other connections keep working', async () => {
    const limit = gw.config.limits.maxFrameBytes;
    const victim = await WsClient.connect(gw.url);
    await login(victim, aliceWallet); // a second session of Alice's account
    await gw.exchange.durable.flush();
    const was = stateOf(gw, submitted);
    const order = JSON.stringify({
      op: 'new',
      id: 1,
      instrument: ACME,
      clientOrderId: 'huge-1',
      side: 'buy',
      orderType: 'limit',
      quantity: '1',
      price: '98.00',
    });
    const frame = `${order.slice(0, -1)}${' '.repeat(limit + 1 - order.length)}}`;
    assert.equal(Buffer.byteLength(frame), limit + 1);
    victim.sendRaw(frame);
    const closed = await victim.closed;
    assert.equal(closed.code, 1009, `closed with ${closed.code} ${closed.reason}`);
    for (const c of [alice, anon, bob]) await c.ping();
    const fresh = await WsClient.connect(gw.url);
    await fresh.ping();
    await fresh.close();
    await gw.exchange.durable.flush();
    assertUnchanged(gw, submitted, was);
    assert.equal(gw.exchange.engine.orderOf(aliceAccount, 'huge-1'), undefined);
  });

  it('a frame of exactly the limit is still read', async () => {
    const limit = gw.config.limits.maxFrameBytes;
    const id = 'exact';
    const ping = JSON.stringify({ op: 'ping', id });
    const frame = `${ping.slice(0, -1)}${' '.repeat(limit - ping.length)}}`;
    assert.equal(Buffer.byteLength(frame), limit);
    anon.sendRaw(frame);
    assert.equal((await anon.reply(id)).type, 'pong');
  });
});

// ---- rate limit -------------------------------------------------------------------------------

describe('rate limiting (5 messages/s, burst 5)', () => {
  let rl: { gw: Embedded; submitted: Unstamped[]; dataDir: string };
  const clients: WsClient[] = [];

  before(async () => {
    rl = await start((c) => {
      c.limits = { ...c.limits, messagesPerSecond: 5, burst: 5 };
    });
  });
  after(async () => {
    await stop(rl.gw, rl.dataDir, clients);
  });

  it('the 6th message at once gets RATE_LIMITED with retryAfterMs; after that long a message works', async () => {
    const c = await WsClient.connect(rl.gw.url);
    clients.push(c);
    const was = stateOf(rl.gw, rl.submitted);
    for (let i = 1; i <= 5; i++) c.send({ op: 'ping', id: i });
    c.send({
      op: 'new',
      id: 6,
      instrument: ACME,
      clientOrderId: 'rl-1',
      side: 'buy',
      orderType: 'market',
      quantity: '1',
    });
    const limited = await c.reply(6);
    assert.deepEqual(
      c.messages.slice(0, 5).map((m) => [m.type, m.id]),
      [1, 2, 3, 4, 5].map((i) => ['pong', i]),
    );
    assert.equal(limited.type, 'error');
    assert.equal(limited.code, 'RATE_LIMITED');
    const wait = limited.retryAfterMs;
    assert.ok(
      typeof wait === 'number' && Number.isInteger(wait) && wait > 0 && wait <= 200,
      `retryAfterMs ${String(wait)}`,
    );
    assert.match(
      limited.message as string,
      new RegExp(`rate limit of 5 messages/s .*exceeded; retry in ${wait} ms`),
    );
    assertUnchanged(rl.gw, rl.submitted, was);
    // The contract under test is a time: once retryAfterMs has passed, the bucket holds a token.
    await new Promise((r) => setTimeout(r, wait));
    c.send({ op: 'ping', id: 7 });
    assert.equal((await c.reply(7)).type, 'pong');
  });

  it('each connection has its own bucket', async () => {
    const [a, b] = await Promise.all([WsClient.connect(rl.gw.url), WsClient.connect(rl.gw.url)]);
    clients.push(a, b);
    for (let i = 1; i <= 6; i++) a.send({ op: 'ping', id: i });
    assert.equal((await a.reply(6)).code, 'RATE_LIMITED');
    for (let i = 1; i <= 5; i++) b.send({ op: 'ping', id: i });
    await b.reply(5);
    assert.deepEqual(
      b.messages.map((m) => m.type),
      ['pong', 'pong', 'pong', 'pong', 'pong'],
    );
  });

  it('unparseable frames count against the limit too', async () => {
    const c = await WsClient.connect(rl.gw.url);
    clients.push(c);
    for (let i = 0; i < 6; i++) c.sendRaw('{not json');
    c.send({ op: 'ping', id: 'after' });
    const answer = await c.reply('after');
    const codes = c.messages.map((m) => m.code ?? m.type);
    assert.equal(answer.code, 'RATE_LIMITED', `answers: ${codes.join(', ')}`);
    assert.deepEqual(codes.slice(0, 5), ['BAD_JSON', 'BAD_JSON', 'BAD_JSON', 'BAD_JSON', 'BAD_JSON']);
    assert.equal(codes[5], 'RATE_LIMITED');
  });
});

// ---- text the journal cannot hold ---------------------------------------------------------------

describe('text that is not well-formed', () => {
  let own: { gw: Embedded; submitted: Unstamped[]; dataDir: string };
  let trader: WsClient;
  const processErrors: unknown[] = [];
  const onProcessError = (err: unknown) => processErrors.push(err);

  before(async () => {
    own = await start();
    trader = await WsClient.connect(own.gw.url);
    await login(trader, makeWallet());
    process.on('uncaughtException', onProcessError);
  });
  after(async () => {
    process.off('uncaughtException', onProcessError);
    await stop(own.gw, own.dataDir, [trader]);
  });

  it('a clientOrderId with a lone surrogate: BAD_MESSAGE, and the exchange keeps running', async () => {
    const was = stateOf(own.gw, own.submitted);
    const from = trader.messages.length;
    trader.sendRaw(
      '{"op":"new","id":1,"instrument":"ACME@evm:31337","clientOrderId":"x\\ud800","side":"buy",' +
        '"orderType":"limit","quantity":"1","price":"98.00"}',
    );
    await trader.ping();
    // An idle tick of the exchange comes and goes: journaled and published like any command.
    const seq = own.gw.exchange.engine.commandSeq;
    const published = new Promise<void>((resolve) =>
      own.gw.exchange.onEvents((s) => {
        if (s > seq) resolve();
      }),
    );
    await within('an idle tick of the exchange', published, () => `error: ${String(own.gw.exchange.error)}`);
    assert.equal(own.gw.exchange.error, null, `the exchange stopped: ${String(own.gw.exchange.error)}`);
    const answers = trader.since(from);
    assert.deepEqual(
      answers.map((m) => [m.type, m.code]),
      [
        ['error', 'BAD_MESSAGE'],
        ['pong', undefined],
      ],
      JSON.stringify(answers).slice(0, 600),
    );
    assert.match(answers[0]!.message as string, /clientOrderId/);
    assertUnchanged(own.gw, own.submitted, was);
    const health = await fetch(`${own.gw.url}/health`);
    assert.equal(health.status, 200);
    await place(
      trader,
      { instrument: ACME, clientOrderId: 'after', side: 'buy', quantity: '1', price: '98.00' },
      'new',
    );
    assert.deepEqual(processErrors, []);
  });

  it('a text frame that is not UTF-8 closes that connection with 1007 (RFC 6455) and changes nothing', async () => {
    const victim = await WsClient.connect(own.gw.url);
    const was = stateOf(own.gw, own.submitted);
    victim.sendRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    assert.equal((await victim.closed).code, 1007);
    assert.equal((await trader.ping()).type, 'pong');
    assertUnchanged(own.gw, own.submitted, was);
  });
});
