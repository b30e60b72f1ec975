/**
 * The EVM ledger: settles a batch with one `settleBatch` transaction on the Settlement escrow
 * and reads each trade's verdict from the receipt's events. Engine amounts become token base
 * units here (lots times the security's base units per lot, cash units times the cash token's).
 * A trade id the escrow has seen before is skipped on chain and answered with its first verdict,
 * so sending a batch again after a crash settles nothing twice.
 *
 * A batch transaction pays EIP-1559 fees under a cap (above it, `settle` throws and the daemon
 * retries later), counts as final after N confirmations, and is sent again if a reorganization
 * drops it. A revert is reported with its decoded custom error.
 *
 * Not yet here (the next steps): durable nonce management of its own (ethers takes the
 * pending nonce from the node for each batch), watching deposits and registry changes.
 */
import {
  type Contract,
  decodeBytes32String,
  formatUnits,
  type Interface,
  getAddress,
  isAddress,
  isError,
  type Log,
  type Provider,
  type TransactionReceipt,
} from 'ethers';
import type { Ledger, SettlementInstruction, SettlementOutcome } from '../ledger.ts';

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
  /** The most wei per gas a batch may pay (default 100 gwei). */
  maxFeePerGas?: bigint;
  /** Tip to the block producer, wei per gas (default 1 gwei, never above the cap). */
  priorityFeePerGas?: bigint;
  /** Blocks, the transaction's own included, before a batch is final (default 1). */
  confirmations?: number;
  /** How often to look for the receipt and new blocks, ms (default 20). */
  pollMs?: number;
  log?: (line: string) => void;
}

const GWEI = 1_000_000_000n;

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
      const receipt = await this.#submit(trades);
      const fee = receipt.gasUsed * receipt.gasPrice;
      this.lastBatch = { trades: trades.length, gasUsed: receipt.gasUsed, fee };
      for (const log of receipt.logs) await this.#verdict(log, receipt.hash, outcomes);
      // Each trade of the transaction carries an equal share of its cost.
      const gas = Number(receipt.gasUsed) / trades.length;
      const share = (fee / BigInt(trades.length)).toString();
      for (const t of trades as Array<{ tradeId: bigint }>) {
        const o = outcomes.get(Number(t.tradeId));
        if (o !== undefined) Object.assign(o, { gas, fee: share });
      }
    }
    return batch.map((i) => {
      const o = outcomes.get(i.tradeId);
      if (o === undefined) throw new Error(`trade ${i.tradeId}: the batch transaction reported no verdict`);
      return o;
    });
  }

  async close(): Promise<void> {}

  /** Sends the batch transaction until it is final: under the fee cap, confirmed, not reorganized away. */
  async #submit(trades: unknown[]): Promise<TransactionReceipt> {
    const { settlement, netting = false } = this.#o;
    const provider = settlement.runner?.provider;
    if (provider === null || provider === undefined)
      throw new Error('the Settlement contract needs a signer with a provider');
    const cap = this.#o.maxFeePerGas ?? 100n * GWEI;
    for (;;) {
      const base = (await provider.getBlock('latest'))?.baseFeePerGas ?? 0n;
      const tip = min(this.#o.priorityFeePerGas ?? GWEI, cap);
      if (base + tip > cap) {
        throw new Error(
          `base fee ${gwei(base)} gwei plus tip ${gwei(tip)} is above the fee cap of ${gwei(cap)} gwei`,
        );
      }
      // An explicit gas limit (an upper bound; unused gas is not paid) spares ethers' estimate,
      // which would execute the whole batch a second time.
      const blockLimit = (await provider.getBlock('latest'))?.gasLimit ?? 30_000_000n;
      const gasLimit = min(150_000n + 90_000n * BigInt(trades.length), blockLimit);
      let hash: string;
      try {
        const tx = await settlement.getFunction('settleBatch').send(trades, netting, {
          maxFeePerGas: min(base * 2n + tip, cap),
          maxPriorityFeePerGas: tip,
          gasLimit,
        });
        hash = tx.hash;
      } catch (err) {
        throw new Error(`settleBatch refused: ${reason(err, settlement.interface)}`, { cause: err });
      }
      const receipt = await this.#final(provider, hash);
      if (receipt === null) {
        this.#o.log?.(
          `${this.venue}: batch transaction ${hash} was dropped by a reorganization; sending again`,
        );
        continue;
      }
      if (receipt.status !== 1) {
        // Run it again as a call to learn why (the receipt does not say).
        const why = await settlement
          .getFunction('settleBatch')
          .staticCall(trades, netting)
          .then(
            () => 'unknown (it passes as a call now)',
            (err: unknown) => reason(err, settlement.interface),
          );
        throw new Error(`settleBatch reverted in ${hash}: ${why}`);
      }
      return receipt;
    }
  }

  /**
   * The receipt once the transaction has `confirmations` blocks on a chain that still holds it,
   * or null once the chain no longer knows it (a reorganization dropped it).
   */
  async #final(provider: Provider, hash: string): Promise<TransactionReceipt | null> {
    const need = this.#o.confirmations ?? 1;
    const pollMs = this.#o.pollMs ?? 20;
    for (;;) {
      const receipt = await provider.getTransactionReceipt(hash);
      if (receipt === null) {
        if ((await provider.getTransaction(hash)) === null) return null;
      } else {
        const head = await provider.getBlockNumber();
        if (head - receipt.blockNumber + 1 >= need) {
          const block = await provider.getBlock(receipt.blockNumber);
          if (block?.hash === receipt.blockHash) return receipt;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

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

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function gwei(wei: bigint): string {
  return formatUnits(wei, 'gwei');
}

/** What a refused transaction says: the contract's custom error, decoded with its ABI, when it has one. */
function reason(err: unknown, iface: Interface): string {
  if (isError(err, 'CALL_EXCEPTION')) {
    const decoded = err.revert ?? (err.data ? iface.parseError(err.data) : null);
    if (decoded) return `${decoded.name}(${decoded.args.map(String).join(', ')})`;
  }
  return err instanceof Error ? err.message : String(err);
}
