/**
 * A slow consumer over a real socket: a subscriber that stops reading while the books change
 * fast is switched to conflated updates and told so, nothing piles up for it on the server, and
 * once it reads again it is resynced with a snapshot from which its book is exact again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { XorShift32 } from '../../bench/index.ts';
import { fundAccount } from '../../app/demo.ts';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { type Msg, WsClient } from '../support/ws-client.ts';

const ACME = 'ACME@evm:31337';
const BOOK = `book.100:${ACME}`;
const CHANNELS = [
  BOOK,
  `book.1:${ACME}`,
  `book.5:${ACME}`,
  `book.10:${ACME}`,
  `book.25:${ACME}`,
  `book.50:${ACME}`,
  `ticker:${ACME}`,
  'consolidated.100:ACME',
];
const SLOW_BYTES = 64 * 1024;

describe('a slow consumer on a real socket', () => {
  let gw: Embedded;
  before(async () => {
    gw = await testGateway((c) => {
      c.feed = { ...c.feed, slowBytes: SLOW_BYTES };
    });
  });
  after(() => gw.close());

  it('is conflated and told so, holds no queue on the server, then is resynced exactly', async () => {
    const slow = await WsClient.connect(gw.url);
    for (const channel of CHANNELS) await slow.request({ op: 'subscribe', channel });
    await slow.ping();
    fundAccount(gw.exchange, 'driver-buy', () => true);
    fundAccount(gw.exchange, 'driver-sell', () => true);
    slow.pause();

    // Rest orders at many prices (none cross) until the server reports a conflation.
    const rng = new XorShift32(7);
    const live: Array<{ account: string; clientOrderId: string }> = [];
    let n = 0;
    while (gw.feed.stats().conflations === 0 && n < 200_000) {
      for (let i = 0; i < 200; i++, n++) {
        if (live.length > 400 && rng.int(0, 2) === 0) {
          const { account, clientOrderId } = live.splice(rng.int(0, live.length - 1), 1)[0]!;
          gw.exchange.submit({ type: 'cancel', account, clientOrderId });
          continue;
        }
        const buy = rng.int(0, 1) === 0;
        const account = buy ? 'driver-buy' : 'driver-sell';
        const clientOrderId = `d${n}`;
        gw.exchange.submit({
          type: 'new',
          instrument: ACME,
          account,
          clientOrderId,
          side: buy ? 'buy' : 'sell',
          orderType: 'limit',
          price: buy ? rng.int(9_000, 9_999) : rng.int(10_001, 11_000),
          quantity: rng.int(1, 50),
        });
        live.push({ account, clientOrderId });
      }
      await gw.exchange.durable.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const stats = gw.feed.stats();
    console.log(`conflated after ${n} commands: ${JSON.stringify(stats)}`);
    assert.ok(stats.conflations > 0, `no conflation after ${n} commands`);
    assert.ok(stats.withheld > 0);

    slow.resume();
    const notice = await slow.next((m) => m.type === 'conflated' && m.channel === BOOK, 20_000);
    const snapshot = await slow.next((m: Msg) => m.type === 'snapshot' && m.channel === BOOK, 20_000);
    assert.ok((snapshot.seq as number) >= (notice.seq as number));
    await slow.ping(20_000);
    await gw.exchange.durable.flush();
    await slow.ping(20_000);

    // The book from the resync snapshot and the updates after it equals the engine's.
    const book = { bids: new Map<string, string>(), asks: new Map<string, string>() };
    let seq = snapshot.seq as number;
    for (const [p, q] of snapshot.bids as string[][]) book.bids.set(p!, q!);
    for (const [p, q] of snapshot.asks as string[][]) book.asks.set(p!, q!);
    const after = slow.messages.slice(slow.messages.indexOf(snapshot) + 1);
    for (const m of after.filter((x) => x.channel === BOOK && x.type === 'update')) {
      assert.equal(m.seq, ++seq, 'a gap after the resync');
      for (const [side, levels] of [
        [book.bids, m.bids],
        [book.asks, m.asks],
      ] as const) {
        for (const [p, q] of levels as string[][]) {
          if (q === '0') side.delete(p!);
          else side.set(p!, q!);
        }
      }
    }
    const codec = gw.exchange.codec(ACME)!;
    const depth = gw.exchange.engine.depth(ACME, 100);
    assert.deepEqual(
      [...book.bids].sort((a, b) => Number(b[0]) - Number(a[0])),
      depth.bids.map(([p, q]) => [codec.price(p), codec.quantity(q)]),
    );
    assert.deepEqual(
      [...book.asks].sort((a, b) => Number(a[0]) - Number(b[0])),
      depth.asks.map(([p, q]) => [codec.price(p), codec.quantity(q)]),
    );
    await slow.close();
  });
});
