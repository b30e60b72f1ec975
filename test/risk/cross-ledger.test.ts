/**
 * Cross-ledger instruments in the engine, given / when / then: BOND listed on a Fabric network and
 * quoted in the EVM chain's USDC (`quoteVenue`). The risk stage reserves the cash on the chain's
 * balance and the security on the network's; each trade's two legs are reported by their
 * ledgers (`settle-leg`), and the trade is final once both are: settled if both were claimed,
 * reversed if neither was, each leg as its ledger did it otherwise.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, Engine, feeFor } from '../../engine/index.ts';
import { type Cmd, type Ev, limitOrder, riskEngine, spec } from '../support/engine.ts';

const EVM = 'evm:31337';
const FABRIC = 'fabric:bank-net';
const BOND = `BOND@${FABRIC}`;
const USDC = `USDC@${EVM}`;
const K = 100;
/** Bob's USDC. */
const CASH0 = 1_000_000_000;
/** The buyer pays the notional and the taker fee (5 bp), in cash units. */
const paid = (price: number, qty: number) => (price * qty + feeFor(price * qty, 5)) * K;

/** Seller alice holds BOND on the network, buyer bob USDC on the chain; both stand on both venues. */
function given() {
  const { engine, run } = riskEngine();
  const listed = run({
    type: 'list-instrument',
    spec: spec({
      id: BOND,
      maxQty: 100_000,
      maxPrice: 10_000_000,
      quote: 'USDC',
      quoteUnit: '0.0001',
      quoteVenue: EVM,
    }),
  });
  assert.equal(listed[0]?.kind, 'instrument', JSON.stringify(listed));
  for (const account of ['alice', 'bob'])
    for (const venue of [FABRIC, EVM]) run({ type: 'set-account', account, venue, eligible: true });
  run({ type: 'deposit', account: 'alice', asset: BOND, amount: 100 });
  run({ type: 'deposit', account: 'bob', asset: USDC, amount: CASH0 });
  const balance = (account: string, asset: string) => {
    const b = engine.balances(account).find((x) => x.asset === asset);
    return b && [b.available, b.reserved, b.pendingIn, b.pendingOut];
  };
  const order = (account: string, id: string, side: 'buy' | 'sell', price: number, quantity: number) =>
    run(limitOrder(BOND, account, id, side, price, quantity));
  const leg = (tradeId: number, which: 'security' | 'cash', state: string, extra: object = {}) =>
    run({ type: 'settle-leg', tradeId, leg: which, state, ...extra } as Cmd);
  /** Alice sells 10 at 100.00 to bob: the trade's id. */
  let n = 0;
  const trade = () => {
    n++;
    order('alice', `a${n}`, 'sell', 10_000, 10);
    const t = order('bob', `b${n}`, 'buy', 10_000, 10).find((e) => e.kind === 'trade');
    assert.ok(t);
    return t.tradeId as number;
  };
  return { engine, run, balance, order, leg, trade };
}

describe('cross-ledger instruments', () => {
  it('given BOND quoted in the chain’s USDC, then the cash is the chain’s asset, a buy reserves it there and a sell reserves the security on the network', () => {
    const { engine, balance, order, trade } = given();
    assert.deepEqual(
      engine.assets().map(([a]) => a),
      [BOND, USDC],
    );
    order('bob', 'b0', 'buy', 9_000, 1);
    assert.equal(balance('bob', USDC)![1]! > 0, true, 'the buy reserves the chain’s USDC');
    const id = trade();
    const [t] = engine.pendingSettlements();
    assert.equal(t!.tradeId, id);
    assert.deepEqual(t!.legs, ['none', 'none']);
    assert.equal(typeof t!.matchedAt, 'number');
    assert.deepEqual(balance('alice', BOND), [90, 0, 0, 10]);
    assert.deepEqual(balance('bob', BOND), [0, 0, 10, 0]);
    assert.equal(balance('bob', USDC)![3], paid(10_000, 10));
  });

  it('given an account not standing on the cash’s chain, when it orders, then it is refused as not eligible there', () => {
    const { run, order } = given();
    run({ type: 'set-account', account: 'carol', venue: FABRIC, eligible: true });
    run({ type: 'deposit', account: 'carol', asset: BOND, amount: 5 });
    const refused = order('carol', 'c1', 'sell', 10_000, 1)[0]!;
    assert.equal(refused.code, Code.RISK_NOT_ELIGIBLE);
    assert.equal(refused.reason, `account is not eligible on ${EVM}`);
    run({ type: 'set-account', account: 'carol', venue: EVM, frozen: true, eligible: true });
    assert.equal(order('carol', 'c2', 'sell', 10_000, 1)[0]!.code, Code.RISK_FROZEN);
  });

  it('given a trade, when both legs are locked then claimed, then it settles: the buyer has the security, the seller the cash, the venue its fees', () => {
    const { engine, balance, leg, trade } = given();
    const id = trade();
    const locked = leg(id, 'security', 'locked', { ref: 'fab-tx-1' });
    assert.deepEqual(
      locked.map((e) => [e.kind, e.leg, e.venue, e.status, e.ref]),
      [['leg', 'security', FABRIC, 'locked', 'fab-tx-1']],
    );
    leg(id, 'cash', 'locked', { ref: '0xaa', gas: 90_000, gasFee: '900' });
    leg(id, 'security', 'claimed');
    assert.ok(engine.pendingSettlement(id), 'not final until both legs are claimed');
    assert.deepEqual(engine.pendingSettlement(id)!.legs, ['claimed', 'locked']);
    const last = leg(id, 'cash', 'claimed', { ref: '0xbb' });
    assert.deepEqual(
      last.filter((e) => e.kind === 'leg' || e.kind === 'settlement').map((e) => [e.kind, e.ok, e.reason]),
      [
        ['leg', undefined, ''],
        ['settlement', true, ''],
      ],
    );
    assert.equal(engine.pendingSettlement(id), undefined);
    assert.deepEqual(balance('bob', BOND), [10, 0, 0, 0]);
    assert.deepEqual(balance('alice', BOND), [90, 0, 0, 0]);
    const sellerCash = (10_000 * 10 - feeFor(10_000 * 10, -1)) * K;
    assert.deepEqual(balance('alice', USDC), [sellerCash, 0, 0, 0]);
    assert.deepEqual(balance('bob', USDC), [CASH0 - paid(10_000, 10), 0, 0, 0]);
  });

  it('given a trade whose security leg the network refused, when the cash leg is reported not locked, then the trade is reversed', () => {
    const { engine, balance, leg, trade } = given();
    const id = trade();
    leg(id, 'security', 'refused', { reason: 'FROZEN' });
    const evs = leg(id, 'cash', 'refused', { reason: 'the security leg was refused' });
    const settlement = evs.find((e) => e.kind === 'settlement')!;
    assert.equal(settlement.ok, false);
    assert.equal(settlement.reason, 'reversed: the security leg was refused, the cash leg refused');
    assert.equal(engine.pendingSettlement(id), undefined);
    assert.deepEqual(balance('alice', BOND), [100, 0, 0, 0]);
    assert.deepEqual(balance('bob', USDC), [CASH0, 0, 0, 0]);
    assert.deepEqual(balance('bob', BOND), [0, 0, 0, 0]);
  });

  it('given both legs locked, when both are refunded after their expiries, then the trade is reversed', () => {
    const { balance, leg, trade } = given();
    const id = trade();
    leg(id, 'security', 'locked');
    leg(id, 'cash', 'locked');
    leg(id, 'cash', 'refunded');
    const evs = leg(id, 'security', 'refunded');
    assert.equal(evs.find((e) => e.kind === 'settlement')?.ok, false);
    assert.deepEqual(balance('alice', BOND), [100, 0, 0, 0]);
    assert.deepEqual(balance('bob', USDC), [CASH0, 0, 0, 0]);
  });

  it('given one leg claimed and the other refunded (the margins broken), then each leg is as its ledger did it', () => {
    const { balance, leg, trade } = given();
    const id = trade();
    leg(id, 'security', 'locked');
    leg(id, 'cash', 'locked');
    leg(id, 'security', 'claimed');
    const evs = leg(id, 'cash', 'refunded');
    const settlement = evs.find((e) => e.kind === 'settlement')!;
    assert.equal(settlement.ok, false);
    assert.equal(settlement.reason, 'split: the security leg was claimed, the cash leg refunded');
    assert.deepEqual(balance('bob', BOND), [10, 0, 0, 0], 'the buyer got the security');
    assert.deepEqual(balance('bob', USDC), [CASH0, 0, 0, 0], 'and kept the cash');
    assert.deepEqual(balance('alice', BOND), [90, 0, 0, 0]);
    assert.deepEqual(balance('alice', USDC), [0, 0, 0, 0], 'and the seller got no cash');
  });

  it('given steps out of order or of the wrong kind, then each is refused and nothing changes', () => {
    const { engine, run, leg, trade } = given();
    const id = trade();
    const refusal = (evs: Ev[]) => {
      assert.equal(evs.length, 1, JSON.stringify(evs));
      return [evs[0]!.code, evs[0]!.reason];
    };
    assert.deepEqual(refusal(leg(id, 'security', 'claimed')), [
      Code.INVALID_COMMAND,
      `the security leg of trade ${id} is not locked: it cannot become claimed`,
    ]);
    leg(id, 'cash', 'locked');
    assert.deepEqual(refusal(leg(id, 'cash', 'locked')), [
      Code.INVALID_COMMAND,
      `the cash leg of trade ${id} is locked: it cannot become locked`,
    ]);
    assert.deepEqual(refusal(leg(id, 'cash', 'refused')), [
      Code.INVALID_COMMAND,
      `the cash leg of trade ${id} is locked: it cannot become refused`,
    ]);
    assert.deepEqual(refusal(run({ type: 'settle', tradeId: id, ok: true })), [
      Code.INVALID_COMMAND,
      `trade ${id} is cross-ledger: each of its legs is settled by settle-leg`,
    ]);
    assert.equal(refusal(leg(id, 'both' as 'cash', 'locked'))[0], Code.INVALID_COMMAND);
    assert.equal(refusal(leg(999, 'cash', 'locked'))[0], Code.RISK_UNKNOWN_TRADE);
    assert.deepEqual(engine.pendingSettlement(id)!.legs, ['none', 'locked']);
    // And a same-ledger trade takes no leg.
    run({
      type: 'list-instrument',
      spec: spec({
        id: `ACME@${EVM}`,
        maxQty: 100_000,
        maxPrice: 10_000_000,
        quote: 'USDC',
        quoteUnit: '0.0001',
      }),
    });
    run({ type: 'deposit', account: 'alice', asset: `ACME@${EVM}`, amount: 5 });
    run({
      type: 'new',
      instrument: `ACME@${EVM}`,
      account: 'alice',
      clientOrderId: 'x1',
      side: 'sell',
      orderType: 'limit',
      price: 10_000,
      quantity: 1,
    });
    const t = run({
      type: 'new',
      instrument: `ACME@${EVM}`,
      account: 'bob',
      clientOrderId: 'x2',
      side: 'buy',
      orderType: 'limit',
      price: 10_000,
      quantity: 1,
    }).find((e) => e.kind === 'trade')!;
    assert.deepEqual(refusal(leg(t.tradeId as number, 'cash', 'locked')), [
      Code.INVALID_COMMAND,
      `trade ${t.tradeId} settles on one ledger: send it a settle`,
    ]);
  });

  it('given a quoteVenue that is no venue, or the instrument’s own, then the listing is refused', () => {
    const { run } = given();
    const bad = (quoteVenue: string) =>
      run({ type: 'list-instrument', spec: spec({ id: `GILT@${FABRIC}`, quoteVenue }) })[0]!;
    assert.equal(bad('nowhere').reason, 'quoteVenue must be a venue, kind:name such as evm:31337');
    assert.equal(
      bad(FABRIC).reason,
      "quoteVenue must be another venue than the instrument's (leave it out for the same)",
    );
  });

  it('given legs in flight, then a snapshot keeps them and the state hash sees them', () => {
    const { engine, leg, trade } = given();
    const id = trade();
    const before = engine.stateHash();
    leg(id, 'security', 'locked');
    const copy = Engine.fromSnapshot(JSON.parse(JSON.stringify(engine.snapshot())), { risk: true });
    assert.equal(copy.stateHash(), engine.stateHash());
    assert.notEqual(engine.stateHash(), before);
    assert.deepEqual(copy.pendingSettlement(id)!.legs, ['locked', 'none']);
    copy.execute({ type: 'settle-leg', ts: 10_000, tradeId: id, leg: 'cash', state: 'locked' });
    assert.deepEqual(engine.pendingSettlement(id)!.legs, ['locked', 'none'], 'the copy shares no legs');
  });
});
