/**
 * The demo as a new user tries it, written from the docs alone: `mosaic start` with its defaults
 * (a local anvil, the Fabric devnets, the market maker), `mosaic demo-identity alice` for a Fabric
 * identity, then over the WebSocket: log in with an Ethereum key, link the Fabric identity,
 * wait until the account may trade on both ledgers, buy BOND (a bond on the Fabric network,
 * paid in the chain's USD) from the market maker, and see both legs of the trade claimed and the
 * trade settled.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Wallet } from 'ethers';
import { killAll, MosaicProcess } from '../support/exchange-process.ts';
import { withS } from '../support/identities.ts';
import { until } from '../support/wait.ts';
import { type Msg, WsClient } from '../support/ws-client.ts';

const MOSAIC = fileURLToPath(new URL('../../bin/mosaic.js', import.meta.url));
const BOND = 'BOND@fabric:bank-net';

describe('the cross-ledger demo, as a new user', { timeout: 240_000 }, () => {
  const running = new Set<ChildProcess>();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-xdemo-'));
  const sessions: WsClient[] = [];

  after(async () => {
    for (const s of sessions) await s.close().catch(() => {});
    await killAll(running);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('given npm start, a key and a demo Fabric identity linked to it, then BOND bought from the market maker settles on both ledgers', async () => {
    const configFile = path.join(dir, 'mosaic.json');
    fs.writeFileSync(configFile, JSON.stringify({ port: 0, dataDir: path.join(dir, 'data') }));
    const exchange = await MosaicProcess.start(configFile, running);
    const output = () => exchange.output.split('\n').slice(-40).join('\n');

    // A Fabric identity for the demo: its certificate and key
    const { stdout } = await promisify(execFile)(process.execPath, [
      MOSAIC,
      'demo-identity',
      'alice',
      '--config',
      configFile,
    ]);
    const alice = JSON.parse(stdout) as {
      mspId: string;
      commonName: string;
      certificate: string;
      privateKey: string;
    };
    assert.equal(`${alice.mspId}:${alice.commonName}`, 'DemoInvestorsMSP:alice');

    // Log in with an Ethereum key (eip191: personal_sign of the challenge's text)
    const wallet = Wallet.createRandom();
    const c = await WsClient.connect(exchange.url);
    sessions.push(c);
    const challenge = await c.request({ op: 'challenge' });
    const login = await c.request({
      op: 'login',
      scheme: 'eip191',
      nonce: challenge.nonce,
      address: wallet.address,
      signature: await wallet.signMessage(challenge.message as string),
    });
    assert.equal(login.type, 'login', JSON.stringify(login));
    const token = login.token as string;

    // Link the Fabric identity: sign the link challenge's text with its key (DER ECDSA, low-S, base64)
    const linkChallenge = await c.request({ op: 'challenge', purpose: 'link' });
    const der = sign('sha256', Buffer.from(linkChallenge.message as string), {
      key: alice.privateKey,
      dsaEncoding: 'der',
    });
    const link = await c.request({
      op: 'link',
      scheme: 'x509',
      nonce: linkChallenge.nonce,
      mspId: alice.mspId,
      certificate: alice.certificate,
      signature: withS(der, 'low').toString('base64'),
    });
    assert.equal(link.type, 'ack', JSON.stringify(link));
    const linked = await c.next((m) => m.type === 'identity');
    assert.deepEqual(linked.identities, ['DemoInvestorsMSP:alice']);

    // The faucets fund the key on the chain and the identity on the network
    await until(
      'the account to be able to trade on both ledgers',
      async () => {
        const res = await fetch(`${exchange.url}/api/account`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const { access } = (await res.json()) as { access: Msg[] };
        return access
          .filter((a) => a.venue === 'evm:31337' || a.venue === 'fabric:bank-net')
          .every((a) => a.canTrade);
      },
      output,
      120_000,
    );
    await until(
      "the faucets' grants: USD on the chain, BOND on the network",
      async () => {
        const res = await fetch(`${exchange.url}/api/balances`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const balances = (await res.json()) as Msg[];
        const available = (asset: string) => Number(balances.find((b) => b.asset === asset)?.available ?? 0);
        return available('USD@evm:31337') > 0 && available(BOND) === 1_000_000;
      },
      output,
      120_000,
    );

    // Once the market maker offers BOND (its accounts funded on both ledgers), buy 2 at market
    await until(
      'the market maker to offer BOND',
      async () => {
        const res = await fetch(`${exchange.url}/api/instruments/${BOND}/book?depth=1`);
        const book = (await res.json()) as { asks?: unknown[] };
        return (book.asks ?? []).length > 0;
      },
      output,
      120_000,
    );
    c.send({
      op: 'new',
      instrument: BOND,
      clientOrderId: 'x1',
      side: 'buy',
      orderType: 'market',
      quantity: '2',
    });
    const fill = await c.next(
      (m) => m.clientOrderId === 'x1' && (m.status === 'filled' || m.status === 'partially-filled'),
      30_000,
    );
    const tradeId = fill.tradeId as number;

    // Both legs claimed, the trade settled
    const settled = await until(
      `trade ${tradeId} to settle`,
      async () => {
        const res = await fetch(`${exchange.url}/api/trades/${tradeId}/settlement`);
        const body = (await res.json()) as Msg;
        return body.status !== 'pending' && body;
      },
      output,
      120_000,
    );
    assert.equal(settled.status, 'settled', JSON.stringify(settled));
    const legs = settled.legs as Msg[];
    assert.deepEqual(
      legs.map((l) => [l.leg, l.venue, l.status]),
      [
        ['security', 'fabric:bank-net', 'claimed'],
        ['cash', 'evm:31337', 'claimed'],
      ],
    );
    const res = await fetch(`${exchange.url}/api/balances`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const bond = ((await res.json()) as Msg[]).find((b) => b.asset === BOND);
    assert.ok(bond !== undefined && Number(bond.available) >= 1_000_002, JSON.stringify(bond));
    assert.equal(await exchange.kill('SIGTERM'), 0, output());
  });
});
