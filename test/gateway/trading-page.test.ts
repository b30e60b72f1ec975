/**
 * Trading from the dashboard (`/`) in chromium, against a real exchange whose ACME@evm trades
 * settle on a real anvil: a visitor logs in with an injected wallet (a test EIP-1193 provider
 * backed by an ethers wallet); the order ticket refuses what the server refuses, in the server's
 * words (each case sent to the server too, and its answer compared); an order is placed,
 * replaced and canceled from the page with its execution reports shown as they come; a fill
 * shows its fee, then its settlement on chain (the ledger's reference and gas, as REST has them)
 * and the balances move; a fill whose trade the chain refuses (its buyer frozen by the token's
 * agent before the batch is mined) shows reversed with the ledger's reason, and the balances come
 * back; a reload keeps the session and the page still trades; and the layout keeps every panel in
 * the window at 1440x900 and fits a 390x844 phone (screenshots kept in test-artifacts/). Every
 * wait is for a state, never for time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Contract, type InterfaceAbi, JsonRpcProvider, Network as EthNetwork, Wallet } from 'ethers';
import type { Page } from 'playwright-core';
import type { Embedded } from '../../app/index.ts';
import { compileContracts, DEV_KEYS, type EvmConnector, send } from '../../connectors/evm/index.ts';
import { artifactPath, injectWallet, launchBrowser, openPage } from '../support/browser.ts';
import { testGateway } from '../support/gateway.ts';
import { makeWallet } from '../support/identities.ts';
import { until } from '../support/wait.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';

const ACME = 'ACME@evm:31337';
const WAIT = { timeout: 15_000 };
const SETTLED = { timeout: 45_000 };

describe('trading from the dashboard', () => {
  let gw: Embedded;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  /** A second investor, over the WebSocket: the other side of the page's trades, and the server's answers to compare. */
  let other: WsClient;
  /** A third, to trade with the second and fill the trades list. */
  let third: WsClient;
  const wallet = makeWallet();
  /** The second and third investors' wallets. */
  const investors = [makeWallet(), makeWallet()] as const;
  const problems: string[] = [];

  /** The balance row of an asset as the page shows it. */
  const balance = async (asset: string) =>
    page.locator(`[data-testid="balance-row"][data-asset="${asset}"]`).evaluate((r) => ({
      available: r.getAttribute('data-available'),
      reserved: r.getAttribute('data-reserved'),
      pendingIn: r.getAttribute('data-pending-in'),
      pendingOut: r.getAttribute('data-pending-out'),
    }));

  /** Fills the ticket (fields not named keep their value) and waits for its checks to run. */
  const ticket = async (t: {
    side?: string;
    type?: string;
    quantity?: string;
    price?: string;
    stopPrice?: string;
    tif?: string;
  }) => {
    if (t.side !== undefined) await page.locator(`[data-testid="ticket-${t.side}"]`).check({ force: true });
    if (t.type !== undefined) await page.locator('[data-testid="ticket-type"]').selectOption(t.type);
    if (t.tif !== undefined) await page.locator('[data-testid="ticket-tif"]').selectOption(t.tif);
    for (const f of ['quantity', 'price', 'stopPrice'] as const) {
      const input = page.locator(`[data-testid="ticket-${f}"]`);
      if (t[f] !== undefined && (await input.isEnabled())) await input.fill(t[f]);
    }
  };
  const problem = (field: string) => page.locator(`[data-testid="problem-${field}"]`).textContent();

  before(async () => {
    // The EVM connector on a local anvil, as `npm start` runs it (the Fabric ones are not needed here).
    gw = await testGateway(
      (c) => {
        c.connectors = c.connectors.filter((k) => k.kind === 'evm');
      },
      { settlement: true },
    );
    browser = await launchBrowser();
    await injectWallet(browser.context, () => wallet);
    page = await openPage(browser.context, problems);
    [other, third] = (await Promise.all(
      investors.map(async (w) => {
        const c = await WsClient.connect(gw.url);
        await login(c, w);
        await until(
          'the faucet funding an investor',
          () => gw.exchange.engine.balances(w.address).length >= 2,
        );
        return c;
      }),
    )) as [WsClient, WsClient];
  });

  after(async () => {
    await other?.close();
    await third?.close();
    await browser?.close();
    await gw?.close();
  });

  it('logs in with the wallet and shows the balances the faucet funded', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${gw.url}/#${ACME}`);
    await page.locator('[data-testid="login-wallet"]:not([disabled])').click(WAIT);
    await page.locator('[data-testid="account-name"]', { hasText: wallet.address }).waitFor(WAIT);
    await page.locator('[data-testid="balance-row"][data-asset="USD@evm:31337"]').waitFor(SETTLED);
    await page.locator(`[data-testid="balance-row"][data-asset="${ACME}"]`).waitFor(SETTLED);
    const rest = gw.exchange.engine.balances(wallet.address);
    assert.ok(rest.length >= 2, JSON.stringify(rest));
    assert.deepEqual(problems, []);
  });

  it("refuses in the ticket what the server refuses, in the server's words", async () => {
    // [ticket, the order the server is sent]
    const cases: Array<[Parameters<typeof ticket>[0], string]> = [
      [{ type: 'limit', quantity: '1.5', price: '100.00' }, 'quantity'],
      [{ type: 'limit', quantity: '0', price: '100.00' }, 'quantity'],
      [{ type: 'limit', quantity: '1e3', price: '100.00' }, 'quantity'],
      [{ type: 'limit', quantity: '1', price: '100.001' }, 'price'],
      [{ type: 'limit', quantity: '1', price: '-5' }, 'price'],
      [{ type: 'limit', quantity: '1', price: '150.00' }, 'price'],
      [{ type: 'limit', quantity: '100000000', price: '100.00' }, 'quantity'],
      [{ type: 'stop-limit', quantity: '1', price: '100.00', stopPrice: '99.999' }, 'stopPrice'],
    ];
    let n = 0;
    for (const [t, field] of cases) {
      await ticket({ stopPrice: '', ...t });
      const shown = await until(
        `the ticket's check of ${JSON.stringify(t)}`,
        async () => (await problem(field)) || undefined,
      );
      const order = {
        op: 'new',
        instrument: ACME,
        clientOrderId: `check-${n++}`,
        side: 'buy',
        orderType: t.type,
        quantity: t.quantity,
        ...(t.type === 'limit' || t.type === 'stop-limit' ? { price: t.price } : {}),
        ...(t.type === 'stop-limit' ? { stopPrice: t.stopPrice } : {}),
      };
      const answer = await other.request(order);
      const server: Msg =
        answer.type === 'exec'
          ? await other.next(
              (m) =>
                m.type === 'exec' && m.clientOrderId === order.clientOrderId && m.status !== 'pending-new',
            )
          : answer;
      const words =
        server.type === 'error'
          ? `${server.code}: ${server.message}`
          : `${server.codeName} (${server.code}): ${server.reason}`;
      assert.equal(shown, words, JSON.stringify(t));
    }
    await ticket({ type: 'limit', quantity: '', price: '', stopPrice: '' });
    assert.deepEqual(problems, []);
  });

  /** Reviews the ticket and confirms with the keyboard (Enter on the focused button). */
  const place = async () => {
    await page.locator('[data-testid="ticket-submit"]').click();
    const send = page.locator('[data-testid="confirm-send"]');
    await send.waitFor(WAIT);
    await page.waitForFunction(
      'document.activeElement?.getAttribute("data-testid") === "confirm-send"',
      undefined,
      WAIT,
    );
    await page.keyboard.press('Enter');
  };
  /** The log's report of a status for the newest order (its clientOrderId is the page's). */
  const report = (status: string) =>
    page.locator(`[data-testid="report"][data-kind="exec"][data-status="${status}"]`).first();

  it('places an order with the ticket (Escape backs out of the confirmation), replaces and cancels it, reports shown as they come', async () => {
    // Given a buy of 3 at 95.00 on the ticket, its estimate shown
    await ticket({ side: 'buy', type: 'limit', tif: 'GTC', quantity: '3', price: '95.00' });
    const reserve = page.locator('[data-testid="estimate-reserve"]');
    await page.waitForFunction(
      'document.querySelector(\'[data-testid="estimate-reserve"]\')?.textContent.endsWith(" USD")',
      undefined,
      WAIT,
    );
    // 3 x 95.00 = 285.00 notional; taker fee and a cent a lot for rounding on top (engine/band.ts)
    const spec = gw.exchange.engine.instrument(ACME)!.spec;
    const notional = 3 * 9500;
    const fee = Math.ceil((notional * spec.takerFeeBps) / 10000);
    assert.equal(await reserve.textContent(), `${((notional + fee + 3) / 100).toFixed(2)} USD`);
    assert.equal(await page.locator('[data-testid="estimate-notional"]').textContent(), '285.00 USD');

    // When the user reviews it and backs out with Escape, nothing is sent
    await page.locator('[data-testid="ticket-submit"]').click();
    await page.locator('[data-testid="confirm-send"]').waitFor(WAIT);
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="ticket-confirm"]').waitFor({ state: 'hidden', ...WAIT });
    assert.equal(await page.locator('[data-testid="report"]').count(), 0);

    // When it confirms with Enter
    await place();

    // Then the reports come (pending-new, then new), the order is listed, and its cash reserved
    await report('new').waitFor(WAIT);
    assert.equal(await page.locator('[data-testid="report"][data-status="pending-new"]').count(), 1);
    const row = page.locator('[data-testid="order-row"][data-price="95.00"]');
    await row.waitFor(WAIT);
    assert.equal(await row.getAttribute('data-leaves'), '3');
    const reserved = ((notional + fee + 3) / 100).toFixed(2);
    await until(
      'the cash reserved as estimated',
      async () => (await balance('USD@evm:31337')).reserved === reserved,
    );

    // When the user replaces it: 2 at 96.00, typed in the row, Enter sends
    await row.locator('[data-testid="order-replace"]').click();
    await page.locator('[data-testid="replace-quantity"]').fill('2.5');
    await page.locator('[data-testid="replace-problem"]', { hasText: 'BAD_DECIMAL' }).waitFor(WAIT);
    assert.match(
      (await page.locator('[data-testid="replace-problem"]').textContent()) ?? '',
      /^BAD_DECIMAL: quantity "2.5" is not valid: quantity 2.5 is not a multiple of 1; quantity must be a multiple of the lot 1$/,
    );
    await page.locator('[data-testid="replace-quantity"]').fill('2');
    await page.locator('[data-testid="replace-price"]').fill('96.00');
    await page.locator('[data-testid="replace-price"]').press('Enter');

    // Then the order shows its new size and price, and the report says so
    const replaced = page.locator('[data-testid="order-row"][data-price="96.00"][data-leaves="2"]');
    await replaced.waitFor(WAIT);
    await report('replaced').waitFor(WAIT);
    const open = gw.exchange.engine.openOrders(wallet.address);
    assert.equal(open.length, 1, JSON.stringify(open));

    // When the user cancels it
    await replaced.locator('[data-testid="order-cancel"]').click();

    // Then it is gone, the report says why, and nothing stays reserved
    await report('canceled').waitFor(WAIT);
    await replaced.waitFor({ state: 'detached', ...WAIT });
    await until('the reservation released', async () => (await balance('USD@evm:31337')).reserved === '0.00');
    assert.equal(gw.exchange.engine.openOrders(wallet.address).length, 0);
    assert.deepEqual(problems, []);
  });

  it('says in the estimate when a post-only order would take liquidity, which the engine refuses', async () => {
    // Given the other investor's sell of 1 at 103.00, the best ask
    const ask = await other.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'ask-103',
      side: 'sell',
      orderType: 'limit',
      quantity: '1',
      price: '103.00',
    });
    assert.equal(ask.status, 'pending-new', JSON.stringify(ask));
    await page.locator('[data-testid="ticker-ask"]', { hasText: '103.00' }).waitFor(WAIT);
    const takes = page.locator('[data-testid="estimate-post-only"]');
    const postOnly = page.locator('[data-testid="ticket-post-only"]');

    // When the ticket is a post-only buy below it, nothing is said
    await ticket({ side: 'buy', type: 'limit', tif: 'GTC', quantity: '1', price: '102.99' });
    await postOnly.check();
    await page.locator('[data-testid="estimate-fee"]').waitFor(WAIT);
    assert.equal(await takes.count(), 0);
    // When its price reaches the ask, the estimate says it would take
    await ticket({ price: '103.00' });
    await takes.waitFor(WAIT);
    assert.equal(await takes.textContent(), 'would take at 103.00');

    // Then, sent all the same, the engine refuses it as the estimate said
    await place();
    const refused = report('rejected');
    await refused.waitFor(WAIT);
    assert.match((await refused.textContent()) ?? '', /a post-only order would take liquidity/);
    assert.equal(gw.exchange.engine.openOrders(wallet.address).length, 0);

    // And without post-only the warning goes (the other's ask withdrawn for the tests after)
    await postOnly.uncheck();
    await takes.waitFor({ state: 'detached', ...WAIT });
    await other.request({ op: 'cancel', clientOrderId: 'ask-103' });
    await other.next((m) => m.clientOrderId === 'ask-103' && m.status === 'canceled');
    assert.deepEqual(problems, []);
  });

  it('shows a fill with its fee, then its settlement on chain (reference and gas) and the balances moved', async () => {
    const before = await balance(ACME);
    // Given the page's sell of 2 at 101.00 resting
    await ticket({ side: 'sell', type: 'limit', tif: 'GTC', quantity: '2', price: '101.00' });
    await place();
    await page.locator('[data-testid="order-row"][data-price="101.00"]').waitFor(WAIT);

    // When the other investor buys it
    const answer = await other.request({
      op: 'new',
      instrument: ACME,
      clientOrderId: 'taker-1',
      side: 'buy',
      orderType: 'limit',
      quantity: '2',
      price: '101.00',
    });
    assert.equal(answer.status, 'pending-new', JSON.stringify(answer));
    const fill = await other.next((m) => m.clientOrderId === 'taker-1' && m.status === 'filled');
    const tradeId = fill.tradeId as number;

    // Then the page lists the fill with its fee (a maker's), the order gone and the report filled
    const row = page.locator(`[data-testid="fill-row"][data-trade-id="${tradeId}"]`);
    await row.waitFor(WAIT);
    assert.equal(await row.getAttribute('data-quantity'), '2');
    assert.equal(await row.getAttribute('data-price'), '101.00');
    const spec = gw.exchange.engine.instrument(ACME)!.spec;
    const makerFee = Math.ceil((2 * 10100 * spec.makerFeeBps) / 10000);
    assert.equal(await row.getAttribute('data-fee'), (makerFee / 100).toFixed(2));
    await report('filled').waitFor(WAIT);
    await page
      .locator('[data-testid="order-row"][data-price="101.00"]')
      .waitFor({ state: 'detached', ...WAIT });

    // And, once the chain settled it, its ledger reference and gas as REST has them
    const settled = row.locator('[data-testid="fill-settlement"][data-status="settled"]');
    await settled.waitFor(SETTLED);
    const rest = (await (await fetch(`${gw.url}/api/trades/${tradeId}/settlement`)).json()) as {
      ref: string;
      gas: number;
    };
    assert.match(rest.ref, /^0x[0-9a-f]{64}$/);
    assert.equal(await settled.getAttribute('data-ref'), rest.ref);
    assert.equal(await settled.getAttribute('data-gas'), String(rest.gas));
    assert.match(
      (await settled.textContent()) ?? '',
      new RegExp(`settled ${rest.ref.slice(0, 8)}… [\\d,]+ gas`),
    );

    // And the balances moved: 2 ACME fewer, the proceeds less the fee in cash, nothing pending
    const lots = (s: string | null) => Number(s);
    await until('the ACME balance after settlement', async () => {
      const now = await balance(ACME);
      return lots(now.available) === lots(before.available) - 2 && now.pendingOut === '0';
    });
    const usd = await balance('USD@evm:31337');
    assert.equal(usd.pendingIn, '0.00');
    assert.deepEqual(problems, []);
  });

  it("shows a fill whose trade the chain refuses reversed, with the ledger's reason, and the balances back", async (t) => {
    // Given the chain, and the ACME token as its agent (the deployer) holds it
    const evm = gw.connectors.find((c) => c.venue === 'evm:31337') as EvmConnector;
    const chain = new JsonRpcProvider(evm.rpcUrl, EthNetwork.from(31337), { staticNetwork: true });
    t.after(() => chain.destroy());
    const abi = (await compileContracts()).contracts.SecurityToken.abi as InterfaceAbi;
    const token = new Contract(evm.contracts.securities.ACME!, abi, new Wallet(DEV_KEYS[0], chain));
    const buyer = investors[0].address;
    const frozen = () => gw.exchange.engine.standing(buyer).find((s) => s.venue === 'evm:31337')?.frozen;
    const inPool = async () => {
      const pool = await chain.send('txpool_content', []);
      const txs = Object.values(pool.pending as Record<string, Record<string, { to: string }>>);
      return txs
        .flatMap((byNonce) => Object.values(byNonce))
        .some((tx) => tx.to === evm.contracts.settlement.toLowerCase());
    };
    // and the balances with nothing reserved or pending
    const idle = (b: Awaited<ReturnType<typeof balance>>) =>
      [b.reserved, b.pendingIn, b.pendingOut].every((v) => Number(v) === 0) && b;
    const before = {
      acme: await until('ACME with nothing pending', async () => idle(await balance(ACME))),
      usd: await until('USD with nothing pending', async () => idle(await balance('USD@evm:31337'))),
    };
    // and the page's sell of 3 at 102.00 resting, the chain mining only when told
    await ticket({ side: 'sell', type: 'limit', tif: 'GTC', quantity: '3', price: '102.00' });
    await place();
    await page.locator('[data-testid="order-row"][data-price="102.00"]').waitFor(WAIT);
    await evm.faucet?.idle();
    await chain.send('evm_setAutomine', [false]);
    let tradeId: number;
    try {
      // When the other investor buys it
      const answer = await other.request({
        op: 'new',
        instrument: ACME,
        clientOrderId: 'taker-frozen',
        side: 'buy',
        orderType: 'limit',
        quantity: '3',
        price: '102.00',
      });
      assert.equal(answer.status, 'pending-new', JSON.stringify(answer));
      tradeId = (await other.next((m) => m.clientOrderId === 'taker-frozen' && m.status === 'filled'))
        .tradeId as number;

      // Then the page shows the fill pending, its lots pending out
      const row = page.locator(`[data-testid="fill-row"][data-trade-id="${tradeId}"]`);
      await row.locator('[data-testid="fill-settlement"][data-status="pending"]').waitFor(WAIT);
      await until('3 ACME pending out', async () => (await balance(ACME)).pendingOut === '3');

      // When, its batch waiting in the pool, the token's agent freezes the buyer, with a higher
      // tip than the operator's (1 gwei) so that the block orders the freeze first
      await until('the batch transaction in the pool', inPool);
      const freeze = await token
        .getFunction('setAddressFrozen')
        .send(buyer, true, { maxPriorityFeePerGas: 10n ** 10n, maxFeePerGas: 10n ** 11n });
      await chain.send('evm_mine', []);
      assert.equal((await chain.getTransactionReceipt(freeze.hash))?.status, 1, 'the freeze mined');
    } finally {
      await chain.send('evm_setAutomine', [true]);
    }

    // Then REST has the trade failed with the ledger's reason, and the page shows it reversed with it
    const reversed = page.locator(
      `[data-testid="fill-row"][data-trade-id="${tradeId}"] [data-testid="fill-settlement"][data-status="reversed"]`,
    );
    await reversed.waitFor(SETTLED);
    const rest = (await (await fetch(`${gw.url}/api/trades/${tradeId}/settlement`)).json()) as {
      status: string;
      reason: string;
    };
    assert.deepEqual([rest.status, rest.reason], ['failed', 'TO_FROZEN']);
    assert.match((await reversed.textContent()) ?? '', new RegExp(`^reversed\\s+${rest.reason}$`));

    // And the balances are back where they were, nothing pending for the trade
    await until(
      'the balances back as before the trade',
      async () =>
        JSON.stringify({ acme: await balance(ACME), usd: await balance('USD@evm:31337') }) ===
        JSON.stringify(before),
    );

    // And the engine hears of the freeze from the chain; the agent lifts it for the tests after
    await until('the engine to hear of the freeze', () => frozen() === true);
    await send(token, 'setAddressFrozen', buyer, false);
    await until('the engine to hear the freeze lifted', () => frozen() === false);
    assert.deepEqual(problems, []);
  });

  it('keeps the session over a reload, and still trades', async () => {
    await page.reload();
    await page.locator('[data-testid="account-name"]', { hasText: wallet.address }).waitFor(WAIT);
    assert.equal(await page.locator('[data-testid="login-wallet"]').count(), 0);
    // The socket logged in with the kept token: an order goes through, and its reports come back.
    await ticket({ side: 'buy', type: 'limit', tif: 'GTC', quantity: '1', price: '94.00' });
    await place();
    const row = page.locator('[data-testid="order-row"][data-price="94.00"]');
    await row.waitFor(WAIT);
    await row.locator('[data-testid="order-cancel"]').click();
    await row.waitFor({ state: 'detached', ...WAIT });
    assert.deepEqual(problems, []);
  });

  it('keeps every panel in the window at 1440x900, lists scrolling inside; fits a 390x844 phone', async () => {
    // Enough trades to fill the trades list
    const one = (c: WsClient, clientOrderId: string, side: string) =>
      c.request({
        op: 'new',
        instrument: ACME,
        clientOrderId,
        side,
        orderType: 'limit',
        quantity: '1',
        price: '100.00',
      });
    for (let i = 0; i < 12; i++) {
      await one(other, `fill-s-${i}`, 'sell');
      await one(third, `fill-b-${i}`, 'buy');
    }
    await third.next((m) => m.clientOrderId === 'fill-b-11' && m.status === 'filled');
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.locator('[data-testid="trade-row"]').nth(11).waitFor(WAIT);

    // The price chart draws the candles the exchange serves, at each interval
    const chart = page.locator('[data-testid="price-chart"]');
    for (const interval of ['1s', '1m']) {
      await page.locator(`[data-testid="chart-interval"][data-interval="${interval}"]`).click();
      const rest = (
        (await (await fetch(`${gw.url}/api/candles?instrument=${ACME}&interval=${interval}`)).json()) as {
          candles: Msg[];
        }
      ).candles;
      assert.ok(rest.length > 0, interval);
      await until(
        `the chart's ${interval} candles as REST serves them`,
        async () =>
          (await chart.getAttribute('data-last')) === JSON.stringify(rest.at(-1)) &&
          (await chart.getAttribute('data-candles')) === String(rest.length),
      );
    }
    await page.screenshot({ path: artifactPath('dashboard-1440x900.png') });
    const layout = (await page.evaluate(`(() => {
      const panels = [...document.querySelectorAll('[data-testid="panel"]')].map((p) => {
        const r = p.getBoundingClientRect();
        return { name: p.dataset.panel, x: r.x, y: r.y, right: r.right, bottom: r.bottom, area: r.width * r.height };
      });
      const grid = document.querySelector('main.grid').getBoundingClientRect();
      const trades = document.querySelector('[data-testid="trades-scroll"]');
      return {
        panels,
        gridArea: grid.width * grid.height,
        pageHeight: document.scrollingElement.scrollHeight,
        pageWidth: document.scrollingElement.scrollWidth,
        tradesScroll: [trades.scrollHeight, trades.clientHeight, getComputedStyle(trades).overflowY],
      };
    })()`)) as {
      panels: Array<{ name: string; x: number; y: number; right: number; bottom: number; area: number }>;
      gridArea: number;
      pageHeight: number;
      pageWidth: number;
      tradesScroll: [number, number, string];
    };
    assert.equal(layout.panels.length, 11);
    for (const p of layout.panels) {
      assert.ok(
        p.x >= 0 && p.y >= 0 && p.right <= 1440 && p.bottom <= 900,
        `${p.name} within the window: ${JSON.stringify(p)}`,
      );
    }
    assert.ok(layout.pageHeight <= 900 && layout.pageWidth <= 1440, JSON.stringify(layout));
    // No large empty areas: the panels cover most of the grid (the rest is the gaps between them).
    const covered = layout.panels.reduce((sum, p) => sum + p.area, 0) / layout.gridArea;
    assert.ok(covered > 0.85, `panels cover ${covered.toFixed(2)} of the grid`);
    // The trades list scrolls inside its panel.
    const [scrollHeight, clientHeight, overflow] = layout.tradesScroll;
    assert.ok(scrollHeight > clientHeight && overflow === 'auto', JSON.stringify(layout.tradesScroll));

    // A phone: one column, nothing wider than the screen, every panel there
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: artifactPath('dashboard-390x844.png'), fullPage: true });
    const phone = (await page.evaluate(`(() => ({
      width: document.scrollingElement.scrollWidth,
      panels: [...document.querySelectorAll('[data-testid="panel"]')].map((p) => {
        const r = p.getBoundingClientRect();
        return { name: p.dataset.panel, x: r.x, right: r.right, height: r.height };
      }),
    }))()`)) as { width: number; panels: Array<{ name: string; x: number; right: number; height: number }> };
    assert.ok(phone.width <= 390, `page width ${phone.width}`);
    for (const p of phone.panels) {
      assert.ok(p.x >= 0 && p.right <= 390 && p.height > 40, `${p.name} on the phone: ${JSON.stringify(p)}`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    assert.deepEqual(problems, []);
  });
});
