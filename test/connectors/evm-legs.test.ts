/**
 * Hash-locked legs of the Settlement escrow on a real anvil: one side of a trade whose other side
 * settles on another ledger. A leg locks its giver's escrow balance under the SHA-256 of a
 * secret; whoever shows the secret before the expiry delivers it to its taker (its fee to the fee
 * account); anyone returns it to its giver once the expiry has come. Each trade id's leg keeps
 * one state; a lock the escrow cannot honour (short balance, a security's rules, bad terms) is
 * refused with its reason and locks nothing; claims and refunds check the terms it was locked
 * with, the secret and the clock.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Contract, decodeBytes32String, hexlify, id, type TransactionReceipt, Wallet } from 'ethers';
import {
  Anvil,
  call,
  compileContracts,
  type Deployment,
  fundInvestors,
  send,
} from '../../connectors/evm/index.ts';
import { acmeAndUsdc } from '../support/evm.ts';

const USDC = 1_000_000n;
const LOCKED = 1n;
const CLAIMED = 2n;
const REFUNDED = 3n;
const LOCK_REFUSED = 4n;

interface Leg {
  tradeId: bigint;
  token: string;
  from: string;
  to: string;
  amount: bigint;
  fee: bigint;
  hashlock: string;
  expiry: bigint;
  security: boolean;
}

let anvil: Anvil;
let d: Deployment;
let operator: Contract;
let acme: string;
let usdc: string;
const feeAccount = new Wallet(id('mosaic-legs-fee-account')).address;
let alice: Wallet, bob: Wallet, carol: Wallet;
let nextTradeId = 1n;

const wallet = (name: string) => new Wallet(id(`mosaic-legs-${name}`), anvil.provider());

/** A fresh secret and its hash lock. */
function secret(): { secret: string; hashlock: string } {
  const s = randomBytes(32);
  return { secret: hexlify(s), hashlock: hexlify(createHash('sha256').update(s).digest()) };
}

async function now(): Promise<bigint> {
  return BigInt((await anvil.provider().getBlock('latest'))!.timestamp);
}

/** The two legs of a trade of `quantity` ACME at 25 USDC: ACME from the seller, cash (fee 5 bp) from the buyer. */
async function legsOf(seller: Wallet, buyer: Wallet, quantity: bigint, hashlock: string, ttl = 3_600n) {
  const expiry = (await now()) + ttl;
  const cash = quantity * 25n * USDC;
  const fee = (cash * 5n) / 10_000n;
  const tradeId = nextTradeId++;
  const security: Leg = {
    tradeId,
    token: acme,
    from: seller.address,
    to: buyer.address,
    amount: quantity,
    fee: 0n,
    hashlock,
    expiry,
    security: true,
  };
  // The cash leg is its own trade id here: each ledger keeps one leg per trade id, and in this
  // test both legs sit on one ledger.
  const payment: Leg = {
    ...security,
    tradeId: nextTradeId++,
    token: usdc,
    from: buyer.address,
    to: seller.address,
    amount: cash + fee,
    fee,
    security: false,
  };
  return { security, payment };
}

/** What each leg's event said: [name, tradeId, detail]. */
function outcome(receipt: TransactionReceipt): Array<[string, bigint, string?]> {
  const out: Array<[string, bigint, string?]> = [];
  for (const log of receipt.logs) {
    const ev = d.settlement.interface.parseLog(log);
    if (ev === null || !ev.name.startsWith('Leg')) continue;
    const tradeId = ev.args[0] as bigint;
    if (ev.name === 'LegRefused' || ev.name === 'LegSkipped')
      out.push([ev.name, tradeId, decodeBytes32String(ev.args[1] as string)]);
    else if (ev.name === 'LegClaimed') out.push([ev.name, tradeId, ev.args[1] as string]);
    else out.push([ev.name, tradeId]);
  }
  return out;
}

const escrow = (token: string, who: string) => call<bigint>(d.settlement, 'balanceOf', token, who);
const state = (tradeId: bigint) => call<bigint>(d.settlement, 'legState', tradeId);
const lock = async (legs: Leg[]) => outcome(await send(operator, 'lockLegs', legs));
const claim = async (by: Wallet, legs: Leg[], secrets: string[]) =>
  outcome(await send(d.settlement.connect(by) as Contract, 'claimLegs', legs, secrets));
const refund = async (by: Wallet, legs: Leg[]) =>
  outcome(await send(d.settlement.connect(by) as Contract, 'refundLegs', legs));

/** Moves anvil's clock past `expiry`. */
async function passExpiry(expiry: bigint): Promise<void> {
  const gap = expiry - (await now()) + 1n;
  await anvil.rpc('evm_increaseTime', [Number(gap)]);
  await anvil.rpc('evm_mine', []);
}

describe('hash-locked legs of the EVM settlement escrow on anvil', () => {
  before(async () => {
    const artifacts = await compileContracts();
    anvil = await Anvil.start();
    ({ d, operator } = await acmeAndUsdc(anvil, feeAccount, artifacts));
    acme = d.addresses.securities.ACME!;
    usdc = d.addresses.cash;
    [alice, bob, carol] = ['alice', 'bob', 'carol'].map(wallet) as [Wallet, Wallet, Wallet];
    for (const w of [alice, bob, carol])
      await anvil.rpc('anvil_setBalance', [w.address, '0x56BC75E2D63100000']);
    await fundInvestors(
      d,
      [alice, bob, carol].map((w) => ({ wallet: w, securities: { ACME: 1_000n }, cash: 100_000n * USDC })),
    );
  });
  after(async () => {
    await anvil?.stop();
  });

  it('locks both legs, then delivers each to its taker when anyone shows the secret', async () => {
    const key = secret();
    const { security, payment } = await legsOf(alice, bob, 10n, key.hashlock);
    const before = {
      aliceAcme: await escrow(acme, alice.address),
      bobCash: await escrow(usdc, bob.address),
      aliceCash: await escrow(usdc, alice.address),
      bobAcme: await escrow(acme, bob.address),
      fees: await escrow(usdc, feeAccount),
    };
    // When the operator locks both legs
    const locked = await send(operator, 'lockLegs', [security, payment]);
    assert.deepEqual(outcome(locked), [
      ['LegLocked', security.tradeId],
      ['LegLocked', payment.tradeId],
    ]);
    // Then each giver's escrow balance is held, and each leg is LOCKED
    assert.equal(await escrow(acme, alice.address), before.aliceAcme - 10n);
    assert.equal(await escrow(usdc, bob.address), before.bobCash - payment.amount);
    assert.equal(await state(security.tradeId), LOCKED);
    // When someone shows a wrong secret, or the right one with terms other than the lock's
    const wrong = secret().secret;
    assert.deepEqual(await claim(carol, [security], [wrong]), [
      ['LegSkipped', security.tradeId, 'WRONG_SECRET'],
    ]);
    assert.deepEqual(await claim(carol, [{ ...security, to: carol.address }], [key.secret]), [
      ['LegSkipped', security.tradeId, 'WRONG_TERMS'],
    ]);
    // Then nothing moved; when carol, a stranger, shows the secret with the lock's terms
    const claimed = await send(
      d.settlement.connect(carol) as Contract,
      'claimLegs',
      [security, payment],
      [key.secret, key.secret],
    );
    console.log(`gas for two legs: lock ${locked.gasUsed}, claim ${claimed.gasUsed}`);
    assert.deepEqual(outcome(claimed), [
      ['LegClaimed', security.tradeId, key.secret],
      ['LegClaimed', payment.tradeId, key.secret],
    ]);
    // Then the security reached the buyer, the cash the seller less the fee, the fee its account
    assert.equal(await escrow(acme, bob.address), before.bobAcme + 10n);
    assert.equal(await escrow(usdc, alice.address), before.aliceCash + payment.amount - payment.fee);
    assert.equal(await escrow(usdc, feeAccount), before.fees + payment.fee);
    assert.equal(await state(payment.tradeId), CLAIMED);
    // And a leg keeps its state: locked, claimed or refunded again, it moves nothing
    assert.deepEqual(await lock([security]), [['LegSkipped', security.tradeId, 'ALREADY_LOCKED']]);
    assert.deepEqual(await claim(bob, [security], [key.secret]), [
      ['LegSkipped', security.tradeId, 'ALREADY_CLAIMED'],
    ]);
    await passExpiry(security.expiry);
    assert.deepEqual(await refund(bob, [security]), [['LegSkipped', security.tradeId, 'ALREADY_CLAIMED']]);
  });

  it('returns a leg to its giver once its expiry has come, and not before; the secret is no use then', async () => {
    const key = secret();
    const { security, payment } = await legsOf(bob, carol, 4n, key.hashlock, 600n);
    const bobAcme = await escrow(acme, bob.address);
    await lock([security, payment]);
    // Before the expiry a refund is refused
    assert.deepEqual(await refund(carol, [security]), [['LegSkipped', security.tradeId, 'NOT_EXPIRED']]);
    // When the expiry has come
    await passExpiry(security.expiry);
    // Then the secret no longer claims, and anyone returns the leg to its giver
    assert.deepEqual(await claim(carol, [payment], [key.secret]), [
      ['LegSkipped', payment.tradeId, 'EXPIRED'],
    ]);
    assert.deepEqual(await refund(alice, [security]), [['LegRefunded', security.tradeId]]);
    assert.equal(await escrow(acme, bob.address), bobAcme);
    assert.equal(await state(security.tradeId), REFUNDED);
    assert.deepEqual(await refund(alice, [security]), [['LegSkipped', security.tradeId, 'ALREADY_REFUNDED']]);
  });

  it('refuses a lock the escrow cannot honour, with its reason, locking nothing', async () => {
    const key = secret();
    const token = d.securities.get('ACME')!;
    await send(token, 'setAddressFrozen', carol.address, true);
    try {
      const frozen = (await legsOf(alice, carol, 1n, key.hashlock)).security;
      const short = (await legsOf(alice, bob, 1_000_000n, key.hashlock)).security;
      const { payment } = await legsOf(alice, bob, 1n, key.hashlock);
      const feeAboveAmount = { ...payment, fee: payment.amount + 1n };
      const past = { ...(await legsOf(alice, bob, 1n, key.hashlock)).security, expiry: (await now()) - 1n };
      const aliceAcme = await escrow(acme, alice.address);
      assert.deepEqual(await lock([frozen, short, feeAboveAmount, past]), [
        ['LegRefused', frozen.tradeId, 'TO_FROZEN'],
        ['LegRefused', short.tradeId, 'INSUFFICIENT_BALANCE'],
        ['LegRefused', feeAboveAmount.tradeId, 'BAD_LEG'],
        ['LegRefused', past.tradeId, 'BAD_LEG'],
      ]);
      assert.equal(await escrow(acme, alice.address), aliceAcme);
      assert.equal(await state(frozen.tradeId), LOCK_REFUSED);
      // A refused leg cannot be claimed or locked later
      assert.deepEqual(await claim(bob, [frozen], [key.secret]), [
        ['LegSkipped', frozen.tradeId, 'NOT_LOCKED'],
      ]);
      assert.deepEqual(await lock([frozen]), [['LegSkipped', frozen.tradeId, 'ALREADY_LOCKED']]);
    } finally {
      await send(token, 'setAddressFrozen', carol.address, false);
    }
  });

  it('lets operators only lock, and wants one secret per leg', async () => {
    const { security } = await legsOf(alice, bob, 1n, secret().hashlock);
    await assert.rejects(
      send(d.settlement.connect(alice) as Contract, 'lockLegs', [security]),
      /NotOperator|revert/,
    );
    await assert.rejects(send(operator, 'claimLegs', [security], []), /SecretsMismatch|revert/);
    assert.equal(await state(security.tradeId), 0n);
  });
});
