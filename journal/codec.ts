/**
 * Binary encoding of engine commands for the journal and the cluster's command streams: a type
 * tag, a presence mask for optional fields, then the fields in a fixed order (numbers as float64,
 * strings as u16 length + UTF-8). A rare command (list-instrument) carries its spec as JSON.
 * Encoding writes into a caller's buffer and allocates nothing but the strings it decodes.
 *
 * Every enumerated value is written as an explicit numeric tag from the tables below, never as
 * its position in a list, so reordering source code cannot change the bytes. The rule that keeps
 * old journals and streams readable: a tag is never reused or renumbered, a new value takes a new
 * tag, an existing type's fields keep their order (a new optional field takes a new presence
 * bit); any other change to the layout is a new FORMAT_VERSION, which segment headers and NATS
 * messages carry (see records.ts and cluster/wire-format.ts).
 */
import type {
  Command,
  InstrumentSpec,
  InstrumentStatus,
  LegState,
  NewOrderCommand,
  OrderType,
  SetAccountCommand,
  SettleCommand,
  SettleLegCommand,
  SettleWithdrawalCommand,
  Side,
  StpMode,
  TimeInForce,
  UpdateInstrumentCommand,
} from '../engine/index.ts';
import { JournalError, makeError } from './errors.ts';

/**
 * The version of this encoding. Version 1 is the layout of every release so far, including those
 * that wrote no version at all: a reader treats a missing version as 1.
 */
export const FORMAT_VERSION = 1;

/** Tags of command types (the first byte of an encoded command). Append only. */
export const COMMAND_TAGS = {
  new: 0,
  cancel: 1,
  'cancel-all': 2,
  replace: 3,
  'list-instrument': 4,
  'set-status': 5,
  tick: 6,
  deposit: 7,
  withdraw: 8,
  'set-account': 9,
  settle: 10,
  'update-instrument': 11,
  'request-withdrawal': 12,
  'settle-withdrawal': 13,
  link: 14,
  unlink: 15,
  'settle-leg': 16,
} as const satisfies Record<Command['type'], number>;
/** Tags of order sides. Append only. */
export const SIDE_TAGS = { buy: 0, sell: 1 } as const satisfies Record<Side, number>;
/** Tags of order types. Append only. */
export const ORDER_TYPE_TAGS = { limit: 0, market: 1, stop: 2, 'stop-limit': 3 } as const satisfies Record<
  OrderType,
  number
>;
/** Tags of times in force. Append only. */
export const TIF_TAGS = { GTC: 0, GTD: 1, IOC: 2, FOK: 3 } as const satisfies Record<TimeInForce, number>;
/** Tags of self-trade prevention modes. Append only. */
export const STP_TAGS = {
  'cancel-newest': 0,
  'cancel-oldest': 1,
  'cancel-both': 2,
  'decrement-and-cancel': 3,
} as const satisfies Record<StpMode, number>;
/** Tags of instrument statuses. Append only. */
export const STATUS_TAGS = { open: 0, halted: 1 } as const satisfies Record<InstrumentStatus, number>;
/** Tags of a cross-ledger trade's legs, and of the states a ledger reports of one. Append only. */
export const LEG_TAGS = { security: 0, cash: 1 } as const satisfies Record<SettleLegCommand['leg'], number>;
export const LEG_STATE_TAGS = { locked: 0, claimed: 1, refunded: 2, refused: 3 } as const satisfies Record<
  LegState,
  number
>;

/**
 * Both directions of a tag table: the tag of a value (only the table's own keys, so that a
 * name such as `toString` is no value) and the value of a tag.
 */
class Tags<T extends string> {
  #tag: Map<string, number>;
  #value: Array<T | undefined> = [];
  readonly names: string;
  constructor(table: Record<T, number>) {
    this.#tag = new Map(Object.entries(table));
    for (const [value, tag] of this.#tag) {
      if (this.#value[tag] !== undefined) throw makeError(`tag ${tag} is used twice`, 'MISUSE');
      this.#value[tag] = value as T;
    }
    this.names = [...this.#tag.keys()].join(', ');
  }
  tag(value: unknown): number | undefined {
    return this.#tag.get(value as string);
  }
  value(tag: number): T | undefined {
    return this.#value[tag];
  }
}

const TYPES = new Tags(COMMAND_TAGS);
const SIDES = new Tags(SIDE_TAGS);
const ORDER_TYPES = new Tags(ORDER_TYPE_TAGS);
const TIFS = new Tags(TIF_TAGS);
const STPS = new Tags(STP_TAGS);
const STATUSES = new Tags(STATUS_TAGS);
const LEGS = new Tags(LEG_TAGS);
const LEG_STATES = new Tags(LEG_STATE_TAGS);

/** Room an encoded command may need: strings are capped at 4096 characters (<= 12 KiB UTF-8). */
export const MAX_COMMAND_BYTES = 64 * 1024;

export class CodecError extends JournalError {
  override name = 'CodecError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'BAD_COMMAND', options);
  }
}

/** Bytes written in a format version this release does not know (a newer release wrote them). */
export class FormatVersionError extends CodecError {
  override name = 'FormatVersionError';
}

/** Throws FormatVersionError unless `version` is the one this release reads; `where` names the bytes. */
export function checkFormatVersion(version: number | string, where: string): void {
  if (version !== FORMAT_VERSION) {
    throw new FormatVersionError(
      `${where} is in format version ${version}; this release reads version ${FORMAT_VERSION} only: read it with a release that knows version ${version}`,
    );
  }
}

/**
 * Writes fields into a buffer from an offset. Strict: a field that would not read back exactly
 * as the engine would see it (wrong type, ill-formed string) throws, naming the field.
 */
class Writer {
  buf: Buffer = Buffer.alloc(0);
  at = 0;
  u8(v: number): void {
    this.buf[this.at++] = v;
  }
  num(v: unknown, field: string): void {
    if (typeof v !== 'number') throw new CodecError(`${field} must be a number`);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }
  str(s: unknown, field: string): void {
    if (typeof s !== 'string') throw new CodecError(`${field} must be a string`);
    if (s.length > 4096 || !s.isWellFormed())
      throw new CodecError(`${field} must be well-formed text of at most 4096 characters`);
    const n = this.buf.write(s, this.at + 2, 'utf8');
    this.buf.writeUInt16LE(n, this.at);
    this.at += 2 + n;
  }
  pick<T extends string>(tags: Tags<T>, v: T, field: string): void {
    const tag = tags.tag(v);
    if (tag === undefined) throw new CodecError(`${field} must be one of ${tags.names}`);
    this.u8(tag);
  }
}

const w = new Writer();

/** Reads fields from a buffer, checking bounds (commands here, events in event-codec.ts). */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public at: number,
    readonly end: number,
  ) {}
  #need(n: number): void {
    if (this.at + n > this.end) throw new CodecError('record ends inside a field');
  }
  u8(): number {
    this.#need(1);
    return this.buf[this.at++]!;
  }
  num(): number {
    this.#need(8);
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }
  u16(): number {
    this.#need(2);
    const v = this.buf.readUInt16LE(this.at);
    this.at += 2;
    return v;
  }
  /** Moves past `n` bytes. */
  skip(n: number): void {
    this.#need(n);
    this.at += n;
  }
  str(): string {
    this.#need(2);
    const n = this.buf.readUInt16LE(this.at);
    this.#need(2 + n);
    const s = this.buf.toString('utf8', this.at + 2, this.at + 2 + n);
    this.at += 2 + n;
    return s;
  }
  pick<T extends string>(tags: Tags<T>, what: string): T {
    const tag = this.u8();
    const v = tags.value(tag);
    if (v === undefined) throw new CodecError(`unknown ${what} ${tag}`);
    return v;
  }
}

// Presence bits of a new order's optional fields.
const PRICE = 1;
const STOP = 2;
const TIF = 4;
const EXPIRE = 8;
const POST = 16;
const POST_TRUE = 32;
const STP = 64;
// Presence bits of cancel/replace/cancel-all.
const ORDER_ID = 1;
const CLIENT_ID = 2;
const R_PRICE = 4;
const R_QTY = 8;
const INSTRUMENT = 16;
// Presence bits of set-account and settle.
const ELIGIBLE = 1;
const ELIGIBLE_TRUE = 2;
const FROZEN = 4;
const FROZEN_TRUE = 8;
/** Presence bits of update-instrument's fields; the fields follow in this order. */
const UPDATES = [
  ['makerFeeBps', 1],
  ['takerFeeBps', 2],
  ['bandBps', 4],
  ['referencePrice', 8],
] as const;
const OK_TRUE = 1;
const REASON = 2;
const REF = 4;
const GAS = 8;
const GAS_FEE = 16;

function flag(v: unknown, field: string, present: number, truth: number): number {
  if (v === undefined) return 0;
  if (typeof v !== 'boolean') throw new CodecError(`${field} must be true or false`);
  return present | (v ? truth : 0);
}

/**
 * Encodes a command at `at` in `buf` (which must have MAX_COMMAND_BYTES free); returns the end
 * offset. The command must already be well-formed (it is what the engine accepted to journal).
 */
export function encodeCommand(c: Command, buf: Buffer, at: number): number {
  if (c === null || typeof c !== 'object') throw new CodecError('a command must be an object');
  w.buf = buf;
  w.at = at;
  w.pick(TYPES, c.type, 'type');
  w.num(c.ts, 'ts');
  switch (c.type) {
    case 'new': {
      let mask = 0;
      if (c.price !== undefined) mask |= PRICE;
      if (c.stopPrice !== undefined) mask |= STOP;
      if (c.tif !== undefined) mask |= TIF;
      if (c.expireAt !== undefined) mask |= EXPIRE;
      if (c.postOnly !== undefined) {
        if (typeof c.postOnly !== 'boolean') throw new CodecError('postOnly must be true or false');
        mask |= POST | (c.postOnly ? POST_TRUE : 0);
      }
      if (c.stp !== undefined) mask |= STP;
      w.u8(mask);
      w.str(c.instrument, 'instrument');
      w.str(c.account, 'account');
      w.str(c.clientOrderId, 'clientOrderId');
      w.pick(SIDES, c.side, 'side');
      w.pick(ORDER_TYPES, c.orderType, 'orderType');
      w.num(c.quantity, 'quantity');
      if (c.price !== undefined) w.num(c.price, 'price');
      if (c.stopPrice !== undefined) w.num(c.stopPrice, 'stopPrice');
      if (c.tif !== undefined) w.pick(TIFS, c.tif, 'tif');
      if (c.expireAt !== undefined) w.num(c.expireAt, 'expireAt');
      if (c.stp !== undefined) w.pick(STPS, c.stp, 'stp');
      break;
    }
    case 'cancel':
    case 'replace':
    case 'cancel-all': {
      let mask = 0;
      if (c.type !== 'cancel-all' && c.orderId !== undefined) mask |= ORDER_ID;
      if (c.type !== 'cancel-all' && c.clientOrderId !== undefined) mask |= CLIENT_ID;
      if (c.type === 'replace' && c.price !== undefined) mask |= R_PRICE;
      if (c.type === 'replace' && c.quantity !== undefined) mask |= R_QTY;
      if (c.type === 'cancel-all' && c.instrument !== undefined) mask |= INSTRUMENT;
      w.u8(mask);
      w.str(c.account, 'account');
      if (c.type === 'cancel-all') {
        if (c.instrument !== undefined) w.str(c.instrument, 'instrument');
        break;
      }
      if (c.orderId !== undefined) w.num(c.orderId, 'orderId');
      if (c.clientOrderId !== undefined) w.str(c.clientOrderId, 'clientOrderId');
      if (c.type === 'replace') {
        if (c.price !== undefined) w.num(c.price, 'price');
        if (c.quantity !== undefined) w.num(c.quantity, 'quantity');
      }
      break;
    }
    case 'list-instrument':
      w.str(JSON.stringify(c.spec) ?? 'null', 'spec');
      break;
    case 'set-status':
      w.str(c.instrument, 'instrument');
      w.pick(STATUSES, c.status, 'status');
      break;
    case 'tick':
      break;
    case 'deposit':
    case 'withdraw':
    case 'request-withdrawal':
      w.str(c.account, 'account');
      w.str(c.asset, 'asset');
      w.num(c.amount, 'amount');
      break;
    case 'link':
    case 'unlink':
      w.str(c.account, 'account');
      w.str(c.identity, 'identity');
      break;
    case 'settle-leg':
      w.u8(
        (c.reason !== undefined ? REASON : 0) |
          (c.ref !== undefined ? REF : 0) |
          (c.gas !== undefined ? GAS : 0) |
          (c.gasFee !== undefined ? GAS_FEE : 0),
      );
      w.num(c.tradeId, 'tradeId');
      w.pick(LEGS, c.leg, 'leg');
      w.pick(LEG_STATES, c.state, 'state');
      if (c.reason !== undefined) w.str(c.reason, 'reason');
      if (c.ref !== undefined) w.str(c.ref, 'ref');
      if (c.gas !== undefined) w.num(c.gas, 'gas');
      if (c.gasFee !== undefined) w.str(c.gasFee, 'gasFee');
      break;
    case 'set-account':
      w.u8(
        flag(c.eligible, 'eligible', ELIGIBLE, ELIGIBLE_TRUE) | flag(c.frozen, 'frozen', FROZEN, FROZEN_TRUE),
      );
      w.str(c.account, 'account');
      w.str(c.venue, 'venue');
      break;
    case 'update-instrument': {
      w.u8(UPDATES.reduce((mask, [f, bit]) => (c[f] !== undefined ? mask | bit : mask), 0));
      w.str(c.instrument, 'instrument');
      for (const [f] of UPDATES) if (c[f] !== undefined) w.num(c[f], f);
      break;
    }
    case 'settle':
    case 'settle-withdrawal':
      if (typeof c.ok !== 'boolean') throw new CodecError('ok must be true or false');
      w.u8(
        (c.ok ? OK_TRUE : 0) |
          (c.reason !== undefined ? REASON : 0) |
          (c.ref !== undefined ? REF : 0) |
          (c.gas !== undefined ? GAS : 0) |
          (c.gasFee !== undefined ? GAS_FEE : 0),
      );
      if (c.type === 'settle') w.num(c.tradeId, 'tradeId');
      else w.num(c.withdrawalId, 'withdrawalId');
      if (c.reason !== undefined) w.str(c.reason, 'reason');
      if (c.ref !== undefined) w.str(c.ref, 'ref');
      if (c.gas !== undefined) w.num(c.gas, 'gas');
      if (c.gasFee !== undefined) w.str(c.gasFee, 'gasFee');
      break;
  }
  return w.at;
}

/** Decodes one command from `buf[at, end)`; throws CodecError when the bytes are not one. */
export function decodeCommand(buf: Buffer, at: number, end: number): Command {
  const r = new Reader(buf, at, end);
  const type = r.pick(TYPES, 'command type');
  const ts = r.num();
  let c: Command;
  switch (type) {
    case 'new': {
      const mask = r.u8();
      const n: NewOrderCommand = {
        type,
        ts,
        instrument: r.str(),
        account: r.str(),
        clientOrderId: r.str(),
        side: r.pick(SIDES, 'side'),
        orderType: r.pick(ORDER_TYPES, 'order type'),
        quantity: r.num(),
      };
      if (mask & PRICE) n.price = r.num();
      if (mask & STOP) n.stopPrice = r.num();
      if (mask & TIF) n.tif = r.pick(TIFS, 'tif');
      if (mask & EXPIRE) n.expireAt = r.num();
      if (mask & POST) n.postOnly = (mask & POST_TRUE) !== 0;
      if (mask & STP) n.stp = r.pick(STPS, 'stp');
      c = n;
      break;
    }
    case 'cancel':
    case 'replace':
    case 'cancel-all': {
      const mask = r.u8();
      const account = r.str();
      if (type === 'cancel-all') {
        c = mask & INSTRUMENT ? { type, ts, account, instrument: r.str() } : { type, ts, account };
        break;
      }
      const named: { orderId?: number; clientOrderId?: string } = {};
      if (mask & ORDER_ID) named.orderId = r.num();
      if (mask & CLIENT_ID) named.clientOrderId = r.str();
      if (type === 'cancel') {
        c = { type, ts, account, ...named };
        break;
      }
      const change: { price?: number; quantity?: number } = {};
      if (mask & R_PRICE) change.price = r.num();
      if (mask & R_QTY) change.quantity = r.num();
      c = { type, ts, account, ...named, ...change };
      break;
    }
    case 'list-instrument': {
      let spec: InstrumentSpec;
      try {
        spec = JSON.parse(r.str()) as InstrumentSpec;
      } catch (err) {
        throw new CodecError('instrument spec is not JSON', { cause: err });
      }
      c = { type, ts, spec };
      break;
    }
    case 'set-status':
      c = { type, ts, instrument: r.str(), status: r.pick(STATUSES, 'status') };
      break;
    case 'tick':
      c = { type, ts };
      break;
    case 'deposit':
    case 'withdraw':
    case 'request-withdrawal':
      c = { type, ts, account: r.str(), asset: r.str(), amount: r.num() };
      break;
    case 'link':
    case 'unlink':
      c = { type, ts, account: r.str(), identity: r.str() };
      break;
    case 'settle-leg': {
      const mask = r.u8();
      const l: SettleLegCommand = {
        type,
        ts,
        tradeId: r.num(),
        leg: r.pick(LEGS, 'leg'),
        state: r.pick(LEG_STATES, 'leg state'),
      };
      if (mask & REASON) l.reason = r.str();
      if (mask & REF) l.ref = r.str();
      if (mask & GAS) l.gas = r.num();
      if (mask & GAS_FEE) l.gasFee = r.str();
      c = l;
      break;
    }
    case 'set-account': {
      const mask = r.u8();
      const a: SetAccountCommand = { type, ts, account: r.str(), venue: r.str() };
      if (mask & ELIGIBLE) a.eligible = (mask & ELIGIBLE_TRUE) !== 0;
      if (mask & FROZEN) a.frozen = (mask & FROZEN_TRUE) !== 0;
      c = a;
      break;
    }
    case 'update-instrument': {
      const mask = r.u8();
      const u: UpdateInstrumentCommand = { type, ts, instrument: r.str() };
      for (const [f, bit] of UPDATES) if (mask & bit) u[f] = r.num();
      c = u;
      break;
    }
    case 'settle':
    case 'settle-withdrawal': {
      const mask = r.u8();
      const ok = (mask & OK_TRUE) !== 0;
      const id = r.num();
      const t: SettleCommand | SettleWithdrawalCommand =
        type === 'settle' ? { type, ts, ok, tradeId: id } : { type, ts, ok, withdrawalId: id };
      if (mask & REASON) t.reason = r.str();
      if (mask & REF) t.ref = r.str();
      if (mask & GAS) t.gas = r.num();
      if (mask & GAS_FEE) t.gasFee = r.str();
      c = t;
      break;
    }
  }
  if (r.at !== end) throw new CodecError(`${end - r.at} stray bytes after a ${type} command`);
  return c;
}
