/**
 * Published events: one typed shape per kind. Reading a field of another kind, or a misspelt
 * one, is a compile error (each `@ts-expect-error` below fails `tsc -b`, and so `npm test`, the
 * day the compiler accepts that read), where it used to compile and read `undefined` at run
 * time. And the JSON of each kind, as a shard writes it on its event stream, is pinned field by
 * field and in order, so that typing the events changed no byte of it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Command,
  Engine,
  type EventKind,
  eventToObject,
  type PublishedEvent,
  type Unstamped,
} from '../../engine/index.ts';
import { spec } from '../support/engine.ts';

const VENUE = 'evm:31337';
const ID = `ACME@${VENUE}`;
const CASH = `USDC@${VENUE}`;
const BOND = 'BOND@fabric:bank-net';

/** Every kind: a command stream with risk on that makes at least one event of each. */
function eventsOfEveryKind(): PublishedEvent[] {
  const limit = (account: string, clientOrderId: string, side: 'buy' | 'sell', quantity: number) =>
    ({
      type: 'new',
      instrument: ID,
      account,
      clientOrderId,
      side,
      orderType: 'limit',
      quantity,
      price: 10_000,
    }) as const;
  const commands: Unstamped[] = [
    {
      type: 'list-instrument',
      spec: spec({ id: ID, maxQty: 100_000, maxPrice: 10_000_000, quote: 'USDC', quoteUnit: '0.0001' }),
    },
    { type: 'set-account', account: 'alice', venue: VENUE, eligible: true },
    { type: 'set-account', account: 'bob', venue: VENUE, eligible: true },
    { type: 'deposit', account: 'alice', asset: ID, amount: 100 },
    { type: 'deposit', account: 'bob', asset: CASH, amount: 100_000_000 },
    { ...limit('alice', 'a1', 'sell', 10), tif: 'GTD', expireAt: 1_800_000_000_000 },
    { ...limit('bob', 'b0', 'buy', 1), orderType: 'stop-limit', stopPrice: 10_000 },
    limit('bob', 'b1', 'buy', 4), // trades, and triggers b0
    { type: 'replace', account: 'alice', clientOrderId: 'a1', quantity: 3 },
    { type: 'cancel', account: 'alice', clientOrderId: 'a1' },
    limit('bob', 'b2', 'buy', 0), // refused
    { type: 'settle', tradeId: 1, ok: true, ref: '0xabc', gas: 21_000, gasFee: '420000' },
    { type: 'request-withdrawal', account: 'alice', asset: ID, amount: 2 },
    { type: 'link', account: 'alice', identity: 'Org1MSP:alice' },
    // A cross-ledger instrument: BOND on a Fabric network, paid in the EVM chain's USDC.
    {
      type: 'list-instrument',
      spec: spec({
        id: BOND,
        maxQty: 100_000,
        maxPrice: 10_000_000,
        quote: 'USDC',
        quoteUnit: '0.0001',
        quoteVenue: VENUE,
      }),
    },
    { type: 'set-account', account: 'Org1MSP:alice', venue: 'fabric:bank-net', eligible: true },
    { type: 'set-account', account: 'bob', venue: 'fabric:bank-net', eligible: true },
    { type: 'deposit', account: 'Org1MSP:alice', asset: BOND, amount: 10 },
    { ...limit('alice', 'a2', 'sell', 1), instrument: BOND },
    { ...limit('bob', 'b3', 'buy', 1), instrument: BOND },
    { type: 'settle-leg', tradeId: 3, leg: 'security', state: 'locked', ref: 'tx1' },
  ];
  const engine = new Engine({ risk: true });
  const events: PublishedEvent[] = [];
  engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
  commands.forEach((c, i) => engine.execute({ ...c, ts: 1_700_000_000_000 + i } as Command));
  return events;
}

/** The first event of each kind that `eventsOfEveryKind` makes, as JSON: what the releases before typed events wrote. */
const PINNED: { [K in EventKind]: string } = {
  instrument:
    '{"seq":1,"commandSeq":1,"ts":1700000000000,"kind":"instrument","instrument":"ACME@evm:31337","status":"open"}',
  account:
    '{"seq":2,"commandSeq":2,"ts":1700000000001,"kind":"account","instrument":"","account":"alice","venue":"evm:31337","eligible":true,"frozen":false}',
  balance:
    '{"seq":4,"commandSeq":4,"ts":1700000000003,"kind":"balance","instrument":"","account":"alice","asset":"ACME@evm:31337","available":100,"reserved":0,"pendingIn":0,"pendingOut":0}',
  accepted:
    '{"seq":6,"commandSeq":6,"ts":1700000000005,"kind":"accepted","instrument":"ACME@evm:31337","orderId":1,"account":"alice","clientOrderId":"a1","side":"sell","orderType":"limit","tif":"GTD","price":10000,"stopPrice":0,"expireAt":1800000000000,"quantity":10,"leaves":10}',
  depth:
    '{"seq":7,"commandSeq":6,"ts":1700000000005,"kind":"depth","instrument":"ACME@evm:31337","side":"sell","price":10000,"quantity":10,"count":1}',
  bbo: '{"seq":8,"commandSeq":6,"ts":1700000000005,"kind":"bbo","instrument":"ACME@evm:31337","bidPrice":0,"bidQty":0,"askPrice":10000,"askQty":10}',
  trade:
    '{"seq":13,"commandSeq":8,"ts":1700000000007,"kind":"trade","instrument":"ACME@evm:31337","tradeId":1,"price":10000,"quantity":4,"aggressor":"buy","takerOrderId":3,"takerAccount":"bob","takerClientOrderId":"b1","takerLeaves":0,"takerFilled":4,"takerFee":20,"makerOrderId":1,"makerAccount":"alice","makerClientOrderId":"a1","makerLeaves":6,"makerFilled":4,"makerFee":-4}',
  triggered:
    '{"seq":14,"commandSeq":8,"ts":1700000000007,"kind":"triggered","instrument":"ACME@evm:31337","orderId":2,"account":"bob","clientOrderId":"b0","side":"buy","orderType":"limit","tif":"GTC","price":10000,"stopPrice":10000,"quantity":1,"leaves":1,"filled":0}',
  replaced:
    '{"seq":22,"commandSeq":9,"ts":1700000000008,"kind":"replaced","instrument":"ACME@evm:31337","orderId":1,"account":"alice","clientOrderId":"a1","side":"sell","price":10000,"quantity":3,"leaves":3,"filled":5,"keptPriority":true}',
  canceled:
    '{"seq":26,"commandSeq":10,"ts":1700000000009,"kind":"canceled","instrument":"ACME@evm:31337","orderId":1,"account":"alice","clientOrderId":"a1","side":"sell","quantity":3,"leaves":0,"filled":5,"reason":"user"}',
  rejected:
    '{"seq":30,"commandSeq":11,"ts":1700000000010,"kind":"rejected","instrument":"ACME@evm:31337","orderId":0,"account":"bob","clientOrderId":"b2","code":1020,"reason":"quantity must be a positive whole number of lots","newOrder":true}',
  settlement:
    '{"seq":31,"commandSeq":12,"ts":1700000000011,"kind":"settlement","instrument":"ACME@evm:31337","tradeId":1,"ok":true,"reason":"","ref":"0xabc","gas":21000,"gasFee":"420000"}',
  withdrawal:
    '{"seq":36,"commandSeq":13,"ts":1700000000012,"kind":"withdrawal","instrument":"","withdrawalId":1,"status":"pending","account":"alice","asset":"ACME@evm:31337","amount":2,"reason":"","ref":"","gas":0,"gasFee":""}',
  leg: '{"seq":55,"commandSeq":21,"ts":1700000000020,"kind":"leg","instrument":"BOND@fabric:bank-net","tradeId":3,"leg":"security","venue":"fabric:bank-net","status":"locked","reason":"","ref":"tx1","gas":0,"gasFee":""}',
  identity:
    '{"seq":38,"commandSeq":14,"ts":1700000000013,"kind":"identity","instrument":"","account":"alice","identity":"Org1MSP:alice","linked":true}',
};

/**
 * Reads the compiler refuses, one per kind, each of a field the event does not carry: what a
 * reader of the untyped events got was `undefined`, silently. Returns what they read at run time.
 */
function misreads(e: PublishedEvent): unknown {
  switch (e.kind) {
    case 'accepted':
      // @ts-expect-error a trade's id is no field of an accepted order
      return e.tradeId;
    case 'rejected':
      // @ts-expect-error a refusal has no side
      return e.side;
    case 'trade':
      // @ts-expect-error a trade names its two accounts by role: takerAccount, makerAccount
      return e.account;
    case 'canceled':
      // @ts-expect-error the size canceled is `quantity`
      return e.canceledQty;
    case 'replaced':
      // @ts-expect-error a replaced event does not repeat the order's type
      return e.orderType;
    case 'triggered':
      // @ts-expect-error a triggered event does not repeat the order's expiry
      return e.expireAt;
    case 'depth':
      // @ts-expect-error a level counts its orders in `count`
      return e.orders;
    case 'bbo':
      // @ts-expect-error the best bid is `bidPrice`
      return e.bid;
    case 'instrument':
      // @ts-expect-error an instrument event carries its status only
      return e.venue;
    case 'balance':
      // @ts-expect-error a balance's amounts are available, reserved, pendingIn and pendingOut
      return e.amount;
    case 'settlement':
      // @ts-expect-error a settlement's verdict is `ok`, a withdrawal's `status`
      return e.status;
    case 'account':
      // @ts-expect-error standing is `eligible` and `frozen`
      return e.eligibleOn;
    case 'withdrawal':
      // @ts-expect-error a withdrawal's verdict is `status`, a settlement's `ok`
      return e.ok;
    case 'identity':
      // @ts-expect-error a link names the identity, not a venue: its party is per venue
      return e.venue;
    case 'leg':
      // @ts-expect-error a leg's state is `status`, as a withdrawal's
      return e.state;
  }
}

/** The same kinds as `EventKind` in the union (a kind without its event type, or the reverse, fails to compile). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const everyKindTyped: Same<EventKind, PublishedEvent['kind']> = true;

describe('published events', () => {
  const events = eventsOfEveryKind();

  it('given one event of each kind, then each is the JSON releases before typed events wrote, field for field and in order', () => {
    assert.ok(everyKindTyped);
    for (const [kind, json] of Object.entries(PINNED)) {
      const e = events.find((x) => x.kind === kind);
      assert.ok(e, `an event of kind ${kind}`);
      assert.equal(JSON.stringify(e), json, kind);
    }
  });

  it('given a read of a field its kind does not carry, then it is a compile error; untyped, it read undefined', () => {
    const kinds = new Set<string>();
    for (const e of events) {
      assert.equal(misreads(e), undefined, `${e.kind} event ${e.seq}`);
      kinds.add(e.kind);
    }
    assert.equal(kinds.size, Object.keys(PINNED).length);
  });

  it('given a trade, then narrowing on its kind gives its fields typed, with no cast', () => {
    const trade = events.find((e) => e.kind === 'trade');
    assert.ok(trade);
    const notional: number = trade.price * trade.quantity;
    const accounts: [string, string] = [trade.takerAccount, trade.makerAccount];
    assert.deepEqual([notional, accounts], [40_000, ['bob', 'alice']]);
  });
});
