/**
 * The dashboard's account panel, in chromium against a real exchange: a visitor logs in with an
 * injected EIP-1193 wallet (a test provider backed by an ethers wallet: `eth_requestAccounts`,
 * `eth_signTypedData_v4` of the server's challenge), sees the account, its linked identities and
 * per venue whether it may trade there and why not; a Fabric identity linked over the WebSocket
 * shows after a reload, which keeps the session; a token the server refuses is shown with its
 * code, and logging out forgets it; and a Fabric member logs in with its certificate and key
 * files, the challenge signed in the page with WebCrypto and the key never sent.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Embedded } from '../../app/index.ts';
import { injectWallet, launchBrowser, openPage } from '../support/browser.ts';
import { testGateway } from '../support/gateway.ts';
import { type FabricMember, issue, makeMsp, makeWallet, x509Login } from '../support/identities.ts';
import { login, WsClient } from '../support/ws-client.ts';

const WAIT = { timeout: 10_000 };

describe('the dashboard’s account panel', () => {
  let gw: Embedded;
  let member: FabricMember;
  /** A member who logs in with the page's Fabric form. */
  let bob: FabricMember;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let files: string;
  const wallet = makeWallet();
  const problems: string[] = [];

  before(async () => {
    const club = await makeMsp('ClubMSP');
    member = await issue(club, 'alice');
    bob = await issue(club, 'bob');
    gw = await testGateway((c) => {
      c.msps = [club.config];
    });
    files = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-identity-'));
    browser = await launchBrowser();
    await injectWallet(browser.context, () => wallet);
    // Refused logins and tokens are part of the story: their 401 answers are expected.
    page = await openPage(browser.context, problems, [401]);
  });

  after(async () => {
    await browser?.close();
    await gw?.close();
    if (files) fs.rmSync(files, { recursive: true, force: true });
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

  it('logs in with a Fabric certificate and key chosen from files, signing in the page: the key is never sent', async () => {
    const cert = path.join(files, 'bob-cert.pem');
    const key = path.join(files, 'bob-key.pem');
    fs.writeFileSync(cert, bob.certificate);
    const pem = bob.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    fs.writeFileSync(key, pem);
    const keyBody = pem.split('\n').slice(1, -2).join('');
    const sent: string[] = [];
    page.on('request', (r) => sent.push(`${r.url()} ${r.postData() ?? ''}`));
    page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));

    // A wrong MSP is refused with the server's code and text, and nothing is kept
    await page.locator('[data-testid="fabric-cert"]').setInputFiles(cert);
    await page.locator('[data-testid="fabric-key"]').setInputFiles(key);
    await page.locator('[data-testid="fabric-msp"]').fill('OtherMSP');
    await page.locator('[data-testid="login-fabric"]').click();
    const error = page.locator('[data-testid="account-error"]');
    await error.waitFor(WAIT);
    assert.match((await error.textContent()) ?? '', /^AUTH_FAILED: /);
    assert.equal(await page.evaluate("sessionStorage.getItem('mosaic.session')"), null);

    // The right one logs in, Enter in the form submits it
    await page.locator('[data-testid="fabric-cert"]').setInputFiles(cert);
    await page.locator('[data-testid="fabric-key"]').setInputFiles(key);
    await page.locator('[data-testid="fabric-msp"]').fill('ClubMSP');
    await page.locator('[data-testid="fabric-msp"]').press('Enter');
    await page.locator('[data-testid="account-name"]', { hasText: 'ClubMSP:bob' }).waitFor(WAIT);
    assert.deepEqual(
      (await access()).map(([venue]) => venue),
      ['evm:31337', 'fabric:bank-net', 'fabric:club-net'],
    );
    // The page's socket logged in with the session's token: it sees the permissioned venue's instrument.
    await page
      .locator('[data-testid="instrument-tab"][data-instrument="GILT@fabric:club-net"]')
      .waitFor(WAIT);

    // And a reload keeps it
    await page.reload();
    await page.locator('[data-testid="account-name"]', { hasText: 'ClubMSP:bob' }).waitFor(WAIT);
    assert.ok(sent.length > 0);
    for (const s of sent)
      assert.ok(!s.includes(keyBody.slice(0, 40)), `the key went out: ${s.slice(0, 200)}`);
    assert.deepEqual(problems, []);
  });
});
