/**
 * The settlement chaincode: a venue's security and cash balances, keyed by client identity
 * (`MSPID:CommonName`, the account name the exchange uses), who may hold them (venue membership
 * by MSP, eligibility by the operator or by a certificate attribute, freezes), and `SettleBatch`,
 * which moves both legs of every trade of a batch in one transaction, delivery versus payment.
 *
 * The rules mirror the EVM escrow's (docs/evm-contracts.md): each trade id gets exactly one
 * verdict and keeps it (a trade id seen before is skipped and moves nothing); a trade that cannot
 * settle is reported with its reason while the rest of the batch settles; the buyer pays the cash
 * amount, fee included, the seller receives it less the fee, and the fee account the fee.
 *
 * Assets leave the venue only through the exchange: an account asks the exchange for a
 * withdrawal, the exchange takes it from the balance open orders do not reserve, and the operator
 * releases it here by withdrawal id (`ReleaseBatch`), once per id, as trades settle once per id.
 *
 * Fabric keeps one chaincode event per transaction, so each transaction sets one: `Settled` (the
 * verdicts of a batch), `Released` (those of a release batch), `Deposited` or `AccountChanged`.
 * Amounts are whole numbers of engine units (lots, cash units), as decimal strings. Only the
 * operator (the exchange's settlement identity, set by `Configure`) settles, releases, issues and
 * sets standing; only the chaincode's admin (`CHAINCODE_ADMIN`, named by whoever deploys and runs
 * the chaincode) configures the venue the first time.
 *
 * A venue configured with a private data collection keeps its trades' details out of the public
 * ledger: `SettleBatch` then takes the public argument as the trade ids only and the trades from
 * the transient map (`trades`, the same JSON), which the transaction does not carry; it writes
 * each trade's details into the collection under the trade id, so the ledger holds only their
 * hashes, and `TradeDetails` reads them back (to clients of the collection's member
 * organizations, which the peer enforces). Balances, verdicts and events stay public.
 *
 * Hash-locked legs carry one side of a trade whose other side settles on another ledger, as the
 * EVM escrow's do (docs/evm-contracts.md, "Hash-locked legs"): `LockLegs` (the operator) takes
 * each leg's amount off its giver into a lock under the SHA-256 of a secret until an expiry;
 * `ClaimLegs` (anyone, with the secret, before the expiry) delivers it to its taker, its fee to
 * the fee account; `RefundLegs` (anyone, from the expiry on) returns it. The clock is the
 * transaction's timestamp. Each trade id has one leg and keeps its state (`LegState`).
 */
import './quiet-logs.ts';
import { createHash } from 'node:crypto';
import { type Context, Contract } from 'fabric-contract-api';
import { VERDICTS_PER_KEY } from './layout.ts';
import { getStates, putStates } from './peer-stream.ts';

/** One trade as the connector sends it. */
export interface ChainTrade {
  tradeId: number;
  /** Asset names: the security's symbol and the cash currency (`ACME`, `USD`). */
  security: string;
  cash: string;
  buyer: string;
  seller: string;
  quantity: string;
  /** What the buyer pays, fee included. */
  cashAmount: string;
  fee: string;
}

export interface Verdict {
  tradeId: number;
  ok: boolean;
  /** Why it failed, or why it was skipped (`ALREADY_SETTLED`, `ALREADY_FAILED`). */
  reason?: string;
  /** The transaction that gave the first verdict. */
  txId: string;
}

/** One withdrawal the exchange has granted, as the connector sends it. */
export interface ChainWithdrawal {
  withdrawalId: number;
  account: string;
  asset: string;
  amount: string;
}

export interface WithdrawalVerdict {
  withdrawalId: number;
  /** Released (true) or refused. */
  ok: boolean;
  /** Why it was refused, or that it was released before (`ALREADY_RELEASED`). */
  reason?: string;
  /** The transaction that gave the first verdict. */
  txId: string;
}

/** One hash-locked leg, as the connector sends it. */
export interface ChainLeg {
  tradeId: number;
  asset: string;
  from: string;
  to: string;
  /** What leaves `from`, fee included; `to` receives it less `fee`, the fee account `fee`. */
  amount: string;
  fee: string;
  /** The SHA-256 of the secret: 64 hex digits. */
  hashlock: string;
  /** Seconds since the epoch: claimable before, refundable from then on (the transaction's time). */
  expiry: number;
  /** Whether the asset is the venue's security: its taker must be eligible. */
  security: boolean;
}

/** A leg as the venue keeps it (`LegState`). */
export interface LegRecord {
  leg: ChainLeg;
  state: 'locked' | 'claimed' | 'refunded' | 'refused';
  /** Why its lock was refused. */
  reason?: string;
  /** The transaction that last changed it. */
  txId: string;
}

/** What a lock, claim or refund did to a leg: done (ok), or skipped or refused with the reason. */
export interface LegVerdict {
  tradeId: number;
  ok: boolean;
  reason?: string;
  txId: string;
}

interface Config {
  /** Account (`MSPID:CommonName`) that settles, issues and sets standing. */
  operator: string;
  feeAccount: string;
  /** MSPs whose identities may hold the venue's assets; empty: any. */
  members: string[];
  /** A certificate attribute that makes its holder eligible when it enrolls itself (`Enroll`). */
  eligibleAttribute: { name: string; value: string } | null;
  /** The private data collection for trade details; null: details go public with the batch. */
  privateCollection: string | null;
}

interface Standing {
  eligible: boolean;
  frozen: boolean;
}

const MAX_BATCH = 5_000;
const MSP = /^[A-Za-z0-9._-]{1,64}$/;
const AMOUNT = /^(0|[1-9][0-9]{0,37})$/;
/** 32 bytes as lowercase hex: a secret, or its SHA-256. */
const HASH = /^[0-9a-f]{64}$/;
const ACCOUNT = /^[A-Za-z0-9._-]{1,64}:[^\s]{1,128}$/;
/** Fabric's collection names: letters, digits, `-`, and `_` after the first. */
const COLLECTION = /^[A-Za-z0-9-][A-Za-z0-9_-]{0,63}$/;
/** The transient map key of a private venue's batch. */
const TRANSIENT_TRADES = 'trades';

export class SettlementContract extends Contract {
  /** Who may configure the venue: accounts (`MSPID:CommonName`) and whole MSPs. */
  #admins: Admins;

  constructor() {
    super('mosaic.settlement');
    this.#admins = parseAdmins(process.env.CHAINCODE_ADMIN ?? '');
  }

  /** After every transaction function: the keys it changed are written, each once. */
  override async afterTransaction(ctx: Context): Promise<void> {
    await flush(ctx);
  }

  /**
   * Sets the operator, fee account and membership rules. The first time (the venue's deployment)
   * only the chaincode's admin may: the identity, or an identity of the MSP, named in
   * `CHAINCODE_ADMIN` when the chaincode was started; afterwards the admin or the operator.
   * `config` is JSON of `Config`.
   */
  async Configure(ctx: Context, config: string): Promise<void> {
    const current = await configOf(ctx);
    const caller = callerAccount(ctx);
    const admin =
      this.#admins.accounts.includes(caller) || this.#admins.msps.includes(ctx.clientIdentity.getMSPID());
    if (!admin && caller !== current?.operator) {
      const who = [...this.#admins.accounts, ...this.#admins.msps.map((m) => `any identity of ${m}`)];
      throw new Error(
        who.length === 0
          ? 'this chaincode was started without CHAINCODE_ADMIN, so no one may configure it: start it with CHAINCODE_ADMIN naming the deployer (MSPID:CommonName) or an admin MSP'
          : `only the chaincode's admin (${who.join(', ')})${current === null ? '' : ` or the operator ${current.operator}`} may configure this venue, not ${caller}`,
      );
    }
    const c = parseConfig(config);
    stage(ctx, 'config', json(c));
  }

  /** The operator sets an account's standing: eligibility and freeze. */
  async SetStanding(ctx: Context, account: string, eligible: string, frozen: string): Promise<Standing> {
    requireOperator(ctx, await config(ctx));
    checkAccount(account);
    const standing = { eligible: bool(eligible, 'eligible'), frozen: bool(frozen, 'frozen') };
    return this.#setStanding(ctx, account, standing);
  }

  /**
   * An identity enrolls itself: eligible if its MSP is a member and its certificate carries the
   * configured attribute. Refused otherwise, naming what is missing.
   */
  async Enroll(ctx: Context): Promise<Standing> {
    const c = await config(ctx);
    const account = callerAccount(ctx);
    const msp = ctx.clientIdentity.getMSPID();
    if (c.members.length > 0 && !c.members.includes(msp))
      throw new Error(`MSP ${msp} is not a member of this venue`);
    const attr = c.eligibleAttribute;
    if (attr === null || ctx.clientIdentity.getAttributeValue(attr.name) !== attr.value) {
      throw new Error(
        attr === null
          ? 'this venue enrolls no one by attribute'
          : `the certificate lacks ${attr.name}=${attr.value}`,
      );
    }
    const was = await standingOf(ctx, account);
    return this.#setStanding(ctx, account, { eligible: true, frozen: was.frozen });
  }

  /** The operator credits an account (an issuance, or assets brought onto the venue). */
  async Issue(ctx: Context, account: string, asset: string, amount: string): Promise<void> {
    requireOperator(ctx, await config(ctx));
    checkAccount(account);
    const n = positive(amount);
    await addBalance(ctx, asset, account, n);
    ctx.stub.setEvent('Deposited', Buffer.from(json({ account, asset, amount: n.toString() })));
  }

  /**
   * Releases withdrawals the exchange has granted (JSON array of `ChainWithdrawal`), all in this
   * transaction: each takes its amount off the account's balance, off the venue, or is refused
   * with a reason while the rest go on (`BAD_WITHDRAWAL` for a zero amount, `NOT_MEMBER`,
   * `FROZEN`, `INSUFFICIENT_BALANCE`). Each withdrawal id gets one verdict and keeps it: an id
   * seen before is skipped and its first verdict returned. Returns the verdicts in batch order
   * (JSON) and sets the `Released` event with them.
   */
  async ReleaseBatch(ctx: Context, batch: string): Promise<string> {
    const c = await config(ctx);
    requireOperator(ctx, c);
    const withdrawals = parseWithdrawals(batch);
    await prefetch(
      ctx,
      withdrawals.flatMap((w) => [
        withdrawalKey(ctx, w.withdrawalId),
        balanceKey(ctx, w.asset, w.account),
        standingKey(ctx, w.account),
      ]),
    );
    const verdicts = await verdictsOnce(ctx, withdrawals, {
      ...keyedVerdicts<ChainWithdrawal, WithdrawalVerdict>(ctx, (w) => withdrawalKey(ctx, w.withdrawalId)),
      verdict: (w, reason, txId) => ({
        withdrawalId: w.withdrawalId,
        ok: reason === null,
        ...(reason === null ? {} : { reason }),
        txId,
      }),
      already: { ok: 'ALREADY_RELEASED', refused: 'ALREADY_REFUSED' },
      apply: (w) => this.#release(ctx, c, w),
    });
    ctx.stub.setEvent('Released', Buffer.from(json({ verdicts })));
    return JSON.stringify(verdicts);
  }

  /** A withdrawal's verdict, or an empty string if it has none. */
  async WithdrawalStatus(ctx: Context, withdrawalId: string): Promise<string> {
    const v = await readJson<WithdrawalVerdict>(ctx, withdrawalKey(ctx, Number(withdrawalId)));
    return v === null ? '' : JSON.stringify(v);
  }

  /**
   * Settles a batch (JSON array of `ChainTrade`), all in this transaction; returns a verdict per
   * trade, in batch order (JSON), and sets the `Settled` event with the same verdicts. On a venue
   * with a private collection `batch` is the JSON array of the trade ids, the trades come from
   * the transient map, and each trade given its verdict here has its details written privately.
   */
  async SettleBatch(ctx: Context, batch: string): Promise<string> {
    // The batch's keys are read with the configuration, in one call: the trades taken as a venue
    // that settles privately sends them if the transient map has them, else as a public venue's.
    // The configuration then decides how they are read; a wrong guess costs a second call only.
    const privately = ctx.stub.getTransient().has(TRANSIENT_TRADES);
    const guess = attempt(() => (privately ? privateBatch(ctx, batch) : parseBatch(batch)));
    await prefetch(ctx, [
      'config',
      TRADE_VERDICTS,
      ...(guess === null ? [] : guess.flatMap((t) => tradeKeys(ctx, t))),
    ]);
    const c = await config(ctx);
    requireOperator(ctx, c);
    const collection = c.privateCollection;
    const trades =
      guess !== null && privately === (collection !== null)
        ? guess
        : collection === null
          ? parseBatch(batch)
          : privateBatch(ctx, batch);
    const legacyBelow = await legacyTradesBelow(ctx, true);
    await prefetch(
      ctx,
      trades.flatMap((t) => [
        ...(t.tradeId < legacyBelow ? [tradeKey(ctx, t.tradeId)] : []),
        ...(trades === guess ? [] : tradeKeys(ctx, t)),
      ]),
    );
    const verdicts = await verdictsOnce(ctx, trades, {
      seen: (t) => tradeVerdict(ctx, t.tradeId, true),
      keep: (v) => keepTradeVerdict(ctx, v),
      verdict: (t, reason, txId): Verdict =>
        reason === null
          ? { tradeId: t.tradeId, ok: true, txId }
          : { tradeId: t.tradeId, ok: false, reason, txId },
      already: { ok: 'ALREADY_SETTLED', refused: 'ALREADY_FAILED' },
      apply: (t) => this.#settle(ctx, c, t),
      ...(collection === null
        ? {}
        : { after: (t: ChainTrade) => ctx.stub.putPrivateData(collection, String(t.tradeId), json(t)) }),
    });
    ctx.stub.setEvent('Settled', Buffer.from(json({ verdicts })));
    return JSON.stringify(verdicts);
  }

  /**
   * Locks legs (JSON array of `ChainLeg`), all in this transaction: each leg's amount leaves its
   * giver, or the lock is refused with a reason, locking nothing (`BAD_LEG` for bad terms or an
   * expiry already past; `FROM_NOT_MEMBER`, `FROM_FROZEN`, `TO_NOT_MEMBER`, `TO_FROZEN`,
   * `TO_NOT_VERIFIED` for a security; `INSUFFICIENT_BALANCE`). A trade id seen before is skipped
   * (`ALREADY_LOCKED`). Returns the verdicts in order (JSON) and sets the `LegsLocked` event.
   */
  async LockLegs(ctx: Context, batch: string): Promise<string> {
    const c = await config(ctx);
    requireOperator(ctx, c);
    const now = txSeconds(ctx);
    const txId = ctx.stub.getTxID();
    const verdicts: LegVerdict[] = [];
    const legs = parseLegs(batch);
    await prefetch(
      ctx,
      legs.flatMap((leg) => [
        legKey(ctx, leg.tradeId),
        balanceKey(ctx, leg.asset, leg.from),
        ...(leg.security ? [standingKey(ctx, leg.from), standingKey(ctx, leg.to)] : []),
      ]),
    );
    for (const leg of legs) {
      const key = legKey(ctx, leg.tradeId);
      if ((await readJson<LegRecord>(ctx, key)) !== null) {
        verdicts.push(legVerdict(leg.tradeId, 'ALREADY_LOCKED', txId));
        continue;
      }
      const reason = await this.#lockable(ctx, c, leg, now);
      if (reason === null) await addBalance(ctx, leg.asset, leg.from, -BigInt(leg.amount));
      const record: LegRecord =
        reason === null ? { leg, state: 'locked', txId } : { leg, state: 'refused', reason, txId };
      stage(ctx, key, json(record));
      verdicts.push(legVerdict(leg.tradeId, reason, txId));
    }
    ctx.stub.setEvent('LegsLocked', Buffer.from(json({ verdicts })));
    return JSON.stringify(verdicts);
  }

  /**
   * Claims locked legs with their secrets (JSON array of `{ tradeId, secret }`, the secret as 64
   * hex digits), by anyone: before its expiry, a leg whose hash lock is the secret's SHA-256
   * reaches its taker, its fee the fee account. Otherwise skipped with the reason (`NOT_LOCKED`,
   * `ALREADY_CLAIMED`, `ALREADY_REFUNDED`, `WRONG_SECRET`, `EXPIRED`). Returns the verdicts
   * (JSON) and sets the `LegsClaimed` event.
   */
  async ClaimLegs(ctx: Context, claims: string): Promise<string> {
    await config(ctx); // a venue not configured has no fee account
    const now = txSeconds(ctx);
    const finish = { state: 'claimed', event: 'LegsClaimed', mover: (leg: ChainLeg) => leg.to } as const;
    return this.#finish(ctx, parseClaims(claims), finish, async (record, claim) => {
      const hash = createHash('sha256').update(Buffer.from(claim.secret, 'hex')).digest('hex');
      if (hash !== record.leg.hashlock) return 'WRONG_SECRET';
      if (now >= record.leg.expiry) return 'EXPIRED';
      const { asset, to, amount, fee } = record.leg;
      await addBalance(ctx, asset, to, BigInt(amount) - BigInt(fee));
      creditFee(ctx, asset, BigInt(fee));
      return null;
    });
  }

  /**
   * Returns locked legs whose expiry has come to their givers (JSON array of trade ids), by
   * anyone; otherwise skipped with the reason (`NOT_EXPIRED`, or as for a claim). Returns the
   * verdicts (JSON) and sets the `LegsRefunded` event.
   */
  async RefundLegs(ctx: Context, tradeIds: string): Promise<string> {
    const now = txSeconds(ctx);
    const ids = parseIds(tradeIds).map((tradeId) => ({ tradeId }));
    const finish = { state: 'refunded', event: 'LegsRefunded', mover: (leg: ChainLeg) => leg.from } as const;
    return this.#finish(ctx, ids, finish, async (record) => {
      if (now < record.leg.expiry) return 'NOT_EXPIRED';
      await addBalance(ctx, record.leg.asset, record.leg.from, BigInt(record.leg.amount));
      return null;
    });
  }

  /** A leg as the venue keeps it (JSON of `LegRecord`), or an empty string if it has none. */
  async LegState(ctx: Context, tradeId: string): Promise<string> {
    const record = await readJson<LegRecord>(ctx, legKey(ctx, Number(tradeId)));
    return record === null ? '' : JSON.stringify(record);
  }

  /** An account's balance of an asset (decimal string). */
  async BalanceOf(ctx: Context, account: string, asset: string): Promise<string> {
    return (await balance(ctx, asset, account)).toString();
  }

  /** A trade's verdict, or an empty string if it has none. */
  async TradeStatus(ctx: Context, tradeId: string): Promise<string> {
    const v = await tradeVerdict(ctx, Number(tradeId), false);
    return v === null ? '' : JSON.stringify(v);
  }

  /**
   * A trade's details (JSON of `ChainTrade`) from the venue's private collection, or an empty
   * string if it has none. The peer refuses callers outside the collection's member organizations.
   */
  async TradeDetails(ctx: Context, tradeId: string): Promise<string> {
    const c = await config(ctx);
    if (c.privateCollection === null) throw new Error('this venue keeps no private trade details');
    if (!/^[1-9][0-9]{0,15}$/.test(tradeId)) throw new Error('tradeId must be a positive integer');
    const bytes = await ctx.stub.getPrivateData(c.privateCollection, tradeId);
    return Buffer.from(bytes).toString('utf8');
  }

  async #setStanding(ctx: Context, account: string, standing: Standing): Promise<Standing> {
    stage(ctx, standingKey(ctx, account), json(standing));
    held(ctx).standings.set(account, standing);
    ctx.stub.setEvent('AccountChanged', Buffer.from(json({ account, ...standing })));
    return standing;
  }

  /** Takes a withdrawal off the venue, or says why it cannot (nothing moved then). */
  async #release(ctx: Context, c: Config, w: ChainWithdrawal): Promise<string | null> {
    const amount = BigInt(w.amount);
    if (amount === 0n) return 'BAD_WITHDRAWAL';
    const msp = w.account.slice(0, w.account.indexOf(':'));
    if (c.members.length > 0 && !c.members.includes(msp)) return 'NOT_MEMBER';
    if ((await standingOf(ctx, w.account)).frozen) return 'FROZEN';
    if ((await balance(ctx, w.asset, w.account)) < amount) return 'INSUFFICIENT_BALANCE';
    await addBalance(ctx, w.asset, w.account, -amount);
    return null;
  }

  /** Why a leg cannot be locked, or null. */
  async #lockable(ctx: Context, c: Config, leg: ChainLeg, now: number): Promise<string | null> {
    const amount = BigInt(leg.amount);
    if (amount === 0n || BigInt(leg.fee) > amount || leg.from === leg.to || leg.expiry <= now)
      return 'BAD_LEG';
    if (leg.security) {
      const refused = await refusal(ctx, c, leg.from, leg.to);
      if (refused !== null) return refused;
    }
    return (await balance(ctx, leg.asset, leg.from)) < amount ? 'INSUFFICIENT_BALANCE' : null;
  }

  /**
   * Claims or refunds locked legs (`state`), each by `apply` (null: done; else why not, nothing
   * moved), which moves the balance of the leg's `mover`; a leg not locked is skipped with why.
   * Sets `event` with the verdicts, returns them.
   */
  async #finish<T extends { tradeId: number }>(
    ctx: Context,
    items: readonly T[],
    {
      state,
      event,
      mover,
    }: { state: 'claimed' | 'refunded'; event: string; mover: (leg: ChainLeg) => string },
    apply: (record: LegRecord, item: T) => Promise<string | null>,
  ): Promise<string> {
    const txId = ctx.stub.getTxID();
    const verdicts: LegVerdict[] = [];
    await prefetch(
      ctx,
      items.map((item) => legKey(ctx, item.tradeId)),
    );
    const locked = await Promise.all(
      items.map((item) => readJson<LegRecord>(ctx, legKey(ctx, item.tradeId))),
    );
    await prefetch(
      ctx,
      locked.flatMap((r) => (r?.state === 'locked' ? [balanceKey(ctx, r.leg.asset, mover(r.leg))] : [])),
    );
    for (const item of items) {
      const key = legKey(ctx, item.tradeId);
      // Read again, not taken from `locked`: a trade id twice in the batch sees its first claim.
      const record = await readJson<LegRecord>(ctx, key);
      const reason =
        record === null || record.state === 'refused'
          ? 'NOT_LOCKED'
          : record.state !== 'locked'
            ? `ALREADY_${record.state.toUpperCase()}`
            : await apply(record, item);
      if (reason === null) stage(ctx, key, json({ ...record!, state, txId }));
      verdicts.push(legVerdict(item.tradeId, reason, txId));
    }
    ctx.stub.setEvent(event, Buffer.from(json({ verdicts })));
    return JSON.stringify(verdicts);
  }

  /** Moves both legs of a trade, or says why it cannot (nothing moved then). */
  async #settle(ctx: Context, c: Config, t: ChainTrade): Promise<string | null> {
    const qty = BigInt(t.quantity);
    const pay = BigInt(t.cashAmount);
    const fee = BigInt(t.fee);
    if (qty === 0n || fee > pay || t.buyer === t.seller || t.security === t.cash) return 'BAD_TRADE';
    const refused = await refusal(ctx, c, t.seller, t.buyer);
    if (refused !== null) return refused;
    // Each balance as held (SettleBatch read them up front), read only if not: no await then.
    const securitySeller = balanceOf(ctx, t.security, t.seller);
    const cashBuyer = balanceOf(ctx, t.cash, t.buyer);
    const securityBuyer = balanceOf(ctx, t.security, t.buyer);
    const cashSeller = balanceOf(ctx, t.cash, t.seller);
    const sold = balanceHeld(ctx, securitySeller) ?? (await readBalance(ctx, securitySeller));
    if (sold < qty) return 'INSUFFICIENT_SECURITY';
    const paid = balanceHeld(ctx, cashBuyer) ?? (await readBalance(ctx, cashBuyer));
    if (paid < pay) return 'INSUFFICIENT_CASH';
    const bought = balanceHeld(ctx, securityBuyer) ?? (await readBalance(ctx, securityBuyer));
    const received = balanceHeld(ctx, cashSeller) ?? (await readBalance(ctx, cashSeller));
    setBalance(ctx, securitySeller, sold - qty);
    setBalance(ctx, securityBuyer, bought + qty);
    setBalance(ctx, cashBuyer, paid - pay);
    setBalance(ctx, cashSeller, received + pay - fee);
    creditFee(ctx, t.cash, fee);
    return null;
  }
}

// ---- state -----------------------------------------------------------------------------------

/** Why the venue's rules refuse the security going from `from` to `to` (membership, freezes, eligibility), or null. */
async function refusal(ctx: Context, c: Config, from: string, to: string): Promise<string | null> {
  for (const [who, side] of [
    [from, 'FROM'],
    [to, 'TO'],
  ] as const) {
    const msp = who.slice(0, who.indexOf(':'));
    if (c.members.length > 0 && !c.members.includes(msp)) return `${side}_NOT_MEMBER`;
    const s = held(ctx).standings.get(who) ?? (await standingOf(ctx, who));
    if (s.frozen) return `${side}_FROZEN`;
    if (side === 'TO' && !s.eligible) return 'TO_NOT_VERIFIED';
  }
  return null;
}

function legVerdict(tradeId: number, reason: string | null, txId: string): LegVerdict {
  return reason === null ? { tradeId, ok: true, txId } : { tradeId, ok: false, reason, txId };
}

/** The transaction's time, in whole seconds since the epoch. */
function txSeconds(ctx: Context): number {
  return Math.floor(ctx.stub.getDateTimestamp().getTime() / 1000);
}

/**
 * Gives each item of a batch its verdict, once: an item that has a verdict (`seen`) is skipped
 * and that verdict returned (its reason: `already.ok` if it was ok, else its first reason);
 * otherwise `apply` moves it (or says why not, moving nothing), its verdict is kept (`keep`) with
 * this transaction's id, and `after` runs for it.
 */
async function verdictsOnce<T, V extends { ok: boolean; reason?: string }>(
  ctx: Context,
  items: readonly T[],
  o: {
    seen(item: T): Promise<V | null>;
    keep(verdict: V, item: T): void;
    verdict(item: T, reason: string | null, txId: string): V;
    /** The reasons of a skipped item whose first verdict was ok, or a refusal without a reason. */
    already: { ok: string; refused: string };
    apply(item: T): Promise<string | null>;
    after?(item: T): Promise<void>;
  },
): Promise<V[]> {
  const txId = ctx.stub.getTxID();
  const verdicts: V[] = [];
  for (const item of items) {
    const seen = await o.seen(item);
    if (seen !== null) {
      verdicts.push({ ...seen, reason: seen.ok ? o.already.ok : (seen.reason ?? o.already.refused) });
      continue;
    }
    const v = o.verdict(item, await o.apply(item), txId);
    o.keep(v, item);
    await o.after?.(item);
    verdicts.push(v);
  }
  return verdicts;
}

/** Verdicts kept one per key (withdrawals: few per batch). */
function keyedVerdicts<T, V>(
  ctx: Context,
  key: (item: T) => string,
): { seen(item: T): Promise<V | null>; keep(verdict: V, item: T): void } {
  return {
    seen: (item) => readJson<V>(ctx, key(item)),
    keep: (verdict, item) => stage(ctx, key(item), json(verdict)),
  };
}

/**
 * Trade verdicts are kept `VERDICTS_PER_KEY` consecutive trade ids to a key, as the EVM escrow
 * keeps 128 to a storage slot: a batch of consecutive ids reads and writes a few keys instead of
 * two round trips to the peer per trade, which were most of a batch's time. One key's: the
 * transactions that gave them, and per id its transaction (an index into `tx`) and, if it
 * failed, why.
 */
interface VerdictWord {
  tx: string[];
  v: Record<string, [number] | [number, string]>;
}

/**
 * Where trade verdicts start being kept by key: trade ids below `legacyBelow` may have a verdict
 * of their own key (`trade` composite keys, as a chaincode before verdict keys kept them).
 */
const TRADE_VERDICTS = 'trade-verdicts';

function verdictWordKey(ctx: Context, tradeId: number): string {
  return ctx.stub.createCompositeKey('verdicts', [String(Math.floor(tradeId / VERDICTS_PER_KEY))]);
}

/** A trade's verdict, or null if it has none. `create`: on a ledger without the marker, write it (a transaction that settles). */
async function tradeVerdict(ctx: Context, tradeId: number, create: boolean): Promise<Verdict | null> {
  const h = held(ctx);
  const key = verdictWordKey(ctx, tradeId);
  // Held once read (most of a batch's ids share a key): no await then.
  const word = h.words.get(key) ?? (await verdictWord(ctx, key));
  const kept = word.v[String(tradeId)];
  if (kept !== undefined) {
    const [tx, reason] = kept;
    const txId = word.tx[tx]!;
    return reason === undefined ? { tradeId, ok: true, txId } : { tradeId, ok: false, reason, txId };
  }
  if (tradeId >= (h.legacyBelow ?? (await legacyTradesBelow(ctx, create)))) return null;
  return readJson<Verdict>(ctx, tradeKey(ctx, tradeId));
}

/** Keeps a trade's verdict in its key, written once when the transaction function returns. */
function keepTradeVerdict(ctx: Context, v: Verdict): void {
  const h = held(ctx);
  const key = verdictWordKey(ctx, v.tradeId);
  const word = h.words.get(key) ?? emptyWord();
  let tx = word.tx.indexOf(v.txId);
  if (tx < 0) tx = word.tx.push(v.txId) - 1;
  word.v[String(v.tradeId)] = v.ok ? [tx] : [tx, v.reason ?? 'FAILED'];
  h.words.set(key, word);
  h.dirtyWords.add(key);
}

/** The verdicts kept under `key` (none yet: an empty word), held from then on. */
async function verdictWord(ctx: Context, key: string): Promise<VerdictWord> {
  const h = held(ctx);
  let word = h.words.get(key);
  if (word === undefined) {
    word = (await readJson<VerdictWord>(ctx, key)) ?? emptyWord();
    h.words.set(key, word);
  }
  return word;
}

function emptyWord(): VerdictWord {
  return { tx: [], v: {} };
}

/**
 * The first trade id whose verdict only its verdict key holds. Found once, the first time a
 * settling transaction asks, by reading the trade verdicts kept one per key before (none on a
 * new ledger), and kept under `TRADE_VERDICTS`.
 */
async function legacyTradesBelow(ctx: Context, create: boolean): Promise<number> {
  const h = held(ctx);
  if (h.legacyBelow !== undefined) return h.legacyBelow;
  const marker = await readJson<{ legacyBelow: number }>(ctx, TRADE_VERDICTS);
  let below = marker?.legacyBelow;
  if (below === undefined) {
    below = 0;
    const legacy = await ctx.stub.getStateByPartialCompositeKey('trade', []);
    for (let r = await legacy.next(); !r.done; r = await legacy.next()) {
      const id = Number(ctx.stub.splitCompositeKey(r.value.key).attributes[0]);
      below = Math.max(below, id + 1);
    }
    await legacy.close();
    if (create) stage(ctx, TRADE_VERDICTS, json({ legacyBelow: below }));
  }
  h.legacyBelow = below;
  return below;
}

async function config(ctx: Context): Promise<Config> {
  const c = await configOf(ctx);
  if (c === null) throw new Error('the venue is not configured: call Configure first');
  return c;
}

/** The venue's configuration as this transaction sees it (parsed once), or null before the first. */
async function configOf(ctx: Context): Promise<Config | null> {
  const h = held(ctx);
  if (h.config === undefined) h.config = await readJson<Config>(ctx, 'config');
  return h.config;
}

async function readJson<T>(ctx: Context, key: string): Promise<T | null> {
  const bytes = await stateOf(ctx, key);
  return bytes.length === 0 ? null : (JSON.parse(Buffer.from(bytes).toString('utf8')) as T);
}

async function standingOf(ctx: Context, account: string): Promise<Standing> {
  const { standings } = held(ctx);
  let s = standings.get(account);
  if (s === undefined) {
    s = (await readJson<Standing>(ctx, standingKey(ctx, account))) ?? {
      eligible: false,
      frozen: false,
    };
    standings.set(account, s);
  }
  return s;
}

function standingKey(ctx: Context, account: string): string {
  return ctx.stub.createCompositeKey('standing', [account]);
}

function balanceKey(ctx: Context, asset: string, account: string): string {
  return ctx.stub.createCompositeKey('balance', [asset, account]);
}

function tradeKey(ctx: Context, tradeId: number): string {
  return ctx.stub.createCompositeKey('trade', [String(tradeId)]);
}

function legKey(ctx: Context, tradeId: number): string {
  return ctx.stub.createCompositeKey('leg', [String(tradeId)]);
}

function withdrawalKey(ctx: Context, withdrawalId: number): string {
  return ctx.stub.createCompositeKey('withdrawal', [String(withdrawalId)]);
}

/**
 * A balance as this transaction leaves it so far. The fee account's is its balance key and the
 * fee credits of every transaction since it was last folded in (`creditFee`).
 */
async function balance(ctx: Context, asset: string, account: string): Promise<bigint> {
  const b = balanceOf(ctx, asset, account);
  return balanceHeld(ctx, b) ?? (await readBalance(ctx, b));
}

/** One account's balance of one asset, and its key. */
interface BalanceRef {
  asset: string;
  account: string;
  key: string;
}

function balanceOf(ctx: Context, asset: string, account: string): BalanceRef {
  return { asset, account, key: balanceKey(ctx, asset, account) };
}

/** `balance` if this transaction holds it (read before, with the configuration): no call, no await. */
function balanceHeld(ctx: Context, { asset, account, key }: BalanceRef): bigint | undefined {
  const h = held(ctx);
  const b = h.balances.get(key);
  if (b === undefined || h.config === undefined) return undefined;
  return account === h.config?.feeAccount ? b + (h.feeCredits.get(asset) ?? 0n) : b;
}

/** Reads a balance into what the transaction holds (the fee account's with its fee credits); `balance`. */
async function readBalance(ctx: Context, b: BalanceRef): Promise<bigint> {
  const h = held(ctx);
  const fees = b.account === (await feeAccountOf(ctx));
  if (!h.balances.has(b.key)) {
    const bytes = await stateOf(ctx, b.key);
    let value = bytes.length === 0 ? 0n : BigInt(Buffer.from(bytes).toString('utf8'));
    if (fees) for (const [, amount] of await feeCredits(ctx, b.asset)) value += amount;
    h.balances.set(b.key, value);
  }
  return balanceHeld(ctx, b)!;
}

/** Adds `delta` to a balance (see `setBalance`). */
async function addBalance(ctx: Context, asset: string, account: string, delta: bigint): Promise<void> {
  const b = balanceOf(ctx, asset, account);
  setBalance(ctx, b, (balanceHeld(ctx, b) ?? (await readBalance(ctx, b))) + delta);
}

/**
 * Sets a balance held (`balanceHeld`); it may not go below zero. Written once, at the
 * transaction's end (`flush`). A change of the fee account's balance folds its fee credits into it.
 */
function setBalance(ctx: Context, { asset, account, key }: BalanceRef, next: bigint): void {
  if (next < 0n) throw new Error(`${account} would hold ${next} ${asset}`);
  const h = held(ctx);
  if (account === h.config?.feeAccount) {
    for (const [credit] of h.feeCreditsRead.get(asset)!) stage(ctx, credit, null);
    h.feeCredits.delete(asset);
  }
  h.balances.set(key, next);
  h.dirtyBalances.add(key);
}

/**
 * Credits the fee account with `fee` of `asset` without reading its balance: every settling
 * transaction pays fees, and a read-modify-write of one key by all of them would make any two in
 * flight at once conflict (Fabric's MVCC check). So a transaction writes its fees under a key of
 * its own (`feecredit/<asset>/<txId>`), which no other transaction writes; the fee account's
 * balance adds them up, and folds them in when it changes otherwise.
 */
function creditFee(ctx: Context, asset: string, fee: bigint): void {
  if (fee === 0n) return;
  const credits = held(ctx).feeCredits;
  credits.set(asset, (credits.get(asset) ?? 0n) + fee);
}

/** The fee credits of `asset` committed so far: their keys and amounts (read once per transaction). */
async function feeCredits(ctx: Context, asset: string): Promise<Array<[string, bigint]>> {
  const h = held(ctx);
  let credits = h.feeCreditsRead.get(asset);
  if (credits === undefined) {
    credits = [];
    const found = await ctx.stub.getStateByPartialCompositeKey('feecredit', [asset]);
    for (let r = await found.next(); !r.done; r = await found.next()) {
      credits.push([r.value.key, BigInt(Buffer.from(r.value.value).toString('utf8'))]);
    }
    await found.close();
    h.feeCreditsRead.set(asset, credits);
  }
  return credits;
}

/** The venue's fee account, or null before it is configured. */
async function feeAccountOf(ctx: Context): Promise<string | null> {
  return (await configOf(ctx))?.feeAccount ?? null;
}

// ---- identities and input ----------------------------------------------------------------------

const HELD = Symbol('state read and written in this transaction');

/**
 * The state as this transaction sees it: each key read from the peer once (a batch's keys asked
 * for together up front, `prefetch`: in one call where the peer takes many keys at once, else a
 * call each), and each key written once, when the transaction function returns (`flush`: in one
 * call where the peer takes a transaction's writes at once; `peer-stream.ts`). A transaction sees its
 * own writes, which Fabric's simulation does not show (reads see the state before the
 * transaction): several moves of one balance within a batch build on each other, and an id twice
 * in one batch gets one verdict. Balances and standings are also kept parsed.
 */
function held(ctx: Context): {
  read: Map<string, Uint8Array>;
  written: Map<string, Uint8Array>;
  /** Balances read or changed, parsed; those changed are written by `flush`. */
  balances: Map<string, bigint>;
  dirtyBalances: Set<string>;
  standings: Map<string, Standing>;
  /** Trade verdict keys read (empty if none) or changed, parsed; those changed are written by `flush`. */
  words: Map<string, VerdictWord>;
  dirtyWords: Set<string>;
  legacyBelow?: number;
  /** The venue's configuration, parsed (`configOf`); dropped when the transaction writes it. */
  config?: Config | null;
  /** Fees this transaction credits, by asset (written by `flush` under its own key), and those read. */
  feeCredits: Map<string, bigint>;
  feeCreditsRead: Map<string, Array<[string, bigint]>>;
} {
  const c = ctx as Context & { [HELD]?: ReturnType<typeof held> };
  c[HELD] ??= {
    read: new Map(),
    written: new Map(),
    balances: new Map(),
    dirtyBalances: new Set(),
    standings: new Map(),
    words: new Map(),
    dirtyWords: new Set(),
    feeCredits: new Map(),
    feeCreditsRead: new Map(),
  };
  return c[HELD];
}

/** A key's value as this transaction sees it (empty: none). */
async function stateOf(ctx: Context, key: string): Promise<Uint8Array> {
  const h = held(ctx);
  const written = h.written.get(key);
  if (written !== undefined) return written;
  let bytes = h.read.get(key);
  if (bytes === undefined) {
    bytes = await ctx.stub.getState(key);
    h.read.set(key, bytes);
  }
  return bytes;
}

/** Reads the keys not yet read, all asked for at once. */
async function prefetch(ctx: Context, keys: Iterable<string>): Promise<void> {
  const h = held(ctx);
  const missing = [...new Set(keys)].filter((k) => !h.read.has(k) && !h.written.has(k));
  const values = await getStates(ctx.stub, missing);
  missing.forEach((k, i) => h.read.set(k, values[i]!));
}

/**
 * Writes `value` under `key` (null: deletes the key) when the transaction function returns; read
 * back by this transaction meanwhile.
 */
function stage(ctx: Context, key: string, value: Uint8Array | string | null): void {
  const bytes = value === null ? new Uint8Array() : typeof value === 'string' ? Buffer.from(value) : value;
  const h = held(ctx);
  h.written.set(key, bytes);
  if (key === 'config') delete h.config;
}

/** Writes each key the transaction changed, once, all sent together. */
async function flush(ctx: Context): Promise<void> {
  const h = (ctx as Context & { [HELD]?: ReturnType<typeof held> })[HELD];
  if (h === undefined) return;
  for (const key of h.dirtyWords) stage(ctx, key, json(h.words.get(key)));
  h.dirtyWords.clear();
  for (const key of h.dirtyBalances) stage(ctx, key, h.balances.get(key)!.toString());
  h.dirtyBalances.clear();
  const txId = ctx.stub.getTxID();
  for (const [asset, fee] of h.feeCredits) {
    stage(ctx, ctx.stub.createCompositeKey('feecredit', [asset, txId]), fee.toString());
  }
  h.feeCredits.clear();
  await putStates(ctx.stub, [...h.written]);
  h.written.clear();
}

/** The caller's account: `MSPID:CommonName`. */
function callerAccount(ctx: Context): string {
  const cn = /\/CN=((?:[^/\\]|\\.)+)/.exec(ctx.clientIdentity.getID().split('::')[1] ?? '')?.[1];
  if (cn === undefined) throw new Error('the caller certificate has no common name');
  return `${ctx.clientIdentity.getMSPID()}:${cn.replace(/\\\//g, '/')}`;
}

function requireOperator(ctx: Context, c: Config): void {
  const caller = callerAccount(ctx);
  if (caller !== c.operator) throw new Error(`only the operator ${c.operator} may do this, not ${caller}`);
}

function parseConfig(text: string): Config {
  const c = JSON.parse(text) as Partial<Config>;
  if (typeof c.operator !== 'string' || !ACCOUNT.test(c.operator))
    throw new Error('config.operator must be an account (MSPID:name)');
  if (typeof c.feeAccount !== 'string' || !ACCOUNT.test(c.feeAccount))
    throw new Error('config.feeAccount must be an account (MSPID:name)');
  const members = c.members ?? [];
  if (
    !Array.isArray(members) ||
    !members.every((m) => typeof m === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(m))
  ) {
    throw new Error('config.members must be a list of MSP ids');
  }
  const attr = c.eligibleAttribute ?? null;
  if (
    attr !== null &&
    (typeof attr.name !== 'string' || typeof attr.value !== 'string' || attr.name === '')
  ) {
    throw new Error('config.eligibleAttribute must be { name, value } or null');
  }
  const privateCollection = c.privateCollection ?? null;
  if (
    privateCollection !== null &&
    (typeof privateCollection !== 'string' || !COLLECTION.test(privateCollection))
  )
    throw new Error('config.privateCollection must be a collection name (letters, digits, - and _) or null');
  return {
    operator: c.operator,
    feeAccount: c.feeAccount,
    members,
    eligibleAttribute: attr,
    privateCollection,
  };
}

/**
 * A private venue's batch: the trade ids of the public argument, the trades of the transient map
 * (which must be those trades, in that order).
 */
function privateBatch(ctx: Context, batch: string): ChainTrade[] {
  const ids = JSON.parse(batch) as unknown;
  if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && (id as number) > 0)) {
    throw new Error('this venue settles privately: the argument is the JSON list of the trade ids');
  }
  const details = ctx.stub.getTransient().get(TRANSIENT_TRADES);
  if (details === undefined || details.length === 0) {
    throw new Error(`this venue settles privately: send the trades as transient data "${TRANSIENT_TRADES}"`);
  }
  const trades = parseBatch(Buffer.from(details).toString('utf8'));
  if (trades.length !== ids.length || trades.some((t, i) => t.tradeId !== ids[i])) {
    throw new Error('the transient trades are not the trades of the ids given, in that order');
  }
  return trades;
}

/** The keys settling `t` reads and may write. */
function tradeKeys(ctx: Context, t: ChainTrade): string[] {
  return [
    verdictWordKey(ctx, t.tradeId),
    balanceKey(ctx, t.security, t.seller),
    balanceKey(ctx, t.security, t.buyer),
    balanceKey(ctx, t.cash, t.buyer),
    balanceKey(ctx, t.cash, t.seller),
    standingKey(ctx, t.seller),
    standingKey(ctx, t.buyer),
  ];
}

/** `f()`, or null if it throws. */
function attempt<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

function parseBatch(text: string): ChainTrade[] {
  const trades = JSON.parse(text) as ChainTrade[];
  if (!Array.isArray(trades) || trades.length > MAX_BATCH)
    throw new Error(`a batch is a list of at most ${MAX_BATCH} trades`);
  for (const [i, t] of trades.entries()) {
    const where = `trade ${i}`;
    if (!Number.isSafeInteger(t.tradeId) || t.tradeId <= 0)
      throw new Error(`${where}: tradeId must be a positive integer`);
    for (const f of ['security', 'cash'] as const) {
      if (typeof t[f] !== 'string' || !/^[A-Za-z0-9._-]{1,32}$/.test(t[f]))
        throw new Error(`${where}: ${f} must be an asset name`);
    }
    for (const f of ['buyer', 'seller'] as const) {
      if (typeof t[f] !== 'string' || !ACCOUNT.test(t[f]))
        throw new Error(`${where}: ${f} must be an account (MSPID:name)`);
    }
    for (const f of ['quantity', 'cashAmount', 'fee'] as const) {
      if (typeof t[f] !== 'string' || !AMOUNT.test(t[f]))
        throw new Error(`${where}: ${f} must be a whole number (decimal string)`);
    }
  }
  return trades;
}

function parseLegs(text: string): ChainLeg[] {
  const legs = JSON.parse(text) as ChainLeg[];
  if (!Array.isArray(legs) || legs.length > MAX_BATCH)
    throw new Error(`a lock batch is a list of at most ${MAX_BATCH} legs`);
  for (const [i, l] of legs.entries()) {
    const where = `leg ${i}`;
    checkId(l.tradeId, `${where}: tradeId`);
    if (typeof l.asset !== 'string' || !/^[A-Za-z0-9._-]{1,32}$/.test(l.asset))
      throw new Error(`${where}: asset must be an asset name`);
    for (const f of ['from', 'to'] as const) {
      if (typeof l[f] !== 'string' || !ACCOUNT.test(l[f]))
        throw new Error(`${where}: ${f} must be an account (MSPID:name)`);
    }
    for (const f of ['amount', 'fee'] as const) {
      if (typeof l[f] !== 'string' || !AMOUNT.test(l[f]))
        throw new Error(`${where}: ${f} must be a whole number (decimal string)`);
    }
    if (typeof l.hashlock !== 'string' || !HASH.test(l.hashlock))
      throw new Error(`${where}: hashlock must be a SHA-256 (64 lowercase hex digits)`);
    if (!Number.isSafeInteger(l.expiry) || l.expiry <= 0)
      throw new Error(`${where}: expiry must be seconds since the epoch`);
    if (typeof l.security !== 'boolean') throw new Error(`${where}: security must be true or false`);
  }
  return legs;
}

function parseClaims(text: string): Array<{ tradeId: number; secret: string }> {
  const claims = JSON.parse(text) as Array<{ tradeId: number; secret: string }>;
  if (!Array.isArray(claims) || claims.length > MAX_BATCH)
    throw new Error(`a claim batch is a list of at most ${MAX_BATCH} claims`);
  for (const [i, c] of claims.entries()) {
    checkId(c.tradeId, `claim ${i}: tradeId`);
    if (typeof c.secret !== 'string' || !HASH.test(c.secret))
      throw new Error(`claim ${i}: secret must be 32 bytes as 64 lowercase hex digits`);
  }
  return claims;
}

function parseIds(text: string): number[] {
  const ids = JSON.parse(text) as number[];
  if (!Array.isArray(ids) || ids.length > MAX_BATCH)
    throw new Error(`a refund batch is a list of at most ${MAX_BATCH} trade ids`);
  ids.forEach((id, i) => checkId(id, `trade id ${i}`));
  return ids;
}

function checkId(id: unknown, what: string): void {
  if (!Number.isSafeInteger(id) || (id as number) <= 0) throw new Error(`${what} must be a positive integer`);
}

function parseWithdrawals(text: string): ChainWithdrawal[] {
  const list = JSON.parse(text) as ChainWithdrawal[];
  if (!Array.isArray(list) || list.length > MAX_BATCH)
    throw new Error(`a release batch is a list of at most ${MAX_BATCH} withdrawals`);
  for (const [i, w] of list.entries()) {
    const where = `withdrawal ${i}`;
    if (!Number.isSafeInteger(w.withdrawalId) || w.withdrawalId <= 0)
      throw new Error(`${where}: withdrawalId must be a positive integer`);
    if (typeof w.account !== 'string' || !ACCOUNT.test(w.account))
      throw new Error(`${where}: account must be an account (MSPID:name)`);
    if (typeof w.asset !== 'string' || !/^[A-Za-z0-9._-]{1,32}$/.test(w.asset))
      throw new Error(`${where}: asset must be an asset name`);
    if (typeof w.amount !== 'string' || !AMOUNT.test(w.amount))
      throw new Error(`${where}: amount must be a whole number (decimal string)`);
  }
  return list;
}

/** Who may configure a venue, as `CHAINCODE_ADMIN` names them. */
export interface Admins {
  /** Identities, `MSPID:CommonName`. */
  accounts: string[];
  /** MSPs any of whose identities may. */
  msps: string[];
}

/**
 * `CHAINCODE_ADMIN`: a comma-separated list of identities (`MSPID:CommonName`: the deployer) and
 * MSP ids (an admin MSP: any of its identities). Throws naming an entry that is neither.
 */
export function parseAdmins(text: string): Admins {
  const admins: Admins = { accounts: [], msps: [] };
  for (const entry of text.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    if (ACCOUNT.test(entry)) admins.accounts.push(entry);
    else if (MSP.test(entry)) admins.msps.push(entry);
    else
      throw new Error(`CHAINCODE_ADMIN: ${JSON.stringify(entry)} is neither MSPID:CommonName nor an MSP id`);
  }
  return admins;
}

function checkAccount(account: string): void {
  if (!ACCOUNT.test(account))
    throw new Error(`account must be MSPID:name, got ${JSON.stringify(account.slice(0, 80))}`);
}

function positive(amount: string): bigint {
  if (!AMOUNT.test(amount) || amount === '0')
    throw new Error(`amount must be a positive whole number, got ${JSON.stringify(amount)}`);
  return BigInt(amount);
}

function bool(v: string, name: string): boolean {
  if (v !== 'true' && v !== 'false') throw new Error(`${name} must be true or false`);
  return v === 'true';
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v));
}
