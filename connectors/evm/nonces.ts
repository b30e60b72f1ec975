/**
 * The EVM operator's nonces and the batch transactions it has out, kept by the settlement daemon
 * itself in its LMDB (`Progress`), so that a crash at any point leaves transactions the next
 * daemon can recognize and send again as they were, rather than sign second ones.
 *
 * One record per chain and operator key: the next nonce, the batch transactions signed and not
 * yet final (several, on consecutive nonces: the ledger pipelines batches), each with its batch,
 * nonce, hash and signed bytes, and the last few final ones (hash only). A transaction goes
 * through these states, each one durable write:
 *
 * - signed (`record`): written before it is broadcast, so after a crash it is known whether or
 *   not it reached the chain; it holds its nonce from then on.
 * - replaced (`record` again, same batch and nonce): a version with higher fees, written before
 *   it is broadcast; the hashes of the versions it replaces are kept (`earlier`), since any one
 *   of them may be the one mined, and the bytes sent again are the newest.
 * - final (`final`): confirmed; the signed bytes are dropped, the hash of the version mined is
 *   kept (among the last `KEPT_FINAL`) so the same batch asked again is answered from its receipt.
 * - forgotten (`forget`): it reverted, or its nonce went to another transaction; the batch is
 *   signed anew.
 *
 * The record is small whatever the pipeline's depth: the transactions out are the batches in
 * flight, and a batch is asked again only while it is in flight (the daemon's progress finishes
 * it right after its transaction is final), so a short list of final ones is enough.
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
  /** Signed, not final nor forgotten, in nonce order. */
  out?: BatchTx[];
  /** The last final ones, oldest first, without their bytes. */
  final?: BatchTx[];
  /** The record of a daemon before pipelining: its one transaction (read as `out` or `final`). */
  last?: BatchTx;
}

/** Final transactions kept to answer a batch asked again (more than any pipeline holds in flight). */
const KEPT_FINAL = 64;

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

  /** The transactions signed and not yet final or forgotten, in nonce order. */
  get out(): readonly Readonly<BatchTx>[] {
    return this.#read()?.out ?? [];
  }

  /** The last transaction signed that is still recorded (out, or final), by nonce. */
  get last(): Readonly<BatchTx> | undefined {
    const r = this.#read();
    return r?.out?.at(-1) ?? r?.final?.at(-1);
  }

  /** The hash of the last final batch transaction (for the check at start that the chain holds it). */
  get lastFinal(): string | undefined {
    return this.#read()?.final?.at(-1)?.hash;
  }

  /** The transaction recorded for `batch`: out (with its bytes) or among the last final ones. */
  of(batch: string): Readonly<BatchTx> | undefined {
    const r = this.#read();
    return r?.out?.find((t) => t.batch === batch) ?? r?.final?.findLast((t) => t.batch === batch);
  }

  /**
   * Records a signed transaction, or a replacement of one out (same batch and nonce), before it
   * is broadcast; the next nonce is past it.
   */
  record(tx: BatchTx & { raw: string }): void {
    const r = this.#read() ?? { next: 0 };
    const { batch, nonce, hash, raw, earlier } = tx;
    const out = (r.out ?? []).filter((t) => t.nonce !== nonce);
    out.push({ batch, nonce, hash, raw, ...(earlier ? { earlier } : {}) });
    out.sort((a, b) => a.nonce - b.nonce);
    this.#write({ ...r, next: Math.max(r.next, nonce + 1), out });
  }

  /** The transaction of `nonce` is final, mined as `hash` (it or a version it replaced): its signed bytes are no longer needed. */
  final(nonce: number, hash: string): void {
    const r = this.#read();
    const tx = r?.out?.find((t) => t.nonce === nonce);
    if (r === undefined || tx === undefined) return;
    const final = [...(r.final ?? []), { batch: tx.batch, nonce, hash }].slice(-KEPT_FINAL);
    this.#write({ ...r, out: r.out!.filter((t) => t !== tx), final });
  }

  /** Forgets the transaction of `nonce` (it reverted, or lost its nonce); the next nonce stays. */
  forget(nonce: number): void {
    const r = this.#read();
    if (r === undefined) return;
    this.#write({
      ...r,
      out: (r.out ?? []).filter((t) => t.nonce !== nonce),
      final: (r.final ?? []).filter((t) => t.nonce !== nonce),
    });
  }

  #read(): NonceRecord | undefined {
    const r = this.#progress.ledgerRecord<NonceRecord>(this.#key);
    if (r?.last === undefined) return r;
    // A record from before pipelining: its one transaction out, or final.
    const { next, last } = r;
    return last.raw === undefined ? { next, out: [], final: [last] } : { next, out: [last], final: [] };
  }

  #write(record: NonceRecord): void {
    const { next, out, final } = record;
    this.#progress.setLedgerRecords({ [this.#key]: { next, out: out ?? [], final: final ?? [] } });
  }
}
