/**
 * Durable commands' events as bytes: what crosses a thread or process boundary (the history's
 * writer thread) instead of objects. A batch is a run of commands, each its sequence (f64) and
 * event count (u16), then its events: a kind tag (u8) and the fields of that kind in the order of
 * `eventToObject` (numbers as f64, strings as a u16 byte length and UTF-8, booleans as u8). The
 * writer reads any event, a pooled record's view or a plain object, by its published names; the
 * reader gives plain objects with the fields in that same order, and refuses (CodecError) bytes
 * that do not hold whole, known events.
 */
import type { EventKind, PublishedEvent } from '../engine/index.ts';
import { CodecError, Reader } from './codec.ts';

type FieldType = 'n' | 's' | 'b';
type Field = readonly [name: string, type: FieldType];

const ORDER: readonly Field[] = [
  ['orderId', 'n'],
  ['account', 's'],
  ['clientOrderId', 's'],
];

/** Each kind's fields after the head (seq, commandSeq, ts, kind, instrument), in published order. */
const FIELDS: Record<EventKind, readonly Field[]> = {
  accepted: [
    ...ORDER,
    ['side', 's'],
    ['orderType', 's'],
    ['tif', 's'],
    ['price', 'n'],
    ['stopPrice', 'n'],
    ['expireAt', 'n'],
    ['quantity', 'n'],
    ['leaves', 'n'],
  ],
  rejected: [...ORDER, ['code', 'n'], ['reason', 's'], ['newOrder', 'b']],
  canceled: [...ORDER, ['side', 's'], ['quantity', 'n'], ['leaves', 'n'], ['filled', 'n'], ['reason', 's']],
  replaced: [
    ...ORDER,
    ['side', 's'],
    ['price', 'n'],
    ['quantity', 'n'],
    ['leaves', 'n'],
    ['filled', 'n'],
    ['keptPriority', 'b'],
  ],
  triggered: [
    ...ORDER,
    ['side', 's'],
    ['orderType', 's'],
    ['tif', 's'],
    ['price', 'n'],
    ['stopPrice', 'n'],
    ['quantity', 'n'],
    ['leaves', 'n'],
    ['filled', 'n'],
  ],
  trade: [
    ['tradeId', 'n'],
    ['price', 'n'],
    ['quantity', 'n'],
    ['aggressor', 's'],
    ['takerOrderId', 'n'],
    ['takerAccount', 's'],
    ['takerClientOrderId', 's'],
    ['takerLeaves', 'n'],
    ['takerFilled', 'n'],
    ['takerFee', 'n'],
    ['makerOrderId', 'n'],
    ['makerAccount', 's'],
    ['makerClientOrderId', 's'],
    ['makerLeaves', 'n'],
    ['makerFilled', 'n'],
    ['makerFee', 'n'],
  ],
  depth: [
    ['side', 's'],
    ['price', 'n'],
    ['quantity', 'n'],
    ['count', 'n'],
  ],
  bbo: [
    ['bidPrice', 'n'],
    ['bidQty', 'n'],
    ['askPrice', 'n'],
    ['askQty', 'n'],
  ],
  instrument: [['status', 's']],
  balance: [
    ['account', 's'],
    ['asset', 's'],
    ['available', 'n'],
    ['reserved', 'n'],
    ['pendingIn', 'n'],
    ['pendingOut', 'n'],
  ],
  settlement: [
    ['tradeId', 'n'],
    ['ok', 'b'],
    ['reason', 's'],
    ['ref', 's'],
    ['gas', 'n'],
    ['gasFee', 's'],
  ],
  account: [
    ['account', 's'],
    ['venue', 's'],
    ['eligible', 'b'],
    ['frozen', 'b'],
  ],
  withdrawal: [
    ['withdrawalId', 'n'],
    ['status', 's'],
    ['account', 's'],
    ['asset', 's'],
    ['amount', 'n'],
    ['reason', 's'],
    ['ref', 's'],
    ['gas', 'n'],
    ['gasFee', 's'],
  ],
  identity: [
    ['account', 's'],
    ['identity', 's'],
    ['linked', 'b'],
  ],
  leg: [
    ['tradeId', 'n'],
    ['leg', 's'],
    ['venue', 's'],
    ['status', 's'],
    ['reason', 's'],
    ['ref', 's'],
    ['gas', 'n'],
    ['gasFee', 's'],
  ],
};

const KINDS = Object.keys(FIELDS) as EventKind[];
const TAG = new Map(KINDS.map((k, i) => [k, i]));
const HEAD: readonly Field[] = [
  ['seq', 'n'],
  ['commandSeq', 'n'],
  ['ts', 'n'],
  ['instrument', 's'],
];

/** Where events are written: a buffer that grows, and a position. */
class Out {
  buf: Buffer;
  at = 0;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  putNum(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }

  putBool(v: boolean): void {
    this.room(1);
    this.buf[this.at++] = v === true ? 1 : 0;
  }

  putStr(s: string): void {
    const n = s.length;
    this.room(2 + n * 3);
    const buf = this.buf;
    const start = this.at;
    let at = start + 2;
    let i = 0;
    // Plain ASCII byte by byte (ids, accounts, instruments); anything else through the UTF-8 encoder.
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at++] = c;
    }
    if (i < n) at = start + 2 + buf.write(s, start + 2, 'utf8');
    const bytes = at - start - 2;
    if (bytes > 0xffff) throw new CodecError('an event holds a string of more than 65,535 bytes');
    buf.writeUInt16LE(bytes, start);
    this.at = at;
  }
}

const PUT = { n: 'putNum', s: 'putStr', b: 'putBool' } as const;
const GET = { n: 'c.num()', s: 'c.str()', b: 'c.u8() === 1' } as const;

/**
 * Each kind's writer and reader, made from its field list as straight-line code (named loads and
 * an object literal of one shape per kind): a loop over the list, reading `e[name]`, cost ten
 * times as much per event.
 */
const WRITE = KINDS.map(
  (kind) =>
    new Function(
      'c',
      'e',
      [...HEAD, ...FIELDS[kind]].map(([name, type]) => `c.${PUT[type]}(e.${name});`).join('\n'),
    ) as (c: Out, e: PublishedEvent) => void,
);
const READ = KINDS.map(
  (kind) =>
    new Function(
      'c',
      'kind',
      `return { seq: c.num(), commandSeq: c.num(), ts: c.num(), kind, instrument: c.str(), ${FIELDS[kind]
        .map(([name, type]) => `${name}: ${GET[type]}`)
        .join(', ')} };`,
    ) as (c: Reader, kind: EventKind) => PublishedEvent,
);

const SKIP = { n: 'c.skip(8);', s: 'c.skip(c.u16());', b: 'c.skip(1);' } as const;
/** Each kind's skipper: moves past an event of that kind without making it (a reader that wants other kinds). */
const PASS = KINDS.map(
  (kind) =>
    new Function('c', [...HEAD, ...FIELDS[kind]].map(([, type]) => SKIP[type]).join('\n')) as (
      c: Reader,
    ) => void,
);

/** Writes commands' events into one growing buffer; `take` hands the bytes over and starts again. */
export class EventBatchWriter {
  #c = new Out(Buffer.allocUnsafe(64 * 1024));
  /** Per kind tag, whether its events are written. */
  #keep: boolean[];

  /** `kinds`: the kinds of events written (default all); a command is written even with none of them. */
  constructor(kinds: readonly EventKind[] = KINDS) {
    this.#keep = KINDS.map((k) => kinds.includes(k));
  }

  /** Bytes written since the last `take`. */
  get size(): number {
    return this.#c.at;
  }

  /**
   * Appends a batch as written by an EventBatchWriter (of any kinds: the reader of the result
   * passes over those it does not take).
   */
  append(batch: Uint8Array): void {
    const c = this.#c;
    c.room(batch.length);
    c.buf.set(batch, c.at);
    c.at += batch.length;
  }

  /** Writes one command's events; one that cannot be written throws, leaving the batch as it was. */
  command(seq: number, events: readonly PublishedEvent[]): void {
    const c = this.#c;
    const start = c.at;
    try {
      c.putNum(seq);
      c.room(2);
      const countAt = c.at;
      c.at += 2;
      let count = 0;
      for (const e of events) {
        const tag = TAG.get(e.kind);
        if (tag === undefined) throw new CodecError(`unknown event kind ${String(e.kind)}`);
        if (!this.#keep[tag]) continue;
        if (++count > 0xffff) throw new CodecError('a command has more than 65,535 events');
        c.room(1);
        c.buf[c.at++] = tag;
        WRITE[tag]!(c, e);
      }
      c.buf.writeUInt16LE(count, countAt);
    } catch (err) {
      c.at = start;
      throw err;
    }
  }

  /**
   * The bytes written (a copy: small ones share Node's buffer pool, so post them, do not
   * transfer them), and an empty writer.
   */
  take(): Buffer {
    const c = this.#c;
    const out = Buffer.allocUnsafe(c.at);
    c.buf.copy(out, 0, 0, c.at);
    c.at = 0;
    return out;
  }
}

/**
 * Reads a batch written by `EventBatchWriter`, handing each command's events as plain objects;
 * with `kinds`, only the events of those kinds (the others are passed over, not made).
 */
export function readEventBatch(
  bytes: Uint8Array,
  handle: (seq: number, events: PublishedEvent[]) => void,
  kinds?: readonly EventKind[],
): void {
  const keep = kinds === undefined ? null : KINDS.map((k) => kinds.includes(k));
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const c = new Reader(buf, 0, buf.length);
  while (c.at < buf.length) {
    const seq = c.num();
    const count = c.u8() | (c.u8() << 8);
    const events: PublishedEvent[] = keep === null ? new Array(count) : [];
    for (let k = 0; k < count; k++) {
      const tag = c.u8();
      const kind = KINDS[tag];
      if (kind === undefined) throw new CodecError(`unknown event kind tag ${tag}`);
      if (keep === null) events[k] = READ[tag]!(c, kind);
      else if (keep[tag]) events.push(READ[tag]!(c, kind));
      else PASS[tag]!(c);
    }
    handle(seq, events);
  }
}
