/**
 * The EVM ledger: settles a batch with one `settleBatch` transaction on the Settlement escrow
 * and reads each trade's verdict from the receipt's events. Engine amounts become token base
 * units here (lots times the security's base units per lot, cash units times the cash token's).
 * A trade id the escrow has seen before is skipped on chain and answered with its first verdict,
 * so sending a batch again after a crash settles nothing twice.
 *
 * Not yet here (the next steps): its own durable nonce management, EIP-1559 fee caps,
 * waiting for N confirmations and reorgs, decoding reverts, watching deposits and registry
 * changes.
 */
import { type Contract, decodeBytes32String, getAddress, isAddress, type Log } from 'ethers';
import type { Ledger, SettlementInstruction, SettlementOutcome } from '../ledger.ts';
import { send } from './deploy.ts';

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

export interface EvmLedgerOptions {
  venue: string;
  /** The Settlement escrow, connected to the operator's signer. */
  settlement: Contract;
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
  lastBatch: BatchGas | null = null;

  constructor(options: EvmLedgerOptions) {
    this.venue = options.venue;
    this.#o = options;
  }

  async settle(batch: readonly SettlementInstruction[]): Promise<SettlementOutcome[]> {
    const outcomes = new Map<number, SettlementOutcome>();
    const trades: unknown[] = [];
    for (const i of batch) {
      const asset = this.#o.asset(i.instrument);
      if (asset === undefined) {
        outcomes.set(i.tradeId, {
          tradeId: i.tradeId,
          ok: false,
          reason: `${i.instrument} does not settle on ${this.venue}`,
        });
      } else if (!isAddress(i.buyer) || !isAddress(i.seller)) {
        outcomes.set(i.tradeId, {
          tradeId: i.tradeId,
          ok: false,
          reason: 'buyer or seller is not an Ethereum address',
        });
      } else {
        trades.push({
          tradeId: BigInt(i.tradeId),
          security: asset.security,
          cash: asset.cash,
          buyer: getAddress(i.buyer),
          seller: getAddress(i.seller),
          quantity: BigInt(i.quantity) * asset.lotUnits,
          cashAmount: BigInt(i.buyerCash) * asset.cashUnits,
          fee: BigInt(i.fee) * asset.cashUnits,
        });
      }
    }
    if (trades.length > 0) {
      const receipt = await send(this.#o.settlement, 'settleBatch', trades, this.#o.netting === true);
      this.lastBatch = {
        trades: trades.length,
        gasUsed: receipt.gasUsed,
        fee: receipt.gasUsed * receipt.gasPrice,
      };
      for (const log of receipt.logs) await this.#verdict(log, receipt.hash, outcomes);
    }
    return batch.map((i) => {
      const o = outcomes.get(i.tradeId);
      if (o === undefined) throw new Error(`trade ${i.tradeId}: the batch transaction reported no verdict`);
      return o;
    });
  }

  async close(): Promise<void> {}

  /** The verdict a Settlement event gives (a skipped trade: its first verdict, from the chain). */
  async #verdict(log: Log, ref: string, outcomes: Map<number, SettlementOutcome>): Promise<void> {
    const settlement = this.#o.settlement;
    const event = settlement.interface.parseLog(log);
    if (event === null) return;
    const tradeId = Number(event.args.tradeId);
    switch (event.name) {
      case 'TradeSettled':
        outcomes.set(tradeId, { tradeId, ok: true, ref });
        return;
      case 'TradeFailed':
        outcomes.set(tradeId, { tradeId, ok: false, reason: decodeBytes32String(event.args.reason), ref });
        return;
      case 'TradeSkipped': {
        if (decodeBytes32String(event.args.reason) === 'ALREADY_SETTLED') {
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
