/**
 * Reading the batched state calls a chaincode sends on every transaction (GET_STATE_MULTIPLE's
 * keys, WRITE_BATCH_STATE's records) without google-protobuf's objects and UTF-8 decoding per key.
 * Only the plain form is read here: the fields the devnet knows, each with its wire type, and
 * strings of ASCII, as fabric-shim writes them. Anything else (another field, a non-ASCII string,
 * a truncated message) gives undefined, and the caller reads the message with google-protobuf: so
 * every message reads as google-protobuf reads it, which
 * `test/connectors/fabric-devnet-codec.test.ts` checks on random and damaged messages against
 * `getStateMultiple` and `writeBatchState`, google-protobuf's reading kept beside them.
 */
import { peer } from '@hyperledger/fabric-protos';

/** A `WriteRecord` as the chaincode link uses it. */
export interface WriteRecord {
  key: string;
  value: Uint8Array;
  collection: string;
  /** `WriteRecord.Type`. */
  type: number;
}

/** In a string read as latin1: a byte past ASCII. */
const NON_ASCII = /[\u0080-\u00ff]/;

/** A cursor over one message's bytes; `undefined` from a read means "not the plain form". */
class Cursor {
  readonly #bytes: Buffer;
  at: number;
  readonly end: number;

  constructor(bytes: Buffer, at: number, end: number) {
    this.#bytes = bytes;
    this.at = at;
    this.end = end;
  }

  /** A varint of at most 4 bytes (below 2^28: lengths, tags, enum values), else undefined. */
  varint(): number | undefined {
    let n = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.at >= this.end) return undefined;
      const byte = this.#bytes[this.at++]!;
      n += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return n;
    }
    return undefined;
  }

  /** The bounds of a length-delimited field's content, moved past; undefined if it overruns. */
  delimited(): { start: number; end: number } | undefined {
    const length = this.varint();
    if (length === undefined || this.at + length > this.end) return undefined;
    const start = this.at;
    this.at += length;
    return { start, end: this.at };
  }

  /** A length-delimited ASCII string, else undefined. */
  ascii(): string | undefined {
    const field = this.delimited();
    if (field === undefined) return undefined;
    const s = this.#bytes.toString('latin1', field.start, field.end);
    return NON_ASCII.test(s) ? undefined : s;
  }

  bytes(): Uint8Array | undefined {
    const field = this.delimited();
    return field === undefined ? undefined : this.#bytes.subarray(field.start, field.end);
  }

  sub(): Cursor | undefined {
    const field = this.delimited();
    return field === undefined ? undefined : new Cursor(this.#bytes, field.start, field.end);
  }
}

function cursor(bytes: Uint8Array): Cursor {
  return new Cursor(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), 0, bytes.length);
}

/** A `GetStateMultiple` (keys 1, collection 2) in the plain form, else undefined. */
export function readGetStateMultiple(bytes: Uint8Array): { keys: string[]; collection: string } | undefined {
  const c = cursor(bytes);
  const keys: string[] = [];
  let collection = '';
  while (c.at < c.end) {
    const tag = c.varint();
    const value = tag === 0x0a || tag === 0x12 ? c.ascii() : undefined;
    if (value === undefined) return undefined;
    if (tag === 0x0a) keys.push(value);
    else collection = value;
  }
  return { keys, collection };
}

/** A `WriteBatchState`'s records (rec 1: key 1, value 2, collection 3, type 5) in the plain form, else undefined. */
export function readWriteBatchState(bytes: Uint8Array): WriteRecord[] | undefined {
  const c = cursor(bytes);
  const records: WriteRecord[] = [];
  while (c.at < c.end) {
    const rec = c.varint() === 0x0a ? c.sub() : undefined;
    const record = rec === undefined ? undefined : writeRecord(rec);
    if (record === undefined) return undefined;
    records.push(record);
  }
  return records;
}

const EMPTY = new Uint8Array();

function writeRecord(c: Cursor): WriteRecord | undefined {
  const record: WriteRecord = { key: '', value: EMPTY, collection: '', type: 0 };
  while (c.at < c.end) {
    const tag = c.varint();
    if (tag === 0x0a || tag === 0x1a) {
      const s = c.ascii();
      if (s === undefined) return undefined;
      if (tag === 0x0a) record.key = s;
      else record.collection = s;
    } else if (tag === 0x12) {
      const value = c.bytes();
      if (value === undefined) return undefined;
      record.value = value;
    } else if (tag === 0x28) {
      const type = c.varint();
      if (type === undefined) return undefined;
      record.type = type;
    } else return undefined;
  }
  return record;
}

/** A `GetStateMultiple` read by google-protobuf (any form; throws when it is not one). */
export function getStateMultiple(payload: Uint8Array): { keys: string[]; collection: string } {
  const call = peer.GetStateMultiple.deserializeBinary(payload);
  return { keys: call.getKeysList(), collection: call.getCollection() };
}

/** A `WriteBatchState`'s records read by google-protobuf (any form; throws when it is not one). */
export function writeBatchState(payload: Uint8Array): WriteRecord[] {
  return peer.WriteBatchState.deserializeBinary(payload)
    .getRecList()
    .map((r) => ({
      key: r.getKey(),
      value: r.getValue_asU8(),
      collection: r.getCollection(),
      type: r.getType(),
    }));
}
