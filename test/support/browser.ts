/**
 * The browser suites' harness: Debian's chromium driven by playwright-core (one browser per
 * file, a fresh profile), a test wallet injected as a browser extension injects one (EIP-1193
 * `window.ethereum`, signing with an ethers wallet), pages that record their script errors, and
 * the folder where screenshots are kept as test artifacts (git-ignored).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Wallet } from 'ethers';
import { projectRoot } from '../../gateway/assets.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A browser on a fresh profile; `close` also removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Gives every page of `context` a `window.ethereum` that answers `eth_requestAccounts` with the
 * wallet's address and `eth_signTypedData_v4` with its signature (the domain type removed, as
 * ethers wants it), as a wallet extension would.
 */
export async function injectWallet(context: BrowserContext, wallet: () => Wallet): Promise<void> {
  await context.exposeFunction('testWallet', async (method: string, params: unknown[]) => {
    const w = wallet();
    if (method === 'eth_requestAccounts') return [w.address];
    if (method === 'eth_signTypedData_v4') {
      const [address, json] = params as [string, string];
      assert.equal(address, w.address);
      const data = JSON.parse(json) as {
        domain: Record<string, string>;
        types: Record<string, Array<{ name: string; type: string }>>;
        message: Record<string, unknown>;
      };
      const { EIP712Domain: _domain, ...types } = data.types;
      return w.signTypedData(data.domain, types, data.message);
    }
    throw new Error(`unsupported method ${method}`);
  });
  await context.addInitScript({
    content:
      'window.ethereum = { request: ({ method, params }) => window.testWallet(method, params ?? []) };',
  });
}

/**
 * A new page that records its script errors and console errors in `problems`, failed loads among
 * them, but for answers of the HTTP statuses `expected` (a test that logs in wrong expects a 401).
 */
export async function openPage(
  context: BrowserContext,
  problems: string[],
  expected: readonly number[] = [],
): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    const status = /the server responded with a status of (\d+)/.exec(m.text());
    if (status !== null && expected.includes(Number(status[1]))) return;
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  return page;
}

/** Where screenshots go: `test-artifacts/` at the project root (git-ignored), made if missing. */
export function artifactPath(name: string): string {
  const dir = path.join(projectRoot(), 'test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
