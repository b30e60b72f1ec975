/**
 * The bytes of a fill, of a finished order, of a candle and of where an id's entry is, on disk:
 * numbers as float64, small enumerations in one byte each, strings as u16 length + UTF-8; the time
 * is in the key, not here. Written by hand because a general encoder (msgpack records) took three
 * times as long per entry, on the thread that also runs the engine. Each value gets its own buffer:
 * LMDB reads it after `put` returns.
 */
import type { OrderType, Side, TimeInForce } from '../engine/index.ts';
import type { Candle } from './candles.ts';
import type { FillRecord, FinalStatus, OrderRecord } from './records.ts';

const SIDES: readonly (Side | null)[] = ['buy', 'sell', null];
const TYPES: readonly (OrderType | null)[] = ['limit', 'market', 'stop', 'stop-limit', null];
const TIFS: readonly (TimeInForce | null)[] = ['GTC', 'GTD', 'IOC', 'FOK', null];
const STATUSES: readonly FinalStatus[] = ['filled', 'canceled', 'expired', 'rejected'];

/** Writes numbers, bytes and strings into a buffer sized for them. */
class Out {
  readonly buf: Buffer;
  at = 0;
  constructor(numbers: number, bytes: number, strings: readonly string[]) {
    let size = numbers * 8 + bytes;
    for (const s of strings) size += 2 + Buffer.byteLength(s);
    this.buf = Buffer.allocUnsafe(size);
  }
  num(v: number): this {
    this.at = this.buf.writeDoubleLE(v, this.at);
    return this;
  }
  byte(v: number): this {
    this.at = this.buf.writeUInt8(v, this.at);
    return this;
  }
  str(s: string): this {
    const n = this.buf.write(s, this.at + 2, 'utf8');
    this.buf.writeUInt16LE(n, this.at);
    this.at += 2 + n;
    return this;
  }
}

class In {
  #buf: Uint8Array;
  #view: DataView;
  #at = 0;
  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  num(): number {
    const v = this.#view.getFloat64(this.#at, true);
    this.#at += 8;
    return v;
  }
  byte(): number {
    return this.#view.getUint8(this.#at++);
  }
  str(): string {
    const n = this.#view.getUint16(this.#at, true);
    const s = Buffer.from(this.#buf.buffer, this.#buf.byteOffset + this.#at + 2, n).toString('utf8');
    this.#at += 2 + n;
    return s;
  }
}

/** NaN stands for null among numbers. */
const orNaN = (v: number | null) => v ?? Number.NaN;
const orNull = (v: number) => (Number.isNaN(v) ? null : v);

/** Where an entry is, by id: its time and event seq. */
export function encodeAt(ts: number, seq: number): Buffer {
  return new Out(2, 0, []).num(ts).num(seq).buf;
}

export function decodeAt(bytes: Uint8Array): [number, number] {
  const r = new In(bytes);
  return [r.num(), r.num()];
}

export function encodeFill(f: FillRecord): Buffer {
  return new Out(5, 1, [f.clientOrderId, f.instrument])
    .num(f.tradeId)
    .num(f.orderId)
    .num(f.price)
    .num(f.quantity)
    .num(f.fee)
    .byte((f.side === 'sell' ? 1 : 0) | (f.liquidity === 'maker' ? 2 : 0))
    .str(f.clientOrderId)
    .str(f.instrument).buf;
}

export function decodeFill(bytes: Uint8Array, ts: number): FillRecord {
  const r = new In(bytes);
  const [tradeId, orderId, price, quantity, fee, flags] = [
    r.num(),
    r.num(),
    r.num(),
    r.num(),
    r.num(),
    r.byte(),
  ];
  return {
    tradeId,
    orderId,
    clientOrderId: r.str(),
    instrument: r.str(),
    side: flags & 1 ? 'sell' : 'buy',
    price,
    quantity,
    fee,
    liquidity: flags & 2 ? 'maker' : 'taker',
    ts,
  };
}

export function encodeOrder(o: OrderRecord): Buffer {
  return new Out(8, 4, [o.clientOrderId, o.instrument, o.reason])
    .num(orNaN(o.orderId))
    .num(o.price)
    .num(o.stopPrice)
    .num(o.quantity)
    .num(o.filled)
    .num(orNaN(o.notional))
    .num(o.code)
    .num(orNaN(o.createdAt))
    .byte(SIDES.indexOf(o.side))
    .byte(TYPES.indexOf(o.orderType))
    .byte(TIFS.indexOf(o.tif))
    .byte(STATUSES.indexOf(o.status))
    .str(o.clientOrderId)
    .str(o.instrument)
    .str(o.reason).buf;
}

export function decodeOrder(bytes: Uint8Array, ts: number): OrderRecord {
  const r = new In(bytes);
  const orderId = orNull(r.num());
  const [price, stopPrice, quantity, filled] = [r.num(), r.num(), r.num(), r.num()];
  const [notional, code, createdAt] = [orNull(r.num()), r.num(), orNull(r.num())];
  const [side, orderType, tif, status] = [
    SIDES[r.byte()],
    TYPES[r.byte()],
    TIFS[r.byte()],
    STATUSES[r.byte()],
  ];
  return {
    orderId,
    clientOrderId: r.str(),
    instrument: r.str(),
    side: side ?? null,
    orderType: orderType ?? null,
    tif: tif ?? null,
    price,
    stopPrice,
    quantity,
    filled,
    notional,
    status: status!,
    reason: r.str(),
    code,
    createdAt,
    ts,
  };
}

/** A candle without its open time (in the key). */
export function encodeCandle(c: Candle): Buffer {
  return new Out(7, 0, [])
    .num(c.open)
    .num(c.high)
    .num(c.low)
    .num(c.close)
    .num(c.volume)
    .num(c.trades)
    .num(c.lastTradeId).buf;
}

export function decodeCandle(bytes: Uint8Array, t: number): Candle {
  const r = new In(bytes);
  // Properties are evaluated in the order written: the order of the bytes.
  return {
    t,
    open: r.num(),
    high: r.num(),
    low: r.num(),
    close: r.num(),
    volume: r.num(),
    trades: r.num(),
    lastTradeId: r.num(),
  };
}
