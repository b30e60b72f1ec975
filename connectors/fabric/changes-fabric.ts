/**
 * What the engine must hear of from a Fabric network, read from the settlement chaincode's events
 * (`Deposited`, `AccountChanged`) through the fabric-gateway client's event stream. Nothing leaves
 * the venue but the withdrawals the exchange releases, whose verdicts the daemon reads from its
 * own transactions.
 * Fabric keeps one chaincode event per transaction, so a change is named by its transaction id
 * and reaches the engine once however often it is read. The checkpoint is the block of the last
 * event read and its hash (`blockCheckpoint`, from the peer's qscc), for the check at start that
 * the network still has it; the stream resumes from that block, and what was applied already is
 * skipped.
 * Amounts are engine units already (the chaincode counts lots and cash units); an asset `ACME`
 * of the venue `fabric:bank-net` is the engine's `ACME@fabric:bank-net`.
 */
import type { ChaincodeEvent, CloseableAsyncIterable, Network } from '@hyperledger/fabric-gateway';
import { blockCheckpoint, type ChangeSource, readBlockCheckpoint } from '../changes.ts';
import type { LedgerChange } from '../ledger.ts';
import type { FabricBlocks } from './blocks-fabric.ts';
import type { Logger } from '../../common/index.ts';

export interface FabricChangesOptions {
  venue: string;
  network: Network;
  chaincode: string;
  /** The channel's blocks: the hash of a checkpoint's block. */
  blocks: FabricBlocks;
  log?: Logger;
}

export class FabricChanges implements ChangeSource {
  readonly venue: string;
  #o: FabricChangesOptions;
  #stream: CloseableAsyncIterable<ChaincodeEvent> | null = null;
  #buffer: Array<{ block: bigint; change: LedgerChange }> = [];
  #failed: Error | null = null;

  constructor(options: FabricChangesOptions) {
    this.venue = options.venue;
    this.#o = options;
  }

  /** The changes read since the last poll; the first poll (and one after a broken stream) starts the stream at `after`. */
  async poll(after: string | null): Promise<{ changes: LedgerChange[]; checkpoint: string }> {
    if (this.#failed !== null) {
      const err = this.#failed;
      this.#failed = null;
      this.#stream = null;
      throw err;
    }
    if (this.#stream === null) await this.#open(BigInt(readBlockCheckpoint(after)?.block ?? 0));
    // Taken only once the checkpoint is known: a failure here leaves them for the next poll.
    const count = this.#buffer.length;
    const last = this.#buffer[count - 1];
    const checkpoint =
      last === undefined
        ? (after ?? '0')
        : blockCheckpoint(last.block, await this.#o.blocks.blockHash(Number(last.block)));
    return { changes: this.#buffer.splice(0, count).map((t) => t.change), checkpoint };
  }

  /** Stops reading events. */
  close(): void {
    this.#stream?.close();
    this.#stream = null;
  }

  async #open(startBlock: bigint): Promise<void> {
    const stream = await this.#o.network.getChaincodeEvents(this.#o.chaincode, { startBlock });
    this.#stream = stream;
    void (async () => {
      try {
        for await (const e of stream) {
          const change = this.#change(e);
          if (change !== null) this.#buffer.push({ block: e.blockNumber, change });
        }
      } catch (err) {
        // A stream closed by `close` ends quietly; any other end is reported at the next poll.
        if (this.#stream === stream) this.#failed = err as Error;
      }
    })();
  }

  #change(e: ChaincodeEvent): LedgerChange | null {
    const ref = e.transactionId;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.from(e.payload).toString('utf8')) as Record<string, unknown>;
    } catch {
      this.#o.log?.warn(
        { venue: this.venue, ref },
        `${this.venue}: event ${e.eventName} of ${ref} is not JSON: left out`,
      );
      return null;
    }
    const account = body.account as string;
    switch (e.eventName) {
      case 'Deposited': {
        const amount = Number(body.amount);
        if (!Number.isSafeInteger(amount) || amount <= 0) {
          this.#o.log?.warn(
            { venue: this.venue, ref },
            `${this.venue}: ${ref} moves ${String(body.amount)} of ${String(body.asset)}: left out`,
          );
          return null;
        }
        return { ref, kind: 'deposit', account, asset: `${String(body.asset)}@${this.venue}`, amount };
      }
      case 'AccountChanged':
        return {
          ref,
          kind: 'standing',
          account,
          venue: this.venue,
          eligible: body.eligible === true,
          frozen: body.frozen === true,
        };
      default:
        return null;
    }
  }
}
