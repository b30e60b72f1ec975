/**
 * Cross-ledger trades, delivery versus payment by hash time-locks (docs/settlement.md,
 * "Cross-ledger trades"). A cross-ledger instrument's security settles on its venue (leg A, the
 * security leg) and its cash on its quote venue (leg B, the cash leg); the daemon of each ledger
 * keeps its own leg of each trade, here, and the engine keeps both legs' states, which the
 * daemons read and report to (`settle-leg`):
 *
 * 1. Each daemon locks its leg under the trade's hash: the security from the seller to the buyer,
 *    the cash (fees included) from the buyer to the seller (the fees to the venue's fee account).
 * 2. Once the engine holds both legs locked, the security daemon claims leg A with the secret,
 *    which makes the secret public on ledger A.
 * 3. Once the engine holds leg A claimed, the cash daemon claims leg B with the same secret.
 *
 * Leg A expires `lockSeconds` after the match and leg B `marginSeconds` later, so the secret,
 * once public, leaves leg B `marginSeconds` to be claimed; leg A is claimed (and a leg is locked)
 * only until `claimMarginSeconds` before its expiry, so that its claim lands before it. A leg
 * whose other side is refused, refunded, or never locked in time is refunded from its expiry on;
 * leg B is refunded only once the engine holds leg A refunded or refused (never merely late), so
 * it is never refunded while leg A might be claimed.
 *
 * The secret of a trade is derived from the operator's key and the trade id (`secretOf`): nothing
 * secret is written anywhere, and a restart derives it again. Each ledger answers a leg locked,
 * claimed or refunded before as it stands, and the keeper holds no state the engine and the
 * ledger do not: after a crash it reads the engine's pending trades and goes on.
 */
import { createHash, createHmac } from 'node:crypto';
import { lineLogger, type Logger, permanentCause } from '../common/index.ts';
import {
  type InstrumentSpec,
  type LegProgress,
  type LegState,
  type PendingSettlementView,
  type PublishedEvent,
  type SettleLegCommand,
} from '../engine/index.ts';
import { instructionOf, isTrade } from './instructions.ts';

/** The timing of the hash time-locks, the same for both ledgers of a trade (`htlc` in the configuration). */
export interface HtlcSettings {
  /** Leg A (security) expires this many seconds after the match. */
  lockSeconds: number;
  /** Leg B (cash) expires this many seconds after leg A: the time the public secret leaves its claim. */
  marginSeconds: number;
  /** No lock is sent, and leg A is not claimed, later than this many seconds before leg A's expiry. */
  claimMarginSeconds: number;
}

/** What the daemons of a cross-ledger trade share: the timing, and the operator's key the secrets come from. */
export interface Htlc {
  settings: HtlcSettings;
  key: Uint8Array;
}

/** One leg as a ledger locks, claims and refunds it: amounts in engine units (lots, cash units). */
export interface LegTerms {
  tradeId: number;
  /** The security leg (A), or the cash leg (B). */
  security: boolean;
  /** The engine asset: `BOND@fabric:bank-net`, `USDC@evm:31337`. */
  asset: string;
  /** Who gives and who takes, as the ledger names them (the accounts' parties there). */
  from: string;
  to: string;
  /** What leaves `from`, the fee included; `to` receives it less `fee`, the venue's fee account `fee`. */
  amount: number;
  fee: number;
  /** SHA-256 of the secret, 64 hex digits. */
  hashlock: string;
  /** Unix seconds: claimable before, refundable from then on. */
  expiry: number;
}

/** What a ledger did to a leg: where it stands now, why a step did not happen, what it cost. */
export interface LegOutcome {
  tradeId: number;
  state: LegProgress;
  /** Why the lock was refused, or why the claim or refund did not happen (the leg stands as it was). */
  reason?: string;
  /** The transaction that last changed it. */
  ref?: string;
  gas?: number;
  fee?: string;
}

/** Hash time-locks on one ledger; each step idempotent per trade id. */
export interface LegLedger {
  lock(legs: readonly LegTerms[]): Promise<LegOutcome[]>;
  claim(legs: readonly LegTerms[], secrets: readonly Buffer[]): Promise<LegOutcome[]>;
  refund(legs: readonly LegTerms[]): Promise<LegOutcome[]>;
  /** Where a leg stands on the ledger ('none': never locked). */
  state(tradeId: number): Promise<LegProgress>;
}

/** The secret of a trade's legs: HMAC-SHA256 of the trade id under the operator's key. */
export function secretOf(key: Uint8Array, tradeId: number): Buffer {
  return createHmac('sha256', key).update(`mosaic-htlc-v1:${tradeId}`).digest();
}

/** SHA-256 of a secret, hex: the hash both legs are locked under. */
export function hashlockOf(secret: Buffer): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Checks the settings; returns what is wrong, or null. */
export function htlcProblem(h: HtlcSettings): string | null {
  const whole = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
  if (!whole(h.lockSeconds) || !whole(h.marginSeconds) || !whole(h.claimMarginSeconds))
    return 'lockSeconds, marginSeconds and claimMarginSeconds must be positive whole numbers';
  if (h.claimMarginSeconds >= h.lockSeconds) return 'claimMarginSeconds must be less than lockSeconds';
  return null;
}

/** A cross-ledger trade as the keeper holds it: the engine's view, its legs as last heard. */
interface Held {
  view: PendingSettlementView;
  matchedAt: number;
  legs: [LegProgress, LegProgress];
}

export interface LegKeeperOptions {
  /** The ledger's venue: it keeps the security legs of its instruments, the cash legs of those quoted here. */
  venue: string;
  ledger: LegLedger;
  htlc: HtlcSettings;
  /** The operator's key the secrets are derived from (the same for both ledgers' daemons). */
  key: Uint8Array;
  specOf: (instrument: string) => Readonly<InstrumentSpec> | undefined;
  partyOf: (account: string, venue: string) => string;
  /** Reports a leg's step to the engine. */
  send: (command: Omit<SettleLegCommand, 'ts'>) => void;
  /** Unix ms (default Date.now). */
  clock?: () => number;
  /** How often to look at expiries and deadlines, ms (default 1 000). */
  tickMs?: number;
  log?: Logger;
  /** Told once when a step fails for good (the ledger refuses the daemon as its operator, say): the keeper has stopped. */
  onFailure?: (err: Error) => void;
}

/** The daemon's part in cross-ledger trades: its ledger's leg of each (see the module comment). */
export class LegKeeper {
  #o: Required<Omit<LegKeeperOptions, 'log' | 'onFailure'>> &
    Pick<LegKeeperOptions, 'onFailure'> & { log: Logger };
  /** The last step's error, logged once until it changes or a step succeeds. */
  #lastError = '';
  #held = new Map<number, Held>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  /** Steps done, for stats. */
  readonly done = { locked: 0, claimed: 0, refunded: 0, refused: 0 };

  constructor(options: LegKeeperOptions) {
    this.#o = {
      clock: Date.now,
      tickMs: 1_000,
      log: lineLogger((line) => process.stderr.write(`${line}\n`)),
      ...options,
    };
  }

  /** Cross-ledger trades with a leg here, held now. */
  get held(): number {
    return this.#held.size;
  }

  /** Takes the engine's pending cross-ledger trades with a leg here, and starts the ticks. */
  start(pending: readonly PendingSettlementView[]): void {
    for (const t of pending) if (t.legs !== undefined) this.#hold(t, t.matchedAt!, [t.legs[0], t.legs[1]]);
    this.#timer = setInterval(() => this.#kick(), this.#o.tickMs);
    this.#kick();
  }

  /** Takes in one durable command's events: new cross-ledger trades, their legs' steps, their ends. */
  readonly onEvents = (_seq: number, events: readonly PublishedEvent[]): void => {
    let changed = false;
    for (const e of events) {
      if (isTrade(e)) {
        const spec = this.#o.specOf(e.instrument);
        if (spec?.quoteVenue === undefined || this.#held.has(e.tradeId)) continue;
        const { venue: _v, matchedAt, ...view } = instructionOf(e, spec);
        changed = this.#hold(view, matchedAt, ['none', 'none']) || changed;
      } else if (e.kind === 'leg') {
        const h = this.#held.get(e.tradeId);
        if (h !== undefined) {
          h.legs[e.leg === 'security' ? 0 : 1] = e.status;
          changed = true;
        }
      } else if (e.kind === 'settlement') {
        this.#held.delete(e.tradeId);
      }
    }
    if (changed) this.#kick();
  };

  /** Stops the ticks (after the step in flight). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  #hold(view: PendingSettlementView, matchedAt: number, legs: [LegProgress, LegProgress]): boolean {
    const spec = this.#o.specOf(view.instrument);
    if (spec?.quoteVenue === undefined) return false;
    const venue = view.instrument.slice(view.instrument.indexOf('@') + 1);
    if (venue !== this.#o.venue && spec.quoteVenue !== this.#o.venue) return false;
    this.#held.set(view.tradeId, { view, matchedAt, legs });
    return true;
  }

  /** Runs a step now, or once the one running ends. */
  #kick(): void {
    if (this.#stopped) return;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#running = this.#step()
      .then(
        () => {
          if (this.#lastError !== '')
            this.#o.log.info({ venue: this.#o.venue }, `${this.#o.venue}: legs: working again`);
          this.#lastError = '';
        },
        (err: Error) => {
          if (permanentCause(err) !== null) {
            this.#stopped = true;
            if (this.#timer) clearInterval(this.#timer);
            this.#o.log.error(
              { venue: this.#o.venue, err },
              `${this.#o.venue}: legs stopped: ${err.message}`,
            );
            this.#o.onFailure?.(err);
            return;
          }
          if (err.message !== this.#lastError)
            this.#o.log.warn(
              { venue: this.#o.venue, err },
              `${this.#o.venue}: legs: ${err.message}; trying again`,
            );
          this.#lastError = err.message;
        },
      )
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  /** Which leg of a held trade is this ledger's: 0 security, 1 cash. */
  #mine(h: Held): 0 | 1 {
    return h.view.instrument.endsWith(`@${this.#o.venue}`) ? 0 : 1;
  }

  /** One look at every held trade: the locks, claims and refunds due, each kind in one batch. */
  async #step(): Promise<void> {
    const now = Math.floor(this.#o.clock() / 1000);
    const toLock: Held[] = [];
    const toClaim: Held[] = [];
    const toRefund: Held[] = [];
    const notLocked: Array<[Held, string]> = [];
    for (const h of this.#held.values()) {
      const i = this.#mine(h);
      const [mine, other] = [h.legs[i], h.legs[1 - i]];
      const { expiryA, expiryB } = this.#expiries(h);
      if (mine === 'none') {
        if (other === 'refused' || other === 'refunded')
          notLocked.push([h, `the ${i === 0 ? 'cash' : 'security'} leg was ${other}`]);
        else if (now >= expiryA - this.#o.htlc.claimMarginSeconds) notLocked.push([h, 'too late to lock']);
        else toLock.push(h);
      } else if (mine === 'locked') {
        const expiry = i === 0 ? expiryA : expiryB;
        if (i === 0) {
          if (other === 'locked' && now < expiryA - this.#o.htlc.claimMarginSeconds) toClaim.push(h);
          else if (other !== 'claimed' && now >= expiry) toRefund.push(h);
        } else if (other === 'claimed') {
          // Past its expiry the secret cannot claim it any more: the margins were broken (a split).
          if (now < expiry) toClaim.push(h);
          else toRefund.push(h);
        } else if ((other === 'refused' || other === 'refunded') && now >= expiry) {
          toRefund.push(h);
        }
      }
    }
    await this.#notLocked(notLocked);
    if (toLock.length > 0) this.#report(toLock, await this.#o.ledger.lock(toLock.map((h) => this.#terms(h))));
    if (toClaim.length > 0) {
      const secrets = toClaim.map((h) => secretOf(this.#o.key, h.view.tradeId));
      this.#report(
        toClaim,
        await this.#o.ledger.claim(
          toClaim.map((h) => this.#terms(h)),
          secrets,
        ),
      );
    }
    if (toRefund.length > 0)
      this.#report(toRefund, await this.#o.ledger.refund(toRefund.map((h) => this.#terms(h))));
  }

  /**
   * Legs not to lock (the other refused or refunded, or too late): refused without a lock, unless
   * the ledger has one after all (locked before a crash, not reported): then it is reported.
   */
  async #notLocked(legs: ReadonlyArray<[Held, string]>): Promise<void> {
    for (const [h, why] of legs) {
      const state = await this.#o.ledger.state(h.view.tradeId);
      if (state === 'none') this.#send(h, 'refused', { reason: `not locked: ${why}` });
      else this.#report([h], [{ tradeId: h.view.tradeId, state }]);
    }
  }

  /** Reports each leg's new state to the engine, through the states between (a lock, then its end). */
  #report(held: readonly Held[], outcomes: readonly LegOutcome[]): void {
    const byId = new Map(outcomes.map((o) => [o.tradeId, o]));
    for (const h of held) {
      const o = byId.get(h.view.tradeId);
      if (o === undefined) continue;
      const was = h.legs[this.#mine(h)];
      if (o.state === was || o.state === 'none') {
        if (o.reason !== undefined)
          this.#o.log.warn(
            { venue: this.#o.venue, tradeId: o.tradeId, reason: o.reason },
            `${this.#o.venue}: trade ${o.tradeId}: its leg stays ${was} (${o.reason})`,
          );
        continue;
      }
      const costs = {
        ...(o.ref === undefined ? {} : { ref: o.ref }),
        ...(o.gas === undefined ? {} : { gas: o.gas }),
        ...(o.fee === undefined ? {} : { gasFee: o.fee }),
      };
      if (was === 'none' && (o.state === 'claimed' || o.state === 'refunded')) this.#send(h, 'locked', {});
      this.#send(h, o.state, o.state === 'refused' ? { ...costs, reason: o.reason ?? 'refused' } : costs);
    }
  }

  #send(h: Held, state: LegState, extra: Partial<SettleLegCommand>): void {
    const i = this.#mine(h);
    h.legs[i] = state;
    this.done[state]++;
    this.#o.send({
      type: 'settle-leg',
      tradeId: h.view.tradeId,
      leg: i === 0 ? 'security' : 'cash',
      state,
      ...extra,
    });
  }

  #expiries(h: Held): { expiryA: number; expiryB: number } {
    const expiryA = Math.floor(h.matchedAt / 1000) + this.#o.htlc.lockSeconds;
    return { expiryA, expiryB: expiryA + this.#o.htlc.marginSeconds };
  }

  /** This ledger's leg of a held trade, as it is locked, claimed and refunded (the same every time). */
  #terms(h: Held): LegTerms {
    const t = h.view;
    const security = this.#mine(h) === 0;
    const spec = this.#o.specOf(t.instrument)!;
    const { expiryA, expiryB } = this.#expiries(h);
    const party = (account: string) => this.#o.partyOf(account, this.#o.venue);
    return {
      tradeId: t.tradeId,
      security,
      asset: security ? t.instrument : `${spec.quote ?? 'USD'}@${spec.quoteVenue}`,
      from: party(security ? t.seller : t.buyer),
      to: party(security ? t.buyer : t.seller),
      amount: security ? t.quantity : t.buyerCash,
      fee: security ? 0 : t.fee,
      hashlock: hashlockOf(secretOf(this.#o.key, t.tradeId)),
      expiry: security ? expiryA : expiryB,
    };
  }
}
