/**
 * Writes a small journal of every command type (listings, orders of every type, time in force
 * and self-trade mode, cancels, replaces, deposits, withdrawals, settlements...) with pre-trade
 * risk on, and records the state hash it reaches in `expected.json`. It was run once, on the
 * release before journal formats carried a version, to make `test/fixtures/journal-v1/`: the
 * fixture test proves every later release still replays that folder to the same state.
 *
 * Usage: node dist/test/journal/write-fixture.js <empty folder>
 */
import fs from 'node:fs';
import path from 'node:path';
import { XorShift32 } from '../../bench/prng.ts';
import type { Command, OrderType, StpMode, TimeInForce, Unstamped } from '../../engine/index.ts';
import { DurableEngine, type PublishedEvent } from '../../journal/index.ts';
import { spec } from '../support/engine.ts';
import { silentLogger } from '../../common/index.ts';

const VENUE = 'evm:31337';
const INSTRUMENTS = [`ACME@${VENUE}`, `BOND@${VENUE}`];
const ASSETS = [`USDC@${VENUE}`, ...INSTRUMENTS];
const ACCOUNTS = ['a', 'b', 'c', 'd'];
const TYPES: OrderType[] = ['limit', 'limit', 'limit', 'market', 'stop', 'stop-limit'];
const TIFS: TimeInForce[] = ['GTC', 'GTC', 'GTD', 'IOC', 'FOK'];
const STPS: StpMode[] = ['cancel-newest', 'cancel-oldest', 'cancel-both', 'decrement-and-cancel'];

/** Commands to write after the set-up, chosen at random but reproducibly. */
const STEPS = 400;

async function main(dir: string): Promise<void> {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`);
  const d = DurableEngine.open({
    dir,
    risk: true,
    snapshotEvery: 0,
    journal: { segmentBytes: 16 * 1024 },
    log: silentLogger,
  });
  const r = new XorShift32(14);
  const pick = <T>(list: readonly T[]): T => list[r.int(0, list.length - 1)]!;
  const orders: Array<{ account: string; orderId: number; clientOrderId: string }> = [];
  const trades: number[] = [];
  const withdrawals: number[] = [];
  let ts = 1_700_000_000_000;
  let n = 0;
  const send = async (c: Unstamped): Promise<PublishedEvent[]> => {
    ts += r.int(1, 1_000);
    const { events } = await d.submit({ ...c, ts } as Command);
    for (const e of events) {
      if (e.kind === 'accepted') orders.push(e);
      if (e.kind === 'trade') trades.push(e.tradeId);
      if (e.kind === 'withdrawal' && e.status === 'pending') withdrawals.push(e.withdrawalId);
    }
    return events;
  };
  const base = { maxQty: 1000, maxPrice: 20_000, quote: 'USDC', quoteUnit: '0.01' };
  await send({
    type: 'list-instrument',
    spec: spec({ id: INSTRUMENTS[0]!, ...base, referencePrice: 1000, bandBps: 500 }),
  });
  await send({ type: 'list-instrument', spec: spec({ id: INSTRUMENTS[1]!, ...base, makerFeeBps: 2 }) });
  for (const account of ACCOUNTS) {
    await send({ type: 'set-account', account, venue: VENUE, eligible: true });
    for (const asset of ASSETS) await send({ type: 'deposit', account, asset, amount: 2_000_000 });
  }
  for (let i = 0; i < STEPS; i++) {
    const account = pick(ACCOUNTS);
    const instrument = pick(INSTRUMENTS);
    const roll = r.int(1, 100);
    if (roll <= 50) {
      const orderType = pick(TYPES);
      const price = 1000 + r.int(-30, 30);
      const order: Record<string, unknown> = {
        type: 'new',
        instrument,
        account,
        clientOrderId: `o${++n}`,
        side: r.int(0, 1) === 0 ? 'buy' : 'sell',
        orderType,
        quantity: r.int(1, 40),
      };
      if (orderType === 'limit' || orderType === 'stop-limit') order.price = price;
      if (orderType === 'stop' || orderType === 'stop-limit') order.stopPrice = price + r.int(-10, 10);
      if (orderType === 'limit') {
        order.tif = pick(TIFS);
        if (order.tif === 'GTD') order.expireAt = ts + r.int(1_000, 50_000);
        if (order.tif === 'GTC' && r.int(1, 5) === 1) order.postOnly = r.int(0, 1) === 0;
      }
      if (r.int(1, 4) === 1) order.stp = pick(STPS);
      await send(order as Unstamped);
    } else if (roll <= 60 && orders.length > 0) {
      const o = pick(orders.slice(-12));
      await send(
        r.int(0, 1) === 0
          ? { type: 'cancel', account: o.account, orderId: o.orderId }
          : { type: 'cancel', account: o.account, clientOrderId: o.clientOrderId },
      );
    } else if (roll <= 68 && orders.length > 0) {
      const o = pick(orders.slice(-12));
      const change = r.int(0, 2);
      await send({
        type: 'replace',
        account: o.account,
        ...(r.int(0, 1) === 0 ? { orderId: o.orderId } : { clientOrderId: o.clientOrderId }),
        ...(change !== 1 ? { price: 1000 + r.int(-30, 30) } : {}),
        ...(change !== 0 ? { quantity: r.int(1, 40) } : {}),
      });
    } else if (roll <= 80 && trades.length > 0) {
      const tradeId = trades.splice(r.int(0, trades.length - 1), 1)[0]!;
      const ok = r.int(1, 6) !== 1;
      await send(
        ok
          ? {
              type: 'settle',
              tradeId,
              ok,
              ref: `0x${tradeId.toString(16)}`,
              gas: 51_000,
              gasFee: '120000000000',
            }
          : { type: 'settle', tradeId, ok, reason: 'reverted' },
      );
    } else if (roll <= 84) {
      await send({ type: 'deposit', account, asset: pick(ASSETS), amount: r.int(1, 50_000) });
    } else if (roll <= 86) {
      await send({ type: 'withdraw', account, asset: pick(ASSETS), amount: r.int(1, 5_000) });
    } else if (roll <= 89) {
      await send({ type: 'request-withdrawal', account, asset: pick(ASSETS), amount: r.int(1, 5_000) });
    } else if (roll <= 92 && withdrawals.length > 0) {
      const withdrawalId = withdrawals.shift()!;
      await send(
        r.int(0, 2) !== 0
          ? { type: 'settle-withdrawal', withdrawalId, ok: true, ref: `tx-${withdrawalId}`, gas: 30_000 }
          : { type: 'settle-withdrawal', withdrawalId, ok: false, reason: 'refused by the escrow' },
      );
    } else if (roll <= 94) {
      await send({ type: 'tick' });
    } else if (roll <= 95) {
      await send({ type: 'cancel-all', account, ...(r.int(0, 1) === 0 ? { instrument } : {}) });
    } else if (roll <= 96) {
      await send({ type: 'set-status', instrument, status: 'halted' });
      await send({ type: 'set-status', instrument, status: 'open' });
    } else if (roll <= 97) {
      await send({ type: 'update-instrument', instrument, takerFeeBps: r.int(3, 9), referencePrice: 1000 });
    } else if (roll <= 98) {
      await send({ type: 'set-account', account, venue: VENUE, frozen: true });
      await send({ type: 'set-account', account, venue: VENUE, frozen: false, eligible: true });
    } else {
      await send({ type: 'update-instrument', instrument, makerFeeBps: r.int(-2, 2), bandBps: 600 });
    }
  }
  const seq = d.engine.commandSeq;
  const stateHash = d.engine.stateHash();
  await d.close();
  const expected = { seq, stateHash, risk: true };
  fs.writeFileSync(path.join(dir, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
  console.log(`wrote ${seq} commands to ${dir}; state hash ${stateHash}`);
}

await main(process.argv[2] ?? '');
