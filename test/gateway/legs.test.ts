/**
 * Cross-ledger trades' legs through the gateway, against a real exchange without settlement
 * connectors: BOND listed on the Fabric network and quoted in the EVM chain's USD, two Ethereum
 * identities trade it over the WebSocket, and the test plays the two ledgers' daemons by sending
 * the engine their `settle-leg` steps. After each step, REST shows the trade's legs as their
 * ledgers reported them, each leg's cost counted on its own ledger's venue; /metrics counts the
 * steps by venue and state; and the dashboard in a real headless Chromium shows the legs move.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { DEMO_LISTINGS, type Embedded } from '../../app/index.ts';
import { metric, testGateway } from '../support/gateway.ts';
import { makeWallet } from '../support/identities.ts';
import { until } from '../support/wait.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FABRIC = 'fabric:bank-net';
const EVM = 'evm:31337';
const BOND = `BOND@${FABRIC}`;
const USD = `USD@${EVM}`;
const WAIT = { timeout: 10_000 };

type Json = Record<string, unknown>;
interface Leg {
  leg: string;
  venue: string;
  status: string;
  reason?: string;
  ref?: string;
  gas?: number;
  gasFee?: string;
}
interface Pipeline {
  venue: string;
  pending: number;
  settled: number;
  failed: number;
  costed: number;
  gas: number;
  gasFee: string;
  fees: Array<{ asset: string; collected: string; pending: string }>;
}

describe('cross-ledger legs through the gateway', () => {
  let gw: Embedded;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  let seller: WsClient;
  let buyer: WsClient;
  const problems: string[] = [];
  let n = 0;

  const get = async <T = Json>(url: string): Promise<T> => {
    const res = await fetch(`${gw.url}${url}`);
    assert.equal(res.status, 200, url);
    return (await res.json()) as T;
  };
  const settlement = (tradeId: number) => get(`/api/trades/${tradeId}/settlement`);
  const pipeline = async (venue: string) =>
    (await get<Pipeline[]>('/api/settlements')).find((p) => p.venue === venue) ?? {
      venue,
      pending: 0,
      settled: 0,
      failed: 0,
      costed: 0,
      gas: 0,
      gasFee: '0',
      fees: [],
    };
  /** A ledger daemon's step on a leg, then REST showing it. */
  const step = async (tradeId: number, leg: 'security' | 'cash', state: string, more: Json = {}) => {
    gw.exchange.submit({ type: 'settle-leg', tradeId, leg, state, ...more } as never);
    return until(`the ${leg} leg of trade ${tradeId} ${state} over REST`, async () => {
      const legs = (await settlement(tradeId)).legs as Leg[];
      return legs.find((l) => l.leg === leg)?.status === state && legs;
    });
  };
  /** Waits until the dashboard shows the trade's legs in these states. */
  const shown = async (tradeId: number, security: string, cash: string) => {
    const row = page.locator(`[data-testid="legs-row"][data-trade="${tradeId}"]`);
    for (const [leg, state] of [
      ['security', security],
      ['cash', cash],
    ] as const) {
      await row.locator(`[data-testid="leg-state"][data-leg="${leg}"][data-state="${state}"]`).waitFor(WAIT);
    }
    return row;
  };
  /** Seller sells 10 BOND at 100.00 to the buyer: the trade's id. */
  const trade = async () => {
    n++;
    const order = { op: 'new', instrument: BOND, orderType: 'limit', price: '100.00', quantity: '10' };
    const sold = await seller.request({ ...order, clientOrderId: `s${n}`, side: 'sell' });
    assert.notEqual(sold.type, 'error', JSON.stringify(sold));
    await seller.next((m) => m.clientOrderId === `s${n}` && m.status === 'new');
    await buyer.request({ ...order, clientOrderId: `b${n}`, side: 'buy' });
    const fill = await buyer.next((m: Msg) => m.clientOrderId === `b${n}` && m.status === 'filled');
    assert.equal(typeof fill.tradeId, 'number', JSON.stringify(fill));
    return fill.tradeId as number;
  };
  const legsMetric = (venue: string, state: string) =>
    metric(gw.url, `mosaic_settlement_legs_total{venue="${venue}",state="${state}"}`);

  before(async () => {
    // BOND as the demo's ACME on the network (3 bp taker fee), quoted in the chain's USD; the
    // chain's ACME beside it so that the demo funding credits that USD
    const listing = (id: string) => DEMO_LISTINGS.find((s) => s.id === id)!;
    gw = await testGateway((c) => {
      c.demo.instruments = false;
      c.instruments = [listing(`ACME@${EVM}`), { ...listing(`ACME@${FABRIC}`), id: BOND, quoteVenue: EVM }];
    });
    // Demo funding without connectors: each account is credited and made eligible on every venue it sees.
    [seller, buyer] = await Promise.all([WsClient.connect(gw.url), WsClient.connect(gw.url)]);
    for (const c of [seller, buyer]) {
      const { account } = await login(c, makeWallet());
      await until(`the demo funding of ${account} on both ledgers`, () => {
        const assets = gw.exchange.engine.balances(account).map((b) => b.asset);
        const eligible = gw.exchange.engine.standing(account).filter((s) => s.eligible);
        return (
          assets.includes(BOND) &&
          assets.includes(USD) &&
          [FABRIC, EVM].every((v) => eligible.some((s) => s.venue === v))
        );
      });
    }
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    await page.goto(`${gw.url}/`);
    await page.locator('[data-testid="legs-empty"]').waitFor(WAIT);
  });

  after(async () => {
    await seller?.close();
    await buyer?.close();
    await context?.close();
    await gw?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  it('shows both legs step by step, each leg’s cost on its own ledger, and the trade settled once both are claimed', async () => {
    const [fabric0, evm0] = [await pipeline(FABRIC), await pipeline(EVM)];
    const steps0 = {
      fabricLocked: await legsMetric(FABRIC, 'locked'),
      evmLocked: await legsMetric(EVM, 'locked'),
      evmClaimed: await legsMetric(EVM, 'claimed'),
      fabricClaimed: await legsMetric(FABRIC, 'claimed'),
    };

    // Given a BOND trade: pending, both legs pending, the trade under the security's venue and its
    // fees in the chain's USD
    const id = await trade();
    const matched = await settlement(id);
    assert.deepEqual(
      [matched.status, matched.venue, matched.instrument, matched.feeAsset, matched.fee],
      ['pending', FABRIC, BOND, USD, '0.30'],
    );
    assert.deepEqual(matched.legs, [
      { leg: 'security', venue: FABRIC, status: 'pending' },
      { leg: 'cash', venue: EVM, status: 'pending' },
    ]);
    assert.equal((await pipeline(FABRIC)).pending, fabric0.pending + 1);
    const recent = await get<Json[]>('/api/settlements/legs?limit=5');
    assert.deepEqual(recent[0], matched, 'the last cross-ledger trades list it first, as the trade shows it');
    const row = await shown(id, 'pending', 'pending');
    assert.match((await row.locator('[data-leg="cash"]').textContent()) ?? '', new RegExp(`pending.*${EVM}`));

    // When the network locks the bonds (Fabric reports no cost) and the chain the cash
    let legs = await step(id, 'security', 'locked', { ref: 'fab-lock-1' });
    assert.deepEqual(legs[0], { leg: 'security', venue: FABRIC, status: 'locked', ref: 'fab-lock-1' });
    await shown(id, 'locked', 'pending');
    legs = await step(id, 'cash', 'locked', { ref: '0xlock', gas: 90_000, gasFee: '900000000000000' });
    assert.deepEqual(legs[1], {
      leg: 'cash',
      venue: EVM,
      status: 'locked',
      ref: '0xlock',
      gas: 90_000,
      gasFee: '900000000000000',
    });
    await shown(id, 'locked', 'locked');

    // Then the chain's venue counts the lock's cost, the network's nothing, and the trade still waits
    let evm = await pipeline(EVM);
    assert.deepEqual(
      [evm.costed - evm0.costed, evm.gas - evm0.gas, BigInt(evm.gasFee) - BigInt(evm0.gasFee)],
      [1, 90_000, 900_000_000_000_000n],
    );
    assert.equal((await pipeline(FABRIC)).costed, fabric0.costed);

    // When the network's leg is claimed, the trade is not settled yet: the cash leg is still locked
    await step(id, 'security', 'claimed', { ref: 'fab-claim-1' });
    await shown(id, 'claimed', 'locked');
    assert.equal((await settlement(id)).status, 'pending');

    // When the chain's leg is claimed too
    gw.exchange.submit({
      type: 'settle-leg',
      tradeId: id,
      leg: 'cash',
      state: 'claimed',
      ref: '0xclaim',
      gas: 50_000,
      gasFee: '500000000000000',
    });
    const settled = await until('the trade settled over REST', async () => {
      const s = await settlement(id);
      return s.status === 'settled' && s;
    });

    // Then it is settled with each leg's last reference and what its steps cost; the trade's own
    // verdict carried no cost
    assert.deepEqual(settled.legs, [
      { leg: 'security', venue: FABRIC, status: 'claimed', ref: 'fab-claim-1' },
      {
        leg: 'cash',
        venue: EVM,
        status: 'claimed',
        ref: '0xclaim',
        gas: 140_000,
        gasFee: '1400000000000000',
      },
    ]);
    assert.deepEqual(
      [settled.ref, settled.gas, settled.gasFee, settled.reason],
      [undefined, undefined, undefined, undefined],
    );
    assert.equal(typeof settled.settledAt, 'number');
    // and the venue totals: the trade settled under the network, both cash steps' costs under the chain,
    // and the fees collected there in its USD
    const fabric = await pipeline(FABRIC);
    evm = await pipeline(EVM);
    assert.deepEqual(
      [fabric.pending, fabric.settled, fabric.costed, fabric.gas],
      [fabric0.pending, fabric0.settled + 1, fabric0.costed, fabric0.gas],
    );
    assert.deepEqual(
      [evm.settled, evm.costed - evm0.costed, evm.gas - evm0.gas, BigInt(evm.gasFee) - BigInt(evm0.gasFee)],
      [evm0.settled, 2, 140_000, 1_400_000_000_000_000n],
    );
    const fees = evm.fees.find((f) => f.asset === USD);
    const fees0 = evm0.fees.find((f) => f.asset === USD);
    assert.equal(fees?.collected, (Number(fees0?.collected ?? 0) + 0.3).toFixed(2), JSON.stringify(evm));
    assert.equal(fees?.pending, '0.00');
    assert.equal(fabric.fees.length, 0, 'no fee asset on the network: the fees are the chain’s USD');

    // and /metrics counts each step on its leg's venue, and the costs there
    assert.equal(await legsMetric(FABRIC, 'locked'), steps0.fabricLocked + 1);
    assert.equal(await legsMetric(EVM, 'locked'), steps0.evmLocked + 1);
    assert.equal(await legsMetric(EVM, 'claimed'), steps0.evmClaimed + 1);
    assert.equal(await legsMetric(FABRIC, 'claimed'), steps0.fabricClaimed + 1);
    assert.equal(await metric(gw.url, `mosaic_settlement_gas_total{venue="${EVM}"}`), evm.gas);
    assert.equal(await metric(gw.url, `mosaic_settlement_costed_total{venue="${EVM}"}`), evm.costed);
    assert.equal(await metric(gw.url, `mosaic_settlement_settled_total{venue="${FABRIC}"}`), fabric.settled);

    // and the dashboard shows both legs claimed, the trade settled, with the cash leg's cost
    const done = await shown(id, 'claimed', 'claimed');
    await page.locator(`[data-testid="legs-row"][data-trade="${id}"][data-status="settled"]`).waitFor(WAIT);
    assert.match(
      (await done.locator('[data-leg="cash"]').getAttribute('title')) ?? '',
      /ref 0xclaim; 140,000 gas, 1400000000000000 wei/,
    );
    // and the instrument's line says where its cash is
    await page.locator(`[data-testid="instrument-tab"][data-instrument="${BOND}"]`).click();
    await page
      .locator('[data-testid="instrument-info"]', { hasText: `quoted in USD on ${EVM} (cross-ledger)` })
      .waitFor(WAIT);
    assert.deepEqual(problems, []);
  });

  it('shows a reversed trade: a leg refused, the other reported refused, the trade failed with the engine’s reason', async () => {
    const fabric0 = await pipeline(FABRIC);
    const refused0 = [await legsMetric(FABRIC, 'refused'), await legsMetric(EVM, 'refused')];
    const earlier = (await get<Json[]>('/api/settlements/legs?limit=5')).map((t) => t.tradeId);

    // Given a new trade, listed first, before the earlier ones
    const id = await trade();
    const ids = await until('the new trade listed first', async () => {
      const now = (await get<Json[]>('/api/settlements/legs?limit=5')).map((t) => t.tradeId);
      return now[0] === id && now;
    });
    assert.deepEqual(ids.slice(1), earlier.slice(0, 4));
    assert.deepEqual(
      (await get<Json[]>('/api/settlements/legs?limit=1')).map((t) => t.tradeId),
      [id],
    );
    await shown(id, 'pending', 'pending');
    const rows = page.locator('[data-testid="legs-row"]');
    assert.equal(await rows.first().getAttribute('data-trade'), String(id), 'newest first');

    // When the network refuses the bonds' lock, and the chain's daemon reports the cash not locked
    await step(id, 'security', 'refused', { reason: 'FROM_FROZEN' });
    await shown(id, 'refused', 'pending');
    gw.exchange.submit({
      type: 'settle-leg',
      tradeId: id,
      leg: 'cash',
      state: 'refused',
      reason: 'the security leg was refused',
    });

    // Then the trade failed with the engine's reason, both legs refused with their ledgers' reasons
    const failed = await until('the trade failed over REST', async () => {
      const s = await settlement(id);
      return s.status === 'failed' && s;
    });
    assert.equal(failed.reason, 'reversed: the security leg was refused, the cash leg refused');
    assert.deepEqual(failed.legs, [
      { leg: 'security', venue: FABRIC, status: 'refused', reason: 'FROM_FROZEN' },
      { leg: 'cash', venue: EVM, status: 'refused', reason: 'the security leg was refused' },
    ]);
    const fabric = await pipeline(FABRIC);
    assert.deepEqual(
      [fabric.pending, fabric.failed, fabric.settled],
      [fabric0.pending, fabric0.failed + 1, fabric0.settled],
    );
    assert.equal((await pipeline(EVM)).fees.find((f) => f.asset === USD)?.pending, '0.00');
    assert.deepEqual(
      [await legsMetric(FABRIC, 'refused'), await legsMetric(EVM, 'refused')],
      [refused0[0]! + 1, refused0[1]! + 1],
    );

    // and the dashboard shows it
    await shown(id, 'refused', 'refused');
    await page.locator(`[data-testid="legs-row"][data-trade="${id}"][data-status="failed"]`).waitFor(WAIT);
    assert.deepEqual(problems, []);
  });

  it('refuses a limit of cross-ledger trades out of range', async () => {
    for (const bad of ['0', '101', 'x']) {
      const res = await fetch(`${gw.url}/api/settlements/legs?limit=${bad}`);
      assert.equal(res.status, 400, bad);
    }
  });
});
