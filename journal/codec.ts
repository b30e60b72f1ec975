/**
 * Binary encoding of engine commands for the journal: a type tag, a presence mask for optional
 * fields, then the fields in a fixed order (numbers as float64, strings as u16 length + UTF-8).
 * A rare command (list-instrument) carries its spec as JSON. Encoding writes into a caller's
 * buffer and allocates nothing but the strings it decodes.
 *
 * The type tag is the command's index in `TYPES`: a new command type is appended, never inserted,
 * and an existing type's fields keep their order (new optional ones take a new presence bit), so
 * journals written before still decode to the same commands.
 */
import type {
  Command,
  InstrumentSpec,
  NewOrderCommand,
  OrderType,
  SetAccountCommand,
  SettleCommand,
  SettleWithdrawalCommand,
  Side,
  StpMode,
  TimeInForce,
  UpdateInstrumentCommand,
} from '../engine/index.ts';

const TYPES = [
  'new',
  'cancel',
  'cancel-all',
  'replace',
  'list-instrument',
  'set-status',
  'tick',
  'deposit',
  'withdraw',
  'set-account',
  'settle',
  'update-instrument',
  'request-withdrawal',
  'settle-withdrawal',
] as const;
const SIDES: readonly Side[] = ['buy', 'sell'];
const ORDER_TYPES: readonly OrderType[] = ['limit', 'market', 'stop', 'stop-limit'];
const TIFS: readonly TimeInForce[] = ['GTC', 'GTD', 'IOC', 'FOK'];
const STPS: readonly StpMode[] = ['cancel-newest', 'cancel-oldest', 'cancel-both', 'decrement-and-cancel'];
const STATUSES = ['open', 'halted'] as const;

/** Room an encoded command may need: strings are capped at 4096 characters (<= 12 KiB UTF-8). */
export const MAX_COMMAND_BYTES = 64 * 1024;

export class CodecError extends Error {
  override name = 'CodecError';
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
  pick<T>(list: readonly T[], v: T, field: string): void {
    const i = list.indexOf(v);
    if (i < 0) throw new CodecError(`${field} must be one of ${list.join(', ')}`);
    this.u8(i);
  }
}

const w = new Writer();

/** Reads fields from a buffer, checking bounds. */
class Reader {
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
  str(): string {
    this.#need(2);
    const n = this.buf.readUInt16LE(this.at);
    this.#need(2 + n);
    const s = this.buf.toString('utf8', this.at + 2, this.at + 2 + n);
    this.at += 2 + n;
    return s;
  }
  pick<T>(list: readonly T[], what: string): T {
    const i = this.u8();
    const v = list[i];
    if (v === undefined) throw new CodecError(`unknown ${what} ${i}`);
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
/** Fields of update-instrument, in presence-bit order. */
const UPDATES = ['makerFeeBps', 'takerFeeBps', 'bandBps', 'referencePrice'] as const;
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
    case 'set-account':
      w.u8(
        flag(c.eligible, 'eligible', ELIGIBLE, ELIGIBLE_TRUE) | flag(c.frozen, 'frozen', FROZEN, FROZEN_TRUE),
      );
      w.str(c.account, 'account');
      w.str(c.venue, 'venue');
      break;
    case 'update-instrument': {
      const present = UPDATES.map((f) => c[f] !== undefined);
      w.u8(present.reduce((mask, p, i) => mask | (p ? 1 << i : 0), 0));
      w.str(c.instrument, 'instrument');
      UPDATES.forEach((f, i) => {
        if (present[i]) w.num(c[f], f);
      });
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
      UPDATES.forEach((f, i) => {
        if (mask & (1 << i)) u[f] = r.num();
      });
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
