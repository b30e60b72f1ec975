/**
 * Hash time-locks on the settlement chaincode (docs/fabric.md, "Hash-locked legs"): a batch of
 * legs locked, claimed or refunded with one `LockLegs`, `ClaimLegs` or `RefundLegs` transaction,
 * sent as the ledger sends its batches (a proposal recorded before it goes out, sent again as
 * recorded after a crash). A leg the transaction did not move (it stood elsewhere already, a
 * wrong secret, an expiry not reached) is read back from `LegState`. Amounts are engine units,
 * as the chaincode counts them; assets are the symbols before the venue.
 */
import type { Contract } from '@hyperledger/fabric-gateway';
import type { ChainLeg, LegRecord, LegVerdict } from 'mosaic-settlement-chaincode';
import type { LegProgress } from '../../engine/index.ts';
import type { LegLedger, LegOutcome, LegTerms } from '../legs.ts';

/** How the ledger sends one batch transaction of the items `ids` and gets their verdicts. */
export type SubmitLegs = (
  fn: { name: string; tag: string },
  ids: readonly number[],
  args: string,
) => Promise<LegVerdict[]>;

/** A Fabric party as the chaincode names it: `MSPID:name`. */
export const ACCOUNT = /^[A-Za-z0-9._-]{1,64}:[^\s]{1,128}$/;

export class FabricLegs implements LegLedger {
  #venue: string;
  #contract: Contract;
  #submit: SubmitLegs;

  constructor(venue: string, contract: Contract, submit: SubmitLegs) {
    this.#venue = venue;
    this.#contract = contract;
    this.#submit = submit;
  }

  lock(legs: readonly LegTerms[]): Promise<LegOutcome[]> {
    return this.#step(LOCK, legs, (ok) =>
      JSON.stringify(
        ok.map((l): ChainLeg => ({
          tradeId: l.tradeId,
          asset: l.asset.slice(0, l.asset.indexOf('@')),
          from: l.from,
          to: l.to,
          amount: String(l.amount),
          fee: String(l.fee),
          hashlock: l.hashlock,
          expiry: l.expiry,
          security: l.security,
        })),
      ),
    );
  }

  claim(legs: readonly LegTerms[], secrets: readonly Buffer[]): Promise<LegOutcome[]> {
    const secret = new Map(legs.map((l, i) => [l.tradeId, secrets[i]!.toString('hex')]));
    return this.#step(CLAIM, legs, (ok) =>
      JSON.stringify(ok.map((l) => ({ tradeId: l.tradeId, secret: secret.get(l.tradeId)! }))),
    );
  }

  refund(legs: readonly LegTerms[]): Promise<LegOutcome[]> {
    return this.#step(REFUND, legs, (ok) => JSON.stringify(ok.map((l) => l.tradeId)));
  }

  async state(tradeId: number): Promise<LegProgress> {
    return (await this.#record(tradeId))?.state ?? 'none';
  }

  async #record(tradeId: number): Promise<LegRecord | null> {
    const raw = Buffer.from(await this.#contract.evaluateTransaction('LegState', String(tradeId))).toString(
      'utf8',
    );
    return raw === '' ? null : (JSON.parse(raw) as LegRecord);
  }

  /** One transaction for the legs that can go to this network, each leg's outcome from its verdict. */
  async #step(
    fn: LegFunction,
    legs: readonly LegTerms[],
    args: (ok: readonly LegTerms[]) => string,
  ): Promise<LegOutcome[]> {
    const outcomes = new Map<number, LegOutcome>();
    const ok: LegTerms[] = [];
    for (const l of legs) {
      if (!l.asset.endsWith(`@${this.#venue}`)) {
        outcomes.set(l.tradeId, {
          tradeId: l.tradeId,
          state: fn === LOCK ? 'refused' : 'none',
          reason: `${l.asset} is not on ${this.#venue}`,
        });
      } else if (!ACCOUNT.test(l.from) || !ACCOUNT.test(l.to)) {
        outcomes.set(l.tradeId, {
          tradeId: l.tradeId,
          state: fn === LOCK ? 'refused' : 'none',
          reason: 'a party is not a Fabric identity (MSPID:name)',
        });
      } else {
        ok.push(l);
      }
    }
    if (ok.length > 0) {
      const verdicts = await this.#submit(
        fn,
        ok.map((l) => l.tradeId),
        args(ok),
      );
      for (const v of verdicts) {
        if (v.ok) {
          outcomes.set(v.tradeId, { tradeId: v.tradeId, state: fn.done, ref: v.txId });
          continue;
        }
        // Not moved: as it stands (a refused lock with its first reason).
        const record = await this.#record(v.tradeId);
        const reason = record?.state === 'refused' ? (record.reason ?? v.reason) : v.reason;
        outcomes.set(v.tradeId, {
          tradeId: v.tradeId,
          state: record?.state ?? 'none',
          ...(reason === undefined ? {} : { reason }),
          ref: record?.txId ?? v.txId,
        });
      }
    }
    return legs.map(
      (l) => outcomes.get(l.tradeId) ?? { tradeId: l.tradeId, state: 'none', reason: 'no verdict' },
    );
  }
}

interface LegFunction {
  name: string;
  tag: string;
  /** The leg's state when the step moved it. */
  done: LegProgress;
}

const LOCK: LegFunction = { name: 'LockLegs', tag: 'lock:', done: 'locked' };
const CLAIM: LegFunction = { name: 'ClaimLegs', tag: 'claim:', done: 'claimed' };
const REFUND: LegFunction = { name: 'RefundLegs', tag: 'refund:', done: 'refunded' };

/**
 * A leg's verdict read back from `LegState` (after a crash the transaction was committed before):
 * moved if it stands where the step `name` leaves a leg.
 */
export function legVerdictOf(name: string, tradeId: number, record: LegRecord): LegVerdict {
  const done = [LOCK, CLAIM, REFUND].find((f) => f.name === name)!.done;
  return record.state === done
    ? { tradeId, ok: true, txId: record.txId }
    : { tradeId, ok: false, reason: record.reason ?? `the leg is ${record.state}`, txId: record.txId };
}
