/**
 * Price candles over REST (`/api/candles`) and the `candles.I` channels, against the real
 * exchange in-process with its clock set by the test, so that trades fall on chosen sides of
 * interval boundaries: the candles are checked against those the test computes from the trades
 * it saw on the `trades` channel; the channel's sequence, snapshot, `fromSeq` replay and
 * heartbeat; the REST answer's sequence used as `fromSeq`; bad parameters; a permissioned
 * venue's candles for its members only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Embedded } from '../../app/index.ts';
import { candlesOf, ClientCandles, type Interval, INTERVALS, type SeenTrade } from '../support/candles.ts';
import { testGateway } from '../support/gateway.ts';
import { type FabricMember, issue, makeMsp, makeWallet } from '../support/identities.ts';
import { until } from '../support/wait.ts';
import { login, loginFabric, type Msg, WsClient } from '../support/ws-client.ts';

type Json = Record<string, unknown>;
const ACME = 'ACME@evm:31337';
const GILT = 'GILT@fabric:club-net';
/** An hour boundary: every interval starts a candle there. */
const HOUR = Date.UTC(2026, 0, 5, 11);
const NAMES = Object.keys(INTERVALS) as Interval[];

describe('candles', () => {
  let gw: Embedded;
  let clock = HOUR - 60_000;
  let seller: WsClient;
  let buyer: WsClient;
  let watcher: WsClient;
  let members: [FabricMember, FabricMember];
  const clients: WsClient[] = [];
  let n = 0;

  const connect = async () => {
    const c = await WsClient.connect(gw.url);
    clients.push(c);
    return c;
  };
  const get = async (query: string, token?: string) => {
    const res = await fetch(`${gw.url}/api/candles?${query}`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const order = (instrument: string, side: 'buy' | 'sell', price: string, quantity: string) => ({
    op: 'new',
    instrument,
    clientOrderId: `o${++n}`,
    side,
    orderType: 'limit',
    price,
    quantity,
  });
  /** At `at`, the seller rests `asks` ([price, quantity]) and the buyer takes them all in one order. */
  const trade = async (
    at: number,
    asks: Array<[string, string]>,
    instrument = ACME,
    s = seller,
    b = buyer,
  ) => {
    clock = at;
    for (const [price, quantity] of asks) {
      const o = order(instrument, 'sell', price, quantity);
      s.send(o);
      await s.next((m) => m.clientOrderId === o.clientOrderId && m.status === 'new');
    }
    const top = asks.map(([p]) => p).sort((x, y) => Number(y) - Number(x))[0]!;
    const total = asks.reduce((sum, [, q]) => sum + Number(q), 0);
    const o = order(instrument, 'buy', top, String(total));
    b.send(o);
    await b.next(
      (m) => m.clientOrderId === o.clientOrderId && (m.status === 'filled' || m.status === 'rejected'),
    );
  };
  /** The trades the watcher saw on `trades:ACME`, once it has seen `count` (and everything sent before a pong). */
  const seen = async (count: number): Promise<SeenTrade[]> => {
    const list = () =>
      watcher.messages
        .filter((m) => m.channel === `trades:${ACME}` && (m.type === 'snapshot' || m.type === 'update'))
        .flatMap((m) => m.trades as SeenTrade[]);
    await until(`${count} trades`, () => list().length >= count);
    await watcher.ping();
    return list();
  };
  const fed = (c: WsClient, channel: string) => {
    const copy = new ClientCandles();
    for (const m of c.messages) if (m.channel === channel) copy.apply(m as never);
    return copy;
  };

  before(async () => {
    const club = await makeMsp('ClubMSP');
    members = [await issue(club, 'erin'), await issue(club, 'frank')];
    gw = await testGateway((c) => void (c.msps = [club.config]), { now: () => clock });
    [seller, buyer, watcher] = [await connect(), await connect(), await connect()];
    await login(seller, makeWallet());
    await login(buyer, makeWallet());
  });
  after(async () => {
    for (const c of clients) await c.close();
    await gw?.close();
  });

  it('builds 1s, 1m, 5m and 1h candles across interval boundaries, as the trades give them, over the channel and REST', async () => {
    // Given a watcher of the trades and of every candle channel before any trade
    const subscribed = new Map<Interval, Msg>();
    await watcher.request({ op: 'subscribe', channel: `trades:${ACME}` });
    for (const i of NAMES) {
      subscribed.set(i, await watcher.request({ op: 'subscribe', channel: `candles.${i}:${ACME}` }));
      const snap = await watcher.next((m) => m.channel === `candles.${i}:${ACME}` && m.type === 'snapshot');
      assert.deepEqual([snap.seq, snap.candles], [0, []]);
    }
    // When trades come at times on both sides of a boundary of every interval, one order taking two
    const steps: Array<[number, Array<[string, string]>]> = [
      [HOUR - 900, [['100.00', '3']]],
      [
        HOUR - 100,
        [
          ['99.80', '2'],
          ['100.50', '1'],
        ],
      ],
      [HOUR, [['101.00', '1']]],
      [HOUR + 999, [['100.20', '4']]],
      [HOUR + 59_999, [['99.90', '1']]],
      [HOUR + 60_000, [['100.10', '2']]],
      [HOUR + 300_000, [['100.30', '5']]],
    ];
    for (const [at, asks] of steps) await trade(at, asks);
    const trades = await seen(8);
    assert.deepEqual(
      trades.map((t) => [t.ts, t.price]),
      steps.flatMap(([at, asks]) => asks.map(([price]) => [at, price])),
    );

    for (const i of NAMES) {
      const expected = candlesOf(trades, i);
      const channel = `candles.${i}:${ACME}`;
      // Then the channel's updates, one per order that traded and none for the orders that rested, give them
      const copy = fed(watcher, channel);
      assert.deepEqual(copy.candles, expected, channel);
      assert.equal(copy.updates, steps.length, `${channel}: one update per command that traded`);
      const twoTrades = watcher.messages.filter((m) => m.channel === channel && m.type === 'update')[1]!;
      assert.equal((twoTrades.candles as unknown[]).length, 1, 'the order that took two asks: one candle');
      // And REST gives them, with the channel's sequence and epoch
      const rest = await get(`instrument=${ACME}&interval=${i}`);
      assert.equal(rest.status, 200, JSON.stringify(rest.body));
      assert.deepEqual(rest.body.candles, expected);
      assert.deepEqual(
        [rest.body.instrument, rest.body.interval, rest.body.seq, rest.body.epoch],
        [ACME, i, copy.seq, subscribed.get(i)!.epoch],
      );
      // And a new subscriber's snapshot too, oldest first
      const late = await connect();
      await late.request({ op: 'subscribe', channel });
      const snap = await late.next((m) => m.channel === channel && m.type === 'snapshot');
      assert.deepEqual([snap.seq, snap.candles], [copy.seq, expected]);
    }
    // (the trades did straddle a boundary of each interval)
    assert.deepEqual(
      NAMES.map((i) => candlesOf(trades, i).length),
      [5, 4, 3, 2],
    );

    // And REST bounds are open times, inclusive; a limit keeps the most recent, oldest first
    const oneMinute = candlesOf(trades, '1m');
    const pick = async (query: string) => (await get(`instrument=${ACME}&interval=1m&${query}`)).body.candles;
    assert.deepEqual(
      await pick(`from=${HOUR}&to=${HOUR + 60_000}`),
      oneMinute.filter((c) => c.t === HOUR || c.t === HOUR + 60_000),
    );
    assert.deepEqual(await pick(`from=${HOUR + 1}&to=${HOUR + 59_999}`), []);
    assert.deepEqual(await pick('limit=2'), oneMinute.slice(-2));
    assert.deepEqual(await pick(`to=${HOUR}&limit=1`), [oneMinute.find((c) => c.t === HOUR)]);
  });

  it('answers REST with a sequence from which a subscription gets exactly the updates after; replays retained updates; heartbeats', async () => {
    const channel = `candles.5m:${ACME}`;
    // Given the candles loaded over REST
    const rest = (await get(`instrument=${ACME}&interval=5m`)).body;
    // When a trade changes the current candle, and a client subscribes from the REST sequence
    await trade(HOUR + 300_500, [['100.40', '1']]);
    const trades = await seen(9);
    const c = await connect();
    const ack = await c.request({ op: 'subscribe', channel, fromSeq: rest.seq, epoch: rest.epoch });
    assert.equal(ack.type, 'subscribed', JSON.stringify(ack));
    // Then it gets the update after it, not a snapshot: the current candle, whole
    const next = await c.next((m) => m.channel === channel && m.type !== 'heartbeat');
    assert.deepEqual(
      [next.type, next.seq, next.candles],
      ['update', (rest.seq as number) + 1, candlesOf(trades, '5m').slice(-1)],
    );

    // And from seq 0 of this epoch every retained update comes again, in order, without a snapshot
    const all = await connect();
    await all.request({ op: 'subscribe', channel, fromSeq: 0, epoch: rest.epoch });
    const last = (rest.seq as number) + 1;
    await all.next((m) => m.channel === channel && m.seq === last);
    const replayed = all.messages.filter((m) => m.channel === channel && m.type !== 'subscribed');
    assert.deepEqual(
      replayed.map((m) => [m.type, m.seq]),
      Array.from({ length: last }, (_, k) => ['update', k + 1]),
    );
    const copy = new ClientCandles();
    copy.apply({ type: 'snapshot', seq: 0, candles: [] });
    for (const m of replayed) copy.apply(m as never);
    assert.deepEqual(copy.candles, candlesOf(trades, '5m'));

    // And a fromSeq ahead of the channel, or of another epoch, gets a snapshot instead
    for (const [fromSeq, epoch] of [
      [last + 5, rest.epoch],
      [1, (rest.epoch as number) - 1],
    ]) {
      const d = await connect();
      await d.request({ op: 'subscribe', channel, fromSeq, epoch });
      const first = await d.next((m) => m.channel === channel);
      assert.deepEqual([first.type, first.seq, first.candles], ['snapshot', last, candlesOf(trades, '5m')]);
    }
    // And a quiet channel sends a heartbeat with its last seq
    const beat = await c.next((m) => m.channel === channel && m.type === 'heartbeat', 5_000);
    assert.equal(beat.seq, last);
  });

  it('refuses bad parameters naming what was wrong', async () => {
    const cases: Array<[string, number, string, string | undefined, RegExp]> = [
      ['interval=1m', 400, 'BAD_MESSAGE', 'instrument', /parameter instrument is required/],
      [`instrument=${ACME}`, 400, 'BAD_MESSAGE', 'interval', /parameter interval is required/],
      [
        `instrument=${ACME}&interval=2m`,
        400,
        'BAD_MESSAGE',
        'interval',
        /interval must be one of 1s, 1m, 5m, 1h/,
      ],
      [`instrument=${ACME}&interval=1M`, 400, 'BAD_MESSAGE', 'interval', /must be one of/],
      [
        'instrument=NOPE@evm:31337&interval=1m',
        404,
        'UNKNOWN_INSTRUMENT',
        undefined,
        /unknown instrument "NOPE@evm:31337"/,
      ],
      [`instrument=${ACME}&interval=1m&from=-1`, 400, 'BAD_MESSAGE', 'from', /parameter from must be >= 0/],
      [
        `instrument=${ACME}&interval=1m&from=soon`,
        400,
        'BAD_MESSAGE',
        'from',
        /parameter from must be integer/,
      ],
      [`instrument=${ACME}&interval=1m&to=1.5`, 400, 'BAD_MESSAGE', 'to', /parameter to must be integer/],
      [
        `instrument=${ACME}&interval=1m&from=${HOUR}&to=${HOUR - 1}`,
        400,
        'BAD_MESSAGE',
        'from',
        /from \(\d+\) is after to \(\d+\)/,
      ],
      [`instrument=${ACME}&interval=1m&limit=0`, 400, 'BAD_MESSAGE', 'limit', /parameter limit must be >= 1/],
      [
        `instrument=${ACME}&interval=1m&limit=1001`,
        400,
        'BAD_MESSAGE',
        'limit',
        /parameter limit must be <= 1000/,
      ],
      [
        `instrument=${ACME}&interval=1m&limit=many`,
        400,
        'BAD_MESSAGE',
        'limit',
        /parameter limit must be integer/,
      ],
      [
        `instrument=${ACME}&interval=1m&depth=5`,
        400,
        'BAD_MESSAGE',
        'depth',
        /depth is not a parameter of this route/,
      ],
    ];
    for (const [query, status, code, parameter, message] of cases) {
      const res = await get(query);
      assert.equal(res.status, status, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, code, query);
      assert.equal(res.body.parameter, parameter, query);
      assert.match(res.body.message as string, message, query);
    }
  });

  it("shows a permissioned venue's candles to its members only", async () => {
    // Given two members of the club trading GILT
    const [erin, frank] = [await connect(), await connect()];
    const { token } = await loginFabric(erin, members[0]);
    await loginFabric(frank, members[1]);
    clock = HOUR + 600_000;
    await trade(clock, [['98.50', '2']], GILT, erin, frank);
    const giltTrades = await erin.request({ op: 'subscribe', channel: `trades:${GILT}` });
    assert.equal(giltTrades.type, 'subscribed');
    const [t] = (await erin.next((m) => m.channel === `trades:${GILT}` && m.type === 'snapshot'))
      .trades as SeenTrade[];
    const expected = candlesOf([t!], '1m');
    // Then a member sees them over REST and on the channel
    const mine = await get(`instrument=${GILT}&interval=1m`, token);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.deepEqual(mine.body.candles, expected);
    await erin.request({ op: 'subscribe', channel: `candles.1m:${GILT}` });
    const snap = await erin.next((m) => m.channel === `candles.1m:${GILT}` && m.type === 'snapshot');
    assert.deepEqual(snap.candles, expected);
    // And to anyone else it is an unknown instrument, the same answer as for one not listed
    const outsider = await connect();
    const { token: other } = await login(outsider, makeWallet());
    for (const auth of [undefined, other]) {
      const hidden = await get(`instrument=${GILT}&interval=1m`, auth);
      const unknown = await get('instrument=GILX@fabric:club-net&interval=1m', auth);
      assert.deepEqual([hidden.status, hidden.body.code], [404, 'UNKNOWN_INSTRUMENT']);
      assert.equal(
        JSON.stringify(hidden.body).replaceAll(GILT, '<X>'),
        JSON.stringify(unknown.body).replaceAll('GILX@fabric:club-net', '<X>'),
      );
    }
    const refused = await outsider.request({ op: 'subscribe', channel: `candles.1m:${GILT}` });
    assert.equal(refused.code, 'UNKNOWN_INSTRUMENT');
  });
});
