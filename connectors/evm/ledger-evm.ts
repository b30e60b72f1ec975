/**
 * The EVM ledger: settles a batch with one `settlePacked` transaction on the Settlement escrow
 * (the packed call data of `packed.ts`) and reads each trade's verdict from the receipt's events.
 * Engine amounts become token base units here (lots times the security's base units per lot,
 * cash units times the cash token's). A trade id the escrow has seen before is skipped on chain
 * and answered with its first verdict, so sending a batch again after a crash settles nothing
 * twice. The transaction itself goes out through `BatchSender` (durable nonces, fee cap,
 * confirmations, reorganizations), one batch at a time; each trade's outcome carries an equal
 * share of its gas and fee, in whole units.
 */
import { decodeBytes32String, getAddress, id, isAddress } from 'ethers';
import { inBatchOrder, OneAtATime, sortOut } from '../batch.ts';
import type { Ledger, SettlementInstruction, SettlementOutcome } from '../ledger.ts';
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

export interface EvmLedgerOptions extends BatchSenderOptions {
  /** An instrument's tokens and units, or undefined if it does not settle here. */
  asset: (instrument: string) => EvmAsset | undefined;
  /** Sum each account's moves within a batch first (default off: it costs more gas; see docs). */
  netting?: boolean;
}

/** Gas of the last batch, for metrics. */
export interface BatchGas {
  trades: number;
  gasUsed: bigint;
  /** Wei paid: gas used times the effective gas price. */
  fee: bigint;
}

export class EvmLedger implements Ledger {
  readonly venue: string;
  #o: EvmLedgerOptions;
  #sender: BatchSender;
  /** Topic hashes of the verdict events, and the escrow's address (lower case) that emits them. */
  #topics: { settled: string; failed: string; skipped: string };
  #escrow: string;
  /** One batch at a time: the nonce record holds one transaction out. */
  #serial = new OneAtATime();
  lastBatch: BatchGas | null = null;

  constructor(options: EvmLedgerOptions) {
    this.venue = options.venue;
    this.#o = options;
    this.#sender = new BatchSender(options);
    const topic = (name: string) => options.settlement.interface.getEvent(name)!.topicHash;
    this.#topics = {
      settled: topic('TradeSettled'),
      failed: topic('TradeFailed'),
      skipped: topic('TradeSkipped'),
    };
    this.#escrow = String(options.settlement.target).toLowerCase();
  }

  settle(batch: readonly SettlementInstruction[]): Promise<SettlementOutcome[]> {
    return this.#serial.run(() => this.#settle(batch));
  }

  async close(): Promise<void> {}

  async #settle(batch: readonly SettlementInstruction[]): Promise<SettlementOutcome[]> {
    const { trades, outcomes } = sortOut<PackedTrade>(batch, (i) => {
      const asset = this.#o.asset(i.instrument);
      if (asset === undefined) return `${i.instrument} does not settle on ${this.venue}`;
      if (!isAddress(i.buyer) || !isAddress(i.seller)) return 'buyer or seller is not an Ethereum address';
      return {
        tradeId: BigInt(i.tradeId),
        security: asset.security,
        cash: asset.cash,
        buyer: getAddress(i.buyer),
        seller: getAddress(i.seller),
        quantity: BigInt(i.quantity) * asset.lotUnits,
        cashAmount: BigInt(i.buyerCash) * asset.cashUnits,
        fee: BigInt(i.fee) * asset.cashUnits,
      };
    });
    if (trades.length > 0) {
      const data = settlePackedCalldata(trades, this.#o.netting ?? false);
      const receipt = await this.#sender.send(batchKey(trades), data, trades.length);
      const fee = receipt.gasUsed * receipt.gasPrice;
      this.lastBatch = { trades: trades.length, gasUsed: receipt.gasUsed, fee };
      for (const log of receipt.logs) await this.#verdict(log, receipt.hash, outcomes);
      // Each trade of the transaction carries an equal share of its cost, in whole gas and wei.
      const gas = shares(receipt.gasUsed, trades.length);
      const fees = shares(fee, trades.length);
      trades.forEach((t, k) => {
        const o = outcomes.get(Number(t.tradeId));
        if (o !== undefined) Object.assign(o, { gas: Number(gas[k]), fee: fees[k]!.toString() });
      });
    }
    return inBatchOrder(batch, outcomes);
  }

  /**
   * The verdict a Settlement event of the receipt gives, read from its topics (`TradeSettled`,
   * `TradeFailed`, `TradeSkipped`: the trade id indexed, the reason the 32 bytes of data); a
   * skipped trade gets its first verdict, from the chain.
   */
  async #verdict(log: RawLog, ref: string, outcomes: Map<number, SettlementOutcome>): Promise<void> {
    const settlement = this.#o.settlement;
    const [topic, id] = log.topics;
    if (id === undefined || log.address.toLowerCase() !== this.#escrow) return;
    const tradeId = Number(BigInt(id));
    switch (topic) {
      case this.#topics.settled:
        outcomes.set(tradeId, { tradeId, ok: true, ref });
        return;
      case this.#topics.failed:
        outcomes.set(tradeId, { tradeId, ok: false, reason: decodeBytes32String(log.data), ref });
        return;
      case this.#topics.skipped: {
        if (decodeBytes32String(log.data) === 'ALREADY_SETTLED') {
          const [first] = await settlement.queryFilter(settlement.filters.TradeSettled!(tradeId));
          outcomes.set(tradeId, { tradeId, ok: true, ref: first?.transactionHash ?? ref });
        } else {
          const [first] = await settlement.queryFilter(settlement.filters.TradeFailed!(tradeId));
          const reason = first && 'args' in first ? decodeBytes32String(first.args.reason) : 'ALREADY_FAILED';
          outcomes.set(tradeId, { tradeId, ok: false, reason, ref: first?.transactionHash ?? ref });
        }
        return;
      }
    }
  }
}

/**
 * `total` split in `n` whole shares that add up to it: the first `total % n` trades carry one
 * more unit, so the costs the trades report sum to what the transaction cost, to the unit.
 */
function shares(total: bigint, n: number): bigint[] {
  const each = total / BigInt(n);
  const more = Number(total % BigInt(n));
  return Array.from({ length: n }, (_, k) => (k < more ? each + 1n : each));
}

/** A batch's name in the nonce record: the hash of its trade ids, in order. */
function batchKey(trades: readonly PackedTrade[]): string {
  return id(trades.map((t) => t.tradeId).join(','));
}
