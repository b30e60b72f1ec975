/**
 * Hash time-locks on the EVM escrow (docs/evm-contracts.md, "Hash-locked legs"): a batch of legs
 * locked, claimed or refunded with one `lockLegs`, `claimLegs` or `refundLegs` transaction through
 * the ledger's `BatchSender`, each leg's new state read from the receipt's events (a leg skipped
 * because it stood elsewhere already is read back from `legState`). Engine amounts become token
 * base units here, as for trades.
 */
import { decodeBytes32String, getAddress, isAddress } from 'ethers';
import type { Contract } from 'ethers';
import type { LegProgress } from '../../engine/index.ts';
import type { LegLedger, LegOutcome, LegTerms } from '../legs.ts';
import type { EvmToken } from './ledger-evm.ts';
import type { RawLog } from './sender.ts';

/** One transaction's receipt as the legs need it, and each leg's share of its cost. */
export interface Transacted {
  hash: string;
  logs: RawLog[];
  gas: bigint[];
  fees: bigint[];
}

export interface EvmLegsOptions {
  venue: string;
  settlement: Contract;
  /** An asset's token and its base units per engine unit, or undefined if it is not on this chain. */
  token: (asset: string) => EvmToken | undefined;
  /** Sends one batch transaction, named in the nonce record by `key`, for `count` legs. */
  transact: (key: string, data: string, count: number) => Promise<Transacted>;
}

/** The escrow's leg states (`legState`), by number. */
const STATES: readonly LegProgress[] = ['none', 'locked', 'claimed', 'refunded', 'refused'];

type Row = [bigint, string, string, string, bigint, bigint, string, bigint, boolean];

export class EvmLegs implements LegLedger {
  #o: EvmLegsOptions;
  #escrow: string;
  #events: Map<string, string>;

  constructor(options: EvmLegsOptions) {
    this.#o = options;
    this.#escrow = String(options.settlement.target).toLowerCase();
    const names = ['LegLocked', 'LegRefused', 'LegClaimed', 'LegRefunded', 'LegSkipped'];
    this.#events = new Map(names.map((n) => [options.settlement.interface.getEvent(n)!.topicHash, n]));
  }

  lock(legs: readonly LegTerms[]): Promise<LegOutcome[]> {
    return this.#step('lock', legs, (rows) => ['lockLegs', [rows]]);
  }

  claim(legs: readonly LegTerms[], secrets: readonly Buffer[]): Promise<LegOutcome[]> {
    const hex = secrets.map((s) => `0x${s.toString('hex')}`);
    return this.#step('claim', legs, (rows) => ['claimLegs', [rows, hex]]);
  }

  refund(legs: readonly LegTerms[]): Promise<LegOutcome[]> {
    return this.#step('refund', legs, (rows) => ['refundLegs', [rows]]);
  }

  async state(tradeId: number): Promise<LegProgress> {
    return STATES[Number(await this.#o.settlement.getFunction('legState')(tradeId))] ?? 'none';
  }

  /**
   * One transaction for the legs that can go to this chain (the others are refused at once: a
   * party that is no address, an asset not on this chain), each leg's outcome from its events.
   */
  async #step(
    tag: string,
    legs: readonly LegTerms[],
    call: (rows: Row[]) => [string, unknown[]],
  ): Promise<LegOutcome[]> {
    const outcomes = new Map<number, LegOutcome>();
    const rows: Row[] = [];
    for (const leg of legs) {
      const token = this.#o.token(leg.asset);
      const problem =
        token === undefined
          ? `${leg.asset} is not on ${this.#o.venue}`
          : !isAddress(leg.from) || !isAddress(leg.to)
            ? 'a party is not an Ethereum address'
            : null;
      if (problem !== null) {
        outcomes.set(leg.tradeId, {
          tradeId: leg.tradeId,
          state: tag === 'lock' ? 'refused' : 'none',
          reason: problem,
        });
        continue;
      }
      rows.push([
        BigInt(leg.tradeId),
        token!.address,
        getAddress(leg.from),
        getAddress(leg.to),
        BigInt(leg.amount) * token!.units,
        BigInt(leg.fee) * token!.units,
        `0x${leg.hashlock}`,
        BigInt(leg.expiry),
        leg.security,
      ]);
    }
    if (rows.length > 0) {
      const [fn, args] = call(rows);
      const data = this.#o.settlement.interface.encodeFunctionData(fn, args);
      const key = `${tag}:${rows.map((r) => r[0]).join(',')}`;
      const t = await this.#o.transact(key, data, rows.length);
      for (const log of t.logs) await this.#outcome(log, t.hash, outcomes);
      rows.forEach((r, k) => {
        const o = outcomes.get(Number(r[0]));
        if (o !== undefined) Object.assign(o, { gas: Number(t.gas[k]), fee: t.fees[k]!.toString() });
      });
    }
    return legs.map(
      (l) => outcomes.get(l.tradeId) ?? { tradeId: l.tradeId, state: 'none', reason: 'no event' },
    );
  }

  /** The outcome one escrow event gives its leg; a skipped leg's state is read from the chain. */
  async #outcome(log: RawLog, ref: string, outcomes: Map<number, LegOutcome>): Promise<void> {
    const [topic, idTopic] = log.topics;
    const name = topic === undefined ? undefined : this.#events.get(topic);
    if (name === undefined || idTopic === undefined || log.address.toLowerCase() !== this.#escrow) return;
    const tradeId = Number(BigInt(idTopic));
    const reason = () => decodeBytes32String(log.data.slice(0, 66));
    switch (name) {
      case 'LegLocked':
        return void outcomes.set(tradeId, { tradeId, state: 'locked', ref });
      case 'LegRefused':
        return void outcomes.set(tradeId, { tradeId, state: 'refused', reason: reason(), ref });
      case 'LegClaimed':
        return void outcomes.set(tradeId, { tradeId, state: 'claimed', ref });
      case 'LegRefunded':
        return void outcomes.set(tradeId, { tradeId, state: 'refunded', ref });
      default: {
        // Skipped: it stands elsewhere already (a refused lock with its first reason).
        const state = await this.state(tradeId);
        const settlement = this.#o.settlement;
        const [first] =
          state === 'refused' ? await settlement.queryFilter(settlement.filters.LegRefused!(tradeId)) : [];
        const why =
          first !== undefined && 'args' in first ? decodeBytes32String(first.args[1] as string) : reason();
        outcomes.set(tradeId, { tradeId, state, reason: why, ref: first?.transactionHash ?? ref });
      }
    }
  }
}
