/**
 * Cross-ledger trades under faults: every crash point ends with both legs delivered or both
 * returned, never one. BOND on a devnet of the test's own (behind a gateway proxy that can hold
 * endorsements and tells the moment the peer accepted a transaction), paid in USD on an anvil of
 * the test's own (whose mining the test switches off and on), the exchange as a child process
 * (`mosaic start`, both daemons in it) with short hash time-locks. Killed with SIGKILL after each
 * step: the security leg locked, the cash leg locked, the security leg claimed, the cash leg
 * claimed; then restarted on the same data folder, each trade settles, once on each ledger. A
 * lock refused on one side (the buyer made ineligible on the network while the lock waited) and
 * a network stopped past the claim deadline end with both legs returned and the trade reversed.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Contract, Wallet } from 'ethers';
import { DEMO_LISTINGS } from '../../app/index.ts';
import { Anvil, call, type Deployment, DEV_KEYS } from '../../connectors/evm/index.ts';
import { chainWithInvestors, CENT, evmSettings, BUYER_CENTS } from '../support/evm.ts';
import { killAll, MosaicProcess } from '../support/exchange-process.ts';
import { type GatewayProxy, gatewayProxy } from '../support/fabric.ts';
import { account, Network } from '../support/fabric-network.ts';
import { x509Login } from '../support/identities.ts';
import { until, within } from '../support/wait.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';

const EVM = 'evm:31337';
const BOND = 'BOND@fabric:bank-net';
const BONDS = 1_000n;
/**
 * Seconds: the security leg expires 16 s after the match, the cash leg 6 s later; no lock and no
 * security claim in the security leg's last 6 s (a restart fits in the 10 s before).
 */
const HTLC = { lockSeconds: 16, marginSeconds: 6, claimMarginSeconds: 6, keyFile: '' };
const PRICE_CENTS = 10_000n;
/** The buyer pays 3 bp on top as taker, the seller (maker) pays nothing. */
const PAID = PRICE_CENTS + (PRICE_CENTS * 3n) / 10_000n;

describe('cross-ledger trades under faults', { timeout: 420_000 }, () => {
  const running = new Set<ChildProcess>();
  const sessions: WsClient[] = [];
  let dir: string;
  let configFile: string;
  let anvil: Anvil;
  let d: Deployment;
  let settlement: Contract;
  let n: Network;
  let proxy: GatewayProxy;
  let exchange: MosaicProcess;
  // Anvil's dev keys 2 and 3: they have ether for their deposits' gas.
  const wallets = { seller: new Wallet(DEV_KEYS[2]!), buyer: new Wallet(DEV_KEYS[3]!) };
  const traders = new Map<'seller' | 'buyer', WsClient>();
  /** Trades that settled, and trades reversed. */
  const settled: number[] = [];
  const reversed: number[] = [];
  const output = () => exchange?.output.split('\n').slice(-60).join('\n') ?? '';

  before(async () => {
    anvil = await Anvil.start();
    d = await chainWithInvestors(
      anvil,
      new Wallet(wallets.seller.privateKey, anvil.provider()),
      new Wallet(wallets.buyer.privateKey, anvil.provider()),
    );
    settlement = d.settlement.connect(anvil.provider()) as Contract;
    n = await Network.start();
    await n.configure();
    await n.operator.contract.submitTransaction('Issue', account(n.members.seller), 'BOND', String(BONDS));
    proxy = await gatewayProxy(n.devnet.endpoint);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-xfaults-'));
    configFile = path.join(dir, 'mosaic.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        port: 0,
        dataDir: path.join(dir, 'data'),
        logLevel: 'warn',
        demo: { instruments: true, marketMaker: false, fundAccounts: false },
        msps: [n.msp.config],
        instruments: [{ ...DEMO_LISTINGS[1]!, id: BOND, quoteVenue: EVM }],
        htlc: HTLC,
        connectors: [
          { kind: 'evm', venue: EVM, ...evmSettings(anvil, d) },
          { kind: 'fabric', ...n.settings(proxy.endpoint) },
        ],
      }),
    );
  });

  after(async () => {
    for (const s of sessions) await s.close().catch(() => {});
    await killAll(running);
    proxy?.close();
    await n?.close();
    await anvil?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Starts (or restarts) the exchange and logs both investors in with their keys. */
  async function start(): Promise<void> {
    exchange = await MosaicProcess.start(configFile, running);
    for (const who of ['seller', 'buyer'] as const) {
      const c = await WsClient.connect(exchange.url);
      sessions.push(c);
      await login(c, wallets[who]);
      traders.set(who, c);
    }
  }

  async function kill(): Promise<void> {
    assert.equal(await exchange.kill('SIGKILL'), null);
    for (const c of traders.values()) await c.close().catch(() => {});
  }

  /** The seller sells one BOND at 100.00 and the buyer takes it: the trade's id. */
  async function trade(tag: string): Promise<number> {
    const [s, b] = [traders.get('seller')!, traders.get('buyer')!];
    const order = (side: string, clientOrderId: string) => ({
      op: 'new',
      instrument: BOND,
      clientOrderId,
      side,
      orderType: 'limit',
      price: '100.00',
      quantity: '1',
    });
    s.send(order('sell', `s${tag}`));
    await s.next((m) => m.clientOrderId === `s${tag}` && m.status === 'new');
    b.send(order('buy', `b${tag}`));
    const fill = await b.next((m) => m.clientOrderId === `b${tag}` && m.status === 'filled');
    return fill.tradeId as number;
  }

  /** Each leg as its ledger has it. */
  async function legs(tradeId: number): Promise<[string, string]> {
    const raw = Buffer.from(
      await n.operator.contract.evaluateTransaction('LegState', String(tradeId)),
    ).toString();
    const security = raw === '' ? 'none' : (JSON.parse(raw) as { state: string }).state;
    const states = ['none', 'locked', 'claimed', 'refunded', 'refused'];
    const cash = states[Number(await call<bigint>(settlement, 'legState', tradeId))]!;
    return [security, cash];
  }

  /** Whether the buyer's account may trade on both ledgers now (`GET /api/account`). */
  async function buyerMayTrade(): Promise<boolean> {
    const token = traders.get('buyer')!.messages.find((m) => m.type === 'login')!.token as string;
    const res = await fetch(`${exchange.url}/api/account`, { headers: { authorization: `Bearer ${token}` } });
    const { access } = (await res.json()) as { access: Msg[] };
    return access.filter((a) => a.venue === EVM || a.venue === 'fabric:bank-net').every((a) => a.canTrade);
  }

  /** Restarts the exchange: the trade settles, both legs claimed on their ledgers. */
  async function settlesAfterRestart(id: number): Promise<void> {
    await start();
    assert.equal((await final(id)).status, 'settled', output());
    assert.deepEqual(await legs(id), ['claimed', 'claimed']);
    settled.push(id);
  }

  /** The trade's settlement as the running exchange reports it, once it is not pending. */
  async function final(tradeId: number): Promise<Msg> {
    return until(
      `trade ${tradeId} to be final`,
      async () => {
        const res = await fetch(`${exchange.url}/api/trades/${tradeId}/settlement`);
        if (res.status !== 200) return false;
        const body = (await res.json()) as Msg;
        return body.status !== 'pending' && body;
      },
      output,
      90_000,
    );
  }

  it('given two investors, each a key with a linked Fabric identity, then a first trade settles on both ledgers', async () => {
    await start();
    for (const who of ['seller', 'buyer'] as const) {
      const c = traders.get(who)!;
      const challenge = await c.request({ op: 'challenge', purpose: 'link' });
      const id = c.newId();
      c.send({ ...x509Login(n.members[who], challenge as never), op: 'link', id });
      const report = await c.next((m) => m.id === id && m.type !== 'ack');
      assert.equal(report.type, 'identity', JSON.stringify(report));
    }
    // The network's holdings moved into the accounts with the link; the chain's are the keys' own.
    await until('the buyer to stand on both ledgers', buyerMayTrade, output);
    const id = await trade('1');
    assert.equal((await final(id)).status, 'settled');
    assert.deepEqual(await legs(id), ['claimed', 'claimed']);
    settled.push(id);
  });

  it('given the exchange killed right after the security leg was locked (the cash lock in the chain’s pool), then after a restart the trade settles once', async () => {
    await anvil.rpc('evm_setAutomine', [false]);
    const killed = new Promise<string>((resolve) => proxy.onceSubmitted(resolve));
    const id = await trade('2');
    await within('the security lock to be accepted by the peer', killed, output);
    await kill();
    await until('the security leg locked on the network', async () => (await legs(id))[0] === 'locked');
    await anvil.rpc('evm_setAutomine', [true]);
    await anvil.rpc('evm_mine');
    await settlesAfterRestart(id);
  });

  it('given the exchange killed right after the cash leg was locked (the security lock held back), then after a restart the trade settles once', async () => {
    proxy.hold();
    const id = await trade('3');
    await until('the cash leg locked on the chain', async () => (await legs(id))[1] === 'locked', output);
    await kill();
    proxy.release();
    assert.deepEqual(await legs(id), ['none', 'locked']);
    await settlesAfterRestart(id);
  });

  it('given the exchange killed the moment the peer accepted the security claim, then after a restart the cash leg is claimed too', async () => {
    await anvil.rpc('evm_setAutomine', [false]);
    const id = await trade('4');
    await until('the security leg locked', async () => (await legs(id))[0] === 'locked', output);
    // The cash lock waits in the pool; once it is mined the next transaction on the network is the claim.
    const claimed = new Promise<string>((resolve) => proxy.onceSubmitted(resolve));
    await anvil.rpc('evm_setAutomine', [true]);
    await anvil.rpc('evm_mine');
    await within('the security claim to be accepted by the peer', claimed, output);
    await kill();
    await until('the security leg claimed on the network', async () => (await legs(id))[0] === 'claimed');
    assert.equal((await legs(id))[1], 'locked', 'the cash leg waits for the exchange');
    await settlesAfterRestart(id);
  });

  it('given the exchange killed with the cash claim in the chain’s pool, then after a restart the trade settles once', async () => {
    await anvil.rpc('evm_setAutomine', [false]);
    const id = await trade('5');
    await until('the security leg locked', async () => (await legs(id))[0] === 'locked', output);
    await anvil.rpc('evm_mine');
    await until('the security leg claimed', async () => (await legs(id))[0] === 'claimed', output);
    await until(
      'the cash claim in the pool',
      async () => Number((await anvil.rpc<{ pending: string }>('txpool_status')).pending) > 0,
      output,
    );
    await kill();
    await anvil.rpc('evm_setAutomine', [true]);
    await anvil.rpc('evm_mine');
    await settlesAfterRestart(id);
  });

  it('given a security lock refused (the buyer made ineligible on the network while the lock waited), then the cash leg is refunded at its expiry and the trade reversed', async () => {
    proxy.hold();
    const id = await trade('6');
    await until('the security lock to wait at endorsement', () => proxy.held > 0, output);
    await n.operator.contract.submitTransaction('SetStanding', account(n.members.buyer), 'false', 'false');
    proxy.release();
    const f = await final(id);
    assert.equal(f.status, 'failed', JSON.stringify(f));
    assert.match(String(f.reason), /^reversed: the security leg was refused, the cash leg refunded/);
    assert.deepEqual(await legs(id), ['refused', 'refunded']);
    reversed.push(id);
    await n.operator.contract.submitTransaction('SetStanding', account(n.members.buyer), 'true', 'false');
  });

  it('given the network stopped after both locks, past the claim deadline, then both legs are refunded and the trade reversed', async () => {
    await until('the buyer eligible again', buyerMayTrade, output);
    await anvil.rpc('evm_setAutomine', [false]);
    const matchedAt = Date.now();
    const id = await trade('7');
    await until('the security leg locked', async () => (await legs(id))[0] === 'locked', output);
    await n.devnet.close();
    await anvil.rpc('evm_setAutomine', [true]);
    await anvil.rpc('evm_mine');
    // Past the claim deadline (the security leg's expiry less the claim margin), the network back
    await until(
      'the claim deadline to pass',
      () => Date.now() > matchedAt + (HTLC.lockSeconds - HTLC.claimMarginSeconds + 2) * 1000,
      output,
      60_000,
    );
    await n.startDevnet();
    const f = await final(id);
    assert.equal(f.status, 'failed', JSON.stringify(f));
    assert.deepEqual(await legs(id), ['refunded', 'refunded']);
    reversed.push(id);
  });

  it('then on each ledger, each trade moved once: the bonds and the cash of the settled ones, nothing of the reversed ones', async () => {
    const k = BigInt(settled.length);
    assert.equal(await n.holding(account(n.members.buyer), 'BOND'), k);
    assert.equal(await n.holding(account(n.members.seller), 'BOND'), BONDS - k);
    const usd = d.addresses.cash;
    assert.equal(
      await call<bigint>(settlement, 'balanceOf', usd, wallets.buyer.address),
      (BUYER_CENTS - k * PAID) * CENT,
    );
    assert.equal(
      await call<bigint>(settlement, 'balanceOf', usd, wallets.seller.address),
      k * PRICE_CENTS * CENT,
    );
    const count = async (name: string) => {
      const counts = new Map<number, number>();
      for (const e of await settlement.queryFilter(settlement.filters[name]!(), 0, 'latest')) {
        const id = Number((e as unknown as { args: { tradeId: bigint } }).args.tradeId);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    };
    const [locked, claimed, refunded] = await Promise.all(
      ['LegLocked', 'LegClaimed', 'LegRefunded'].map(count),
    );
    for (const id of settled)
      assert.deepEqual(
        [locked!.get(id), claimed!.get(id), refunded!.get(id)],
        [1, 1, undefined],
        `trade ${id}`,
      );
    for (const id of reversed)
      assert.deepEqual(
        [locked!.get(id), claimed!.get(id), refunded!.get(id)],
        [1, undefined, 1],
        `trade ${id}`,
      );
    await kill();
  });
});
