/**
 * Pre-trade risk scenarios, given / when / then, on both books. Instrument: tick 0.01, lot 1,
 * cash USDC counted in 0.0001 units, so one notional unit (0.01) is k = 100 cash units; taker
 * fee 5 bp, maker rebate 1 bp. A buy of q lots at cap P reserves (q*P + fee(q*P) + q) * k.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BookKind, Code, type Command, Engine, eventToObject, feeFor } from '../../engine/index.ts';
import { BOOKS, type Ev, spec } from '../support/engine.ts';

const ID = 'ACME@evm:31337';
const VENUE = 'evm:31337';
const CASH = 'USDC@evm:31337';
const K = 100;

/** A command without its timestamp (the scenario stamps it). */
type Cmd = DistributiveOmit<Command, 'ts'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
const LISTING = spec({
  id: ID,
  maxQty: 100_000,
  maxPrice: 10_000_000,
  quote: 'USDC',
  quoteUnit: '0.0001',
  referencePrice: 10_000,
  bandBps: 1000,
});

function buyReserve(qty: number, cap: number): number {
  return (qty * cap + feeFor(qty * cap, 5) + qty) * K;
}

/** An engine with risk on, the instrument listed, and alice (seller) and bob (buyer) funded. */
function given(kind: BookKind, funds: { bobCash?: number; aliceLots?: number } = {}) {
  const engine = new Engine({ book: kind, risk: true });
  const events: Ev[] = [];
  engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
  let ts = 1;
  const now = () => ts;
  const run = (c: Cmd) => {
    events.length = 0;
    engine.execute({ ...c, ts: ts++ } as Command);
    return [...events];
  };
  run({ type: 'list-instrument', spec: LISTING });
  for (const account of ['alice', 'bob']) run({ type: 'set-account', account, venue: VENUE, eligible: true });
  if (funds.bobCash) run({ type: 'deposit', account: 'bob', asset: CASH, amount: funds.bobCash });
  if (funds.aliceLots) run({ type: 'deposit', account: 'alice', asset: ID, amount: funds.aliceLots });
  /** The last balance event of an account in an asset among `evs`, as [available, reserved, pendingIn, pendingOut]. */
  const balance = (evs: Ev[], account: string, asset: string) => {
    const e = evs.filter((x) => x.kind === 'balance' && x.account === account && x.asset === asset).at(-1);
    return e && [e.available, e.reserved, e.pendingIn, e.pendingOut];
  };
  const order = (
    account: string,
    id: string,
    side: 'buy' | 'sell',
    price: number | null,
    quantity: number,
    extra = {},
  ) =>
    run({
      type: 'new',
      instrument: ID,
      account,
      clientOrderId: id,
      side,
      orderType: price === null ? 'market' : 'limit',
      quantity,
      ...(price === null ? {} : { price }),
      ...extra,
    } as Cmd);
  return { engine, run, balance, order, now };
}

const rejected = (evs: Ev[]) => evs.find((e) => e.kind === 'rejected');

for (const kind of BOOKS) {
  describe(`pre-trade risk (${kind} book)`, () => {
    it('rejects an account that is not eligible on the venue, then accepts it once eligible', () => {
      const { run, order } = given(kind, { bobCash: 10_000_000 });
      run({ type: 'set-account', account: 'bob', venue: VENUE, eligible: false });
      assert.equal(rejected(order('bob', 'b1', 'buy', 10_000, 1))?.code, Code.RISK_NOT_ELIGIBLE);
      run({ type: 'set-account', account: 'bob', venue: VENUE, eligible: true });
      assert.equal(order('bob', 'b1', 'buy', 10_000, 1)[0]?.kind, 'accepted');
    });

    it('rejects a frozen account, names the check, and changes nothing', () => {
      const { engine, run, order } = given(kind, { bobCash: 10_000_000 });
      const events = run({ type: 'set-account', account: 'bob', venue: VENUE, frozen: true });
      assert.deepEqual(
        events.map((e) => [e.kind, e.eligible, e.frozen]),
        [['account', true, true]],
      );
      const hash = engine.stateHash();
      const r = rejected(order('bob', 'b1', 'buy', 10_000, 1));
      assert.equal(r?.code, Code.RISK_FROZEN);
      assert.match(String(r?.reason), /frozen on evm:31337/);
      assert.equal(engine.liveOrders, 0);
      assert.notEqual(engine.stateHash(), hash); // only the sequences moved
    });

    it('reserves cash for a buy (price x qty + the maximum fee + per-fill rounding) and rejects beyond it', () => {
      const need = buyReserve(10, 10_000);
      const { balance, order } = given(kind, { bobCash: need - 1 });
      const r = rejected(order('bob', 'b1', 'buy', 10_000, 10));
      assert.equal(r?.code, Code.RISK_INSUFFICIENT_BALANCE);
      assert.match(String(r?.reason), new RegExp(`needs ${need} of ${CASH} available, has ${need - 1}`));
      const { balance: b2, order: o2 } = given(kind, { bobCash: need });
      assert.deepEqual(b2(o2('bob', 'b1', 'buy', 10_000, 10), 'bob', CASH), [0, need, 0, 0]);
      void balance;
    });

    it('reserves the lots of a sell and rejects a sell beyond them', () => {
      const { balance, order } = given(kind, { aliceLots: 5 });
      assert.equal(rejected(order('alice', 'a1', 'sell', 10_000, 6))?.code, Code.RISK_INSUFFICIENT_BALANCE);
      assert.deepEqual(balance(order('alice', 'a2', 'sell', 10_000, 5), 'alice', ID), [0, 5, 0, 0]);
    });

    const releases: Array<[string, (g: ReturnType<typeof given>) => Ev[]]> = [
      ['a cancel', (g) => g.run({ type: 'cancel', account: 'bob', clientOrderId: 'b1' })],
      ['a cancel-all', (g) => g.run({ type: 'cancel-all', account: 'bob' })],
      ['an expiry', (g) => g.run({ type: 'tick' })],
    ];
    for (const [what, act] of releases) {
      it(`releases the whole reservation on ${what}`, () => {
        const g = given(kind, { bobCash: 5_000_000 });
        const expireAt = g.now() + 1; // the next command (the tick) reaches it
        g.order('bob', 'b1', 'buy', 10_000, 3, what === 'an expiry' ? { tif: 'GTD', expireAt } : {});
        const evs = act(g);
        assert.ok(evs.some((e) => e.kind === 'canceled'));
        assert.deepEqual(g.balance(evs, 'bob', CASH), [5_000_000, 0, 0, 0]);
      });
    }

    it('releases an IOC remainder and keeps only what the fill costs, price improvement included', () => {
      const g = given(kind, { bobCash: 50_000_000, aliceLots: 10 });
      g.order('alice', 'a1', 'sell', 9_990, 2);
      const evs = g.order('bob', 'b1', 'buy', 10_000, 5, { tif: 'IOC' });
      const trade = evs.find((e) => e.kind === 'trade')!;
      const paid = (9_990 * 2 + (trade.takerFee as number)) * K;
      assert.deepEqual(g.balance(evs, 'bob', CASH), [50_000_000 - paid, 0, 0, paid]);
      assert.deepEqual(g.balance(evs, 'bob', ID), [0, 0, 2, 0]);
      const proceeds = (9_990 * 2 - (trade.makerFee as number)) * K; // a rebate adds to the proceeds
      assert.deepEqual(g.balance(evs, 'alice', CASH), [0, 0, proceeds, 0]);
      assert.deepEqual(g.balance(evs, 'alice', ID), [8, 0, 0, 2]);
    });

    it('finalizes balances when the trade settles, and refuses to settle it twice', () => {
      const g = given(kind, { bobCash: 5_000_000, aliceLots: 10 });
      g.order('alice', 'a1', 'sell', 10_000, 4);
      const fill = g.order('bob', 'b1', 'buy', 10_000, 4);
      const trade = fill.find((e) => e.kind === 'trade')!;
      const paid = (40_000 + (trade.takerFee as number)) * K;
      const evs = g.run({
        type: 'settle',
        tradeId: trade.tradeId as number,
        ok: true,
        ref: '0xfeed',
        gas: 17_064.5,
        gasFee: '34129000000000',
      });
      assert.deepEqual(
        evs.filter((e) => e.kind === 'settlement').map((e) => [e.tradeId, e.ok, e.ref, e.gas, e.gasFee]),
        [[trade.tradeId, true, '0xfeed', 17_064.5, '34129000000000']],
      );
      assert.deepEqual(g.balance(evs, 'bob', CASH), [5_000_000 - paid, 0, 0, 0]);
      assert.deepEqual(g.balance(evs, 'bob', ID), [4, 0, 0, 0]);
      assert.deepEqual(g.balance(evs, 'alice', ID), [6, 0, 0, 0]);
      assert.equal(g.balance(evs, 'alice', CASH)?.[0], (40_000 - (trade.makerFee as number)) * K);
      assert.equal(
        rejected(g.run({ type: 'settle', tradeId: trade.tradeId as number, ok: true }))?.code,
        Code.RISK_UNKNOWN_TRADE,
      );
    });

    it('reverses balances when settlement fails (the buyer was frozen on chain in between)', () => {
      const g = given(kind, { bobCash: 5_000_000, aliceLots: 10 });
      g.order('alice', 'a1', 'sell', 10_000, 4);
      const trade = g.order('bob', 'b1', 'buy', 10_000, 4).find((e) => e.kind === 'trade')!;
      g.run({ type: 'set-account', account: 'bob', venue: VENUE, frozen: true });
      const evs = g.run({
        type: 'settle',
        tradeId: trade.tradeId as number,
        ok: false,
        reason: 'buyer frozen',
      });
      assert.equal(evs.find((e) => e.kind === 'settlement')?.reason, 'buyer frozen');
      assert.deepEqual(g.balance(evs, 'bob', CASH), [5_000_000, 0, 0, 0]);
      assert.deepEqual(g.balance(evs, 'bob', ID), [0, 0, 0, 0]);
      assert.deepEqual(g.balance(evs, 'alice', ID), [10, 0, 0, 0]);
      assert.deepEqual(g.balance(evs, 'alice', CASH), [0, 0, 0, 0]);
    });

    it('refuses a verdict whose reference or cost is malformed, changing nothing', () => {
      const g = given(kind, { bobCash: 5_000_000, aliceLots: 10 });
      g.order('alice', 'a1', 'sell', 10_000, 4);
      const trade = g.order('bob', 'b1', 'buy', 10_000, 4).find((e) => e.kind === 'trade')!;
      const tradeId = trade.tradeId as number;
      for (const bad of [
        { gas: -1 },
        { gas: Number.NaN },
        { gas: '5' },
        { gasFee: '-5' },
        { gasFee: '1.5' },
        { gasFee: '' },
        { gasFee: 5 },
        { ref: 'x'.repeat(257) },
      ]) {
        const hash = g.engine.snapshot().risk;
        const r = rejected(g.run({ type: 'settle', tradeId, ok: true, ...bad } as unknown as Cmd));
        assert.equal(r?.code, Code.INVALID_COMMAND, JSON.stringify(bad));
        assert.match(r?.reason as string, new RegExp(Object.keys(bad)[0]!));
        assert.deepEqual(g.engine.snapshot().risk, hash);
      }
      assert.equal(g.run({ type: 'settle', tradeId, ok: true, gas: 0, gasFee: '0' })[0]?.kind, 'settlement');
    });

    it('caps a market buy at the band high it reserved for', () => {
      const g = given(kind, { bobCash: 100_000_000, aliceLots: 10 });
      const high = 11_000; // reference 100.00 with a 10% band
      g.order('alice', 'a1', 'sell', 10_500, 1);
      const evs = g.order('bob', 'b1', 'buy', null, 3);
      assert.equal(evs.filter((e) => e.kind === 'trade').length, 1);
      assert.equal(evs.find((e) => e.kind === 'canceled')?.reason, 'ioc-remainder');
      const reserved = buyReserve(3, high);
      const paid = (10_500 + feeFor(10_500, 5)) * K;
      assert.deepEqual(g.balance(evs, 'bob', CASH), [100_000_000 - paid, 0, 0, paid]);
      assert.ok(reserved > paid);
    });

    it('re-reserves on a replace: a price rise needs more cash, a size-down releases some', () => {
      const g = given(kind, { bobCash: buyReserve(4, 10_000) + 500 });
      g.order('bob', 'b1', 'buy', 10_000, 4);
      const up = g.run({ type: 'replace', account: 'bob', clientOrderId: 'b1', price: 10_100 });
      assert.equal(rejected(up)?.code, Code.RISK_INSUFFICIENT_BALANCE);
      const down = g.run({ type: 'replace', account: 'bob', clientOrderId: 'b1', quantity: 2 });
      assert.equal(down[0]?.kind, 'replaced');
      assert.deepEqual(g.balance(down, 'bob', CASH), [
        buyReserve(4, 10_000) + 500 - buyReserve(2, 10_000),
        buyReserve(2, 10_000),
        0,
        0,
      ]);
    });

    it('validates deposits and withdrawals', () => {
      const g = given(kind, { bobCash: 1_000 });
      const cases: Array<[Cmd, number]> = [
        [{ type: 'deposit', account: 'bob', asset: 'EUR@evm:31337', amount: 1 }, Code.RISK_UNKNOWN_ASSET],
        [{ type: 'deposit', account: 'bob', asset: CASH, amount: 0 }, Code.RISK_INVALID_AMOUNT],
        [{ type: 'deposit', account: 'bob', asset: CASH, amount: 1.5 }, Code.RISK_INVALID_AMOUNT],
        [{ type: 'deposit', account: '', asset: CASH, amount: 1 }, Code.INVALID_ACCOUNT],
        [{ type: 'withdraw', account: 'bob', asset: CASH, amount: 1_001 }, Code.RISK_INSUFFICIENT_BALANCE],
        [{ type: 'set-account', account: 'bob', venue: 'evm:1', eligible: true }, Code.INVALID_COMMAND],
        [{ type: 'set-account', account: 'bob', venue: VENUE }, Code.INVALID_COMMAND],
        [{ type: 'settle', tradeId: 99, ok: true }, Code.RISK_UNKNOWN_TRADE],
      ];
      for (const [command, code] of cases) {
        const hash = g.engine.snapshot().risk;
        assert.equal(rejected(g.run(command))?.code, code, JSON.stringify(command));
        assert.deepEqual(g.engine.snapshot().risk, hash);
      }
      assert.deepEqual(
        g.balance(g.run({ type: 'withdraw', account: 'bob', asset: CASH, amount: 1_000 }), 'bob', CASH),
        [0, 0, 0, 0],
      );
    });

    it('a withdrawal takes only the available balance: what open orders reserve stays, and a request beyond it is refused to its account', () => {
      // Given bob with 5,000,000 cash units, part of them reserved by a resting buy
      const g = given(kind, { bobCash: 5_000_000 });
      g.order('bob', 'b1', 'buy', 10_000, 2);
      const reserved = buyReserve(2, 10_000);
      const free = 5_000_000 - reserved;
      // When bob asks for one unit more than is free, then the engine refuses it to bob, naming both, and changes nothing
      const before = g.engine.stateHash();
      const refused = rejected(
        g.run({ type: 'request-withdrawal', account: 'bob', asset: CASH, amount: free + 1 }),
      );
      assert.equal(refused?.code, Code.RISK_INSUFFICIENT_BALANCE);
      assert.equal(refused?.account, 'bob');
      assert.equal(
        refused?.reason,
        `a withdrawal of ${free + 1} exceeds the available ${free} (open orders reserve ${reserved} more)`,
      );
      assert.equal(g.engine.pendingWithdrawals().length, 0);
      // (only the command sequence moved)
      assert.notEqual(g.engine.stateHash(), before);
      // When bob asks for what is free, then it waits as pending-out under a withdrawal id
      const asked = g.run({ type: 'request-withdrawal', account: 'bob', asset: CASH, amount: free });
      const w = asked.find((e) => e.kind === 'withdrawal');
      assert.deepEqual(
        { ...w, seq: 0, commandSeq: 0, ts: 0 },
        {
          seq: 0,
          commandSeq: 0,
          ts: 0,
          kind: 'withdrawal',
          instrument: '',
          withdrawalId: 1,
          status: 'pending',
          account: 'bob',
          asset: CASH,
          amount: free,
          reason: '',
          ref: '',
          gas: 0,
          gasFee: '',
        },
      );
      assert.deepEqual(g.balance(asked, 'bob', CASH), [0, reserved, 0, free]);
      assert.deepEqual(g.engine.pendingWithdrawals(), [
        { withdrawalId: 1, account: 'bob', asset: CASH, amount: free },
      ]);
      // and nothing more can be asked, nor can the order grow into it
      assert.equal(
        rejected(g.run({ type: 'request-withdrawal', account: 'bob', asset: CASH, amount: 1 }))?.code,
        Code.RISK_INSUFFICIENT_BALANCE,
      );
      // When the ledger releases it, then the amount is gone
      const released = g.run({
        type: 'settle-withdrawal',
        withdrawalId: 1,
        ok: true,
        ref: '0xabc',
        gas: 60_000,
        gasFee: '60000',
      });
      assert.deepEqual(g.balance(released, 'bob', CASH), [0, reserved, 0, 0]);
      assert.deepEqual(
        released
          .filter((e) => e.kind === 'withdrawal')
          .map((e) => [e.withdrawalId, e.status, e.ref, e.gas, e.gasFee]),
        [[1, 'released', '0xabc', 60_000, '60000']],
      );
      assert.deepEqual(g.engine.pendingWithdrawals(), []);
      // and a second verdict on it is refused
      assert.equal(
        rejected(g.run({ type: 'settle-withdrawal', withdrawalId: 1, ok: true }))?.code,
        Code.RISK_UNKNOWN_WITHDRAWAL,
      );
    });

    it('a withdrawal the ledger refuses returns to available; requests and verdicts are checked', () => {
      const g = given(kind, { aliceLots: 10 });
      const cases: Array<[Cmd, number]> = [
        [
          { type: 'request-withdrawal', account: 'alice', asset: 'EUR@evm:31337', amount: 1 },
          Code.RISK_UNKNOWN_ASSET,
        ],
        [{ type: 'request-withdrawal', account: 'alice', asset: ID, amount: 0 }, Code.RISK_INVALID_AMOUNT],
        [{ type: 'request-withdrawal', account: 'alice', asset: ID, amount: 2.5 }, Code.RISK_INVALID_AMOUNT],
        [
          { type: 'request-withdrawal', account: 'carol', asset: ID, amount: 1 },
          Code.RISK_INSUFFICIENT_BALANCE,
        ],
        [{ type: 'request-withdrawal', account: '', asset: ID, amount: 1 }, Code.INVALID_ACCOUNT],
        [{ type: 'settle-withdrawal', withdrawalId: 7, ok: true }, Code.RISK_UNKNOWN_WITHDRAWAL],
      ];
      for (const [command, code] of cases) {
        const state = g.engine.snapshot().risk;
        assert.equal(rejected(g.run(command))?.code, code, JSON.stringify(command));
        assert.deepEqual(g.engine.snapshot().risk, state);
      }
      g.run({ type: 'request-withdrawal', account: 'alice', asset: ID, amount: 4 });
      const id = g.engine.pendingWithdrawals()[0]!.withdrawalId;
      assert.equal(
        rejected(g.run({ type: 'settle-withdrawal', withdrawalId: id, ok: 'yes' } as unknown as Cmd))?.code,
        Code.INVALID_COMMAND,
      );
      const refused = g.run({ type: 'settle-withdrawal', withdrawalId: id, ok: false, reason: 'TO_FROZEN' });
      assert.deepEqual(g.balance(refused, 'alice', ID), [10, 0, 0, 0]);
      assert.deepEqual(
        refused.filter((e) => e.kind === 'withdrawal').map((e) => [e.status, e.reason, e.amount]),
        [['refused', 'TO_FROZEN', 4]],
      );
    });

    it('keeps pending withdrawals through a snapshot, and numbers them from idBase', () => {
      const g = given(kind, { bobCash: 5_000 });
      g.run({ type: 'request-withdrawal', account: 'bob', asset: CASH, amount: 1_200 });
      const restored = Engine.fromSnapshot(JSON.parse(JSON.stringify(g.engine.snapshot())), { book: kind });
      assert.equal(restored.stateHash(), g.engine.stateHash());
      assert.deepEqual(restored.pendingWithdrawals(), g.engine.pendingWithdrawals());
      for (const e of [g.engine, restored]) {
        e.execute({ type: 'request-withdrawal', ts: 1_000, account: 'bob', asset: CASH, amount: 800 });
        e.execute({ type: 'settle-withdrawal', ts: 1_000, withdrawalId: 1, ok: true });
      }
      assert.equal(restored.stateHash(), g.engine.stateHash());
      assert.deepEqual(restored.pendingWithdrawals(), [
        { withdrawalId: 2, account: 'bob', asset: CASH, amount: 800 },
      ]);

      const shard = new Engine({ book: kind, risk: true, idBase: 2 ** 40 });
      shard.execute({ type: 'list-instrument', ts: 1, spec: LISTING });
      shard.execute({ type: 'deposit', ts: 1, account: 'bob', asset: CASH, amount: 10 });
      shard.execute({ type: 'request-withdrawal', ts: 1, account: 'bob', asset: CASH, amount: 10 });
      assert.deepEqual(
        shard.pendingWithdrawals().map((w) => w.withdrawalId),
        [2 ** 40 + 1],
      );
    });

    it('keeps risk state through a snapshot', () => {
      const g = given(kind, { bobCash: 5_000_000, aliceLots: 10 });
      g.order('alice', 'a1', 'sell', 10_000, 4);
      g.order('bob', 'b1', 'buy', 10_000, 6);
      const restored = Engine.fromSnapshot(JSON.parse(JSON.stringify(g.engine.snapshot())), { book: kind });
      assert.equal(restored.stateHash(), g.engine.stateHash());
    });
  });
}

describe('risk commands with risk off', () => {
  it('rejects them with RISK_OFF', () => {
    const engine = new Engine();
    const codes: number[] = [];
    engine.addListener({ onOrder: (e) => codes.push(e.code) });
    engine.execute({ type: 'deposit', ts: 1, account: 'a', asset: CASH, amount: 1 });
    engine.execute({ type: 'settle', ts: 1, tradeId: 1, ok: true });
    engine.execute({ type: 'request-withdrawal', ts: 1, account: 'a', asset: CASH, amount: 1 });
    engine.execute({ type: 'settle-withdrawal', ts: 1, withdrawalId: 1, ok: true });
    assert.deepEqual(codes, [Code.RISK_OFF, Code.RISK_OFF, Code.RISK_OFF, Code.RISK_OFF]);
  });
});
