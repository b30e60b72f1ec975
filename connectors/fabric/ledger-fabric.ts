/**
 * The Fabric ledger: settles a batch with one `SettleBatch` transaction of the settlement
 * chaincode, and releases a batch of withdrawals with one `ReleaseBatch`, through the unmodified
 * fabric-gateway client (endorse, submit, wait for the commit status), and reads each verdict
 * from the transaction's result.
 *
 * Exactly once: the chaincode gives each trade id (and withdrawal id) one verdict and skips it
 * afterwards, so a batch sent again moves nothing twice. Before a batch is submitted (while the
 * peer endorses it), its proposal (and so its transaction id) is recorded in the daemon's LMDB,
 * one record per batch in flight; after a crash the same batch goes out again under the same
 * transaction id. If that transaction was committed before the crash, the peer refuses the
 * duplicate (at submit, or as DUPLICATE_TXID at commit) and the verdicts are read from the
 * chaincode (`TradeStatus`, `WithdrawalStatus`). An MVCC read conflict (another transaction
 * changed a balance this one read) is retried with a new proposal; other failures throw, and the
 * daemon retries the batch with backoff. Several batches may be out at once: those whose keys
 * (`keysOf`: the balances they move, the trade verdict keys they write) do not meet go at once;
 * one that shares a key with a batch handed over before it is made (proposal built, signed,
 * recorded) once that one is submitted and endorsed once it is committed (`KeyOrder`), so none
 * invalidates another.
 *
 * On a venue whose chaincode keeps trade details in a private data collection
 * (`privateCollection`), the proposal's argument is the trade ids and the trades go as transient
 * data (`trades`): endorsing peers see them, the transaction and so the ledger do not. Transient
 * data is part of the signed proposal (fabric-gateway puts the transient map in the
 * `ChaincodeProposalPayload` it signs; only the transaction built from it leaves the map out), so
 * the recorded proposal carries it, and a proposal sent again after a crash has its trades; the
 * record is cleared once the batch is done. The last batch transaction committed is kept
 * (`lastBatchTx`): at start the network must still hold it.
 */
import { createHash } from 'node:crypto';
import { type Contract, type Gateway, StatusCode } from '@hyperledger/fabric-gateway';
import type { Logger } from '../../common/index.ts';
import { inBatchOrder, OneAtATime, sortOut } from '../batch.ts';
import { makeError } from '../errors.ts';
import {
  type Ledger,
  type SettlementInstruction,
  type SettlementOutcome,
  TRADES,
  type WithdrawalInstruction,
  type WithdrawalOutcome,
  WITHDRAWALS,
} from '../ledger.ts';
import type { Progress } from '../progress.ts';
import {
  type ChainTrade,
  type ChainWithdrawal,
  type LegRecord,
  type LegVerdict,
  type Verdict,
  VERDICTS_PER_KEY,
  type WithdrawalVerdict,
} from 'mosaic-settlement-chaincode';
import { KeyOrder, type Turn } from './key-order.ts';
import { ACCOUNT, FabricLegs, legVerdictOf } from './legs-fabric.ts';

/** Where an instrument settles on the network: its asset names in the chaincode. */
export interface FabricAsset {
  security: string;
  cash: string;
}

export interface FabricLedgerOptions {
  venue: string;
  gateway: Gateway;
  /** The settlement chaincode on the venue's channel. */
  contract: Contract;
  progress: Progress;
  /** An instrument's assets, or undefined if it does not settle here. */
  asset: (instrument: string) => FabricAsset | undefined;
  /**
   * The private data collection the venue's chaincode keeps trade details in (its config's
   * `privateCollection`): the trades then travel as transient data, the ids alone in the clear.
   */
  privateCollection?: string;
  log?: Logger;
}

/** The proposal of a batch in flight, as recorded. */
interface Recorded {
  batch: string;
  txId: string;
  /** The serialized proposal, base64. */
  proposal: string;
}

/** MVCC conflicts retried within one `settle` before it gives up (and the daemon retries). */
const MAX_CONFLICTS = 5;
/** gRPC ALREADY_EXISTS: the gateway has a transaction with this id (a submit made twice). */
const ALREADY_EXISTS = 6;
/** What a Fabric peer's endorser says of a transaction id already committed. */
const DUPLICATE_AT_ENDORSE = /duplicate transaction found/;

export class FabricLedger implements Ledger {
  readonly venue: string;
  #o: FabricLedgerOptions;
  /** Legs go out one transaction at a time (batches of trades and withdrawals may be several). */
  #legs = new OneAtATime();
  /** Batches of trades and withdrawals that share keys go one after another. */
  #order = new KeyOrder();
  /** Hash time-locks of cross-ledger trades, sent as the batches are. */
  readonly legs: FabricLegs;

  constructor(options: FabricLedgerOptions) {
    this.venue = options.venue;
    this.#o = options;
    adoptSingleRecord(options.progress, options.venue);
    this.legs = new FabricLegs(options.venue, options.contract, (fn, ids, args) =>
      this.#legs.run(() =>
        this.#submit<LegVerdict>(
          {
            name: fn.name,
            status: 'LegState',
            noun: 'leg',
            tag: fn.tag,
            read: (raw, id) => legVerdictOf(fn.name, id, JSON.parse(raw) as LegRecord),
          },
          ids,
          { arguments: [args] },
        ),
      ),
    );
  }

  /** The last batch transaction committed on `venue`, as its ledger recorded it in `progress`. */
  static lastBatchTx(progress: Progress, venue: string): string | undefined {
    return progress.ledgerRecord<string>(lastTxKey(venue));
  }

  /**
   * What a trade's transaction touches that another's could: the four balances it moves and its
   * verdict key (fees go to keys of each transaction's own; standings and the venue's
   * configuration are only read); a withdrawal's, its balance.
   */
  #keysOf(i: SettlementInstruction | WithdrawalInstruction): readonly string[] {
    if ('tradeId' in i) {
      const asset = this.#o.asset(i.instrument);
      if (asset === undefined) return [];
      const { security, cash } = asset;
      return [
        `balance/${security}/${i.seller}`,
        `balance/${security}/${i.buyer}`,
        `balance/${cash}/${i.buyer}`,
        `balance/${cash}/${i.seller}`,
        `verdicts/${Math.floor(i.tradeId / VERDICTS_PER_KEY)}`,
      ];
    }
    return [`balance/${i.asset.slice(0, i.asset.indexOf('@'))}/${i.account}`];
  }

  settle(batch: readonly SettlementInstruction[]): Promise<SettlementOutcome[]> {
    return this.#inTurn(batch, (turn) => this.#settle(batch, turn));
  }

  release(batch: readonly WithdrawalInstruction[]): Promise<WithdrawalOutcome[]> {
    return this.#inTurn(batch, (turn) => this.#release(batch, turn));
  }

  async close(): Promise<void> {}

  /** Runs `send` in the batch's turn (`KeyOrder`), taken now, in the order batches are handed over. */
  async #inTurn<I extends SettlementInstruction | WithdrawalInstruction, O>(
    batch: readonly I[],
    send: (turn: Turn) => Promise<O>,
  ): Promise<O> {
    const turn = this.#order.take(batch.flatMap((i) => this.#keysOf(i)));
    try {
      return await send(turn);
    } finally {
      turn.done();
    }
  }

  async #settle(batch: readonly SettlementInstruction[], turn: Turn): Promise<SettlementOutcome[]> {
    const { items, outcomes } = sortOut<SettlementInstruction, SettlementOutcome, ChainTrade>(
      TRADES,
      batch,
      (i) => {
        const asset = this.#o.asset(i.instrument);
        if (asset === undefined) return `${i.instrument} does not settle on ${this.venue}`;
        if (!ACCOUNT.test(i.buyer) || !ACCOUNT.test(i.seller)) {
          return 'buyer or seller is not a Fabric identity (MSPID:name)';
        }
        return {
          tradeId: i.tradeId,
          security: asset.security,
          cash: asset.cash,
          buyer: i.buyer,
          seller: i.seller,
          quantity: String(i.quantity),
          cashAmount: String(i.buyerCash),
          fee: String(i.fee),
        };
      },
    );
    if (items.length > 0) {
      const ids = items.map((t) => t.tradeId);
      const verdicts = await this.#submit<Verdict>(SETTLE, ids, this.#batchArguments(items), turn);
      for (const v of verdicts) outcomes.set(v.tradeId, { tradeId: v.tradeId, ...outcomeOf(v) });
    }
    return inBatchOrder(TRADES, batch, outcomes);
  }

  /** Releases withdrawals with one `ReleaseBatch` transaction, exactly once as a batch settles. */
  async #release(batch: readonly WithdrawalInstruction[], turn: Turn): Promise<WithdrawalOutcome[]> {
    const { items, outcomes } = sortOut<WithdrawalInstruction, WithdrawalOutcome, ChainWithdrawal>(
      WITHDRAWALS,
      batch,
      (w) => {
        const at = w.asset.indexOf('@');
        if (w.asset.slice(at + 1) !== this.venue) return `${w.asset} is not released on ${this.venue}`;
        if (!ACCOUNT.test(w.account)) return 'the account is not a Fabric identity (MSPID:name)';
        const { withdrawalId, account } = w;
        return { withdrawalId, account, asset: w.asset.slice(0, at), amount: String(w.amount) };
      },
    );
    if (items.length > 0) {
      const ids = items.map((w) => w.withdrawalId);
      const verdicts = await this.#submit<WithdrawalVerdict>(
        RELEASE,
        ids,
        { arguments: [JSON.stringify(items)] },
        turn,
      );
      for (const v of verdicts)
        outcomes.set(v.withdrawalId, { withdrawalId: v.withdrawalId, ...outcomeOf(v) });
    }
    return inBatchOrder(WITHDRAWALS, batch, outcomes);
  }

  /**
   * Endorses, submits and waits for the batch transaction of the items `ids`; their verdicts. In
   * `turn`: made once the batches before it that share a key are submitted, endorsed once they
   * are done.
   */
  async #submit<V>(
    fn: BatchFunction,
    ids: readonly number[],
    args: { arguments: string[]; transientData?: Record<string, string> },
    turn?: Turn,
  ): Promise<V[]> {
    const { gateway, contract, progress } = this.#o;
    await turn?.submittedBefore;
    const batch = createHash('sha256')
      .update(fn.tag + ids.join(','))
      .digest('hex');
    const key = recordKey(this.venue, batch);
    for (let conflicts = 0; ;) {
      const recorded = progress.ledgerRecord<Recorded>(key);
      const proposal =
        recorded?.batch === batch
          ? gateway.newProposal(Buffer.from(recorded.proposal, 'base64'))
          : contract.newProposal(fn.name, args);
      const txId = proposal.getTransactionId();
      // Recorded while the peer endorses it: on disk before it is submitted.
      let recording: Promise<void> | undefined;
      if (recorded?.batch !== batch) {
        const bytes = Buffer.from(proposal.getBytes()).toString('base64');
        recording = progress.writeLedgerRecords({
          [key]: { batch, txId, proposal: bytes } satisfies Recorded,
        });
      } else {
        this.#o.log?.info(
          { venue: this.venue, txId },
          `${this.venue}: sending batch transaction ${txId} again, as recorded`,
        );
      }
      let submitted;
      try {
        const endorsing =
          turn === undefined ? proposal.endorse() : turn.doneBefore.then(() => proposal.endorse());
        const [endorsed] = await Promise.all([endorsing, recording]);
        submitted = await endorsed.submit();
        turn?.submitted();
      } catch (err) {
        if (duplicate(err)) {
          // Committed (or at least ordered) before a crash: the chaincode knows the verdicts.
          const verdicts = await this.#verdictsOnLedger<V>(fn, ids);
          progress.setLedgerRecords({ [key]: undefined });
          return verdicts;
        }
        throw failed(`${fn.name} ${txId} failed: ${describe(err)}`, { venue: this.venue, txId }, err);
      }
      const status = await submitted.getStatus();
      if (status.successful) {
        turn?.done();
        // Written off the event loop, not waited for: lost in a crash, the batch is sent again under
        // its recorded proposal, which the peer knows (its verdicts are then read from the
        // chaincode), and the check at start meets an older transaction of the daemon's.
        progress
          .writeLedgerRecords({ [key]: undefined, [lastTxKey(this.venue)]: txId })
          .catch((err: unknown) =>
            this.#o.log?.warn({ venue: this.venue, txId, err }, `${this.venue}: recording ${txId} failed`),
          );
        return JSON.parse(Buffer.from(submitted.getResult()).toString('utf8')) as V[];
      }
      progress.setLedgerRecords({ [key]: undefined });
      if (status.code === StatusCode.DUPLICATE_TXID) return this.#verdictsOnLedger<V>(fn, ids);
      const name = statusName(status.code);
      if (status.code === StatusCode.MVCC_READ_CONFLICT && ++conflicts < MAX_CONFLICTS) {
        this.#o.log?.warn(
          { venue: this.venue, txId, status: name },
          `${this.venue}: batch transaction ${txId} hit ${name}; endorsing it again`,
        );
        continue;
      }
      throw makeError(`${fn.name} ${txId} was not committed: ${name}`, 'NOT_COMMITTED', {
        txId,
        status: name,
      });
    }
  }

  /** The proposal's arguments: the trades, or on a private venue their ids and transient trades. */
  #batchArguments(trades: readonly ChainTrade[]): {
    arguments: string[];
    transientData?: Record<string, string>;
  } {
    if (this.#o.privateCollection === undefined) return { arguments: [JSON.stringify(trades)] };
    return {
      arguments: [JSON.stringify(trades.map((t) => t.tradeId))],
      transientData: { trades: JSON.stringify(trades) },
    };
  }

  /** The verdicts the chaincode holds for the items `ids` (each must have one). */
  async #verdictsOnLedger<V>(fn: BatchFunction, ids: readonly number[]): Promise<V[]> {
    const verdicts: V[] = [];
    for (const id of ids) {
      const raw = Buffer.from(await this.#o.contract.evaluateTransaction(fn.status, String(id))).toString(
        'utf8',
      );
      if (raw === '')
        throw makeError(`${fn.noun} ${id} has no verdict on the ledger yet`, 'NOT_FINAL', { id });
      verdicts.push((fn.read === undefined ? JSON.parse(raw) : fn.read(raw, id)) as V);
    }
    return verdicts;
  }
}

function lastTxKey(venue: string): string {
  return `fabric-last-tx:${venue}`;
}

/** Where the proposal of batch `batch` (a hash of its ids) is recorded while it is in flight. */
function recordKey(venue: string, batch: string): string {
  return `fabric-tx:${venue}:${batch}`;
}

/**
 * A daemon that sent one batch at a time recorded its proposal under one key per venue: kept
 * under its batch's key, so the batch asked again is sent under the same transaction id.
 */
function adoptSingleRecord(progress: Progress, venue: string): void {
  const single = `fabric-tx:${venue}`;
  const recorded = progress.ledgerRecord<Recorded>(single);
  if (recorded === undefined) return;
  progress.setLedgerRecords({ [recordKey(venue, recorded.batch)]: recorded, [single]: undefined });
}

/** A chaincode function that gives each item of a batch its verdict once, and how to read one back. */
interface BatchFunction {
  name: string;
  status: string;
  noun: string;
  /** Before the ids in the recorded batch's name (a settle and a release batch with the same ids differ). */
  tag: string;
  /** An item's verdict from what `status` answers (default: it is the verdict, JSON). */
  read?: (raw: string, id: number) => unknown;
}

const SETTLE: BatchFunction = { name: 'SettleBatch', status: 'TradeStatus', noun: 'trade', tag: '' };
const RELEASE: BatchFunction = {
  name: 'ReleaseBatch',
  status: 'WithdrawalStatus',
  noun: 'withdrawal',
  tag: 'release:',
};

/** A chaincode verdict as the daemon's outcome: its transaction id the reference. */
function outcomeOf(v: { ok: boolean; reason?: string; txId: string }) {
  return v.ok
    ? { ok: true as const, ref: v.txId }
    : { ok: false as const, reason: v.reason ?? 'FAILED', ref: v.txId };
}

/**
 * Whether the peer refused the transaction as one it has: at endorsement (Fabric's endorser:
 * ABORTED, detail "duplicate transaction found [txid]") or at submission.
 */
function duplicate(err: unknown): boolean {
  const e = err as { code?: number; details?: Array<{ message: string }> };
  return e.code === ALREADY_EXISTS || (e.details ?? []).some((d) => DUPLICATE_AT_ENDORSE.test(d.message));
}

/**
 * The chaincode refusing the caller itself (`requireOperator`: "only the operator X may do this,
 * not Y"): the identity the daemon signs with is not the venue's operator, which no retry changes.
 */
const NOT_OPERATOR = /only the operator \S+ may do this, not \S+/;

/** A batch transaction that failed at endorsement or submission: permanent if the chaincode refuses the caller. */
function failed(message: string, info: Record<string, unknown>, err: unknown): Error {
  const refusal = NOT_OPERATOR.exec(describe(err));
  if (refusal === null) return makeError(message, 'BATCH_REFUSED', info, err);
  return makeError(
    `${message}: the settlement chaincode ${refusal[0]}; sign with the operator's identity ` +
      "(the connector's operator certificate and key), or have the venue configured with this one as operator",
    'NOT_OPERATOR',
    info,
    err,
  );
}

/** An error of the gateway client with its details (the peer's own messages). */
function describe(err: unknown): string {
  const e = err as Error & { details?: Array<{ message: string }> };
  const details = e.details?.map((d) => d.message).join('; ');
  return details ? `${e.message} (${details})` : e.message;
}

/** A commit status code's name (`MVCC_READ_CONFLICT`). */
function statusName(code: number): string {
  return Object.entries(StatusCode).find(([, c]) => c === code)?.[0] ?? `code ${code}`;
}
