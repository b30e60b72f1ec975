/**
 * Sends the operator's batch transactions: signs them itself, with nonces it keeps in the
 * daemon's LMDB (`NonceStore`), several out at once on consecutive nonces (the ledger pipelines
 * batches; each is followed on its own). A batch transaction is recorded before it is broadcast,
 * so the same batch asked again (after a crash, or a throw the daemon retries) is answered by
 * that transaction, sent again as it was if the chain does not have it, rather than by a second
 * one. When another transaction takes one of its nonces (the key used elsewhere), the nonce is
 * read again from the chain and the batch signed anew; the contract skips a trade id it has seen,
 * so even a lost transaction mined after all settles nothing twice.
 *
 * A transaction pays EIP-1559 fees under a cap (above it, `send` throws and the daemon retries
 * later), counts as final after N confirmations, and is sent again (the same bytes, while its
 * nonce is free, or held by the transactions out before it) if a reorganization drops it. One
 * that waits unmined longer than `replaceAfterMs` because the base fee rose past what it offers
 * is replaced: the same call under the same nonce with higher fees (`fees.ts`), recorded before
 * it is broadcast like the first; whichever version is mined settles the batch, once. A revert
 * is reported with its decoded custom error.
 */
import {
  type Contract,
  type ContractRunner,
  type Interface,
  isError,
  JsonRpcApiProvider,
  keccak256,
  type Signer,
  Transaction,
  Wallet,
} from 'ethers';
import type { Logger } from '../../common/index.ts';
import { OneAtATime } from '../batch.ts';
import { makeError } from '../errors.ts';
import type { Progress } from '../progress.ts';
import { gwei, min, newFees, outbid, replacementFees } from './fees.ts';
import { type BatchTx, NonceStore } from './nonces.ts';
import { type Eip1559Fields, signEip1559 } from './raw-tx.ts';

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
  /**
   * How long a transaction may wait unmined, since it was (last) broadcast, before it is replaced
   * with higher fees if the base fee has risen past what it offers, ms (default 30 s).
   */
  replaceAfterMs?: number;
  /** How much more a replacement offers on each fee, percent: at least the node's replacement bump (default 10). */
  feeBumpPercent?: number;
  log?: Logger;
}

const GWEI = 1_000_000_000n;

/** Where a followed transaction stands (`#look`): final (its receipt), mined but not yet final, in the pool, or unknown. */
type Seen = BatchReceipt | 'mined' | 'waiting' | 'gone';

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

/** How a followed transaction ended: its receipt (mined, succeeded or reverted, final), or lost (its nonce went elsewhere). */
type Followed = BatchReceipt | 'lost';

export class BatchSender {
  #o: BatchSenderOptions;
  #operator: Promise<Operator> | null = null;
  /** Whether the recorded next nonce can be trusted (see `#nextNonce`). */
  #synced = false;
  /** The transaction out for each batch, followed until it ends (one follower, however often the batch is asked). */
  #followers = new Map<string, Promise<Followed>>();
  /** Nonces are taken, recorded and broadcast one batch at a time, so they go out in order. */
  #signing = new OneAtATime();
  /** The gas limit each batch's transaction was signed with, and how many times the ledger's bound a batch that ran out of gas is offered. */
  #offered = new Map<string, bigint>();
  #more = new Map<string, bigint>();

  constructor(options: BatchSenderOptions) {
    this.#o = options;
  }

  /**
   * Sends the batch `key` (its call data `data`, at most `gas` gas: an upper bound the ledger
   * makes of it) as one transaction and waits until it is final; other batches may be out
   * meanwhile, on the nonces before and after. The transaction recorded for this batch, if any,
   * is followed (never signed again while it can still be mined); otherwise a new one is signed,
   * recorded, then broadcast. A batch that ran out of gas is offered twice as much the next time
   * it is asked (the daemon retries it).
   */
  async send(key: string, data: string, gas: bigint): Promise<BatchReceipt> {
    const op = await this.#lookUp();
    for (let lost = 0; ;) {
      const end = await this.#followerOf(op, key, data, gas);
      if (end === 'lost') {
        if (++lost >= MAX_LOST_NONCES) {
          throw makeError(
            `the batch transactions of ${op.address} lost their nonce ${lost} times in a row: ` +
              'is the key in use elsewhere?',
            'NONCE_LOST',
            { operator: op.address, times: lost },
          );
        }
        continue;
      }
      if (end.status !== 1) {
        const offered = this.#offered.get(key);
        // Out of gas: all of it used, or nearly (the escrow reverts when a call it made may have
        // run out, keeping the 1/64 a call leaves its caller, rather than take the call's failure
        // as the token's answer).
        if (offered !== undefined && end.gasUsed * 64n >= offered * 62n) {
          this.#more.set(key, (this.#more.get(key) ?? 1n) * 2n);
          throw makeError(
            `the batch transaction ${end.hash} ran out of gas at ${offered}; it is offered twice as much next`,
            'BATCH_REVERTED',
            { tx: end.hash, gas: String(offered) },
          );
        }
        this.#offered.delete(key);
        throw this.#reverted(op, end.hash, await this.#why(op, data));
      }
      this.#offered.delete(key);
      this.#more.delete(key);
      return end;
    }
  }

  /** The follower of batch `key`'s transaction: the one running, else the one recorded, else a new one. */
  #followerOf(op: Operator, key: string, data: string, gas: bigint): Promise<Followed> {
    const running = this.#followers.get(key);
    if (running !== undefined) return running;
    const recorded = op.nonces.of(key);
    const tx =
      recorded ??
      this.#signing.run(async () => {
        const signed = await this.#sign(op, key, data, gas);
        await this.#broadcast(op, signed.raw);
        return signed;
      });
    return this.#watch(op, key, tx);
  }

  /**
   * Follows `tx` to its end, recording it (final, or forgotten when it reverted or lost its
   * nonce), as the one follower of its batch.
   */
  #watch(op: Operator, key: string, tx: BatchTx | Promise<BatchTx>): Promise<Followed> {
    const followed = (async (): Promise<Followed> => {
      const t = await tx;
      const receipt = await this.#follow(op, t);
      if (receipt === null) {
        op.nonces.forget(t.nonce);
        this.#synced = false;
        return 'lost';
      }
      if (receipt.status !== 1) op.nonces.forget(t.nonce);
      else op.nonces.final(t.nonce, receipt.hash);
      return receipt;
    })();
    this.#followers.set(key, followed);
    const done = () => {
      if (this.#followers.get(key) === followed) this.#followers.delete(key);
    };
    followed.then(done, done);
    return followed;
  }

  /**
   * Follows the transactions a daemon before this one left out, whether or not their batches are
   * asked again (a batch finished meanwhile is not): each ends recorded, so none holds a nonce
   * forever; one that reverted is said in the log.
   */
  #adopt(op: Operator): void {
    for (const tx of op.nonces.out) {
      this.#watch(op, tx.batch, tx).then(
        (end) => {
          if (end !== 'lost' && end.status !== 1)
            this.#o.log?.warn(
              { venue: this.#o.venue, tx: end.hash },
              `${this.#o.venue}: an earlier batch transaction ${end.hash} reverted`,
            );
        },
        () => {}, // a batch asked again hears it; one not asked is followed again at the next start
      );
    }
  }

  /** Signs the batch transaction under the fee cap with the next nonce, and records it before it goes out. */
  async #sign(op: Operator, key: string, data: string, gas: bigint): Promise<BatchTx & { raw: string }> {
    const block = await op.provider.getBlock('latest');
    const fees = newFees(block?.baseFeePerGas ?? 0n, this.#tip, this.#cap);
    if (typeof fees === 'string') throw makeError(fees, 'FEE_CAP', { venue: this.#o.venue });
    // An explicit gas limit (an upper bound; unused gas is not paid) spares an estimate, which
    // would execute the whole batch a second time. A tight one lets batches out at once share a block.
    const gasLimit = min(gas * (this.#more.get(key) ?? 1n), block?.gasLimit ?? 30_000_000n);
    this.#offered.set(key, gasLimit);
    const nonce = await this.#nextNonce(op);
    const fields = { chainId: op.chainId, to: op.escrow, data, nonce, gasLimit, ...fees };
    const tx = { batch: key, nonce, ...(await this.#signed(op, fields)) };
    op.nonces.record(tx);
    return tx;
  }

  /** The signed bytes and hash: a key held here signs in buffers (`raw-tx.ts`), any other signer through ethers. */
  async #signed(op: Operator, fields: Eip1559Fields): Promise<{ raw: string; hash: string }> {
    if (op.signer instanceof Wallet) return signEip1559(fields, op.signer.signingKey);
    const raw = await op.signer.signTransaction({ type: 2, ...fields });
    return { raw, hash: keccak256(raw) };
  }

  /**
   * Replaces `tx` if the base fee rose past what it offers: the same call and nonce with higher
   * fees, signed and recorded (the versions it replaces kept) before it is broadcast. Null when it
   * waits for another reason, or (logged) when the cap leaves no room for a replacement: then it
   * waits for the base fee to come down.
   */
  async #replace(op: Operator, tx: Readonly<BatchTx> & { raw: string }): Promise<BatchTx | null> {
    // Read back from the recorded bytes, so a transaction recorded before a restart is replaced alike.
    const sent = Transaction.from(tx.raw);
    const sentFees = {
      maxFeePerGas: sent.maxFeePerGas ?? 0n,
      maxPriorityFeePerGas: sent.maxPriorityFeePerGas ?? 0n,
    };
    const base = await this.#nextBaseFee(op.provider);
    if (!outbid(sentFees, base)) return null;
    const fees = replacementFees(sentFees, base, this.#tip, this.#cap, this.#o.feeBumpPercent ?? 10);
    const waits = `${this.#o.venue}: batch transaction ${tx.hash} waits: the base fee is ${gwei(base)} gwei`;
    if (typeof fees === 'string') {
      this.#o.log?.warn(
        { venue: this.#o.venue, tx: tx.hash },
        `${waits}, and ${fees}; it waits for the base fee to come down`,
      );
      return null;
    }
    const fields = {
      chainId: op.chainId,
      to: op.escrow,
      data: sent.data,
      nonce: tx.nonce,
      gasLimit: sent.gasLimit,
      ...fees,
    };
    const replacement = {
      batch: tx.batch,
      nonce: tx.nonce,
      ...(await this.#signed(op, fields)),
      earlier: [...(tx.earlier ?? []), tx.hash],
    };
    op.nonces.record(replacement);
    this.#o.log?.info(
      { venue: this.#o.venue, tx: tx.hash, replacement: replacement.hash },
      `${waits}; replaced by ${replacement.hash} at ${gwei(fees.maxFeePerGas)} gwei ` +
        `(tip ${gwei(fees.maxPriorityFeePerGas)}), nonce ${tx.nonce}`,
    );
    await this.#broadcast(op, replacement.raw);
    return replacement;
  }

  /** The most a batch may pay per gas. */
  get #cap(): bigint {
    return this.#o.maxFeePerGas ?? 100n * GWEI;
  }

  /** The tip a batch offers, never above the cap. */
  get #tip(): bigint {
    return min(this.#o.priorityFeePerGas ?? GWEI, this.#cap);
  }

  /**
   * The recorded next nonce, except on this ledger's first transaction and after a nonce was
   * lost: then the chain's (or past the transactions out, if more), since meanwhile the key may
   * have been used elsewhere, or the chain may have lost blocks (a local chain restarted from an
   * older state), and a transaction with a nonce past the chain's would wait forever.
   */
  async #nextNonce(op: Operator): Promise<number> {
    const kept = op.nonces.next;
    if (this.#synced && kept !== undefined) return kept;
    const chain = await op.provider.getTransactionCount(op.address, 'pending');
    if (kept !== undefined && kept !== chain) {
      this.#o.log?.warn(
        { venue: this.#o.venue, operator: op.address, chain, recorded: kept },
        `${this.#o.venue}: next nonce of ${op.address} is ${chain} on chain (${kept} recorded)`,
      );
    }
    this.#synced = true;
    // Past the transactions still out (their nonces are theirs until they end), which a node
    // that has not taken them in yet does not count.
    const out = op.nonces.out.at(-1);
    return out === undefined ? chain : Math.max(chain, out.nonce + 1);
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
      throw this.#reverted(op, null, reason(err, this.#o.settlement.interface), err);
    }
  }

  /**
   * Follows a recorded transaction until it is final: the receipt of whichever of its versions
   * was mined, or null once its nonce is another transaction's. While the chain does not know it
   * (it never went out before a crash, or a reorganization dropped it) and its nonce is next, the
   * same signed bytes go out again. While it waits in the pool longer than `replaceAfterMs`
   * because the base fee rose past what it offers, it is replaced (`#replace`).
   */
  async #follow(op: Operator, recorded: Readonly<BatchTx>): Promise<BatchReceipt | null> {
    const pollMs = this.#o.pollMs ?? 20;
    const replaceAfterMs = this.#o.replaceAfterMs ?? 30_000;
    let tx = recorded;
    let sentAt = Date.now();
    // A local chain mines within a millisecond or two of the broadcast: look again soon at first,
    // then every `pollMs`.
    for (let wait = 1; ; wait = Math.min(wait * 2, pollMs)) {
      const seen = await this.#look(op.provider, tx);
      if (typeof seen === 'object') return seen;
      if (seen === 'gone') {
        // Above its nonce: another transaction has it. Below: it waits behind the transactions
        // out before it, or, if the chain lost ones the daemon counted final, forever.
        const count = await op.provider.getTransactionCount(op.address, 'pending');
        if (tx.raw === undefined || !this.#nextInLine(op, tx.nonce, count)) {
          this.#o.log?.warn(
            { venue: this.#o.venue, tx: tx.hash, nonce: tx.nonce },
            `${this.#o.venue}: batch transaction ${tx.hash} lost nonce ${tx.nonce} of ${op.address} ` +
              `(the chain's next is ${count}); signing anew`,
          );
          return null;
        }
        this.#o.log?.warn(
          { venue: this.#o.venue, tx: tx.hash },
          `${this.#o.venue}: batch transaction ${tx.hash} is not on chain; sending it again`,
        );
        await this.#broadcast(op, tx.raw);
        sentAt = Date.now();
        wait = 1;
        continue;
      }
      if (seen === 'waiting' && tx.raw !== undefined && Date.now() - sentAt >= replaceAfterMs) {
        tx = (await this.#replace(op, { ...tx, raw: tx.raw })) ?? tx;
        sentAt = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * Whether a transaction of `nonce` can still be mined when the chain's next is `count`: its
   * nonce is the next, or every nonce before it from the next on is a transaction out.
   */
  #nextInLine(op: Operator, nonce: number, count: number): boolean {
    if (count > nonce) return false;
    const out = new Set(op.nonces.out.map((t) => t.nonce));
    for (let n = count; n < nonce; n++) if (!out.has(n)) return false;
    return true;
  }

  /** Why a batch reverted: the same call run again (the receipt does not say), its custom error decoded. */
  #why(op: Operator, data: string): Promise<Reason> {
    return op.provider.call({ from: op.address, to: op.escrow, data }).then(
      () => ({ text: 'unknown (it passes as a call now)', name: null }),
      (err: unknown) => reason(err, this.#o.settlement.interface),
    );
  }

  /**
   * The error of a batch the node refused (`hash` null) or the contract reverted: permanent when the contract refuses the caller
   * itself (its custom error says so, `PERMANENT_REVERTS`), which no retry can change; otherwise
   * retryable, as a revert for the state of the moment may pass later.
   */
  #reverted(op: Operator, hash: string | null, why: Reason, cause?: unknown): Error {
    const where = hash === null ? 'was refused' : `reverted in ${hash}`;
    const advice =
      why.name !== null && Object.hasOwn(PERMANENT_REVERTS, why.name)
        ? PERMANENT_REVERTS[why.name]
        : undefined;
    if (advice === undefined) {
      const code = hash === null ? 'BATCH_REFUSED' : 'BATCH_REVERTED';
      return makeError(`the batch transaction ${where}: ${why.text}`, code, {}, cause);
    }
    return makeError(
      `the batch transaction ${where}: ${why.text}: the Settlement contract at ${op.escrow} ${advice(op.address)}`,
      'NOT_OPERATOR',
      { venue: this.#o.venue, operator: op.address, settlement: op.escrow, revert: why.name },
      cause,
    );
  }

  /** The operator, looked up on first use (and again after a failed look-up). */
  #lookUp(): Promise<Operator> {
    this.#operator ??= this.#operatorOf(this.#o.settlement).then(
      (op) => {
        this.#adopt(op);
        return op;
      },
      (err: unknown) => {
        this.#operator = null;
        throw err;
      },
    );
    return this.#operator;
  }

  async #operatorOf(settlement: Contract): Promise<Operator> {
    const signer = settlement.runner;
    if (!isSigner(signer) || signer.provider === null) {
      throw makeError("the Settlement contract needs the operator's signer, with a provider", 'BAD_SETUP');
    }
    const provider = signer.provider;
    if (!(provider instanceof JsonRpcApiProvider)) {
      throw makeError(
        "the operator's signer needs a JSON-RPC provider (it reads receipts as the node sends them)",
        'BAD_SETUP',
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
   * Where `tx` stands: the receipt of whichever of its versions (it, or one it replaced) was
   * mined, once it has `confirmations` blocks on a chain that still holds it; 'mined' before that;
   * 'waiting' while a version is in the pool; 'gone' once the chain knows none of them (never
   * broadcast, or dropped by a reorganization).
   */
  async #look(provider: JsonRpcApiProvider, tx: Readonly<BatchTx>): Promise<Seen> {
    const need = this.#o.confirmations ?? 1;
    const hashes = [tx.hash, ...(tx.earlier ?? [])];
    for (const hash of hashes) {
      const r = (await provider.send('eth_getTransactionReceipt', [hash])) as RpcReceipt | null;
      if (r === null) continue;
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
      return 'mined';
    }
    for (const hash of hashes) {
      if ((await provider.send('eth_getTransactionByHash', [hash])) !== null) return 'waiting';
    }
    return 'gone';
  }

  /** The next block's base fee: the last of `eth_feeHistory`'s, which runs one block ahead. */
  async #nextBaseFee(provider: JsonRpcApiProvider): Promise<bigint> {
    const history = (await provider.send('eth_feeHistory', ['0x1', 'latest', []])) as {
      baseFeePerGas: string[];
    };
    return BigInt(history.baseFeePerGas.at(-1) ?? 0);
  }
}

function isSigner(runner: ContractRunner | null): runner is Signer {
  return runner !== null && typeof (runner as Partial<Signer>).signTransaction === 'function';
}

/** A node's answer that it has the transaction already (geth "already known", anvil "already imported"). */
function alreadyKnown(err: unknown): boolean {
  return isError(err, 'UNKNOWN_ERROR') && /already (known|imported)/i.test(String(err.error?.message));
}

/** Why a transaction failed: text for the message, and the contract's custom error's name when it has one. */
interface Reason {
  text: string;
  name: string | null;
}

/**
 * The Settlement contract's custom errors that refuse the caller itself, whatever the batch: the
 * rest of the message for each (what to do). Any other revert may pass later and is retried.
 */
const PERMANENT_REVERTS: Record<string, (operator: string) => string> = {
  NotOperator: (operator) =>
    `does not take ${operator} as its operator: set evm.operatorKey to the operator's key, ` +
    `or have the contract's owner call setOperator(${operator}, true)`,
};

/** What a refused transaction says: the contract's custom error, decoded with its ABI, when it has one. */
function reason(err: unknown, iface: Interface): Reason {
  if (isError(err, 'CALL_EXCEPTION')) {
    const decoded = err.revert ?? (err.data ? iface.parseError(err.data) : null);
    if (decoded)
      return { text: `${decoded.name}(${decoded.args.map(String).join(', ')})`, name: decoded.name };
  }
  return { text: err instanceof Error ? err.message : String(err), name: null };
}
