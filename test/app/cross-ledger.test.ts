/**
 * One market across two ledgers, as investors use it: BOND listed on a Fabric network and quoted
 * in the USD of an EVM chain. Each investor logs in with an Ethereum key and links a Fabric
 * identity (the demo faucets fund both); the seller sells BOND, the buyer pays with the chain's
 * USD, and the trade settles by hash time-locks: each leg locked under one hash on its ledger,
 * then claimed with the secret, the security leg first. Checked on both ledgers: each leg
 * claimed, the buyer's Fabric identity holds the bonds, the seller's key the cash less its fee,
 * the venue's fee account the fees; and in the engine, the trade settled. Real anvil, real
 * devnet, the exchange as `mosaic start` runs it.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Contract, type InterfaceAbi, JsonRpcProvider, Network as EthNetwork } from 'ethers';
import { type Config, DEMO_LISTINGS, type Embedded } from '../../app/index.ts';
import { call, compileContracts, type EvmConnector } from '../../connectors/evm/index.ts';
import { type FabricClient, fabricClient, type FabricConnector } from '../../connectors/fabric/index.ts';
import { account } from '../support/fabric-network.ts';
import { testGateway } from '../support/gateway.ts';
import { type FabricMember, issue, makeMsp, makeWallet, x509Login } from '../support/identities.ts';
import { until } from '../support/wait.ts';
import { login, type Msg, WsClient } from '../support/ws-client.ts';

const EVM = 'evm:31337';
const FABRIC = 'fabric:bank-net';
const BOND = `BOND@${FABRIC}`;
/** What each faucet grants a new identity: lots of every security, cents of every cash asset. */
const GRANT = { lots: 1_000_000n, cents: 10_000_000_000n };
/** One cent in the chain's USD base units (6 decimals). */
const CENT = 10_000n;

describe('a cross-ledger instrument, settled by hash time-locks', { timeout: 300_000 }, () => {
  const lines: string[] = [];
  const context = () => lines.slice(-40).join('\n');
  let gw: Embedded;
  let config: Config;
  let members: Record<'seller' | 'buyer', FabricMember>;
  const wallets = { seller: makeWallet(), buyer: makeWallet() };
  const sessions = new Map<string, WsClient>();
  const cleanup: Array<() => void> = [];

  before(async () => {
    const msp = await makeMsp('InvestorMSP');
    members = { seller: await issue(msp, 'seller'), buyer: await issue(msp, 'buyer') };
    gw = await testGateway(
      (c) => {
        c.connectors = c.connectors.filter((e) => e.venue === EVM || e.venue === FABRIC);
        c.instruments = [{ ...DEMO_LISTINGS[1]!, id: BOND, quoteVenue: EVM }];
        c.msps = [msp.config];
        config = c;
      },
      { settlement: true, log: (line) => lines.push(line) },
    );
  });

  after(async () => {
    for (const s of sessions.values()) await s.close();
    for (const f of cleanup) f();
    await gw?.close();
  });

  /** Logs `who` in with its key and links its Fabric identity; resolves with its account. */
  async function investor(who: 'seller' | 'buyer'): Promise<string> {
    const c = await WsClient.connect(gw.url);
    sessions.set(who, c);
    const { account: name } = await login(c, wallets[who]);
    const challenge = await c.request({ op: 'challenge', purpose: 'link' });
    const id = c.newId();
    c.send({ ...x509Login(members[who], challenge as never), op: 'link', id });
    const report = await c.next((m) => m.id === id && m.type !== 'ack', 10_000);
    assert.equal(report.type, 'identity', JSON.stringify(report));
    return name;
  }

  /** The account's REST view: access per venue. */
  async function access(c: WsClient): Promise<Msg[]> {
    const token = (c.messages.find((m) => m.type === 'login')!.token as string) ?? '';
    const res = await fetch(`${gw.url}/api/account`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { access: Msg[] }).access;
  }

  it('given a seller and a buyer with a key and a linked Fabric identity each, when they trade BOND, then both legs are claimed on their ledgers and the trade settles', async () => {
    // BOND is listed with the chain as its cash's venue
    const listed = (await (await fetch(`${gw.url}/api/instruments`)).json()) as Msg[];
    const bond = listed.find((i) => i.id === BOND);
    assert.deepEqual([bond?.venue, bond?.quote, bond?.quoteVenue], [FABRIC, 'USD', EVM]);
    assert.equal(listed.find((i) => i.id === `ACME@${EVM}`)?.quoteVenue, EVM);

    const seller = await investor('seller');
    const buyer = await investor('buyer');
    for (const who of ['seller', 'buyer'] as const) {
      await until(
        `the ${who} to stand on both ledgers and hold the faucets' grants`,
        async () => {
          const open = (await access(sessions.get(who)!)).filter(
            (a) => a.venue === EVM || a.venue === FABRIC,
          );
          const account = who === 'seller' ? seller : buyer;
          const balances = gw.exchange.engine.balances(account);
          const bond = balances.find((b) => b.asset === BOND)?.available ?? 0;
          const usd = balances.find((b) => b.asset === `USD@${EVM}`)?.available ?? 0;
          return (
            open.every((a) => a.canTrade === true) &&
            bond === Number(GRANT.lots) &&
            usd === Number(GRANT.cents)
          );
        },
        context,
        120_000,
      );
    }
    assert.equal(gw.exchange.engine.partyOf(seller, FABRIC), account(members.seller));
    assert.equal(gw.exchange.engine.partyOf(buyer, EVM), buyer);

    // When the seller sells 4 BOND at 100.00 and the buyer takes them
    const [s, b] = [sessions.get('seller')!, sessions.get('buyer')!];
    const order = (side: 'buy' | 'sell', clientOrderId: string) => ({
      op: 'new',
      instrument: BOND,
      clientOrderId,
      side,
      orderType: 'limit',
      price: '100.00',
      quantity: '4',
    });
    s.send(order('sell', 's1'));
    await s.next((m) => m.clientOrderId === 's1' && m.status === 'new');
    b.send(order('buy', 'b1'));
    const fill = await b.next((m) => m.clientOrderId === 'b1' && m.status === 'filled');
    const tradeId = fill.tradeId as number;

    // Then the trade settles once both legs are claimed, the security leg first
    const settled = await until(
      `trade ${tradeId} to settle`,
      async () => {
        const res = await fetch(`${gw.url}/api/trades/${tradeId}/settlement`);
        const body = (await res.json()) as { status: string };
        return body.status !== 'pending' && body;
      },
      context,
      120_000,
    );
    assert.equal(settled.status, 'settled', `${JSON.stringify(settled)}\n${context()}`);
    const journal = gw.exchange.durable;
    assert.ok(journal.engine.pendingSettlement(tradeId) === undefined);

    // On the chain: the cash leg claimed, the seller's key paid, the buyer's key charged, the fee account paid
    const evm = gw.connectors.find((c) => c.venue === EVM) as EvmConnector;
    const provider = new JsonRpcProvider(evm.rpcUrl, EthNetwork.from(31337), { staticNetwork: true });
    cleanup.push(() => provider.destroy());
    const artifacts = await compileContracts();
    const settlement = new Contract(
      evm.contracts.settlement,
      artifacts.contracts.Settlement.abi as InterfaceAbi,
      provider,
    );
    assert.equal(await call<bigint>(settlement, 'legState', tradeId), 2n, 'the cash leg is claimed');
    const notional = 4n * 10_000n; // cents
    const takerFee = (notional * 3n) / 10_000n; // 3 bp, the buyer is the taker
    const usd = evm.contracts.cash.USD!;
    assert.equal(
      await call<bigint>(settlement, 'balanceOf', usd, wallets.buyer.address),
      (GRANT.cents - notional - takerFee) * CENT,
    );
    assert.equal(
      await call<bigint>(settlement, 'balanceOf', usd, wallets.seller.address),
      (GRANT.cents + notional) * CENT,
    );

    // On the network: the security leg claimed, the bonds with the buyer's identity
    const operator = JSON.parse(
      fs.readFileSync(path.join(config.dataDir, 'fabric-bank-net', 'operator.json'), 'utf8'),
    ) as { mspId: string; certificate: string; privateKey: string };
    const fabric = gw.connectors.find((c) => c.venue === FABRIC) as FabricConnector;
    const client: FabricClient = fabricClient(
      fabric.endpoint,
      { ...operator, privateKey: createPrivateKey(operator.privateKey) },
      { channel: 'bank-net', chaincode: 'mosaic-settlement' },
    );
    cleanup.push(() => client.close());
    const evaluate = async (name: string, ...args: string[]) =>
      Buffer.from(await client.contract.evaluateTransaction(name, ...args)).toString();
    const leg = JSON.parse(await evaluate('LegState', String(tradeId))) as {
      state: string;
      leg: { from: string; to: string };
    };
    assert.deepEqual(
      [leg.state, leg.leg.from, leg.leg.to],
      ['claimed', account(members.seller), account(members.buyer)],
    );
    assert.equal(await evaluate('BalanceOf', account(members.buyer), 'BOND'), String(GRANT.lots + 4n));
    assert.equal(await evaluate('BalanceOf', account(members.seller), 'BOND'), String(GRANT.lots - 4n));

    // And in the engine, as the ledgers have it
    const bal = (acc: string, asset: string) =>
      gw.exchange.engine.balances(acc).find((x) => x.asset === asset)?.available;
    assert.equal(bal(buyer, BOND), Number(GRANT.lots) + 4);
    assert.equal(bal(seller, `USD@${EVM}`), Number(GRANT.cents + notional));

    // A withdrawal of the buyer's bonds is released from its Fabric identity, the one it settles as there
    const asked = await b.request({ op: 'withdraw', asset: BOND, amount: '1' });
    const granted = await b.next((m) => m.type === 'withdrawal' && m.id === asked.id);
    const released = await b.next(
      (m) => m.type === 'withdrawal' && m.withdrawalId === granted.withdrawalId && m.status !== 'pending',
      30_000,
    );
    assert.equal(released.status, 'released', JSON.stringify(released));
    assert.equal(await evaluate('BalanceOf', account(members.buyer), 'BOND'), String(GRANT.lots + 3n));
  });
});
