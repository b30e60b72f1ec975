/**
 * Logins, order entry and withdrawal requests. Each request is checked here in full (identity,
 * instrument or asset and its visibility, decimals on the grid, order ownership, client order id
 * reuse) before the engine sees it, so a bad request changes nothing; what passes becomes one
 * engine command, and the command's events come back to every session of the account as
 * execution reports (and withdrawal reports).
 */
import type { Authenticator, Challenge, LoginProof, NamedIdentity } from './auth/index.ts';
import { assertThat, makeError } from './errors.ts';
import { Code, type EventOf, type PublishedEvent, type Unstamped } from '../engine/index.ts';
import type { AccountSeed, CommandRef, Exchange } from './exchange.ts';
import type { InstrumentCodec } from './instrument-codec.ts';
import type { Limits } from './limits.ts';
import { type ExecReport, ExecReports, type RejectReport } from './reports.ts';
import type { Session } from './session.ts';
import { type Holder, Tokens } from './tokens.ts';
import { memberNameOf, type VenueLedger, venueAccess } from './venue-access.ts';
import { priceFieldsProblem, replaceFieldsProblem } from './order-rules.ts';
import type { Message } from './wire.ts';
import type { WithdrawalReport, Withdrawals } from './withdrawals.ts';

interface Origin {
  session: Session;
  id: string | number | undefined;
  op: string;
  /** When the request arrived (performance.now()). */
  at: number;
  /** The order the request concerns (none for cancel-all): only its reports carry the id. */
  clientOrderId?: string;
  orderId?: number;
  /** The request's first answer (a `new`'s pending-new report, else an ack) once it has a sequence. */
  answer: ExecReport | undefined;
  /** Whether that answer went out. */
  answered: boolean;
}

export interface TradingHooks {
  /** An identity logged in (demo funding): its account and what it may see. */
  onLogin?(account: string, canSee: (venue: string) => boolean): void;
  /** An identity was linked to an account followed here (demo funding): what the account may see now. */
  onLink?(account: string, identity: string, canSee: (venue: string) => boolean): void;
  /** An order was submitted (metrics). */
  onOrder?(): void;
  /** A request's command is journaled and executed: milliseconds since it arrived. */
  onAck?(ms: number): void;
  /** The ledger a venue settles on, for the login's `access` (none known: not judged by ledger). */
  ledgerOf?(venue: string): VenueLedger | undefined;
}

/** How long a request is remembered for its command's events: well past the minute a cluster's gateway sends it for. */
const ORIGIN_MS = 120_000;

/**
 * An account followed here: its sessions logged in or logging in, its standing per venue, and its
 * identities (its own name, then those linked to it), kept up to date by its events.
 */
interface Followed {
  count: number;
  ready: Promise<void>;
  standing: Map<string, AccountSeed['standing'][number]>;
  names: string[];
}

export class Trading {
  readonly reports: ExecReports;
  readonly tokens: Tokens;
  #exchange: Exchange;
  #auth: Authenticator;
  #hooks: TradingHooks;
  /**
   * Client order ids of `new` requests sent and not yet executed (account NUL id): the engine
   * knows every id it executed (`clientOrderIdUsed`), these not yet (a cluster's shard may not
   * have answered).
   */
  #inFlight = new Set<string>();
  #sessions = new Map<string, Set<Session>>();
  #followed = new Map<string, Followed>();
  #origins = new Map<CommandRef, Origin>();
  #out: Array<[string, ExecReport | RejectReport]> = [];
  #withdrawals: Withdrawals;
  #limits: Limits;

  constructor(
    exchange: Exchange,
    auth: Authenticator,
    withdrawals: Withdrawals,
    limits: Limits,
    hooks: TradingHooks = {},
  ) {
    this.#exchange = exchange;
    this.#limits = limits;
    this.#auth = auth;
    this.#withdrawals = withdrawals;
    this.#hooks = hooks;
    this.tokens = new Tokens(exchange.tokenKey);
    this.reports = new ExecReports((id) => exchange.codec(id));
    exchange.onAccountEvents((seq, events, ref, account) => this.#publish(seq, events, ref, account));
  }

  /** Sessions logged in. */
  get sessions(): number {
    let n = 0;
    for (const set of this.#sessions.values()) n += set.size;
    return n;
  }

  /** Each account with sessions logged in, and how many. */
  *sessionsByAccount(): Iterable<[string, number]> {
    for (const [account, set] of this.#sessions) yield [account, set.size];
  }

  /** A login challenge; with purpose "link", one to link an identity to the session's account. */
  challenge(session: Session, msg: Message<'challenge'>): void {
    const linkTo = msg.purpose === 'link' ? this.#linking(session, 'challenge') : undefined;
    session.reply({ type: 'challenge', id: msg.id, ...this.newChallenge(session.address, linkTo) });
  }

  /**
   * A fresh challenge for a client at `address` (RATE_LIMITED past the address's limit): to log
   * in, or to link an identity to the account `linkTo`.
   */
  newChallenge(address: string, linkTo?: string): Challenge {
    this.#limits.challenge(address);
    return this.#auth.challenge(address, linkTo);
  }

  /**
   * Links the identity a signed link challenge proves to the session's account: answered with an
   * `ack`, then an `identity` report to the account's sessions, or a `reject` with the engine's
   * code and reason (linked elsewhere, open orders, another identity on the same ledger).
   */
  link(session: Session, msg: Message<'link'>): void {
    const account = this.#linking(session, 'link');
    const { op: _op, id, ...proof } = msg;
    this.#limits.login(session.address);
    const identity = this.#auth.accountOf(this.#auth.verify(proof, account));
    this.#submit({ type: 'link', account, identity }, undefined, this.#origin(session, id, 'link'));
  }

  /** Unlinks an identity from the session's account; answered as `link` is. */
  unlink(session: Session, msg: Message<'unlink'>): void {
    const account = this.#linking(session, 'unlink');
    this.#submit(
      { type: 'unlink', account, identity: msg.identity },
      undefined,
      this.#origin(session, msg.id, 'unlink'),
    );
  }

  /** The session's account, for an op about links (AUTH_REQUIRED, LINKS_UNSUPPORTED). */
  #linking(session: Session, op: string): string {
    const account = this.#account(session);
    assertThat(
      this.#exchange.identities !== null,
      `${op}: this exchange takes no identity links (a cluster does not yet): log in with each identity instead`,
      'LINKS_UNSUPPORTED',
    );
    return account;
  }

  #origin(session: Session, id: Origin['id'], op: string): Origin {
    return { session, id, op, at: performance.now(), answer: undefined, answered: false };
  }

  /**
   * The holder of an `Authorization: Bearer` header (AUTH_REQUIRED without one, or for a token
   * whose identity no longer opens its account: unlinked since), seeing what its account's
   * identities see now.
   */
  holder(header: string | undefined): Holder {
    return this.#current(this.tokens.holder(header));
  }

  /** A token's holder as its account's identities stand now (AUTH_REQUIRED if its identity no longer opens it). */
  #current(h: Holder): Holder {
    const directory = this.#exchange.identities;
    if (directory === null) return h;
    if (directory.ownerOf(h.identity) !== h.account) {
      throw makeError(
        `the identity this token was issued to (${h.identity}) no longer opens account ${h.account}: log in again`,
        'AUTH_REQUIRED',
      );
    }
    return { ...h, memberNames: this.#names(h.account).map(memberNameOf) };
  }

  /** The holder if a header is given, else undefined (anonymous); a bad header still throws. */
  optionalHolder(header: string | undefined): Holder | undefined {
    return header === undefined ? undefined : this.holder(header);
  }

  /** An account's identities: its own name, then those linked to it. */
  #names(account: string): string[] {
    return [account, ...(this.#exchange.identities?.identities(account) ?? [])];
  }

  /**
   * Logs a connection in: once the account is followed (its state known and its events coming),
   * the session joins the account's and gets the `login` answer.
   */
  login(session: Session, msg: Message<'login'>): void {
    assertThat(
      session.identity === null && !session.loggingIn,
      'this connection is logged in already',
      'ALREADY_LOGGED_IN',
    );
    const { op: _op, id, cancelOnDisconnect, ...proof } = msg;
    const { identity, name, account, memberNames, token } =
      proof.scheme === 'token'
        ? this.#resume(proof.token, session.address)
        : { ...this.authenticate(proof, session.address), token: undefined };
    this.#limits.session(account, this.#sessions.get(account)?.size ?? 0);
    session.loggingIn = true;
    const followed = this.#follow(account);
    followed.ready.then(
      () => {
        session.loggingIn = false;
        session.afterLogin();
        if (!session.open) return this.#unfollow(account);
        session.identity = identity;
        session.account = account;
        session.memberNames = followed.names.map(memberNameOf);
        session.cancelOnDisconnect = cancelOnDisconnect === true;
        let set = this.#sessions.get(account);
        if (set === undefined) {
          set = new Set();
          this.#sessions.set(account, set);
        }
        set.add(session);
        // A login with a token keeps it, and its expiry: a token cannot make itself a longer life.
        const { token: given, expiresAt } = token ?? this.tokens.issue(account, memberNames, name);
        session.reply({
          type: 'login',
          id,
          account,
          identity,
          identities: followed.names.slice(1),
          ...this.#access(followed.names, [...followed.standing.values()], session.canSee),
          cancelOnDisconnect: session.cancelOnDisconnect,
          token: given,
          tokenExpiresAt: expiresAt,
        });
      },
      (err: Error & { code?: string; info?: Record<string, unknown> }) => {
        session.loggingIn = false;
        session.afterLogin();
        this.#unfollow(account);
        session.reply({
          type: 'error',
          id,
          code: err.code ?? 'UNAVAILABLE',
          message: `login: ${err.message}`,
          ...err.info,
        });
      },
    );
  }

  /** Follows an account for one more session (the first starts following it). */
  #follow(account: string): Followed {
    let f = this.#followed.get(account);
    if (f !== undefined) {
      f.count++;
      return f;
    }
    const standing: Followed['standing'] = new Map();
    f = {
      count: 1,
      standing,
      // Read with the seed: the engine's links as of the same command.
      names: this.#names(account),
      ready: this.#exchange.follow(account).then((seed) => {
        for (const s of seed.standing) standing.set(s.venue, s);
        this.reports.track(seed.orders);
      }),
    };
    this.#followed.set(account, f);
    return f;
  }

  /** One session fewer for an account: the last one stops following it. */
  #unfollow(account: string): void {
    const f = this.#followed.get(account);
    if (f === undefined || --f.count > 0) return;
    this.#followed.delete(account);
    this.#exchange.unfollow(account);
    this.reports.forget(account);
  }

  /**
   * A login with a bearer token an earlier login gave (RATE_LIMITED past the address's login
   * limit; AUTH_REQUIRED for a token unknown, expired, or whose identity no longer opens its
   * account): the identity it was issued to, as its name tells it, and the token with its expiry.
   */
  #resume(
    token: string,
    address: string,
  ): {
    identity: NamedIdentity;
    name: string;
    account: string;
    memberNames: string[];
    token: { token: string; expiresAt: number };
  } {
    this.#limits.login(address);
    const h = this.#current(this.tokens.verify(token));
    this.#hooks.onLogin?.(h.account, (venue) => this.#exchange.canSee(venue, h.memberNames));
    return {
      identity: this.#auth.named(h.identity),
      name: h.identity,
      account: h.account,
      memberNames: h.memberNames,
      token: { token, expiresAt: h.expiresAt },
    };
  }

  /**
   * Verifies a login proof from a client at `address`: the identity, its account, and the names
   * venue membership is checked by (RATE_LIMITED past the address's login limit, before the
   * signature is checked).
   */
  authenticate(
    proof: LoginProof,
    address: string,
  ): { identity: NamedIdentity; name: string; account: string; memberNames: string[] } {
    this.#limits.login(address);
    const identity = this.#auth.verify(proof);
    const name = this.#auth.accountOf(identity);
    const account = this.#exchange.identities?.ownerOf(name) ?? name;
    const memberNames = this.#names(account).map(memberNameOf);
    this.#hooks.onLogin?.(account, (venue) => this.#exchange.canSee(venue, memberNames));
    return { identity, name, account, memberNames };
  }

  /** The connection closed: forget the session, and cancel its orders if it asked for that. */
  disconnect(session: Session): void {
    const account = session.account;
    if (account === null) return;
    const set = this.#sessions.get(account);
    set?.delete(session);
    if (set?.size === 0) this.#sessions.delete(account);
    this.#unfollow(account);
    if (session.cancelOnDisconnect) {
      try {
        this.#exchange.send({ type: 'cancel-all', account });
      } catch {
        // shutting down: the orders stay, as they would after a crash
      }
    }
  }

  newOrder(session: Session, msg: Message<'new'>): void {
    const account = this.#account(session);
    const codec = this.#instrument(session, msg.instrument);
    const problem = priceFieldsProblem(msg.orderType, msg.price !== undefined, msg.stopPrice !== undefined);
    if (problem !== null) throw makeError(problem.message, problem.code, { field: problem.field });
    const command: Unstamped = {
      type: 'new',
      instrument: msg.instrument,
      account,
      clientOrderId: msg.clientOrderId,
      side: msg.side,
      orderType: msg.orderType,
      quantity: codec.lots(msg.quantity),
    };
    if (msg.price !== undefined) command.price = codec.ticks(msg.price);
    if (msg.stopPrice !== undefined) command.stopPrice = codec.ticks(msg.stopPrice, 'stopPrice');
    if (msg.tif !== undefined) command.tif = msg.tif;
    if (msg.expireAt !== undefined) command.expireAt = msg.expireAt;
    if (msg.postOnly !== undefined) command.postOnly = msg.postOnly;
    if (msg.stp !== undefined) command.stp = msg.stp;
    const key = `${account}\u0000${msg.clientOrderId}`;
    if (
      this.#inFlight.has(key) ||
      this.reports.hasClientOrderId(account, msg.clientOrderId) ||
      this.#exchange.clientOrderIdUsed(account, msg.clientOrderId)
    ) {
      throw duplicate(msg.clientOrderId);
    }
    const origin = {
      session,
      id: msg.id,
      op: 'new',
      at: performance.now(),
      clientOrderId: msg.clientOrderId,
      answer: this.reports.pendingNew(msg, Date.now()),
      answered: false,
    };
    this.#submit(command, undefined, origin);
    this.#inFlight.add(key);
    this.#hooks.onOrder?.();
  }

  cancel(session: Session, msg: Message<'cancel'>): void {
    const account = this.#account(session);
    const { ref, order } = this.#orderRef(account, msg);
    this.#submit({ type: 'cancel', account, ...ref }, this.#exchange.codec(order.instrument)!.venue, {
      session,
      id: msg.id,
      op: 'cancel',
      at: performance.now(),
      ...ref,
      answer: undefined,
      answered: false,
    });
  }

  replace(session: Session, msg: Message<'replace'>): void {
    const account = this.#account(session);
    const { ref, order } = this.#orderRef(account, msg);
    const problem = replaceFieldsProblem(msg.price !== undefined, msg.quantity !== undefined);
    if (problem !== null) throw makeError(problem.message, problem.code);
    const codec = this.#exchange.codec(order.instrument)!;
    const command: Unstamped = { type: 'replace', account, ...ref };
    if (msg.price !== undefined) command.price = codec.ticks(msg.price);
    if (msg.quantity !== undefined) command.quantity = codec.lots(msg.quantity);
    this.#submit(command, codec.venue, {
      session,
      id: msg.id,
      op: 'replace',
      at: performance.now(),
      ...ref,
      answer: undefined,
      answered: false,
    });
  }

  cancelAll(session: Session, msg: Message<'cancel-all'>): void {
    const account = this.#account(session);
    const command: Unstamped = { type: 'cancel-all', account };
    if (msg.instrument !== undefined) {
      this.#instrument(session, msg.instrument);
      command.instrument = msg.instrument;
    }
    this.#submit(command, undefined, {
      session,
      id: msg.id,
      op: 'cancel-all',
      at: performance.now(),
      answer: undefined,
      answered: false,
    });
  }

  /**
   * Asks for a withdrawal of a visible asset, in its units (`UNKNOWN_ASSET`, `BAD_DECIMAL`
   * otherwise). Answered with an `ack`; then the engine grants it (a `withdrawal` report,
   * `pending`, with its id) or refuses it (a `reject` with the engine's code and reason).
   */
  withdraw(session: Session, msg: Message<'withdraw'>): void {
    const account = this.#account(session);
    const amount = this.#withdrawals.units(msg.asset, msg.amount, session.canSee);
    this.#submit({ type: 'request-withdrawal', account, asset: msg.asset, amount }, undefined, {
      session,
      id: msg.id,
      op: 'withdraw',
      at: performance.now(),
      answer: undefined,
      answered: false,
    });
  }

  /**
   * Sends a command for a request and answers the request with the command's sequence, once it
   * has one: a `new` by its pending-new report, anything else by an `ack`. Nothing goes out if
   * the command was not taken. On a cluster the sequence comes once the shard's stream holds the
   * command, or with its events if those come first; if the stream cannot confirm it, the
   * request gets an error (the command may still come through: its reports then follow).
   */
  #submit(command: Unstamped, venue: string | undefined, origin: Origin): void {
    const { ref, seq } = this.#exchange.send(command, venue);
    this.#forgetOldOrigins(origin.at);
    this.#origins.set(ref, origin);
    if (typeof seq === 'number') {
      this.#answer(origin, seq);
      return;
    }
    seq.then(
      (n) => this.#answer(origin, n),
      (err: Error) => {
        this.#landed(origin);
        if (origin.answered) return;
        origin.answered = true;
        origin.session.reply({
          type: 'error',
          id: origin.id,
          code: 'UNAVAILABLE',
          message: `${origin.op}: not confirmed (${err.message}); it may still be executed`,
        });
      },
    );
  }

  /**
   * Forgets requests older than ORIGIN_MS: a command that made no event for its account (a
   * cancel-all with nothing to cancel) has none to clear its request with.
   */
  #forgetOldOrigins(now: number): void {
    for (const [ref, o] of this.#origins) {
      if (now - o.at < ORIGIN_MS) return;
      this.#origins.delete(ref);
      this.#landed(o);
    }
  }

  /** The request's command was executed (or will not be confirmed): its id is the engine's to know. */
  #landed(origin: Origin): void {
    if (origin.op === 'new') this.#inFlight.delete(`${origin.session.account}\u0000${origin.clientOrderId}`);
  }

  #answer(origin: Origin, seq: number): void {
    if (origin.answered) return;
    origin.answered = true;
    if (origin.answer !== undefined)
      origin.session.reply(Object.assign(origin.answer, { id: origin.id, seq }));
    else origin.session.reply({ type: 'ack', id: origin.id, op: origin.op, seq });
  }

  #account(session: Session): string {
    if (session.account === null)
      throw makeError('log in first: send "challenge", then "login"', 'AUTH_REQUIRED');
    return session.account;
  }

  #instrument(session: Session, id: string): InstrumentCodec {
    const codec = this.#exchange.codec(id);
    if (codec === undefined || !session.canSee(codec.venue)) {
      throw makeError(`unknown instrument "${id}"`, 'UNKNOWN_INSTRUMENT', { instrument: id });
    }
    return codec;
  }

  /** A live order of the account: as the exchange knows it at once, else as its events told. */
  #liveOrder(account: string, ref: { orderId?: number; clientOrderId?: string }): { instrument: string } {
    const order = this.#exchange.liveOrder(account, ref) ?? this.reports.liveOrder(account, ref);
    if (order === undefined) {
      const named =
        ref.orderId !== undefined ? `${ref.orderId}` : `with clientOrderId "${ref.clientOrderId}"`;
      throw makeError(`no live order ${named} of this account`, 'UNKNOWN_ORDER', ref);
    }
    return order;
  }

  /** The live order a cancel or replace names: exactly one of orderId and clientOrderId, of this account. */
  #orderRef(
    account: string,
    msg: { orderId?: number; clientOrderId?: string; op: string },
  ): { ref: { orderId?: number; clientOrderId?: string }; order: { instrument: string } } {
    const { orderId, clientOrderId } = msg;
    assertThat(
      (orderId === undefined) !== (clientOrderId === undefined),
      `${msg.op}: name the order by "orderId" or by "clientOrderId", exactly one of them`,
      'BAD_MESSAGE',
    );
    const ref = orderId !== undefined ? { orderId } : { clientOrderId: clientOrderId! };
    return { ref, order: this.#liveOrder(account, ref) };
  }

  /** A command's events that concern `account`, an account followed here. */
  #publish(seq: number, events: readonly PublishedEvent[], ref: CommandRef, account: string): void {
    // The request's answer goes with its own account's events (a trade's other side may be followed here too).
    const sent = this.#origins.get(ref);
    const origin = sent?.session.account === account ? sent : undefined;
    if (origin === undefined) this.#elsewhere(events[0]);
    if (origin !== undefined) {
      this.#origins.delete(ref);
      this.#landed(origin);
      // A `new` whose id the engine found used (a race the checks above could not see: the same
      // id through another gateway of a cluster) is answered like one refused here, with no report.
      const first = events[0];
      if (
        origin.op === 'new' &&
        first?.kind === 'rejected' &&
        first.code === Code.DUPLICATE_CLIENT_ORDER_ID
      ) {
        origin.answered = true;
        const err = duplicate(origin.clientOrderId!);
        origin.session.reply({
          type: 'error',
          id: origin.id,
          code: err.code,
          message: err.message,
          ...err.info,
        });
        return;
      }
      this.#answer(origin, seq);
      this.#hooks.onAck?.(performance.now() - origin.at);
    }
    const out = this.#out;
    const followed = this.#followed.get(account);
    let links: Array<EventOf<'identity'>> | undefined;
    for (const e of events) {
      // Its standing as the next login's `access` shows it.
      if (e.kind === 'account')
        followed?.standing.set(e.venue, { venue: e.venue, eligible: e.eligible, frozen: e.frozen });
      else if (e.kind === 'identity') (links ??= []).push(e);
      if (e.kind === 'rejected' && e.code === Code.DUPLICATE_CLIENT_ORDER_ID) continue;
      this.reports.reportsOf(e, origin?.op, out, account);
      // A withdrawal's command has no execution reports to keep its report in order with.
      if (e.kind === 'withdrawal') this.#deliver(e.account, this.#withdrawals.report(e), origin);
    }
    for (const [account, report] of out) this.#deliver(account, report, origin);
    out.length = 0;
    // After the command's standing events: the report's access shows them.
    if (links !== undefined && followed !== undefined)
      for (const e of links) this.#linked(e, followed, origin);
  }

  /**
   * An identity was linked to or unlinked from an account followed here: its sessions see what
   * its identities now give sight of, and each gets an `identity` report with the account's
   * identities, venues and access.
   */
  #linked(e: EventOf<'identity'>, followed: Followed, origin: Origin | undefined): void {
    const { account, identity, linked } = e;
    followed.names = linked ? [...followed.names, identity] : followed.names.filter((n) => n !== identity);
    const memberNames = followed.names.map(memberNameOf);
    const sessions = this.#sessions.get(account) ?? new Set<Session>();
    for (const s of sessions) s.memberNames = memberNames;
    // A session the identity opened on the account it no longer opens logs in again: on its own
    // account once unlinked, on this one once linked.
    const opened = linked ? this.#sessions.get(identity) : sessions;
    for (const s of opened ?? []) {
      if (s.identity === null || this.#auth.accountOf(s.identity) !== identity) continue;
      s.close(
        4003,
        `identity ${linked ? 'linked' : 'unlinked'}: ${identity} now opens account ${linked ? account : identity}; log in again`,
      );
      opened!.delete(s);
    }
    if (linked) this.#hooks.onLink?.(account, identity, (v) => this.#exchange.canSee(v, memberNames));
    for (const s of sessions) {
      const own = origin?.session === s && origin.id !== undefined;
      s.reply({
        type: 'identity',
        ...(own ? { id: origin.id } : {}),
        account,
        identity,
        linked,
        identities: followed.names.slice(1),
        ...this.#access(followed.names, [...followed.standing.values()], s.canSee),
        ts: e.ts,
      });
    }
  }

  /**
   * An account's identities (other than its own name), the venues they see, and per venue whether
   * the account may trade there and why not, as the engine holds them now (REST's account).
   */
  async accountView(account: string) {
    const names = this.#names(account);
    const memberNames = names.map(memberNameOf);
    const standing = await this.#exchange.standing(account);
    return {
      account,
      identities: names.slice(1),
      ...this.#access(names, standing, (v) => this.#exchange.canSee(v, memberNames)),
    };
  }

  /** The venues `canSee` lets through and, per venue, whether the account may trade there and why not. */
  #access(names: readonly string[], standing: AccountSeed['standing'], canSee: (venue: string) => boolean) {
    const venues = Object.keys(this.#exchange.venues).filter(canSee);
    return {
      venues,
      access: venueAccess(this.#exchange.risk, standing, names, venues, (v) => this.#hooks.ledgerOf?.(v)),
    };
  }

  /**
   * A command not sent from here (on a cluster: through another gateway) that is an order, cancel
   * or replace of an account served here counts against the account's order limit here too, so
   * that an account's sessions spread over gateways share one limit.
   */
  #elsewhere(first: PublishedEvent | undefined): void {
    if (first === undefined) return;
    switch (first.kind) {
      case 'accepted':
      case 'rejected':
      case 'replaced':
        break;
      case 'canceled':
        if (first.reason === 'user' || first.reason === 'cancel-all') break;
        return;
      default:
        return;
    }
    if (this.#sessions.has(first.account)) this.#limits.countOrder(first.account);
  }

  /**
   * One serialization for all the account's sessions; the session that sent the request gets
   * its id on the reports about the order it named (not on, say, a resting order that
   * self-trade prevention canceled).
   */
  #deliver(
    account: string,
    report: ExecReport | RejectReport | WithdrawalReport,
    origin: Origin | undefined,
  ): void {
    const set = this.#sessions.get(account);
    if (set === undefined) return;
    let shared: Buffer | undefined;
    const answers =
      origin !== undefined &&
      origin.id !== undefined &&
      ((origin.clientOrderId === undefined && origin.orderId === undefined) ||
        (origin.clientOrderId !== undefined && report.clientOrderId === origin.clientOrderId) ||
        (origin.orderId !== undefined && report.orderId === origin.orderId));
    let own: Session | undefined;
    for (const s of set) {
      if (answers && s === origin.session) {
        own = s;
      } else {
        shared ??= Buffer.from(JSON.stringify(report));
        s.send(shared);
      }
    }
    // The report is this delivery's own (made for it): the id goes on it once the others have theirs.
    if (own !== undefined) own.reply(Object.assign(report, { id: origin!.id }));
  }
}

function duplicate(clientOrderId: string) {
  return makeError(
    `clientOrderId "${clientOrderId}" was used before by this account; each order needs a new one`,
    'DUPLICATE_CLIENT_ORDER_ID',
    { clientOrderId },
  );
}
