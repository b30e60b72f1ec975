/**
 * The live dashboard (`/`) and the API page (`/docs`) in a real headless Chromium against a real
 * exchange: two Ethereum identities trade over the WebSocket and the page must show the trade,
 * the book, the ticker and the consolidated book, with every sequence and checksum verified. A
 * proxied socket that corrupts one checksum and drops one message proves the page notices and
 * recovers. Every wait is bounded (10 s) and waits for a state, never for time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import type { BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import type { Embedded } from '../../app/index.ts';
import { launchBrowser, openPage } from '../support/browser.ts';
import { testGateway } from '../support/gateway.ts';
import { login, type Msg, reports, WsClient } from '../support/ws-client.ts';
import { makeWallet } from '../support/identities.ts';
import { until } from '../support/wait.ts';

const ACME = 'ACME@evm:31337';
const WAIT = { timeout: 10_000 };

/** A channel's check counts as the page keeps them (`window.mosaicDashboard.stats()`). */
interface ChannelStats {
  name: string;
  seq: number | null;
  passed: number;
  failed: number;
  resyncs: number;
  state: string;
}

const stats = (page: Page) => page.evaluate('window.mosaicDashboard.stats()') as Promise<ChannelStats[]>;

/** Waits until every channel the page wants has taken its snapshot and is live. */
async function live(page: Page, channels: number): Promise<void> {
  await page.waitForFunction(
    `(() => { const s = window.mosaicDashboard?.stats() ?? [];
      return s.length === ${channels} && s.every((c) => c.state === 'live' && c.seq !== null); })()`,
    undefined,
    WAIT,
  );
}

/** Two logged-in traders with demo funds. */
/**
 * Two Ethereum identities logged in, once the local chain's faucet has funded them and the
 * connector has credited the engine from the chain's deposit events.
 */
async function traders(gw: Embedded): Promise<[WsClient, WsClient]> {
  const seller = await WsClient.connect(gw.url);
  const buyer = await WsClient.connect(gw.url);
  for (const c of [seller, buyer]) {
    const wallet = makeWallet();
    await login(c, wallet, 'eip191');
    await until(
      `the faucet's funding of ${wallet.address} on the local chain`,
      () => gw.exchange.engine.balances(wallet.address).length >= 2,
    );
  }
  return [seller, buyer];
}

/** Places a GTC limit order and waits for its report of `status`. */
async function limit(
  c: WsClient,
  clientOrderId: string,
  side: string,
  price: string,
  quantity: string,
  status: string,
) {
  const order = {
    op: 'new',
    instrument: ACME,
    clientOrderId,
    side,
    orderType: 'limit',
    price,
    quantity,
  };
  const answer = await c.request(order);
  assert.notEqual(answer.type, 'error', JSON.stringify(answer));
  const report = await c.next(
    (m: Msg) => m.type === 'exec' && m.clientOrderId === clientOrderId && m.status === status,
  );
  assert.equal(report.status, status, JSON.stringify(reports(c, clientOrderId)));
  return report;
}

describe('live dashboard in Chromium', () => {
  let gw: Embedded;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  /** The channels the page follows for one instrument: book, trades, ticker, consolidated, candles. */
  const channels = 5;
  let seller: WsClient;
  let buyer: WsClient;
  const problems: string[] = [];

  before(async () => {
    // With the EVM connector on a local anvil, as `npm start` runs it: trades settle on chain.
    gw = await testGateway(() => {}, { settlement: true });
    browser = await launchBrowser();
    context = browser.context;
    [seller, buyer] = await traders(gw);
  });

  after(async () => {
    await seller?.close();
    await buyer?.close();
    await browser?.close();
    await gw?.close();
  });

  it('computes CRC-32 as zlib does and builds the checksum string of the protocol', async () => {
    const page = await openPage(context, problems);
    await page.goto(`${gw.url}/`);
    await page.waitForFunction('window.mosaicDashboard !== undefined', undefined, WAIT);
    const example = '99.99:12:100.01:5:99.98:40';
    const text = await page.evaluate(
      `window.mosaicDashboard.checksumText([["99.99","12"],["99.98","40"]], [["100.01","5"]], 10)`,
    );
    assert.equal(text, example);
    for (const s of ['', example, '101.37:7', 'a'.repeat(1000)]) {
      assert.equal(
        await page.evaluate(`window.mosaicDashboard.crc32(${JSON.stringify(s)})`),
        zlib.crc32(s),
        s,
      );
    }
    await page.close();
  });

  it('shows a trade between two identities, the book, the ticker and the consolidated book, all checks passing', async () => {
    // Given the page following ACME on the EVM chain, live on its five channels
    const page = await openPage(context, problems);
    await page.goto(`${gw.url}/#${ACME}`);
    await page.locator('[data-testid="connection-status"][data-state="open"]').waitFor(WAIT);
    await live(page, channels);

    // When a seller rests 7 at 101.37
    await limit(seller, 'dash-sell-1', 'sell', '101.37', '7', 'new');

    // Then the ladder, the ticker and the consolidated book show the offer
    const ask = page.locator('[data-testid="ladder-row"][data-side="ask"][data-price="101.37"]');
    await ask.waitFor(WAIT);
    assert.equal(await ask.getAttribute('data-quantity'), '7');
    await page.waitForFunction(
      `document.querySelector('[data-testid="ticker-ask"]').textContent === '101.37 × 7'`,
      undefined,
      WAIT,
    );
    const merged = page.locator('[data-testid="consolidated-row"][data-side="ask"][data-price="101.37"]');
    await merged.waitFor(WAIT);
    assert.equal(await page.locator('[data-testid="consolidated-symbol"]').textContent(), 'ACME');
    assert.equal(await merged.getAttribute('data-quantity'), '7');
    assert.match((await merged.textContent()) ?? '', /evm:31337 7/);

    // When a buyer takes all of it
    await limit(buyer, 'dash-buy-1', 'buy', '101.37', '7', 'filled');
    await seller.next((m) => m.clientOrderId === 'dash-sell-1' && m.status === 'filled');

    // Then the trade is listed with its price and quantity, and the offer is gone everywhere
    const trade = page.locator('[data-testid="trade-row"][data-price="101.37"]');
    await trade.waitFor(WAIT);
    assert.equal(await trade.count(), 1);
    assert.equal(await trade.getAttribute('data-quantity'), '7');
    assert.equal(await trade.getAttribute('data-side'), 'buy');
    const cells = await trade.locator('td').allTextContents();
    assert.ok(cells.includes('101.37') && cells.includes('7'), cells.join(' | '));
    await page.waitForFunction(
      `document.querySelector('[data-testid="ticker-last"]').textContent === '101.37' &&
       document.querySelector('[data-testid="ticker-volume"]').textContent === '7'`,
      undefined,
      WAIT,
    );
    await ask.waitFor({ state: 'detached', ...WAIT });
    await merged.waitFor({ state: 'detached', ...WAIT });

    // And every message passed its sequence and checksum checks
    const all = await stats(page);
    assert.deepEqual(all.map((c) => c.name).sort(), [
      'book.10:ACME@evm:31337',
      'candles.1m:ACME@evm:31337',
      'consolidated.10:ACME',
      'ticker:ACME@evm:31337',
      'trades:ACME@evm:31337',
    ]);
    for (const c of all) {
      assert.equal(c.failed, 0, JSON.stringify(c));
      assert.ok(c.passed >= 2, `snapshot and at least one update checked: ${JSON.stringify(c)}`);
    }
    const book = all.find((c) => c.name.startsWith('book.'))!;
    assert.ok(book.passed >= 3, `resting offer and its fill: ${JSON.stringify(book)}`);
    assert.equal(await page.locator('[data-testid="checks-summary"]').getAttribute('data-failed'), '0');

    // And the settlement pipeline (polled every 2 s) shows the trade settled on chain, with what
    // it cost: its share of the batch's gas and fee
    const venue = page.locator('[data-testid="settlement-row"][data-venue="evm:31337"]');
    const cost = venue.locator('[data-testid="settlement-cost"][data-gas]');
    await cost.waitFor(WAIT);
    const row = await venue.locator('td').allTextContents();
    assert.ok(Number(row[2]) >= 1, `settled counts the trade: ${row.join(' | ')}`);
    const pipeline = gw.settlements.pipelines().find((p) => p.venue === 'evm:31337')!;
    assert.equal(await cost.getAttribute('data-gas'), String(Math.floor(pipeline.gas / pipeline.costed)));
    assert.equal(
      await cost.getAttribute('data-fee'),
      (BigInt(pipeline.gasFee) / BigInt(pipeline.costed)).toString(),
    );
    assert.match(row[4] ?? '', /^[\d,]+ gas · [\d,.]+ gwei$/);
    // And the exchange's fees collected there, as REST counts them
    const fees = pipeline.fees.find((f) => f.asset === 'USD@evm:31337');
    assert.ok(fees !== undefined, JSON.stringify(pipeline));
    await until('the fees shown as REST counts them', async () => {
      const now = gw.settlements.pipelines().find((p) => p.venue === 'evm:31337')!.fees[0]!.collected;
      return (await venue.locator('[data-testid="settlement-fees"]').textContent()) === `${now} USD`;
    });
    await page.close();
  });

  it('notices a corrupted checksum and a lost message, and recovers the right book', async () => {
    // Given a page whose socket goes through a proxy that spoils the next book update's checksum
    // and swallows the next ticker update
    const page = await openPage(context, problems);
    const tamper = { armed: false, corrupted: 0, dropped: 0 };
    await page.routeWebSocket(/\/ws$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        const msg = JSON.parse(String(m)) as Msg;
        if (tamper.armed && msg.type === 'update') {
          if (msg.channel === `book.10:${ACME}` && tamper.corrupted === 0) {
            tamper.corrupted++;
            return ws.send(JSON.stringify({ ...msg, checksum: ((msg.checksum as number) ^ 1) >>> 0 }));
          }
          if (msg.channel === `ticker:${ACME}` && tamper.dropped === 0) {
            tamper.dropped++;
            return undefined;
          }
        }
        return ws.send(m);
      });
    });
    await page.goto(`${gw.url}/#${ACME}`);
    await live(page, channels);
    tamper.armed = true;

    // When the book and the ticker change
    await limit(seller, 'dash-sell-2', 'sell', '102.11', '3', 'new');

    // Then the page counts one failed check on each, resubscribes, and shows the true state
    await page.waitForFunction(
      `(() => { const s = window.mosaicDashboard.stats();
        const book = s.find((c) => c.name === 'book.10:${ACME}');
        const ticker = s.find((c) => c.name === 'ticker:${ACME}');
        return book.failed === 1 && book.resyncs === 1 && book.state === 'live' &&
          ticker.failed === 1 && ticker.resyncs === 1 && ticker.state === 'live'; })()`,
      undefined,
      WAIT,
    );
    assert.deepEqual(tamper, { armed: true, corrupted: 1, dropped: 1 });
    const ask = page.locator('[data-testid="ladder-row"][data-side="ask"][data-price="102.11"]');
    await ask.waitFor(WAIT);
    assert.equal(await ask.getAttribute('data-quantity'), '3');
    assert.equal(await page.locator('[data-testid="ticker-ask"]').textContent(), '102.11 × 3');
    assert.equal(await page.locator('[data-testid="checks-summary"]').getAttribute('data-failed'), '2');
    await page.close();
  });

  it('shows the connection state and reconnects after the socket closes', async () => {
    const page = await openPage(context, problems);
    let sockets = 0;
    let first: WebSocketRoute | null = null;
    await page.routeWebSocket(/\/ws$/, (ws) => {
      sockets++;
      first ??= ws;
      ws.connectToServer();
    });
    await page.goto(`${gw.url}/#${ACME}`);
    await live(page, channels);
    const status = page.locator('[data-testid="connection-status"]');
    await first!.close({ code: 4001, reason: 'test' });
    await page.locator('[data-testid="connection-status"][data-state="closed"]').waitFor(WAIT);
    assert.match((await status.textContent()) ?? '', /retrying in/);
    await page.locator('[data-testid="connection-status"][data-state="open"]').waitFor(WAIT);
    await live(page, channels);
    assert.equal(sockets, 2);
    for (const c of await stats(page)) assert.equal(c.failed, 0, JSON.stringify(c));
    await page.close();
  });

  it('renders the REST routes of the OpenAPI document at /docs', async () => {
    const spec = (await (await fetch(`${gw.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    const page = await openPage(context, problems);
    await page.goto(`${gw.url}/docs`);
    await page.locator('[data-testid="route"]').first().waitFor(WAIT);
    for (const [p, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const route = page.locator(`[data-testid="route"][data-method="${method}"][data-path="${p}"]`);
        assert.equal(await route.count(), 1, `${method} ${p}`);
        if (op.summary)
          assert.equal(await route.locator('[data-testid="route-summary"]').textContent(), op.summary);
      }
    }
    for (const p of [
      '/api/instruments',
      '/api/instruments/{id}/book',
      '/api/instruments/{id}/trades',
      '/api/settlements',
    ]) {
      assert.equal(
        await page.locator(`[data-testid="route"][data-method="get"][data-path="${p}"]`).count(),
        1,
        p,
      );
    }
    const book = page.locator('[data-testid="route"][data-path="/api/instruments/{id}/book"]');
    assert.match((await book.textContent()) ?? '', /checksum: integer/);
    assert.equal(
      await page.locator('[data-testid="ws-protocol-link"]').getAttribute('href'),
      '/docs/ws-protocol.md',
    );
    assert.equal(
      await page.locator('[data-testid="openapi-link"]').getAttribute('href'),
      '/docs/openapi.json',
    );
    await page.close();
  });

  it('had no script errors and no failed loads on any page', () => {
    assert.deepEqual(problems, []);
  });
});
