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
 * Fabric keeps one chaincode event per transaction, so each transaction sets one: `Settled` (the
 * verdicts of a batch), `Deposited`, `Withdrawn` or `AccountChanged`. Amounts are whole numbers of
 * engine units (lots, cash units), as decimal strings. Only the operator (the exchange's
 * settlement identity, set by `Configure`) settles, issues and sets standing.
 *
 * A venue configured with a private data collection keeps its trades' details out of the public
 * ledger: `SettleBatch` then takes the public argument as the trade ids only and the trades from
 * the transient map (`trades`, the same JSON), which the transaction does not carry; it writes
 * each trade's details into the collection under the trade id, so the ledger holds only their
 * hashes, and `TradeDetails` reads them back (to clients of the collection's member
 * organizations, which the peer enforces). Balances, verdicts and events stay public.
 */
import { type Context, Contract } from 'fabric-contract-api';

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

const MAX_BATCH = 1_000;
const AMOUNT = /^(0|[1-9][0-9]{0,37})$/;
const ACCOUNT = /^[A-Za-z0-9._-]{1,64}:[^\s]{1,128}$/;
/** Fabric's collection names: letters, digits, `-`, and `_` after the first. */
const COLLECTION = /^[A-Za-z0-9-][A-Za-z0-9_-]{0,63}$/;
/** The transient map key of a private venue's batch. */
const TRANSIENT_TRADES = 'trades';

export class SettlementContract extends Contract {
  constructor() {
    super('mosaic.settlement');
  }

  /**
   * Sets the operator, fee account and membership rules: by anyone the first time (the
   * deployment), by the operator afterwards. `config` is JSON of `Config`.
   */
  async Configure(ctx: Context, config: string): Promise<void> {
    const current = await readJson<Config>(ctx, 'config');
    if (current !== null) requireOperator(ctx, current);
    const c = parseConfig(config);
    await ctx.stub.putState('config', json(c));
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

  /** An account takes assets off the venue (its own). */
  async Withdraw(ctx: Context, asset: string, amount: string): Promise<void> {
    const account = callerAccount(ctx);
    const n = positive(amount);
    const have = await balance(ctx, asset, account);
    if (have < n) throw new Error(`${account} holds ${have} ${asset}, not ${n}`);
    await addBalance(ctx, asset, account, -n);
    ctx.stub.setEvent('Withdrawn', Buffer.from(json({ account, asset, amount: n.toString() })));
  }

  /**
   * Settles a batch (JSON array of `ChainTrade`), all in this transaction; returns a verdict per
   * trade, in batch order (JSON), and sets the `Settled` event with the same verdicts. On a venue
   * with a private collection `batch` is the JSON array of the trade ids, the trades come from
   * the transient map, and each trade given its verdict here has its details written privately.
   */
  async SettleBatch(ctx: Context, batch: string): Promise<string> {
    const c = await config(ctx);
    requireOperator(ctx, c);
    const trades = c.privateCollection === null ? parseBatch(batch) : privateBatch(ctx, batch);
    const txId = ctx.stub.getTxID();
    const verdicts: Verdict[] = [];
    for (const t of trades) {
      const seen = await readJson<Verdict>(ctx, tradeKey(ctx, t.tradeId));
      if (seen !== null) {
        verdicts.push({ ...seen, reason: seen.ok ? 'ALREADY_SETTLED' : (seen.reason ?? 'ALREADY_FAILED') });
        continue;
      }
      const reason = await this.#settle(ctx, c, t);
      const v: Verdict =
        reason === null
          ? { tradeId: t.tradeId, ok: true, txId }
          : { tradeId: t.tradeId, ok: false, reason, txId };
      await ctx.stub.putState(tradeKey(ctx, t.tradeId), json(v));
      if (c.privateCollection !== null) {
        await ctx.stub.putPrivateData(c.privateCollection, String(t.tradeId), json(t));
      }
      verdicts.push(v);
    }
    ctx.stub.setEvent('Settled', Buffer.from(json({ verdicts })));
    return JSON.stringify(verdicts);
  }

  /** An account's balance of an asset (decimal string). */
  async BalanceOf(ctx: Context, account: string, asset: string): Promise<string> {
    return (await balance(ctx, asset, account)).toString();
  }

  /** A trade's verdict, or an empty string if it has none. */
  async TradeStatus(ctx: Context, tradeId: string): Promise<string> {
    const v = await readJson<Verdict>(ctx, tradeKey(ctx, Number(tradeId)));
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
    await ctx.stub.putState(ctx.stub.createCompositeKey('standing', [account]), json(standing));
    ctx.stub.setEvent('AccountChanged', Buffer.from(json({ account, ...standing })));
    return standing;
  }

  /** Moves both legs of a trade, or says why it cannot (nothing moved then). */
  async #settle(ctx: Context, c: Config, t: ChainTrade): Promise<string | null> {
    const qty = BigInt(t.quantity);
    const pay = BigInt(t.cashAmount);
    const fee = BigInt(t.fee);
    if (qty === 0n || fee > pay || t.buyer === t.seller || t.security === t.cash) return 'BAD_TRADE';
    for (const [who, side] of [
      [t.seller, 'FROM'],
      [t.buyer, 'TO'],
    ] as const) {
      const msp = who.slice(0, who.indexOf(':'));
      if (c.members.length > 0 && !c.members.includes(msp)) return `${side}_NOT_MEMBER`;
      const s = await standingOf(ctx, who);
      if (s.frozen) return `${side}_FROZEN`;
      if (side === 'TO' && !s.eligible) return 'TO_NOT_VERIFIED';
    }
    if ((await balance(ctx, t.security, t.seller)) < qty) return 'INSUFFICIENT_SECURITY';
    if ((await balance(ctx, t.cash, t.buyer)) < pay) return 'INSUFFICIENT_CASH';
    await addBalance(ctx, t.security, t.seller, -qty);
    await addBalance(ctx, t.security, t.buyer, qty);
    await addBalance(ctx, t.cash, t.buyer, -pay);
    await addBalance(ctx, t.cash, t.seller, pay - fee);
    if (fee > 0n) await addBalance(ctx, t.cash, c.feeAccount, fee);
    return null;
  }
}

// ---- state -----------------------------------------------------------------------------------

async function config(ctx: Context): Promise<Config> {
  const c = await readJson<Config>(ctx, 'config');
  if (c === null) throw new Error('the venue is not configured: call Configure first');
  return c;
}

async function readJson<T>(ctx: Context, key: string): Promise<T | null> {
  const bytes = await ctx.stub.getState(key);
  return bytes.length === 0 ? null : (JSON.parse(Buffer.from(bytes).toString('utf8')) as T);
}

async function standingOf(ctx: Context, account: string): Promise<Standing> {
  return (
    (await readJson<Standing>(ctx, ctx.stub.createCompositeKey('standing', [account]))) ?? {
      eligible: false,
      frozen: false,
    }
  );
}

function balanceKey(ctx: Context, asset: string, account: string): string {
  return ctx.stub.createCompositeKey('balance', [asset, account]);
}

function tradeKey(ctx: Context, tradeId: number): string {
  return ctx.stub.createCompositeKey('trade', [String(tradeId)]);
}

/**
 * A balance as this transaction leaves it so far. Several moves of one balance within a batch
 * must see what the earlier ones wrote, which Fabric's simulation does not show (reads see the
 * state before the transaction), so balances written in this transaction are kept on the context.
 */
async function balance(ctx: Context, asset: string, account: string): Promise<bigint> {
  const key = balanceKey(ctx, asset, account);
  const pending = written(ctx).get(key);
  if (pending !== undefined) return pending;
  const bytes = await ctx.stub.getState(key);
  return bytes.length === 0 ? 0n : BigInt(Buffer.from(bytes).toString('utf8'));
}

/** Adds `delta` to a balance; it may not go below zero. */
async function addBalance(ctx: Context, asset: string, account: string, delta: bigint): Promise<void> {
  const key = balanceKey(ctx, asset, account);
  const next = (await balance(ctx, asset, account)) + delta;
  if (next < 0n) throw new Error(`${account} would hold ${next} ${asset}`);
  written(ctx).set(key, next);
  await ctx.stub.putState(key, Buffer.from(next.toString()));
}

// ---- identities and input ----------------------------------------------------------------------

const WRITTEN = Symbol('balances written in this transaction');

function written(ctx: Context): Map<string, bigint> {
  const c = ctx as Context & { [WRITTEN]?: Map<string, bigint> };
  c[WRITTEN] ??= new Map();
  return c[WRITTEN];
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
