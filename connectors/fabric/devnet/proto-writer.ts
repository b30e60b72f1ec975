/**
 * A protobuf writer for the messages the devnet builds on every transaction (the read-write set,
 * a batched state call's answer, the endorsed transaction): fields go into one growing buffer in
 * the order the caller writes them, with none of google-protobuf's objects per field and copies
 * per level, which cost more than the rest of a simulation's results. The caller writes fields in
 * field-number order and skips proto3 defaults where google-protobuf's generated code skips them,
 * and gets the bytes that code writes; `test/connectors/fabric-devnet-codec.test.ts` checks them
 * against it byte for byte.
 *
 * One exception: google-protobuf encodes a UTF-16 surrogate its own way (a lone one is not
 * replaced by U+FFFD as Node's encoder replaces it), so a string with one (`hasSurrogate`) goes
 * through the library instead.
 */

const SURROGATE = /[\uD800-\uDFFF]/;

/** Whether `s` holds a UTF-16 surrogate (half of a code point past U+FFFF, or a lone one). */
export function hasSurrogate(s: string): boolean {
  return SURROGATE.test(s);
}

/** The bytes a varint of `n` (a non-negative safe integer) takes. */
export function varintSize(n: number): number {
  let size = 1;
  for (; n > 0x7f; n = Math.floor(n / 0x80)) size++;
  return size;
}

/** Field wire types. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** Appends protobuf fields to one buffer; allocates only when the buffer must grow. */
export class ProtoWriter {
  #buf: Buffer;
  #at = 0;

  /** `sizeHint`: the bytes expected, so the buffer rarely grows. */
  constructor(sizeHint = 256) {
    this.#buf = Buffer.allocUnsafe(Math.max(16, sizeHint));
  }

  #room(n: number): void {
    const need = this.#at + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }

  /** A non-negative safe integer as a varint (room for it already made). */
  #varint(n: number): void {
    const buf = this.#buf;
    let at = this.#at;
    while (n > 0x7f) {
      buf[at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[at++] = n;
    this.#at = at;
  }

  #tag(field: number, wireType: number): void {
    this.#room(5);
    this.#varint(field * 8 + wireType);
  }

  /** A uint64 (a non-negative safe integer), even 0: skipping 0 is the caller's. */
  uint64(field: number, n: number): void {
    this.#tag(field, VARINT);
    this.#room(10);
    this.#varint(n);
  }

  /** A bool, even false. */
  bool(field: number, value: boolean): void {
    this.#tag(field, VARINT);
    this.#room(1);
    this.#buf[this.#at++] = value ? 1 : 0;
  }

  /** A string as UTF-8, even empty; `s` must hold no surrogate (see `hasSurrogate`). */
  string(field: number, s: string): void {
    const mark = this.begin(field); // written first, its length after: no byteLength pass
    this.#room(3 * s.length);
    this.#at += this.#buf.write(s, this.#at, 'utf8');
    this.end(mark);
  }

  /** Bytes, even empty. */
  bytes(field: number, bytes: Uint8Array): void {
    this.#tag(field, LENGTH_DELIMITED);
    this.#room(5 + bytes.length);
    this.#varint(bytes.length);
    this.#buf.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  /** The tag and length of a length-delimited field whose `length` bytes the caller writes next. */
  delimited(field: number, length: number): void {
    this.#tag(field, LENGTH_DELIMITED);
    this.#room(5 + length);
    this.#varint(length);
  }

  /** Opens an embedded message; its fields follow, then `end` with what this returned. */
  begin(field: number): number {
    this.#tag(field, LENGTH_DELIMITED);
    this.#room(1);
    return this.#at++; // one byte for the length: a message under 128 bytes needs no more
  }

  /** Closes the message `begin` opened, writing its length (moving its bytes if that takes more than one). */
  end(mark: number): void {
    const length = this.#at - mark - 1;
    if (length < 0x80) {
      this.#buf[mark] = length;
      return;
    }
    let extra = 0;
    for (let n = length; n > 0x7f; n = Math.floor(n / 0x80)) extra++;
    this.#room(extra);
    this.#buf.copyWithin(mark + 1 + extra, mark + 1, this.#at);
    const end = this.#at + extra;
    this.#at = mark;
    this.#varint(length);
    this.#at = end;
  }

  /** The bytes written (a view of the writer's buffer: the writer is done with after this). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#at);
  }
}
