/**
 * Withdrawals as clients see them. An account asks for one (the WebSocket op `withdraw`); the
 * engine takes the amount from its available balance and grants it a withdrawal id (`pending`),
 * the venue's settlement daemon releases it on the ledger, and the engine hears the verdict:
 * `released`, with the ledger's reference and, where the ledger charges, the release's share of
 * the gas and fee; or `refused`, with the ledger's reason, the amount back in the available
 * balance. Each step is a `withdrawal` report to the account's sessions, and REST lists an
 * account's withdrawals. Withdrawals pending at start are known from the engine, later ones from
 * its events; the last `keep` are remembered (the oldest forgotten first), as settlements are.
 */
import { amountToUnits, type WithdrawalEvent, type WithdrawalStatus } from '../engine/index.ts';
import { times } from './decimals.ts';
import { makeError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import { makeRoom } from '../common/index.ts';

/** A withdrawal as REST shows it. */
export interface WithdrawalView {
  withdrawalId: number;
  account: string;
  /** `SYMBOL@venue` or `QUOTE@venue`. */
  asset: string;
  venue: string;
  /** A decimal amount of the asset, with the decimals of its unit (as its balance). */
  amount: string;
  status: WithdrawalStatus;
  /** When it was granted (0: before the gateway started), and when its verdict came (ms since the epoch). */
  requestedAt: number;
  settledAt?: number;
  /** Why the ledger refused it. */
  reason?: string;
  /** The ledger's reference of the release (transaction hash or id), and its share of the cost. */
  ref?: string;
  gas?: number;
  /** Fee in the ledger's native base units (wei), a decimal string. */
  gasFee?: string;
}

/** A withdrawal's step, as reported to the account's sessions (see docs/ws-protocol.md). */
export interface WithdrawalReport {
  type: 'withdrawal';
  withdrawalId: number;
  asset: string;
  amount: string;
  status: WithdrawalStatus;
  reason?: string;
  ref?: string;
  gas?: number;
  gasFee?: string;
  ts: number;
  // A withdrawal names no order (execution reports do).
  clientOrderId?: undefined;
  orderId?: undefined;
}

/** Withdrawals of one venue since the gateway started: counts, and what the releases cost. */
export interface WithdrawalPipeline {
  venue: string;
  pending: number;
  released: number;
  refused: number;
  /** Verdicts that came with a cost (ledgers that charge for a release). */
  costed: number;
  gas: number;
  /** Fee in the ledger's native base units (wei), over the costed verdicts. */
  fee: bigint;
}

export class Withdrawals {
  #exchange: Exchange;
  #byId = new Map<number, WithdrawalView>();
  #byAccount = new Map<string, Set<number>>();
  #venues = new Map<string, WithdrawalPipeline>();
  #keep: number;

  constructor(exchange: Exchange, keep = 100_000) {
    this.#exchange = exchange;
    this.#keep = keep;
    for (const w of exchange.view.pendingWithdrawals()) {
      this.#granted({ ...w, ts: 0 });
    }
    exchange.onEvents((_seq, events) => {
      for (const e of events) if (e.kind === 'withdrawal') this.#step(e);
    });
  }

  /** A withdrawal, or undefined if it is unknown or too old to be remembered. */
  get(withdrawalId: number): WithdrawalView | undefined {
    return this.#byId.get(withdrawalId);
  }

  /** Counts and costs per venue since the gateway started. */
  pipelines(): WithdrawalPipeline[] {
    return [...this.#venues.values()].map((p) => ({ ...p }));
  }

  /** An account's withdrawals remembered, oldest first. */
  of(account: string): WithdrawalView[] {
    return [...(this.#byAccount.get(account) ?? [])].map((id) => this.#byId.get(id)!);
  }

  /**
   * The engine units of a requested amount of a visible asset; throws UNKNOWN_ASSET for an asset
   * the exchange does not count (or that `canSee` hides), BAD_DECIMAL for an amount that is not a
   * positive whole number of the asset's units.
   */
  units(asset: string, amount: string, canSee: (venue: string) => boolean): number {
    const unit = this.#exchange.view.assetUnit(asset);
    if (unit === undefined || !canSee(asset.slice(asset.indexOf('@') + 1))) {
      throw makeError(
        `unknown asset "${asset}": name one the exchange holds for you, as SYMBOL@venue or QUOTE@venue`,
        'UNKNOWN_ASSET',
        { asset },
      );
    }
    const r = amountToUnits(amount, unit);
    if (!r.ok || r.value < 1) {
      const why = r.ok ? 'it must be positive' : r.reason;
      throw makeError(
        `amount "${amount}" is not valid: ${why}; ${asset} moves in units of ${unit}`,
        'BAD_DECIMAL',
        { field: 'amount' },
      );
    }
    return r.value;
  }

  /** The report a withdrawal event makes for its account. */
  report(e: WithdrawalEvent): WithdrawalReport {
    const r: WithdrawalReport = {
      type: 'withdrawal',
      withdrawalId: e.withdrawalId,
      asset: e.asset,
      amount: this.#amount(e.asset, e.amount),
      status: e.status,
      ts: e.ts,
    };
    if (e.reason) r.reason = e.reason;
    if (e.ref) r.ref = e.ref;
    if (e.gasFee) {
      r.gas = e.gas;
      r.gasFee = e.gasFee;
    }
    return r;
  }

  #amount(asset: string, units: number): string {
    return times(units, this.#exchange.view.assetUnit(asset) ?? '1');
  }

  #step(e: WithdrawalEvent): void {
    if (e.status === 'pending') {
      this.#granted(e);
      return;
    }
    const w = this.#byId.get(e.withdrawalId);
    if (w === undefined || w.status !== 'pending') return;
    const r = this.report(e);
    w.status = r.status;
    w.settledAt = r.ts;
    const p = this.#pipeline(w.venue);
    p.pending--;
    p[r.status === 'released' ? 'released' : 'refused']++;
    if (r.gasFee !== undefined) {
      p.costed++;
      p.gas += r.gas ?? 0;
      p.fee += BigInt(r.gasFee);
    }
    for (const f of ['reason', 'ref', 'gas', 'gasFee'] as const)
      if (r[f] !== undefined) Object.assign(w, { [f]: r[f] });
  }

  #pipeline(venue: string): WithdrawalPipeline {
    let p = this.#venues.get(venue);
    if (p === undefined) {
      p = { venue, pending: 0, released: 0, refused: 0, costed: 0, gas: 0, fee: 0n };
      this.#venues.set(venue, p);
    }
    return p;
  }

  #granted(w: { withdrawalId: number; account: string; asset: string; amount: number; ts: number }): void {
    makeRoom(this.#byId, this.#keep, (id, oldest) => {
      const theirs = this.#byAccount.get(oldest.account);
      theirs?.delete(id);
      if (theirs?.size === 0) this.#byAccount.delete(oldest.account);
    });
    const venue = w.asset.slice(w.asset.indexOf('@') + 1);
    this.#pipeline(venue).pending++;
    this.#byId.set(w.withdrawalId, {
      withdrawalId: w.withdrawalId,
      account: w.account,
      asset: w.asset,
      venue,
      amount: this.#amount(w.asset, w.amount),
      status: 'pending',
      requestedAt: w.ts,
    });
    let mine = this.#byAccount.get(w.account);
    if (mine === undefined) {
      mine = new Set();
      this.#byAccount.set(w.account, mine);
    }
    mine.add(w.withdrawalId);
  }
}
