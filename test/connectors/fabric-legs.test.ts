/**
 * Hash-locked legs of the settlement chaincode on the devnet, as the EVM escrow's
 * (evm-legs.test.ts): the operator locks a leg off its giver under the SHA-256 of a secret; anyone
 * with the secret delivers it to its taker before the expiry (its fee to the fee account); anyone
 * returns it to its giver once the expiry has come, by the transaction's clock. One state per
 * trade id; locks the venue's rules or balances refuse say why and lock nothing.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fabricClient, type LegRecord, type LegVerdict } from '../../connectors/fabric/index.ts';
import { account, CHAINCODE, CHANNEL, Network } from '../support/fabric-network.ts';
import { issue } from '../support/identities.ts';
import { until } from '../support/wait.ts';

const FEES = 'BankAMSP:fees';

/** The chaincode refused the transaction saying `text` (the peer's endorsement details carry it). */
const refused = (text: string) => (err: Error & { details?: Array<{ message: string }> }) =>
  (err.details ?? []).some((d) => d.message.includes(text));

describe('hash-locked legs of the settlement chaincode on the devnet', () => {
  let n: Network;
  let seller: string;
  let buyer: string;
  let nextTradeId = 1;
  before(async () => {
    n = await Network.start();
    await n.configure();
    seller = account(n.members.seller);
    buyer = account(n.members.buyer);
  });
  after(() => n?.close());

  const key = () => {
    const secret = randomBytes(32);
    return {
      secret: secret.toString('hex'),
      hashlock: createHash('sha256').update(secret).digest('hex'),
    };
  };
  const now = () => Math.floor(Date.now() / 1000);
  const leg = (
    o: { from: string; to: string; asset: string; amount: number; fee?: number; security: boolean },
    hashlock: string,
    ttl = 3_600,
  ) => ({
    tradeId: nextTradeId++,
    asset: o.asset,
    from: o.from,
    to: o.to,
    amount: String(o.amount),
    fee: String(o.fee ?? 0),
    hashlock,
    expiry: now() + ttl,
    security: o.security,
  });
  const submit = async (fn: string, arg: unknown): Promise<Array<[number, boolean, string?]>> => {
    const raw = await n.operator.contract.submitTransaction(fn, JSON.stringify(arg));
    return (JSON.parse(Buffer.from(raw).toString()) as LegVerdict[]).map((v) =>
      v.reason === undefined ? [v.tradeId, v.ok] : [v.tradeId, v.ok, v.reason],
    );
  };
  const state = async (tradeId: number): Promise<LegRecord['state'] | null> => {
    const raw = Buffer.from(
      await n.operator.contract.evaluateTransaction('LegState', String(tradeId)),
    ).toString();
    return raw === '' ? null : (JSON.parse(raw) as LegRecord).state;
  };

  it('locks both legs, then delivers each to its taker with the secret, once', async () => {
    const k = key();
    const security = leg({ from: seller, to: buyer, asset: 'ACME', amount: 10, security: true }, k.hashlock);
    const payment = leg(
      { from: buyer, to: seller, asset: 'USD', amount: 1_010, fee: 10, security: false },
      k.hashlock,
    );
    const before = {
      sellerAcme: await n.holding(seller, 'ACME'),
      buyerUsd: await n.holding(buyer, 'USD'),
      sellerUsd: await n.holding(seller, 'USD'),
      fees: await n.holding(FEES, 'USD'),
    };
    // When the operator locks both
    assert.deepEqual(await submit('LockLegs', [security, payment]), [
      [security.tradeId, true],
      [payment.tradeId, true],
    ]);
    // Then each giver's balance is held
    assert.equal(await n.holding(seller, 'ACME'), before.sellerAcme - 10n);
    assert.equal(await n.holding(buyer, 'USD'), before.buyerUsd - 1_010n);
    assert.equal(await state(security.tradeId), 'locked');
    // When a wrong secret is shown, then the right one
    const wrong = key().secret;
    assert.deepEqual(await submit('ClaimLegs', [{ tradeId: security.tradeId, secret: wrong }]), [
      [security.tradeId, false, 'WRONG_SECRET'],
    ]);
    assert.deepEqual(
      await submit('ClaimLegs', [
        { tradeId: security.tradeId, secret: k.secret },
        { tradeId: payment.tradeId, secret: k.secret },
      ]),
      [
        [security.tradeId, true],
        [payment.tradeId, true],
      ],
    );
    // Then the security reached the buyer, the cash the seller less the fee, the fee its account
    assert.equal(await n.holding(buyer, 'ACME'), 10n);
    assert.equal(await n.holding(seller, 'USD'), before.sellerUsd + 1_000n);
    assert.equal(await n.holding(FEES, 'USD'), before.fees + 10n);
    assert.equal(await state(payment.tradeId), 'claimed');
    // And a leg keeps its state: locked or claimed again, or refunded, it moves nothing
    assert.deepEqual(await submit('LockLegs', [security]), [[security.tradeId, false, 'ALREADY_LOCKED']]);
    assert.deepEqual(await submit('ClaimLegs', [{ tradeId: payment.tradeId, secret: k.secret }]), [
      [payment.tradeId, false, 'ALREADY_CLAIMED'],
    ]);
    assert.deepEqual(await submit('RefundLegs', [security.tradeId]), [
      [security.tradeId, false, 'ALREADY_CLAIMED'],
    ]);
  });

  it('claims a leg named twice in one batch once: the second sees the first', async () => {
    const k = key();
    const security = leg({ from: seller, to: buyer, asset: 'ACME', amount: 3, security: true }, k.hashlock);
    await submit('LockLegs', [security]);
    const before = await n.holding(buyer, 'ACME');
    const claim = { tradeId: security.tradeId, secret: k.secret };
    assert.deepEqual(await submit('ClaimLegs', [claim, claim]), [
      [security.tradeId, true],
      [security.tradeId, false, 'ALREADY_CLAIMED'],
    ]);
    assert.equal(await n.holding(buyer, 'ACME'), before + 3n);
  });

  it('returns a leg to its giver once its expiry has come, and not before; the secret is no use then', async () => {
    const k = key();
    const security = leg(
      { from: seller, to: buyer, asset: 'ACME', amount: 3, security: true },
      k.hashlock,
      2,
    );
    const held = await n.holding(seller, 'ACME');
    await submit('LockLegs', [security]);
    assert.deepEqual(await submit('RefundLegs', [security.tradeId]), [
      [security.tradeId, false, 'NOT_EXPIRED'],
    ]);
    // When the expiry has come (by the transactions' clock: a refund is tried until it is)
    let refunded: Array<[number, boolean, string?]> = [];
    await until('the expiry to come', async () => {
      refunded = await submit('RefundLegs', [security.tradeId]);
      return refunded[0]![1];
    });
    // Then the leg went back to its giver, and the secret no longer claims it
    assert.equal(await n.holding(seller, 'ACME'), held);
    assert.equal(await state(security.tradeId), 'refunded');
    assert.deepEqual(await submit('ClaimLegs', [{ tradeId: security.tradeId, secret: k.secret }]), [
      [security.tradeId, false, 'ALREADY_REFUNDED'],
    ]);
  });

  it('refuses a lock the venue cannot honour, with its reason, locking nothing', async () => {
    const k = key();
    const unverified = account(await issue(n.msp, 'nobody'));
    const toUnverified = leg(
      { from: seller, to: unverified, asset: 'ACME', amount: 1, security: true },
      k.hashlock,
    );
    const short = leg(
      { from: seller, to: buyer, asset: 'ACME', amount: 1_000_000_000, security: true },
      k.hashlock,
    );
    const feeAbove = leg(
      { from: buyer, to: seller, asset: 'USD', amount: 5, fee: 6, security: false },
      k.hashlock,
    );
    const past = {
      ...leg({ from: buyer, to: seller, asset: 'USD', amount: 5, security: false }, k.hashlock),
      expiry: now() - 10,
    };
    const held = await n.holding(seller, 'ACME');
    assert.deepEqual(await submit('LockLegs', [toUnverified, short, feeAbove, past]), [
      [toUnverified.tradeId, false, 'TO_NOT_VERIFIED'],
      [short.tradeId, false, 'INSUFFICIENT_BALANCE'],
      [feeAbove.tradeId, false, 'BAD_LEG'],
      [past.tradeId, false, 'BAD_LEG'],
    ]);
    assert.equal(await n.holding(seller, 'ACME'), held);
    assert.equal(await state(short.tradeId), 'refused');
    assert.deepEqual(await submit('ClaimLegs', [{ tradeId: short.tradeId, secret: k.secret }]), [
      [short.tradeId, false, 'NOT_LOCKED'],
    ]);
    // And terms that are not a leg are refused whole, naming what is wrong
    await assert.rejects(
      submit('LockLegs', [{ ...toUnverified, tradeId: nextTradeId++, hashlock: 'not a hash' }]),
      refused('hashlock must be a SHA-256'),
    );
  });

  it('lets only the operator lock', async () => {
    const buyerClient = fabricClient(n.devnet.endpoint, n.members.buyer, {
      channel: CHANNEL,
      chaincode: CHAINCODE,
    });
    try {
      const l = leg({ from: buyer, to: seller, asset: 'USD', amount: 5, security: false }, key().hashlock);
      await assert.rejects(
        buyerClient.contract.submitTransaction('LockLegs', JSON.stringify([l])),
        refused('only the operator BankAMSP:operator may do this, not BankAMSP:buyer'),
      );
      assert.equal(await state(l.tradeId), null);
    } finally {
      buyerClient.close();
    }
  });
});
