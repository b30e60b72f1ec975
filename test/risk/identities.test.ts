/**
 * Linked identities in the engine, given / when / then: an Ethereum-named account links a Fabric
 * identity; the identity's ledger changes become the account's; on each venue the account
 * settles as one identity; linking moves what the identity held, unlinking moves it back; the
 * refusals name what is wrong and change nothing. Two venues: ACME on an EVM chain (cash USDC)
 * and BOND on a Fabric network (cash USD).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, type Command, Engine } from '../../engine/index.ts';
import { decodeCommand, encodeCommand } from '../../journal/index.ts';
import { type Cmd, type Ev, limitOrder, riskEngine, spec } from '../support/engine.ts';

const EVM = 'evm:31337';
const FABRIC = 'fabric:bank-net';
const ACME = `ACME@${EVM}`;
const BOND = `BOND@${FABRIC}`;
const USD = `USD@${FABRIC}`;
/** An account named after its Ethereum key, and a Fabric identity of the same investor. */
const ALICE = '0xA11CE00000000000000000000000000000000001';
const ALICE_X509 = 'Org1MSP:alice';
const BOB = 'Org1MSP:bob';

function given() {
  const { engine, run } = riskEngine();
  run({ type: 'list-instrument', spec: spec({ id: ACME, quote: 'USDC' }) });
  run({ type: 'list-instrument', spec: spec({ id: BOND, quote: 'USD' }) });
  const balance = (account: string, asset: string) =>
    engine.balances(account).find((b) => b.asset === asset)?.available ?? 0;
  const eligible = (account: string, venue: string) =>
    engine.standing(account).find((s) => s.venue === venue)?.eligible === true;
  /** A ledger's changes for an identity: eligible on the venue, and a deposit. */
  const onLedger = (identity: string, venue: string, asset: string, amount: number) => [
    ...run({ type: 'set-account', account: identity, venue, eligible: true }),
    ...run({ type: 'deposit', account: identity, asset, amount }),
  ];
  const order = (account: string, id: string, side: 'buy' | 'sell', price: number, quantity: number) =>
    run(limitOrder(BOND, account, id, side, price, quantity));
  return { engine, run, balance, eligible, onLedger, order };
}

const rejected = (evs: Ev[]) => evs.find((e) => e.kind === 'rejected');

describe('linked identities', () => {
  it('given an account that links a new Fabric identity, when the network reports the identity, then its standing and deposits are the account’s and the account settles there as the identity', () => {
    const { engine, run, balance, eligible, onLedger, order } = given();
    const linked = run({ type: 'link', account: ALICE, identity: ALICE_X509 });
    assert.deepEqual(
      linked.map((e) => [e.kind, e.account, e.identity, e.linked]),
      [['identity', ALICE, ALICE_X509, true]],
    );
    assert.equal(engine.ownerOf(ALICE_X509), ALICE);
    assert.equal(engine.ownerOf(BOB), BOB);
    assert.deepEqual(engine.identities(ALICE), [ALICE_X509]);

    const evs = onLedger(ALICE_X509, FABRIC, USD, 1_000_000);
    assert.equal(rejected(evs), undefined);
    assert.ok(evs.some((e) => e.kind === 'account' && e.account === ALICE && e.venue === FABRIC));
    assert.equal(balance(ALICE, USD), 1_000_000);
    assert.ok(eligible(ALICE, FABRIC));
    assert.deepEqual(engine.balances(ALICE_X509), [], 'nothing is held under the identity itself');
    assert.equal(engine.partyOf(ALICE, FABRIC), ALICE_X509);
    assert.equal(engine.partyOf(ALICE, EVM), ALICE);

    // Alice trades BOND with the cash her Fabric identity deposited; the trade names her account.
    onLedger(BOB, FABRIC, BOND, 100);
    order(BOB, 'b1', 'sell', 10_000, 10);
    const trade = order(ALICE, 'a1', 'buy', 10_000, 10).find((e) => e.kind === 'trade');
    assert.equal(trade?.takerAccount, ALICE);
    const pending = engine.pendingSettlements();
    assert.deepEqual(
      pending.map((t) => [t.buyer, t.seller]),
      [[ALICE, BOB]],
    );
  });

  it('given an identity that held balances and a standing as its own account, when it is linked, then they move into the account, the state survives a snapshot, and the commands survive the journal codec', () => {
    const { engine, run, balance, eligible, onLedger } = given();
    onLedger(ALICE_X509, FABRIC, USD, 5_000);
    onLedger(ALICE, EVM, ACME, 7);
    const evs = run({ type: 'link', account: ALICE, identity: ALICE_X509 });
    assert.equal(rejected(evs), undefined);
    assert.deepEqual(
      evs.filter((e) => e.kind === 'balance').map((e) => [e.account, e.asset, e.available]),
      [
        [ALICE_X509, USD, 0],
        [ALICE, USD, 5_000],
      ],
    );
    assert.deepEqual(
      evs.filter((e) => e.kind === 'account').map((e) => [e.account, e.venue, e.eligible]),
      [
        [ALICE, FABRIC, true],
        [ALICE_X509, FABRIC, false],
      ],
    );
    assert.equal(balance(ALICE, USD), 5_000);
    assert.equal(balance(ALICE, ACME), 7);
    assert.ok(eligible(ALICE, FABRIC));
    assert.equal(eligible(ALICE_X509, FABRIC), false);
    assert.equal(engine.partyOf(ALICE, FABRIC), ALICE_X509);

    const copy = Engine.fromSnapshot(JSON.parse(JSON.stringify(engine.snapshot())), { risk: true });
    assert.equal(copy.stateHash(), engine.stateHash());
    assert.equal(copy.ownerOf(ALICE_X509), ALICE);
    assert.equal(copy.partyOf(ALICE, FABRIC), ALICE_X509);

    for (const type of ['link', 'unlink'] as const) {
      const c: Command = { type, ts: 42, account: ALICE, identity: ALICE_X509 };
      const buf = Buffer.alloc(256);
      const end = encodeCommand(c, buf, 0);
      assert.deepEqual(decodeCommand(buf, 0, end), c);
    }
  });

  it('given links that cannot be, when asked, then each is refused with its code and reason, back to the account, and changes nothing', () => {
    const { run, onLedger, order } = given();
    const refusal = (c: Cmd) => {
      const evs = run(c);
      const r = rejected(evs);
      assert.ok(r, `${JSON.stringify(c)} was refused`);
      assert.equal(evs.length, 1);
      return [r.code, r.account, r.reason];
    };
    const self = refusal({ type: 'link', account: ALICE, identity: ALICE });
    assert.deepEqual(self, [Code.IDENTITY_LINKED, ALICE, `${ALICE} is the account's own identity`]);

    run({ type: 'link', account: ALICE, identity: ALICE_X509 });
    assert.equal(refusal({ type: 'link', account: ALICE, identity: ALICE_X509 })[0], Code.IDENTITY_LINKED);
    const elsewhere = refusal({ type: 'link', account: BOB, identity: ALICE_X509 });
    assert.deepEqual(elsewhere, [
      Code.IDENTITY_LINKED,
      BOB,
      `${ALICE_X509} is linked to another account; unlink it there first`,
    ]);
    assert.equal(refusal({ type: 'link', account: ALICE_X509, identity: BOB })[0], Code.IDENTITY_LINKED);
    assert.equal(refusal({ type: 'link', account: BOB, identity: ALICE })[0], Code.IDENTITY_LINKED);
    assert.equal(
      refusal({ type: 'unlink', account: BOB, identity: ALICE_X509 })[0],
      Code.IDENTITY_NOT_LINKED,
    );

    // Bob has an open order: he cannot be linked to anyone until it is gone.
    onLedger(BOB, FABRIC, BOND, 10);
    order(BOB, 'b1', 'sell', 10_000, 5);
    const busy = refusal({ type: 'link', account: 'carol', identity: BOB });
    assert.deepEqual(busy, [
      Code.IDENTITY_BUSY,
      'carol',
      `${BOB} has open orders on ${FABRIC}: wait for them to end, or cancel them`,
    ]);

    // Dave holds BOND on the Fabric network as himself: his second Fabric identity, holding USD
    // there too, cannot join his account (one identity per ledger).
    onLedger('Org1MSP:dave', FABRIC, BOND, 3);
    onLedger('Org2MSP:dave', FABRIC, USD, 300);
    const taken = refusal({ type: 'link', account: 'Org1MSP:dave', identity: 'Org2MSP:dave' });
    assert.equal(taken[0], Code.IDENTITY_LEDGER_TAKEN);
    assert.match(String(taken[2]), /settles on fabric:bank-net as Org1MSP:dave .* one identity per ledger/);

    const bad = refusal({ type: 'link', account: ALICE, identity: '' });
    assert.equal(bad[0], Code.INVALID_ACCOUNT);
  });

  it('given an account that settles on a venue as one identity, when another of its identities reports there, then that is held for the identity in an account of its own, which it gets back when unlinked', () => {
    const { engine, run, balance, onLedger } = given();
    run({ type: 'link', account: ALICE, identity: ALICE_X509 });
    run({ type: 'link', account: ALICE, identity: 'Org2MSP:alice' });
    onLedger(ALICE_X509, FABRIC, USD, 100);
    const evs = run({ type: 'deposit', account: 'Org2MSP:alice', asset: USD, amount: 50 });
    assert.equal(rejected(evs), undefined);
    assert.deepEqual(
      evs.filter((e) => e.kind === 'balance').map((e) => [e.account, e.asset, e.available]),
      [['Org2MSP:alice', USD, 50]],
    );
    assert.equal(balance(ALICE, USD), 100, 'the account settles on the venue as Org1MSP:alice only');
    assert.equal(engine.partyOf(ALICE, FABRIC), ALICE_X509);
    run({ type: 'unlink', account: ALICE, identity: 'Org2MSP:alice' });
    assert.equal(engine.ownerOf('Org2MSP:alice'), 'Org2MSP:alice');
    assert.equal(balance('Org2MSP:alice', USD), 50);
    // The account's own name is no party on the venue either, once it settles there as a linked
    // identity: the ledger holds that for the account's own name, which cannot be a second party.
    const before = engine.stateHash();
    const own = run({ type: 'set-account', account: ALICE, venue: FABRIC, frozen: true });
    assert.equal(rejected(own)?.code, Code.IDENTITY_LEDGER_TAKEN);
    assert.equal(
      rejected(own)?.reason,
      `account ${ALICE} settles on ${FABRIC} as its linked identity ${ALICE_X509}: it cannot also hold anything there as itself`,
    );
    assert.notEqual(engine.stateHash(), before, 'the refusal is a command of its own');
    assert.equal(engine.standing(ALICE).find((x) => x.venue === FABRIC)?.frozen, false);
  });

  it('given a linked identity whose first ledger change is refused, then it has not become the account’s party', () => {
    const { engine, run } = given();
    run({ type: 'link', account: ALICE, identity: ALICE_X509 });
    // A withdrawal the ledger reports (the old command) of more than is there: refused.
    const evs = run({ type: 'withdraw', account: ALICE_X509, asset: USD, amount: 5 });
    assert.equal(rejected(evs)?.code, Code.RISK_INSUFFICIENT_BALANCE);
    assert.equal(engine.partyOf(ALICE, FABRIC), ALICE, 'no party bound by a refused change');
  });

  it('given a linked identity with an open order and a trade waiting on its venue, when it is unlinked, then it is refused until both are done, and then the holdings there go back to the identity', () => {
    const { engine, run, balance, eligible, onLedger, order } = given();
    run({ type: 'link', account: ALICE, identity: ALICE_X509 });
    onLedger(ALICE_X509, FABRIC, USD, 1_000_000);
    onLedger(ALICE, EVM, ACME, 5);
    onLedger(BOB, FABRIC, BOND, 100);
    order(ALICE, 'a1', 'buy', 10_000, 20);
    const open = run({ type: 'unlink', account: ALICE, identity: ALICE_X509 });
    assert.deepEqual(
      [rejected(open)?.code, rejected(open)?.reason],
      [
        Code.IDENTITY_BUSY,
        `account ${ALICE} settles as ${ALICE_X509} where it has open orders on ${FABRIC}: wait for them to end, or cancel them`,
      ],
    );
    order(BOB, 'b1', 'sell', 10_000, 20);
    const [trade] = engine.pendingSettlements();
    assert.ok(trade);
    const waiting = run({ type: 'unlink', account: ALICE, identity: ALICE_X509 });
    assert.match(
      String(rejected(waiting)?.reason),
      new RegExp(`has trade ${trade.tradeId} waiting for settlement on ${FABRIC}`),
    );
    run({ type: 'settle', tradeId: trade.tradeId, ok: true });
    const cash = balance(ALICE, USD);
    const evs = run({ type: 'unlink', account: ALICE, identity: ALICE_X509 });
    assert.equal(rejected(evs), undefined);
    assert.ok(evs.some((e) => e.kind === 'identity' && e.linked === false));
    assert.equal(balance(ALICE_X509, USD), cash);
    assert.equal(balance(ALICE_X509, BOND), 20);
    assert.equal(balance(ALICE, USD), 0);
    assert.equal(balance(ALICE, ACME), 5, 'what it holds elsewhere stays');
    assert.ok(eligible(ALICE_X509, FABRIC));
    assert.equal(eligible(ALICE, FABRIC), false);
    assert.equal(engine.ownerOf(ALICE_X509), ALICE_X509);
    assert.equal(engine.partyOf(ALICE, FABRIC), ALICE);
    assert.deepEqual(engine.identities(ALICE), []);
    // Its next deposit is its own.
    run({ type: 'deposit', account: ALICE_X509, asset: USD, amount: 1 });
    assert.equal(balance(ALICE_X509, USD), cash + 1);
  });
});
