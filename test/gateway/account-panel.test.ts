/**
 * The dashboard's account panel, in chromium against a real exchange: a visitor logs in with an
 * injected EIP-1193 wallet (a test provider backed by an ethers wallet: `eth_requestAccounts`,
 * `eth_signTypedData_v4` of the server's challenge), sees the account, its linked identities and
 * per venue whether it may trade there and why not; a Fabric identity linked over the WebSocket
 * shows after a reload, which keeps the session; a token the server refuses is shown with its
 * code, and logging out forgets it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Embedded } from '../../app/index.ts';
import { testGateway } from '../support/gateway.ts';
import { type FabricMember, issue, makeMsp, makeWallet, x509Login } from '../support/identities.ts';
import { login, WsClient } from '../support/ws-client.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WAIT = { timeout: 10_000 };

describe('the dashboard’s account panel', () => {
  let gw: Embedded;
  let member: FabricMember;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const wallet = makeWallet();
  const problems: string[] = [];

  before(async () => {
    const club = await makeMsp('ClubMSP');
    member = await issue(club, 'alice');
    gw = await testGateway((c) => {
      c.msps = [club.config];
    });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    // The test's wallet, as a browser extension injects one (EIP-1193), signing with an ethers wallet.
    await context.exposeFunction('testWallet', async (method: string, params: unknown[]) => {
      if (method === 'eth_requestAccounts') return [wallet.address];
      if (method === 'eth_signTypedData_v4') {
        const [address, json] = params as [string, string];
        assert.equal(address, wallet.address);
        const data = JSON.parse(json) as {
          domain: Record<string, string>;
          types: Record<string, Array<{ name: string; type: string }>>;
          message: Record<string, unknown>;
        };
        const { EIP712Domain: _domain, ...types } = data.types;
        return wallet.signTypedData(data.domain, types, data.message);
      }
      throw new Error(`unsupported method ${method}`);
    });
    await context.addInitScript({
      content:
        'window.ethereum = { request: ({ method, params }) => window.testWallet(method, params ?? []) };',
    });
    page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  });

  after(async () => {
    await context?.close();
    await gw?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  /** The panel's rows of access: venue, may trade, reason. */
  const access = async () =>
    page
      .locator('[data-testid="account-access"]')
      .evaluateAll((rows) =>
        rows.map((r) => [
          r.getAttribute('data-venue'),
          r.getAttribute('data-can-trade'),
          r.querySelectorAll('td')[1]?.textContent,
        ]),
      );

  it('logs in with the wallet and shows the account, its identities and where it may trade', async () => {
    await page.goto(`${gw.url}/`);
    await page.locator('[data-testid="login-wallet"]:not([disabled])').click(WAIT);
    await page.locator('[data-testid="account-name"]', { hasText: wallet.address }).waitFor(WAIT);
    assert.equal(await page.locator('[data-testid="account-identity"]').count(), 0);
    assert.deepEqual(await access(), [
      ['evm:31337', 'true', 'may trade'],
      ['fabric:bank-net', 'false', 'other-ledger'],
    ]);
    assert.deepEqual(problems, []);
  });

  it('shows a Fabric identity linked since, after a reload that keeps the session, and the venue it brings into sight', async () => {
    const c = await WsClient.connect(gw.url);
    await login(c, wallet);
    const challenge = await c.request({ op: 'challenge', purpose: 'link' });
    const id = c.newId();
    c.send({ ...x509Login(member, challenge as never), op: 'link', id });
    assert.equal((await c.next((m) => m.id === id && m.type !== 'ack')).type, 'identity');
    await c.close();

    await page.reload();
    await page.locator('[data-testid="account-identity"]', { hasText: 'ClubMSP:alice' }).waitFor(WAIT);
    assert.deepEqual(await access(), [
      ['evm:31337', 'true', 'may trade'],
      ['fabric:bank-net', 'true', 'may trade'],
      ['fabric:club-net', 'false', 'not-eligible'],
    ]);
    assert.deepEqual(problems, []);
  });

  it('shows a token the server refuses with its code, and logs out', async () => {
    // The token altered in the tab's storage (its signature no longer matches).
    await page.evaluate(
      "const s = JSON.parse(sessionStorage.getItem('mosaic.session')); " +
        "sessionStorage.setItem('mosaic.session', JSON.stringify({ ...s, token: 'x' + s.token.slice(1) }))",
    );
    await page.reload();
    const error = page.locator('[data-testid="account-error"]');
    await error.waitFor(WAIT);
    assert.match((await error.textContent()) ?? '', /^AUTH_REQUIRED: the bearer token is unknown or expired/);
    await page.locator('[data-testid="login-wallet"]').click(WAIT);
    await page.locator('[data-testid="account-name"]', { hasText: wallet.address }).waitFor(WAIT);
    await page.locator('[data-testid="logout"]').click();
    await page.locator('[data-testid="login-wallet"]').waitFor(WAIT);
    assert.equal(await page.evaluate("sessionStorage.getItem('mosaic.session')"), null);
    assert.deepEqual(problems, []);
  });
});
