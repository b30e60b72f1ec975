/**
 * What the engine must hear of from an EVM chain, read from contract events in confirmed blocks:
 * deposits into the Settlement escrow (in engine units: lots of a security, cash units),
 * identity-registry registrations and removals (eligibility on the venue), and wallet freezes of
 * a security token. Nothing leaves the escrow but the withdrawals the exchange releases, whose
 * verdicts the daemon reads from its own transactions. Each change is named by its transaction hash and log
 * index, so it reaches the engine once however often it is read. The checkpoint is the last
 * block read and its hash (`blockCheckpoint`), for the check at start that the chain still has it.
 */
import { type Contract, type EventLog, getAddress, type Log, type Provider } from 'ethers';
import { blockCheckpoint, type ChangeSource, readBlockCheckpoint } from '../changes.ts';
import type { LedgerBlocks } from '../ledger-check.ts';
import type { LedgerChange } from '../ledger.ts';
import type { Logger } from '../../common/index.ts';
import { makeError } from '../errors.ts';

/** A token's asset in the engine and its base units per engine unit. */
export interface EvmTokenAsset {
  asset: string;
  units: bigint;
}

export interface EvmChangesOptions {
  venue: string;
  settlement: Contract;
  registry: Contract;
  /** Security tokens whose freezes matter. */
  securities: readonly Contract[];
  /** Engine asset of a token address (checksummed), or undefined if the venue does not trade it. */
  assetOf: (token: string) => EvmTokenAsset | undefined;
  /** Blocks, the event's own included, before it counts (default 1). */
  confirmations?: number;
  /** Blocks read at most per poll (default 5,000). */
  maxBlocks?: number;
  log?: Logger;
}

export class EvmChanges implements ChangeSource {
  readonly venue: string;
  #o: EvmChangesOptions;

  constructor(options: EvmChangesOptions) {
    this.venue = options.venue;
    this.#o = options;
  }

  async poll(after: string | null): Promise<{ changes: LedgerChange[]; checkpoint: string }> {
    const { settlement, registry, securities } = this.#o;
    const provider = settlement.runner?.provider;
    if (provider === null || provider === undefined)
      throw makeError('the Settlement contract needs a provider', 'BAD_SETUP');
    const from = (readBlockCheckpoint(after)?.block ?? -1) + 1;
    const head = await provider.getBlockNumber();
    const to = Math.min(head - (this.#o.confirmations ?? 1) + 1, from + (this.#o.maxBlocks ?? 5000) - 1);
    if (to < from) return { changes: [], checkpoint: after ?? String(from - 1) };
    const [block, ...found] = await Promise.all([
      provider.getBlock(to),
      settlement.queryFilter(settlement.filters.Deposited!(), from, to),
      registry.queryFilter(registry.filters.InvestorRegistered!(), from, to),
      registry.queryFilter(registry.filters.InvestorRemoved!(), from, to),
      ...securities.map((s) => s.queryFilter(s.filters.AddressFrozen!(), from, to)),
    ]);
    if (!block?.hash)
      throw makeError(`block ${to} of ${this.venue} has no hash yet`, 'NOT_FINAL', { block: to });
    const logs = found.flat();
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    const changes: LedgerChange[] = [];
    for (const log of logs) {
      const change = this.#change(log);
      if (change !== null) changes.push(change);
    }
    return { changes, checkpoint: blockCheckpoint(to, block.hash) };
  }

  #change(log: Log): LedgerChange | null {
    if (!('eventName' in log)) return null;
    const e = log as EventLog;
    const ref = `${e.transactionHash}:${e.index}`;
    const venue = this.venue;
    switch (e.eventName) {
      case 'Deposited': {
        const token = this.#o.assetOf(getAddress(e.args.token as string));
        if (token === undefined) return null;
        const amount = e.args.amount as bigint;
        if (amount % token.units !== 0n) {
          this.#o.log?.warn(
            { venue, ref },
            `${venue}: ${ref} moves ${amount} base units of ${token.asset}, not a whole number of ${token.units}: left out`,
          );
          return null;
        }
        return {
          ref,
          kind: 'deposit',
          account: getAddress(e.args.account as string),
          asset: token.asset,
          amount: Number(amount / token.units),
        };
      }
      case 'InvestorRegistered':
        return { ref, kind: 'standing', account: getAddress(e.args.wallet as string), venue, eligible: true };
      case 'InvestorRemoved':
        return {
          ref,
          kind: 'standing',
          account: getAddress(e.args.wallet as string),
          venue,
          eligible: false,
        };
      case 'AddressFrozen':
        return {
          ref,
          kind: 'standing',
          account: getAddress(e.args.wallet as string),
          venue,
          frozen: e.args.isFrozen as boolean,
        };
      default:
        return null;
    }
  }
}

/** The chain's blocks as the check at start asks for them: a transaction is held if it has a receipt. */
export function evmBlocks(provider: Provider): LedgerBlocks {
  return {
    head: () => provider.getBlockNumber(),
    async blockHash(n) {
      const block = await provider.getBlock(n);
      if (!block?.hash) throw makeError(`the chain has no block ${n}`, 'NOT_FINAL', { block: n });
      return block.hash;
    },
    async holds(hash) {
      return (await provider.getTransactionReceipt(hash)) !== null;
    },
  };
}
