/**
 * Many ledgers at once, through the one registry of ledger kinds: an exchange configured with a
 * `connectors` list of four entries, two `evm` venues on two local anvils (chains 31337 and
 * 31338) and two `fabric` venues on two devnets (bank-net and trade-net), each entry nothing but
 * its kind and venue, as a user writes it. The same security is listed on all four; the same
 * Ethereum investors and the same Fabric investors trade it on both venues of their kind, over the
 * WebSocket, one trade per venue of a size of its own. Each trade settles on its own venue's
 * ledger, and on no other: each chain and each chaincode holds its venue's trade, its verdict
 * under the reference the exchange reports, and the balances it moved, and nothing of the others'.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Contract, type InterfaceAbi, JsonRpcProvider, Network as EthNetwork, Wallet } from 'ethers';
import { type Config, DEMO_LISTINGS, type Embedded, loadConfig } from '../../app/index.ts';
import { call, compileContracts, type EvmConnector } from '../../connectors/evm/index.ts';
import { type FabricClient, fabricClient, type FabricConnector } from '../../connectors/fabric/index.ts';
import { assertSettledOnceOnChain, CENT } from '../support/evm.ts';
import { Traders } from '../support/exchange-process.ts';
import { verdictsInEvents } from '../support/fabric.ts';
import { account } from '../support/fabric-network.ts';
import { testGateway } from '../support/gateway.ts';
import { type FabricMember, issue, makeMsp } from '../support/identities.ts';
import { until } from '../support/wait.ts';
import { login, loginFabric } from '../support/ws-client.ts';

/** Each venue, and the size of its one trade (sizes differ, so a ledger shows whose trade it holds). */
const VENUES = [
  { venue: 'evm:31337', quantity: 2 },
  { venue: 'evm:31338', quantity: 3 },
  { venue: 'fabric:bank-net', quantity: 5 },
  { venue: 'fabric:trade-net', quantity: 7 },
] as const;
const acme = (venue: string) => `ACME@${venue}`;
/** What each faucet grants a new account: lots of every security, cents of every cash asset. */
const GRANT = { lots: 1_000_000n, cents: 10_000_000_000n };
const CHAINCODE = 'mosaic-settlement';

describe('four ledgers of two kinds configured at once', { timeout: 300_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-many-'));
  const lines: string[] = [];
  const context = () => lines.slice(-40).join('\n');
  const evmInvestors = {
    seller: new Wallet(Wallet.createRandom().privateKey),
    buyer: new Wallet(Wallet.createRandom().privateKey),
  };
  let fabricInvestors: Record<'seller' | 'buyer', FabricMember>;
  let config: Config;
  let gw: Embedded;
  const traders = new Map<string, Traders>();
  const providers: JsonRpcProvider[] = [];
  const clients: FabricClient[] = [];

  before(async () => {
    const msp = await makeMsp('InvestorMSP');
    fabricInvestors = { seller: await issue(msp, 'seller'), buyer: await issue(msp, 'buyer') };
    // Given the configuration a user writes: the ledgers as a connectors list, kind and venue alone,
    // and ACME listed on the two venues the demo does not list
    const file = path.join(dir, 'mosaic.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        connectors: VENUES.map(({ venue }) => ({ kind: venue.slice(0, venue.indexOf(':')), venue })),
        instruments: VENUES.map(({ venue }) => ({ ...DEMO_LISTINGS[0]!, id: acme(venue) })).filter(
          (s) => !DEMO_LISTINGS.some((d) => d.id === s.id),
        ),
        msps: [msp.config],
      }),
    );
    const loaded = loadConfig({}, file);
    gw = await testGateway(
      (c) => {
        c.connectors = loaded.connectors;
        c.instruments = loaded.instruments;
        c.msps = loaded.msps;
        config = c;
      },
      { settlement: true, log: (line) => lines.push(line) },
    );
  });

  after(async () => {
    for (const t of traders.values()) await t.close();
    for (const p of providers) p.destroy();
    for (const c of clients) c.close();
    await gw?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('settles each venue’s trade on its own ledger and on no other', async () => {
    // Then a connector runs for each entry, on a ledger and a data folder of its own
    assert.deepEqual(
      gw.connectors.map((c) => c.venue),
      VENUES.map((v) => v.venue),
    );
    const [evmA, evmB] = [connector<EvmConnector>('evm:31337'), connector<EvmConnector>('evm:31338')];
    const [fabA, fabB] = [
      connector<FabricConnector>('fabric:bank-net'),
      connector<FabricConnector>('fabric:trade-net'),
    ];
    assert.notEqual(evmA.rpcUrl, evmB.rpcUrl, 'two chains');
    assert.notEqual(fabA.endpoint, fabB.endpoint, 'two networks');
    assert.deepEqual(
      fs
        .readdirSync(config.dataDir)
        .filter((f) => /^(evm|fabric)-/.test(f))
        .sort(),
      ['evm-31337', 'evm-31338', 'fabric-bank-net', 'fabric-trade-net'],
    );

    // When the same investors log in on each venue (the demo faucet funds them at their first
    // login on every ledger they may trade on), and trade ACME there once, each trade of its own
    // size; an account's sessions all hear its orders, so a venue's sessions number their orders
    // on from those of the venue of the same kind before
    const trades = new Map<string, { tradeId: number; ref: string }>();
    let previous: Traders | undefined;
    for (const { venue, quantity } of VENUES) {
      const evm = venue.startsWith('evm:');
      const sameKind =
        previous !== undefined && previous.instrument.startsWith(evm ? 'ACME@evm:' : 'ACME@fabric:');
      const t = await Traders.connect(
        gw.url,
        acme(venue),
        (c, who) => (evm ? login(c, evmInvestors[who]) : loginFabric(c, fabricInvestors[who])),
        sameKind ? previous : undefined,
      );
      traders.set(venue, t);
      previous = t;
      await until(
        `the faucet's grants on ${venue} to reach the engine`,
        async () =>
          (await t.units('seller', acme(venue))) === GRANT.lots &&
          (await t.units('buyer', `USD@${venue}`)) === GRANT.cents,
        context,
        120_000,
      );
      const [tradeId] = await t.trade([quantity]);
      trades.set(venue, { tradeId: tradeId!, ref: '' });
    }

    // Then each trade settles, with its ledger's reference
    for (const { venue } of VENUES) {
      const t = trades.get(venue)!;
      const s = await until(
        `trade ${t.tradeId} on ${venue} to settle`,
        async () => {
          const res = await fetch(`${gw.url}/api/trades/${t.tradeId}/settlement`);
          const body = (await res.json()) as { status: string; venue: string; ref?: string };
          return body.status !== 'pending' && body;
        },
        context,
        120_000,
      );
      assert.deepEqual([s.status, s.venue], ['settled', venue], JSON.stringify(s));
      assert.ok(typeof s.ref === 'string' && s.ref.length > 0, `trade ${t.tradeId}: ledger reference`);
      t.ref = s.ref;
    }
    const allIds = [...trades.values()].map((t) => t.tradeId);
    assert.equal(new Set(allIds).size, 4, 'four trades');

    // and on each chain: its trade alone, its batch transaction there and not on the other chain
    // (one deployer, the same transactions: the contracts may sit at the same addresses on both),
    // and the escrow moved by its trade's size alone
    const artifacts = await compileContracts();
    const chains = [evmA, evmB].map((c) => {
      const chainId = Number(c.venue.slice('evm:'.length));
      const provider = new JsonRpcProvider(c.rpcUrl, EthNetwork.from(chainId), { staticNetwork: true });
      providers.push(provider);
      const settlement = new Contract(
        c.contracts.settlement,
        artifacts.contracts.Settlement.abi as InterfaceAbi,
        provider,
      );
      return { c, chainId, provider, settlement };
    });
    for (const [i, { c, chainId, provider, settlement }] of chains.entries()) {
      const { tradeId, ref } = trades.get(c.venue)!;
      const quantity = VENUES.find((v) => v.venue === c.venue)!.quantity;
      assert.equal(Number(await provider.send('eth_chainId', [])), chainId, `${c.venue}: the chain's id`);
      await assertSettledOnceOnChain(settlement, [tradeId]);
      assert.notEqual(await provider.getTransactionReceipt(ref), null, `${c.venue}: its batch on its chain`);
      const other = chains[1 - i]!;
      assert.equal(
        await other.provider.getTransactionReceipt(ref),
        null,
        `${c.venue}: its batch not on ${other.c.venue}'s chain`,
      );
      const security = c.contracts.securities.ACME!;
      const cash = c.contracts.cash.USD!;
      const { seller, buyer } = evmInvestors;
      assert.equal(
        await call<bigint>(settlement, 'balanceOf', security, seller.address),
        GRANT.lots - BigInt(quantity),
      );
      assert.equal(
        await call<bigint>(settlement, 'balanceOf', security, buyer.address),
        GRANT.lots + BigInt(quantity),
      );
      const t = traders.get(c.venue)!;
      for (const who of ['seller', 'buyer'] as const) {
        assert.equal(
          await call<bigint>(settlement, 'balanceOf', cash, evmInvestors[who].address),
          (await t.units(who, `USD@${c.venue}`)) * CENT,
          `${c.venue}: the ${who}'s cash in escrow and in the engine`,
        );
      }
    }

    // and on each Fabric network: its trade's verdict, under the reference the exchange reports,
    // no verdict for any other trade, and the holdings moved by its trade's size alone
    for (const c of [fabA, fabB]) {
      const { tradeId, ref } = trades.get(c.venue)!;
      const quantity = VENUES.find((v) => v.venue === c.venue)!.quantity;
      const operator = JSON.parse(
        fs.readFileSync(path.join(config.dataDir, c.venue.replace(':', '-'), 'operator.json'), 'utf8'),
      ) as { mspId: string; certificate: string; privateKey: string };
      const { channel } = config.connectors.find((e) => e.venue === c.venue)! as unknown as {
        channel: string;
      };
      const client = fabricClient(
        c.endpoint,
        { ...operator, privateKey: createPrivateKey(operator.privateKey) },
        { channel, chaincode: CHAINCODE },
      );
      clients.push(client);
      const evaluate = async (name: string, ...args: string[]) =>
        Buffer.from(await client.contract.evaluateTransaction(name, ...args)).toString();
      for (const id of allIds) {
        const verdict = await evaluate('TradeStatus', String(id));
        if (id === tradeId) assert.deepEqual(JSON.parse(verdict), { tradeId, ok: true, txId: ref }, c.venue);
        else assert.equal(verdict, '', `${c.venue}: no verdict for trade ${id}`);
      }
      const events = await verdictsInEvents(client.network, CHAINCODE);
      assert.deepEqual([...events.entries()], [[tradeId, [ref]]], `${c.venue}: the Settled events`);
      assert.equal(
        await evaluate('BalanceOf', account(fabricInvestors.seller), 'ACME'),
        String(GRANT.lots - BigInt(quantity)),
      );
      assert.equal(
        await evaluate('BalanceOf', account(fabricInvestors.buyer), 'ACME'),
        String(GRANT.lots + BigInt(quantity)),
      );
    }
  });

  function connector<C>(venue: string): C {
    const c = gw.connectors.find((k) => k.venue === venue);
    assert.ok(c !== undefined, `a connector for ${venue}`);
    return c as C;
  }
});
