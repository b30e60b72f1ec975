/**
 * The EVM operator's nonce and the batch transaction it has out, kept by the settlement daemon
 * itself in its LMDB (`Progress`), so that a crash at any point leaves a transaction the next
 * daemon can recognize and send again as it was, rather than sign a second one.
 *
 * One record per chain and operator key: the next nonce, and the last batch transaction signed
 * (which batch, its nonce, its hash and, until it is final, its signed bytes). That transaction
 * goes through these states, each one durable write:
 *
 * - signed (`record`): written before it is broadcast, so after a crash it is known whether or
 *   not it reached the chain; it holds its nonce from then on.
 * - replaced (`record` again, same batch and nonce): a version with higher fees, written before
 *   it is broadcast; the hashes of the versions it replaces are kept (`earlier`), since any one
 *   of them may be the one mined, and the bytes sent again are the newest.
 * - final (`final`): confirmed; the signed bytes are dropped, the hash of the version mined is
 *   kept so the same batch asked again is answered from its receipt.
 * - forgotten (`forget`): it reverted, or its nonce went to another transaction; the batch is
 *   signed anew.
 *
 * The ledger keeps one transaction out at a time: it signs the next only once the last is final
 * or forgotten.
 */
import { getAddress } from 'ethers';
import type { Progress } from '../progress.ts';

/** A batch transaction as recorded. */
export interface BatchTx {
  /** Which batch it settles (a hash of its trade ids). */
  batch: string;
  nonce: number;
  hash: string;
  /** The signed transaction, to broadcast again; kept until the transaction is final. */
  raw?: string;
  /** Hashes of the versions this one replaced (same nonce, lower fees), oldest first; until final. */
  earlier?: string[];
}

interface NonceRecord {
  next: number;
  last?: BatchTx;
}

/** The durable nonce record of one operator key on one chain. */
export class NonceStore {
  #progress: Progress;
  #key: string;

  constructor(progress: Progress, chainId: bigint, operator: string) {
    this.#progress = progress;
    this.#key = `evm-nonce:${chainId}:${getAddress(operator)}`;
  }

  /** The nonce the next new transaction takes, as last recorded (undefined before the first). */
  get next(): number | undefined {
    return this.#read()?.next;
  }

  /** The last batch transaction signed, final (no `raw`) or not; undefined once forgotten. */
  get last(): Readonly<BatchTx> | undefined {
    return this.#read()?.last;
  }

  /**
   * Records a signed transaction, or a replacement of the last one, before it is broadcast; the
   * next nonce is the one after it.
   */
  record(tx: BatchTx & { raw: string }): void {
    const { batch, nonce, hash, raw, earlier } = tx;
    this.#write({ next: nonce + 1, last: { batch, nonce, hash, raw, ...(earlier ? { earlier } : {}) } });
  }

  /** The last transaction is final, mined as `hash` (it or a version it replaced): its signed bytes are no longer needed. */
  final(hash: string): void {
    const r = this.#read();
    if (r?.last === undefined) return;
    const { batch, nonce } = r.last;
    this.#write({ next: r.next, last: { batch, nonce, hash } });
  }

  /** Forgets the last transaction (it reverted, or lost its nonce); the next nonce stays. */
  forget(): void {
    const r = this.#read();
    if (r !== undefined) this.#write({ next: r.next });
  }

  #read(): NonceRecord | undefined {
    return this.#progress.ledgerRecord<NonceRecord>(this.#key);
  }

  #write(record: NonceRecord): void {
    this.#progress.setLedgerRecord(this.#key, record);
  }
}
