/**
 * The EVM ledger: settles a batch with one `settlePacked` transaction on the Settlement escrow
 * (the packed call data of `packed.ts`) and releases a batch of withdrawals with one
 * `releaseBatch`, reading each verdict from the receipt's events. Engine amounts become token
 * base units here (lots times the security's base units per lot, cash units times the cash
 * token's). A trade or withdrawal id the escrow has seen before is skipped on chain and answered
 * with its first verdict, so sending a batch again after a crash moves nothing twice. The
 * transaction itself goes out through `BatchSender` (durable nonces, fee cap, confirmations,
 * reorganizations), several batches out at once; each instruction's outcome carries an equal
 * share of its gas and fee, in whole units.
 */
import { decodeBytes32String, getAddress, id, isAddress } from 'ethers';
import { inBatchOrder, sortOut } from '../batch.ts';
import {
  type InstructionKind,
  type Ledger,
  type SettlementInstruction,
  type SettlementOutcome,
  TRADES,
  type WithdrawalInstruction,
  type WithdrawalOutcome,
  WITHDRAWALS,
} from '../ledger.ts';
import { EvmLegs, type Transacted } from './legs-evm.ts';
import { type PackedTrade, settlePackedCalldata } from './packed.ts';
import { BatchSender, type BatchSenderOptions, type RawLog } from './sender.ts';

/** Where an instrument settles on this chain, and the size of its engine units in base units. */
export interface EvmAsset {
  /** Security token address. */
  security: string;
  /** Security base units in one lot. */
  lotUnits: bigint;
  /** Cash token address. */
  cash: string;
  /** Cash base units in one cash unit (`quoteUnit`). */
  cashUnits: bigint;
}

/** The token of an engine asset (`ACME@evm:31337`, `USD@evm:31337`) and its base units per engine unit. */
export interface EvmToken {
  address: string;
  units: bigint;
}

export interface EvmLedgerOptions extends BatchSenderOptions {
  /** An instrument's tokens and units, or undefined if it does not settle here. */
  asset: (instrument: string) => EvmAsset | undefined;
  /** An asset's token, or undefined if it is not released here (default: none is). */
  token?: (asset: string) => EvmToken | undefined;
  /** What a batch transaction may use (default `GAS`); a batch that runs out is offered twice as much the next time. */
  gas?: Partial<GasBound>;
}

/** Gas of the last batch, for metrics. */
export interface BatchGas {
  trades: number;
  gasUsed: bigint;
  /** Wei paid: gas used times the effective gas price. */
  fee: bigint;
}

/**
 * How the escrow answers one kind of instruction: events for the verdicts (ok, naming ids by its
 * first topic, `okIds`; refused with a bytes32 reason and skipped with the reason that says which
 * verdict it had first, each naming its id as first topic), and the first verdict read back for
 * a skipped id.
 */
interface Verdicts<I, O> {
  kind: InstructionKind<I, O>;
  ok: string;
  /** The ids an ok event names, from its first topic and its data. */
  okIds(key: bigint, data: string): number[];
  /** The first topic of the ok event that would name `id`. */
  okKey(id: number): bigint;
  refused: string;
  skipped: string;
  /** The skip reason that means the first verdict was ok. */
  okBefore: string;
  /** Before the ids, names a batch in the nonce record (a trade batch and a release batch with the same ids differ). */
  tag: string;
  make(id: number, ok: boolean, reason: string, ref: string): O;
}

const TRADE_VERDICTS: Verdicts<SettlementInstruction, SettlementOutcome> = {
  kind: TRADES,
  // TradesSettled(word, bits): bit k of the data's word set for trade id word * 128 + k
  ok: 'TradesSettled',
  okIds: (word, data) => {
    const bits = BigInt(data.slice(0, 66));
    const ids: number[] = [];
    for (let k = 0n; k < 128n; k++) if ((bits >> k) & 1n) ids.push(Number(word * 128n + k));
    return ids;
  },
  okKey: (tradeId) => BigInt(tradeId) >> 7n,
  refused: 'TradeFailed',
  skipped: 'TradeSkipped',
  okBefore: 'ALREADY_SETTLED',
  tag: '',
  make: (tradeId, ok, reason, ref) => (ok ? { tradeId, ok, ref } : { tradeId, ok, reason, ref }),
};

const WITHDRAWAL_VERDICTS: Verdicts<WithdrawalInstruction, WithdrawalOutcome> = {
  kind: WITHDRAWALS,
  ok: 'WithdrawalReleased',
  okIds: (withdrawalId) => [Number(withdrawalId)],
  okKey: (withdrawalId) => BigInt(withdrawalId),
  refused: 'WithdrawalRefused',
  skipped: 'WithdrawalSkipped',
  okBefore: 'ALREADY_RELEASED',
  tag: 'release:',
  make: (withdrawalId, ok, reason, ref) =>
    ok ? { withdrawalId, ok, ref } : { withdrawalId, ok, reason, ref },
};

/**
 * What a batch transaction may use, an upper bound (unused gas is not paid, and a tight bound lets
 * batches out at once share a block), measured on the escrow (docs/evm-contracts.md): per account
 * of the batch, its first reads and writes (two balances and two rule reads, cold: about 14,200
 * for an account the ledger has settled before, whose balances are not zero; at worst, from
 * zero, 22,100 per balance); per trade, the loop, the rule check and its share of the events; a
 * release moves a token and asks its rules; a leg is locked, claimed or refunded whole. One that
 * runs out is offered twice as much the next time (`BatchSender`).
 */
export const GAS = {
  base: 150_000n,
  perAccount: 50_000n,
  perKnownAccount: 15_000n,
  perTrade: 4_500n,
  perRelease: 180_000n,
  perLeg: 90_000n,
} as const;

export type GasBound = { [K in keyof typeof GAS]: bigint };

/** Accounts `EvmLedger` remembers, at most (then it starts again). */
const MAX_ACCOUNTS = 100_000;

/**
 * An account as the ledger has met it: its checksummed address (null: it is none), and whether a
 * batch of its has settled since the ledger started (its balances are then not zero: a smaller
 * gas bound).
 */
interface Met {
  address: string | null;
  settled: boolean;
}

export class EvmLedger implements Ledger {
  readonly venue: string;
  #o: EvmLedgerOptions;
  #sender: BatchSender;
  /** The escrow's address (lower case), which emits the verdicts, and their topic hashes by event name. */
  #escrow: string;
  #topics: Map<string, string>;
  lastBatch: BatchGas | null = null;
  #gas: GasBound;
  /** Accounts met (`#account`). */
  #accounts = new Map<string, Met>();
  /** Hash time-locks of cross-ledger trades, through the same transactions' sender. */
  readonly legs: EvmLegs;

  constructor(options: EvmLedgerOptions) {
    this.venue = options.venue;
    this.#o = options;
    this.#gas = { ...GAS, ...options.gas };
    this.#sender = new BatchSender(options);
    this.#escrow = String(options.settlement.target).toLowerCase();
    const events = [TRADE_VERDICTS, WITHDRAWAL_VERDICTS].flatMap((v) => [v.ok, v.refused, v.skipped]);
    this.#topics = new Map(events.map((e) => [e, options.settlement.interface.getEvent(e)!.topicHash]));
    this.legs = new EvmLegs({
      venue: this.venue,
      settlement: options.settlement,
      token: (asset) => options.token?.(asset),
      transact: (key, data, count) =>
        this.#transact(id(key), data, count, this.#gas.base + this.#gas.perLeg * BigInt(count)),
    });
  }

  async settle(batch: readonly SettlementInstruction[]): Promise<SettlementOutcome[]> {
    const accounts = new Set<Met>();
    const { items, outcomes } = sortOut<SettlementInstruction, SettlementOutcome, PackedTrade>(
      TRADES,
      batch,
      (i) => {
        const asset = this.#o.asset(i.instrument);
        if (asset === undefined) return `${i.instrument} does not settle on ${this.venue}`;
        const buyer = this.#account(i.buyer);
        const seller = this.#account(i.seller);
        if (buyer.address === null || seller.address === null)
          return 'buyer or seller is not an Ethereum address';
        accounts.add(buyer).add(seller);
        return {
          tradeId: BigInt(i.tradeId),
          security: asset.security,
          cash: asset.cash,
          buyer: buyer.address,
          seller: seller.address,
          quantity: BigInt(i.quantity) * asset.lotUnits,
          cashAmount: BigInt(i.buyerCash) * asset.cashUnits,
          fee: BigInt(i.fee) * asset.cashUnits,
        };
      },
    );
    const data = () => settlePackedCalldata(items);
    let known = 0n;
    for (const a of accounts) if (a.settled) known++;
    const g = this.#gas;
    const gas =
      g.base +
      g.perKnownAccount * known +
      g.perAccount * (BigInt(accounts.size) - known) +
      g.perTrade * BigInt(items.length);
    const outcomesOf = await this.#run(
      TRADE_VERDICTS,
      batch,
      items.map((t) => t.tradeId),
      data,
      gas,
      outcomes,
    );
    for (const a of accounts) a.settled = true;
    return outcomesOf;
  }

  async release(batch: readonly WithdrawalInstruction[]): Promise<WithdrawalOutcome[]> {
    type Row = [bigint, string, string, bigint];
    const { items, outcomes } = sortOut<WithdrawalInstruction, WithdrawalOutcome, Row>(
      WITHDRAWALS,
      batch,
      (w) => {
        const token = this.#o.token?.(w.asset);
        if (token === undefined) return `${w.asset} is not released on ${this.venue}`;
        const account = this.#account(w.account).address;
        if (account === null) return 'the account is not an Ethereum address';
        return [BigInt(w.withdrawalId), account, token.address, BigInt(w.amount) * token.units];
      },
    );
    const settlement = this.#o.settlement;
    const data = () => settlement.interface.encodeFunctionData('releaseBatch', [items]);
    return this.#run(
      WITHDRAWAL_VERDICTS,
      batch,
      items.map((w) => w[0]),
      data,
      this.#gas.base + this.#gas.perRelease * BigInt(items.length),
      outcomes,
    );
  }

  async close(): Promise<void> {}

  /**
   * An account as the ledger has met it, remembered: the same accounts trade again and again, and
   * each check hashes the address (a fifth of the daemon's time at 500-trade batches).
   */
  #account(account: string): Met {
    let met = this.#accounts.get(account);
    if (met === undefined) {
      met = { address: isAddress(account) ? getAddress(account) : null, settled: false };
      if (this.#accounts.size >= MAX_ACCOUNTS) this.#accounts.clear();
      this.#accounts.set(account, met);
    }
    return met;
  }

  /**
   * Sends the transaction of the instructions `ids` (those the ledger could take; the others
   * already have their outcomes; at most `gas`), reads their verdicts, shares the cost among them.
   */
  async #run<I, O extends SettlementOutcome | WithdrawalOutcome>(
    v: Verdicts<I, O>,
    batch: readonly I[],
    ids: readonly bigint[],
    data: () => string,
    gas: bigint,
    outcomes: Map<number, O>,
  ): Promise<O[]> {
    if (ids.length > 0) {
      const t = await this.#transact(id(`${v.tag}${ids.join(',')}`), data(), ids.length, gas);
      for (const log of t.logs) await this.#verdict(v, log, t.hash, outcomes);
      ids.forEach((i, k) => {
        const o = outcomes.get(Number(i));
        if (o !== undefined) Object.assign(o, { gas: Number(t.gas[k]), fee: t.fees[k]!.toString() });
      });
    }
    return inBatchOrder(v.kind, batch, outcomes);
  }

  /**
   * Sends one batch transaction of `count` instructions (using at most `gas`); its receipt, and
   * each instruction's equal share of its cost, in whole gas and wei.
   */
  async #transact(key: string, data: string, count: number, gas: bigint): Promise<Transacted> {
    const receipt = await this.#sender.send(key, data, gas);
    const fee = receipt.gasUsed * receipt.gasPrice;
    this.lastBatch = { trades: count, gasUsed: receipt.gasUsed, fee };
    return {
      hash: receipt.hash,
      logs: receipt.logs,
      gas: shares(receipt.gasUsed, count),
      fees: shares(fee, count),
    };
  }

  /**
   * The verdicts a Settlement event of the receipt gives, read from its topics (an id, or for
   * TradesSettled a status word, indexed first; a refusal's or skip's reason the first 32 bytes
   * of data); a skipped id gets its first verdict, from the chain.
   */
  async #verdict<I, O>(v: Verdicts<I, O>, log: RawLog, ref: string, outcomes: Map<number, O>): Promise<void> {
    const settlement = this.#o.settlement;
    const [topic, idTopic] = log.topics;
    if (idTopic === undefined || log.address.toLowerCase() !== this.#escrow) return;
    const topics = this.#topics;
    if (topic === topics.get(v.ok)) {
      for (const n of v.okIds(BigInt(idTopic), log.data)) outcomes.set(n, v.make(n, true, '', ref));
      return;
    }
    const n = Number(BigInt(idTopic));
    const reason = () => decodeBytes32String(log.data.slice(0, 66));
    if (topic === topics.get(v.refused)) outcomes.set(n, v.make(n, false, reason(), ref));
    else if (topic === topics.get(v.skipped)) {
      const okBefore = reason() === v.okBefore;
      const first = okBefore
        ? (await settlement.queryFilter(settlement.filters[v.ok]!(v.okKey(n)))).find((e) =>
            v.okIds(BigInt(e.topics[1]!), e.data).includes(n),
          )
        : (await settlement.queryFilter(settlement.filters[v.refused]!(n)))[0];
      const why = first && !okBefore ? decodeBytes32String(first.data.slice(0, 66)) : reason();
      outcomes.set(n, v.make(n, okBefore, why, first?.transactionHash ?? ref));
    }
  }
}

/**
 * `total` split in `n` whole shares that add up to it: the first `total % n` instructions carry
 * one more unit, so the costs they report sum to what the transaction cost, to the unit.
 */
function shares(total: bigint, n: number): bigint[] {
  const each = total / BigInt(n);
  const more = Number(total % BigInt(n));
  return Array.from({ length: n }, (_, k) => (k < more ? each + 1n : each));
}
