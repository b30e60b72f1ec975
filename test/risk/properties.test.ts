/**
 * Properties of the risk stage over random command streams (fast-check, seeded), with both
 * books side by side: they must emit the same events; per asset, what the accounts hold
 * (available + reserved + pending-out) plus the venue's settled fees equals deposits minus
 * withdrawals; no balance is ever negative; and each reserved balance equals the sum of its
 * live orders' reservations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Command, Engine, type EngineSnapshot, eventToObject } from '../../engine/index.ts';
import { spec } from '../support/engine.ts';

const VENUE = 'evm:31337';
const LISTINGS = [
  spec({
    id: `ACME@${VENUE}`,
    maxQty: 1000,
    maxPrice: 20_000,
    quote: 'USDC',
    quoteUnit: '0.01',
    referencePrice: 1000,
    bandBps: 500,
  }),
  spec({
    id: `BOND@${VENUE}`,
    maxQty: 1000,
    maxPrice: 20_000,
    quote: 'USDC',
    quoteUnit: '0.01',
    makerFeeBps: 2,
    takerFeeBps: 7,
  }),
];
const ACCOUNTS = ['a', 'b', 'c'];
const ASSETS = ['USDC@evm:31337', `ACME@${VENUE}`, `BOND@${VENUE}`];

type Step =
  | { kind: 'deposit'; account: number; asset: number; amount: number }
  | { kind: 'withdraw'; account: number; asset: number; amount: number }
  | {
      kind: 'order';
      account: number;
      inst: number;
      side: 'buy' | 'sell';
      type: 'limit' | 'market' | 'stop';
      price: number;
      qty: number;
      tif: 'GTC' | 'IOC';
    }
  | { kind: 'cancel'; account: number; pick: number }
  | { kind: 'replace'; account: number; pick: number; price: number; qty: number }
  | { kind: 'settle'; pick: number; ok: boolean }
  | { kind: 'standing'; account: number; eligible: boolean; frozen: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('deposit' as const),
      account: fc.nat(2),
      asset: fc.nat(2),
      amount: fc.integer({ min: 1, max: 5_000_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('withdraw' as const),
      account: fc.nat(2),
      asset: fc.nat(2),
      amount: fc.integer({ min: 1, max: 2_000_000 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('order' as const),
      account: fc.nat(2),
      inst: fc.nat(1),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      type: fc.constantFrom('limit' as const, 'limit' as const, 'market' as const, 'stop' as const),
      price: fc.integer({ min: 960, max: 1040 }),
      qty: fc.integer({ min: 1, max: 40 }),
      tif: fc.constantFrom('GTC' as const, 'IOC' as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('cancel' as const), account: fc.nat(2), pick: fc.nat(50) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      account: fc.nat(2),
      pick: fc.nat(50),
      price: fc.integer({ min: 960, max: 1040 }),
      qty: fc.integer({ min: 1, max: 40 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat(50), ok: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('standing' as const),
      account: fc.nat(2),
      eligible: fc.constantFrom(true, true, true, false),
      frozen: fc.constantFrom(false, false, false, true),
    }),
  },
);

/** Turns a step into a command, given what is live (order ids) and pending (trade ids). */
function command(s: Step, ts: number, live: number[], pending: number[], n: number): Command {
  switch (s.kind) {
    case 'deposit':
    case 'withdraw':
      return { type: s.kind, ts, account: ACCOUNTS[s.account]!, asset: ASSETS[s.asset]!, amount: s.amount };
    case 'order': {
      const base = {
        type: 'new' as const,
        ts,
        instrument: LISTINGS[s.inst]!.id,
        account: ACCOUNTS[s.account]!,
        clientOrderId: `o${n}`,
        side: s.side,
        quantity: s.qty,
      };
      if (s.type === 'market') return { ...base, orderType: 'market' };
      if (s.type === 'stop') return { ...base, orderType: 'stop', stopPrice: s.price };
      return { ...base, orderType: 'limit', price: s.price, tif: s.tif };
    }
    case 'cancel':
      return {
        type: 'cancel',
        ts,
        account: ACCOUNTS[s.account]!,
        orderId: live[s.pick % Math.max(1, live.length)] ?? 1,
      };
    case 'replace':
      return {
        type: 'replace',
        ts,
        account: ACCOUNTS[s.account]!,
        orderId: live[s.pick % Math.max(1, live.length)] ?? 1,
        price: s.price,
        quantity: s.qty,
      };
    case 'settle':
      return { type: 'settle', ts, tradeId: pending[s.pick % Math.max(1, pending.length)] ?? 1, ok: s.ok };
    case 'standing':
      return {
        type: 'set-account',
        ts,
        account: ACCOUNTS[s.account]!,
        venue: VENUE,
        eligible: s.eligible,
        frozen: s.frozen,
      };
  }
}

function checkBooks(snap: EngineSnapshot, net: Map<number, number>): void {
  const risk = snap.risk!;
  const held = new Map<number, number>();
  const reservedBy = new Map<string, number>();
  for (const [acc, asset, available, reserved, pendingIn, pendingOut] of risk.balances) {
    for (const v of [available, reserved, pendingIn, pendingOut])
      assert.ok(v >= 0, `negative balance ${acc}/${asset}`);
    held.set(asset, (held.get(asset) ?? 0) + available + reserved + pendingOut);
    reservedBy.set(`${acc}/${asset}`, reserved);
  }
  const fromOrders = new Map<string, number>();
  snap.instruments.forEach((inst, i) => {
    const [security, cash] = risk.byInstrument[i]!;
    for (const o of [...inst.bids, ...inst.asks, ...inst.stops]) {
      const key = `${o[1]}/${o[3] === 'buy' ? cash : security}`;
      fromOrders.set(key, (fromOrders.get(key) ?? 0) + o[14]);
    }
  });
  for (const [key, reserved] of reservedBy)
    assert.equal(reserved, fromOrders.get(key) ?? 0, `reserved ${key}`);
  risk.assets.forEach((_, asset) => {
    assert.equal(
      (held.get(asset) ?? 0) + risk.feesFinal[asset]!,
      net.get(asset) ?? 0,
      `asset ${risk.assets[asset]} conserved`,
    );
  });
}

describe('risk properties (both books side by side)', () => {
  it('conserves assets, never goes negative, reserves exactly what live orders hold, and both books agree', () => {
    const seen = { trades: 0, settledOk: 0, settledFailed: 0, riskRejects: 0 };
    fc.assert(
      fc.property(fc.array(step, { minLength: 150, maxLength: 300, size: 'max' }), (steps) => {
        const engines = [
          new Engine({ book: 'reference', risk: true }),
          new Engine({ book: 'fast', risk: true }),
        ];
        const logs: string[][] = [[], []];
        engines.forEach((e, i) => {
          e.addListener({ onEvent: (ev) => logs[i]!.push(JSON.stringify(eventToObject(ev))) });
        });
        const live = new Set<number>();
        const pending: number[] = [];
        const net = new Map<number, number>();
        let ts = 0;
        const exec = (c: Command) => {
          logs[0]!.length = 0;
          logs[1]!.length = 0;
          for (const e of engines) e.execute(c);
          assert.deepEqual(logs[1], logs[0]);
          for (const line of logs[0]!) {
            const ev = JSON.parse(line) as Record<string, unknown>;
            if (ev.kind === 'accepted') live.add(ev.orderId as number);
            if (ev.kind === 'canceled' && ev.leaves === 0) live.delete(ev.orderId as number);
            if (ev.kind === 'trade') {
              pending.push(ev.tradeId as number);
              if (ev.takerLeaves === 0) live.delete(ev.takerOrderId as number);
              if (ev.makerLeaves === 0) live.delete(ev.makerOrderId as number);
            }
            if (ev.kind === 'settlement') {
              pending.splice(pending.indexOf(ev.tradeId as number), 1);
              if (ev.ok) seen.settledOk++;
              else seen.settledFailed++;
            }
            if (ev.kind === 'trade') seen.trades++;
            if (ev.kind === 'rejected' && (ev.code as number) >= 2000) seen.riskRejects++;
            if (ev.kind === 'balance' && (c.type === 'deposit' || c.type === 'withdraw')) {
              const asset = ASSETS.indexOf(c.asset);
              const index = engines[0]!.snapshot().risk!.assets.indexOf(ASSETS[asset]!);
              net.set(index, (net.get(index) ?? 0) + (c.type === 'deposit' ? c.amount : -c.amount));
            }
          }
        };
        for (const l of LISTINGS) exec({ type: 'list-instrument', ts, spec: l });
        for (const a of ACCOUNTS) exec({ type: 'set-account', ts, account: a, venue: VENUE, eligible: true });
        steps.forEach((s, n) => {
          exec(command(s, ++ts, [...live], pending, n));
          checkBooks(engines[0]!.snapshot(), net);
        });
        assert.equal(engines[0]!.stateHash(), engines[1]!.stateHash());
      }),
      { seed: 42, numRuns: 150 },
    );
    // The streams must have exercised what the properties speak of.
    for (const [what, n] of Object.entries(seen)) assert.ok(n > 50, `only ${n} ${what}`);
  });
});
