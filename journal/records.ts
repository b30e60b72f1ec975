/**
 * Journal segments: an 8-byte header, `MWAL` then the format version as a u32, followed by
 * records `[u32 length][u32 crc32][payload]`, little-endian, where the payload is
 * `[f64 sequence][encoded command]` and the CRC covers the payload. Scanning a segment tells a
 * torn tail (an interrupted last write: safe to cut off) from corruption (a bad record with
 * data after it, or a sequence gap: never skipped).
 *
 * Segments written before the header existed start straight with a record; they are format
 * version 1. They cannot be mistaken for a header: `MWAL` read as a record length is far beyond
 * MAX_PAYLOAD_BYTES.
 */
import { crc32 } from 'node:zlib';
import { FORMAT_VERSION, MAX_COMMAND_BYTES } from './codec.ts';

/** The bytes a segment header starts with. */
const MAGIC = Buffer.from('MWAL', 'latin1');
export const SEGMENT_HEADER_BYTES = 8;

export const HEADER_BYTES = 8;
export const SEQ_BYTES = 8;
export const MAX_PAYLOAD_BYTES = SEQ_BYTES + MAX_COMMAND_BYTES;

/** Where one valid record's command bytes are. */
export interface RecordRef {
  seq: number;
  /** Start of the encoded command. */
  start: number;
  /** End of the record. */
  end: number;
}

export interface Scan {
  records: RecordRef[];
  /** End of the last valid record: where a torn tail would be cut. */
  validEnd: number;
  /** Why scanning stopped before the end of the buffer, or null. */
  stop: null | { kind: 'torn' | 'corrupt'; at: number; why: string };
}

/** The header of a new segment: the magic and the current format version. */
export function segmentHeader(): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32LE(FORMAT_VERSION, MAGIC.length);
  return header;
}

/** A scanned segment and the format version its header names (null: it has no header). */
export interface SegmentScan extends Scan {
  version: number | null;
}

/**
 * Scans a segment: its header, if any, then its records (see scanRecords). A header cut short
 * (a crash right after the segment was created) is a torn tail at byte 0. The version is
 * returned, not checked: the caller names the file when it refuses one.
 */
export function scanSegment(buf: Buffer, expectSeq: number): SegmentScan {
  const magic = buf.subarray(0, MAGIC.length);
  if (buf.length === 0 || !MAGIC.subarray(0, magic.length).equals(magic))
    return { ...scanRecords(buf, expectSeq, 0), version: null };
  if (buf.length < SEGMENT_HEADER_BYTES) {
    const why = 'the segment header is cut short';
    return { records: [], validEnd: 0, stop: { kind: 'torn', at: 0, why }, version: null };
  }
  const version = buf.readUInt32LE(MAGIC.length);
  return { ...scanRecords(buf, expectSeq, SEGMENT_HEADER_BYTES), version };
}

/** Writes a record's header once its payload is in place at `at + HEADER_BYTES`. */
export function sealRecord(buf: Buffer, at: number, end: number): void {
  const len = end - at - HEADER_BYTES;
  buf.writeUInt32LE(len, at);
  buf.writeUInt32LE(crc32(buf.subarray(at + HEADER_BYTES, end)), at + 4);
}

/**
 * Scans a segment's records from byte `from`. `expectSeq` is the sequence the first record must
 * carry (0: any).
 * A bad record is a torn tail when nothing but zeros follows it, or when it runs past the end
 * of the buffer and no valid later record can be found after its header (a damaged length
 * field in an earlier record would otherwise look like a torn write); otherwise corruption.
 */
function scanRecords(buf: Buffer, expectSeq: number, from: number): Scan {
  const records: RecordRef[] = [];
  let at = from;
  let next = expectSeq;
  while (at < buf.length) {
    const bad = (why: string, torn: boolean): Scan => ({
      records,
      validEnd: at,
      stop: { kind: torn || zerosFrom(buf, at) ? 'torn' : 'corrupt', at, why },
    });
    if (at + HEADER_BYTES > buf.length) return bad('the last record header is cut short', true);
    const len = buf.readUInt32LE(at);
    if (len < SEQ_BYTES + 1 || len > MAX_PAYLOAD_BYTES)
      return bad(`record length ${len} is impossible`, false);
    const end = at + HEADER_BYTES + len;
    if (end > buf.length) {
      if (laterRecord(buf, at + HEADER_BYTES, next))
        return bad(`record length ${len} runs past the end, yet records follow`, false);
      return bad('the last record is cut short', true);
    }
    const payload = buf.subarray(at + HEADER_BYTES, end);
    if (crc32(payload) !== buf.readUInt32LE(at + 4)) {
      return bad('record checksum does not match', zerosFrom(buf, end));
    }
    const seq = payload.readDoubleLE(0);
    if (next !== 0 && seq !== next) return bad(`sequence ${seq} where ${next} was expected`, false);
    records.push({ seq, start: at + HEADER_BYTES + SEQ_BYTES, end });
    next = seq + 1;
    at = end;
  }
  return { records, validEnd: at, stop: null };
}

/** Whether a whole record with a valid checksum and a sequence >= `minSeq` starts anywhere at or after `from`. */
function laterRecord(buf: Buffer, from: number, minSeq: number): boolean {
  for (let p = from; p + HEADER_BYTES + SEQ_BYTES < buf.length; p++) {
    const len = buf.readUInt32LE(p);
    if (len < SEQ_BYTES + 1 || len > MAX_PAYLOAD_BYTES || p + HEADER_BYTES + len > buf.length) continue;
    const payload = buf.subarray(p + HEADER_BYTES, p + HEADER_BYTES + len);
    if (crc32(payload) === buf.readUInt32LE(p + 4) && payload.readDoubleLE(0) >= minSeq) return true;
  }
  return false;
}

function zerosFrom(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
