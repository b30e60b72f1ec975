/**
 * Sends the operator's batch transactions: signs them itself, with nonces it keeps in the
 * daemon's LMDB (`NonceStore`), one transaction out at a time. A batch transaction is recorded
 * before it is broadcast, so the same batch asked again (after a crash, or a throw the daemon
 * retries) is answered by that transaction, sent again as it was if the chain does not have it,
 * rather than by a second one. When another transaction takes its nonce (the key used
 * elsewhere), the nonce is read again from the chain and the batch signed anew.
 *
 * A transaction pays EIP-1559 fees under a cap (above it, `send` throws and the daemon retries
 * later), counts as final after N confirmations, and is sent again (the same bytes, while its
 * nonce is free) if a reorganization drops it. A revert is reported with its decoded custom error.
 *
 * Not yet here: raising the fee of a transaction that waits in the pool (one signed before the
 * base fee more than doubled waits until it comes down).
 */
import {
  type Contract,
  type ContractRunner,
  formatUnits,
  type Interface,
  isError,
  JsonRpcApiProvider,
  keccak256,
  type Signer,
  Wallet,
} from 'ethers';
import type { Progress } from '../progress.ts';
import { type BatchTx, NonceStore } from './nonces.ts';
import { signEip1559 } from './raw-tx.ts';

export interface BatchSenderOptions {
  venue: string;
  /** The Settlement escrow, connected to the operator's signer; it signs here, so it holds the key (a `Wallet`). */
  settlement: Contract;
  /** The daemon's progress store: the operator's nonce and the transaction it has out live there. */
  progress: Progress;
  /** The most wei per gas a batch may pay (default 100 gwei). */
  maxFeePerGas?: bigint;
  /** Tip to the block producer, wei per gas (default 1 gwei, never above the cap). */
  priorityFeePerGas?: bigint;
  /** Blocks, the transaction's own included, before a batch is final (default 1). */
  confirmations?: number;
  /** How often to look for the receipt and new blocks, at most, ms (default 20). */
  pollMs?: number;
  log?: (line: string) => void;
}

const GWEI = 1_000_000_000n;

/** Nonces lost to other transactions within one `send` before it gives up (and the daemon retries). */
const MAX_LOST_NONCES = 3;

/** A log as the node returns it. */
export interface RawLog {
  address: string;
  topics: string[];
  data: string;
}

/**
 * What the ledger needs of a batch's receipt, read as the node sends it: ethers' own receipt
 * object formats every log (checksummed addresses, frozen objects), some 35 ms for 500 trades.
 */
export interface BatchReceipt {
  hash: string;
  blockNumber: number;
  blockHash: string;
  /** 1 success, 0 reverted. */
  status: number;
  gasUsed: bigint;
  /** Wei per gas paid. */
  gasPrice: bigint;
  logs: RawLog[];
}

interface RpcReceipt {
  transactionHash: string;
  blockNumber: string;
  blockHash: string;
  status: string;
  gasUsed: string;
  effectiveGasPrice: string;
  logs: RawLog[];
}

/** Who signs and where, looked up once: the operator, the chain, the escrow, the nonce record. */
interface Operator {
  signer: Signer;
  provider: JsonRpcApiProvider;
  address: string;
  chainId: bigint;
  escrow: string;
  nonces: NonceStore;
}

export class BatchSender {
  #o: BatchSenderOptions;
  #operator: Promise<Operator> | null = null;
  /** Whether the recorded next nonce can be trusted (see `#nextNonce`). */
  #synced = false;

  constructor(options: BatchSenderOptions) {
    this.#o = options;
  }

  /**
   * Sends the batch `key` (its call data `data`, `count` trades) as one transaction and waits
   * until it is final. The transaction recorded for this batch, if any, is followed (never signed
   * again while it can still be mined); one recorded for another batch is seen to its end first.
   * Otherwise a new one is signed, recorded, then broadcast.
   */
  async send(key: string, data: string, count: number): Promise<BatchReceipt> {
    const op = await this.#lookUp();
    for (let lost = 0; ;) {
      let tx = op.nonces.last;
      if (tx === undefined || (tx.batch !== key && tx.raw === undefined)) {
        const signed = await this.#sign(op, key, data, count);
        await this.#broadcast(op, signed.raw);
        tx = signed;
      }
      const receipt = await this.#follow(op, tx);
      if (receipt === null) {
        op.nonces.forget();
        this.#synced = false;
        if (++lost >= MAX_LOST_NONCES) {
          throw new Error(
            `the batch transactions of ${op.address} lost their nonce ${lost} times in a row: ` +
              'is the key in use elsewhere?',
          );
        }
        continue;
      }
      if (receipt.status !== 1) {
        op.nonces.forget();
        if (tx.batch === key)
          throw new Error(`the batch transaction reverted in ${tx.hash}: ${await this.#why(op, data)}`);
        this.#o.log?.(`${this.#o.venue}: an earlier batch transaction ${tx.hash} reverted`);
        continue;
      }
      op.nonces.final();
      if (tx.batch === key) return receipt;
    }
  }

  /** Signs the batch transaction under the fee cap with the next nonce, and records it before it goes out. */
  async #sign(op: Operator, key: string, data: string, count: number): Promise<BatchTx & { raw: string }> {
    const block = await op.provider.getBlock('latest');
    const base = block?.baseFeePerGas ?? 0n;
    const cap = this.#o.maxFeePerGas ?? 100n * GWEI;
    const tip = min(this.#o.priorityFeePerGas ?? GWEI, cap);
    if (base + tip > cap) {
      throw new Error(
        `base fee ${gwei(base)} gwei plus tip ${gwei(tip)} is above the fee cap of ${gwei(cap)} gwei`,
      );
    }
    // An explicit gas limit (an upper bound; unused gas is not paid) spares an estimate, which
    // would execute the whole batch a second time.
    const gasLimit = min(150_000n + 90_000n * BigInt(count), block?.gasLimit ?? 30_000_000n);
    const nonce = await this.#nextNonce(op);
    const fields = {
      chainId: op.chainId,
      to: op.escrow,
      data,
      nonce,
      gasLimit,
      maxFeePerGas: min(base * 2n + tip, cap),
      maxPriorityFeePerGas: tip,
    };
    // A key held here signs in buffers (`raw-tx.ts`); any other signer through ethers.
    const { raw, hash } =
      op.signer instanceof Wallet
        ? signEip1559(fields, op.signer.signingKey)
        : await op.signer
            .signTransaction({ type: 2, ...fields })
            .then((r) => ({ raw: r, hash: keccak256(r) }));
    const tx = { batch: key, nonce, hash, raw };
    op.nonces.record(tx);
    return tx;
  }

  /**
   * The recorded next nonce, except on this ledger's first transaction and after a nonce was
   * lost: then the chain's, since meanwhile the key may have been used elsewhere, or the chain
   * may have lost blocks (a local chain restarted from an older state), and a transaction with a
   * nonce past the chain's would wait forever.
   */
  async #nextNonce(op: Operator): Promise<number> {
    const kept = op.nonces.next;
    if (this.#synced && kept !== undefined) return kept;
    const chain = await op.provider.getTransactionCount(op.address, 'pending');
    if (kept !== undefined && kept !== chain) {
      this.#o.log?.(`${this.#o.venue}: next nonce of ${op.address} is ${chain} on chain (${kept} recorded)`);
    }
    this.#synced = true;
    return chain;
  }

  /**
   * Hands signed bytes to the node. A nonce used or held by another transaction, or the node
   * knowing this one already, is no error here: following the transaction tells what became of it.
   */
  async #broadcast(op: Operator, raw: string): Promise<void> {
    try {
      // Straight to the node: ethers' broadcastTransaction parses the transaction again and
      // recovers its sender, some 40 ms for a 500-trade batch.
      await op.provider.send('eth_sendRawTransaction', [raw]);
    } catch (err) {
      if (isError(err, 'NONCE_EXPIRED') || isError(err, 'REPLACEMENT_UNDERPRICED') || alreadyKnown(err))
        return;
      throw new Error(`the batch transaction was refused: ${reason(err, this.#o.settlement.interface)}`, {
        cause: err,
      });
    }
  }

  /**
   * Follows a recorded transaction until it is final: its receipt, or null once its nonce is
   * another transaction's. While the chain does not know it (it never went out before a crash, or
   * a reorganization dropped it) and its nonce is next, the same signed bytes go out again.
   */
  async #follow(op: Operator, tx: Readonly<BatchTx>): Promise<BatchReceipt | null> {
    for (;;) {
      const receipt = await this.#final(op.provider, tx.hash);
      if (receipt !== null) return receipt;
      // Above its nonce: another transaction has it. Below: the chain lost the ones before it,
      // and it would wait behind the gap forever.
      const count = await op.provider.getTransactionCount(op.address, 'pending');
      if (count !== tx.nonce || tx.raw === undefined) {
        this.#o.log?.(
          `${this.#o.venue}: batch transaction ${tx.hash} lost nonce ${tx.nonce} of ${op.address} ` +
            `(the chain's next is ${count}); signing anew`,
        );
        return null;
      }
      this.#o.log?.(`${this.#o.venue}: batch transaction ${tx.hash} is not on chain; sending it again`);
      await this.#broadcast(op, tx.raw);
    }
  }

  /** Why a batch reverted: the same call run again (the receipt does not say), its custom error decoded. */
  #why(op: Operator, data: string): Promise<string> {
    return op.provider.call({ from: op.address, to: op.escrow, data }).then(
      () => 'unknown (it passes as a call now)',
      (err: unknown) => reason(err, this.#o.settlement.interface),
    );
  }

  /** The operator, looked up on first use (and again after a failed look-up). */
  #lookUp(): Promise<Operator> {
    this.#operator ??= this.#operatorOf(this.#o.settlement).catch((err: unknown) => {
      this.#operator = null;
      throw err;
    });
    return this.#operator;
  }

  async #operatorOf(settlement: Contract): Promise<Operator> {
    const signer = settlement.runner;
    if (!isSigner(signer) || signer.provider === null) {
      throw new Error("the Settlement contract needs the operator's signer, with a provider");
    }
    const provider = signer.provider;
    if (!(provider instanceof JsonRpcApiProvider)) {
      throw new Error(
        "the operator's signer needs a JSON-RPC provider (it reads receipts as the node sends them)",
      );
    }
    const [address, network, escrow] = await Promise.all([
      signer.getAddress(),
      provider.getNetwork(),
      settlement.getAddress(),
    ]);
    const nonces = new NonceStore(this.#o.progress, network.chainId, address);
    return { signer, provider, address, chainId: network.chainId, escrow, nonces };
  }

  /**
   * The receipt once the transaction has `confirmations` blocks on a chain that still holds it,
   * or null once the chain no longer knows it (a reorganization dropped it).
   */
  async #final(provider: JsonRpcApiProvider, hash: string): Promise<BatchReceipt | null> {
    const need = this.#o.confirmations ?? 1;
    const pollMs = this.#o.pollMs ?? 20;
    // A local chain mines within a millisecond or two of the broadcast: look again soon at first,
    // then every `pollMs`.
    for (let wait = 1; ; wait = Math.min(wait * 2, pollMs)) {
      const r = (await provider.send('eth_getTransactionReceipt', [hash])) as RpcReceipt | null;
      if (r === null) {
        if ((await provider.send('eth_getTransactionByHash', [hash])) === null) return null;
      } else {
        const receipt: BatchReceipt = {
          hash: r.transactionHash,
          blockNumber: Number(r.blockNumber),
          blockHash: r.blockHash,
          status: Number(r.status),
          gasUsed: BigInt(r.gasUsed),
          gasPrice: BigInt(r.effectiveGasPrice),
          logs: r.logs,
        };
        // One confirmation is the receipt itself: the node answers from the chain it holds.
        if (need <= 1) return receipt;
        const head = await provider.getBlockNumber();
        if (head - receipt.blockNumber + 1 >= need) {
          const block = await provider.getBlock(receipt.blockNumber);
          if (block?.hash === receipt.blockHash) return receipt;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function isSigner(runner: ContractRunner | null): runner is Signer {
  return runner !== null && typeof (runner as Partial<Signer>).signTransaction === 'function';
}

/** A node's answer that it has the transaction already (geth "already known", anvil "already imported"). */
function alreadyKnown(err: unknown): boolean {
  return isError(err, 'UNKNOWN_ERROR') && /already (known|imported)/i.test(String(err.error?.message));
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
