/**
 * A channel's blocks as a Fabric peer's query system chaincode (`qscc`) shows them, through the
 * gateway's Evaluate: the number of the last block, a block's hash (Fabric's, in hex) and
 * whether the ledger holds a transaction. The change checkpoints name their block by its hash,
 * and the check at start asks the network for both (`checkLedgerKept`). On a Fabric network the
 * operator's identity needs the channel's read access to qscc (Fabric's default ACL: readers).
 */
import type { Contract, Network } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import type { LedgerBlocks } from '../ledger-check.ts';
import { blockHash } from './devnet/index.ts';
import { makeError } from '../errors.ts';

/** What a peer answers for a transaction id its ledger does not hold. */
const NO_SUCH_TRANSACTION = /no such transaction ID/;

export class FabricBlocks implements LedgerBlocks {
  #qscc: Contract;
  #channel: string;

  constructor(network: Network) {
    this.#qscc = network.getContract('qscc');
    this.#channel = network.getName();
  }

  async head(): Promise<number> {
    const info = await this.#qscc.evaluateTransaction('GetChainInfo', this.#channel);
    return Number(common.BlockchainInfo.deserializeBinary(info).getHeight()) - 1;
  }

  async blockHash(n: number): Promise<string> {
    const bytes = await this.#qscc.evaluateTransaction('GetBlockByNumber', this.#channel, String(n));
    const header = common.Block.deserializeBinary(bytes).getHeader();
    if (header === undefined)
      throw makeError(`block ${n} of channel ${this.#channel} has no header`, 'NOT_FINAL', { block: n });
    return blockHash(header).toString('hex');
  }

  async holds(txId: string): Promise<boolean> {
    try {
      await this.#qscc.evaluateTransaction('GetTransactionByID', this.#channel, txId);
      return true;
    } catch (err) {
      const e = err as Error & { details?: Array<{ message: string }> };
      if ([e.message, ...(e.details ?? []).map((d) => d.message)].some((m) => NO_SUCH_TRANSACTION.test(m)))
        return false;
      throw err;
    }
  }
}
