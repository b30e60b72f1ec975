/**
 * The packed calldata of `Settlement.settlePacked`: a batch's accounts once each in a table, then
 * its trades in groups that share a security and a cash token, each trade naming its buyer and
 * seller by their index in the table; fixed-width big-endian fields, no padding (byte layout in
 * docs/evm-contracts.md). 500 trades among 50 accounts take 31 KB where ABI-encoded structs take
 * 128 KB, written straight into one buffer rather than through ethers' ABI coder, so there is
 * less to encode, to hash when signing, and to pay for.
 *
 * Every field is checked before it is written: an address must be one (a mixed-case address
 * must carry a valid checksum), a trade id must fit 8 bytes and an amount 16, and a batch may
 * name at most 65,535 accounts. A value that does not fit throws a RangeError naming the trade
 * and the field, since a truncated amount would settle a different trade than the one matched.
 */
import { getAddress, id } from 'ethers';

/** One trade as settlePacked takes it, amounts in base units. */
export interface PackedTrade {
  tradeId: bigint;
  security: string;
  cash: string;
  buyer: string;
  seller: string;
  quantity: bigint;
  /** What the buyer pays, fee included. */
  cashAmount: bigint;
  fee: bigint;
}

/** [count 2], then [account 20] per account */
const TABLE_HEADER_BYTES = 2;
const ACCOUNT_BYTES = 20;
/** [security 20][cash 20][count 2] */
const GROUP_HEADER_BYTES = 42;
/** [tradeId 8][buyer 2][seller 2][quantity 16][cashAmount 16][fee 16] */
const TRADE_BYTES = 60;
/** The most a 2-byte count holds: trades in a group, accounts in the table. */
const MAX_COUNT = 0xffff;
const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT128 = (1n << 128n) - 1n;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** `settlePacked(bytes)`: selector, offset of the bytes, then the bytes' length. */
const SELECTOR = Buffer.from(id('settlePacked(bytes)').slice(2, 10), 'hex');
const CALL_HEAD_BYTES = 4 + 2 * 32;

/**
 * The `data` argument of settlePacked for these trades, in their order (verdicts depend on it:
 * each trade is checked against the balances the ones before it left). Consecutive trades with
 * the same security and cash strings share a group.
 */
export function packTrades(trades: readonly PackedTrade[]): string {
  const batch = new Packing(trades);
  const buf = Buffer.alloc(batch.length);
  batch.write(buf, 0);
  return `0x${buf.toString('hex')}`;
}

/**
 * The whole calldata of `settlePacked(packTrades(trades))`, the same bytes ethers'
 * `encodeFunctionData` gives, without its ABI coder: send it as a transaction's `data` to the
 * Settlement address.
 */
export function settlePackedCalldata(trades: readonly PackedTrade[]): string {
  const batch = new Packing(trades);
  const buf = Buffer.alloc(CALL_HEAD_BYTES + Math.ceil(batch.length / 32) * 32); // zeros pad the words
  SELECTOR.copy(buf, 0);
  buf[4 + 31] = 0x20; // the bytes start after the head word
  buf.writeUIntBE(batch.length, 4 + 64 - 6, 6); // the low 6 bytes of the length word
  batch.write(buf, CALL_HEAD_BYTES);
  return `0x${buf.toString('hex')}`;
}

type AddressField = 'security' | 'cash' | 'buyer' | 'seller';

/**
 * A batch laid out: its account table (every buyer and seller once, in ascending order, as the
 * contract requires) and its length in bytes. Checks each distinct address string once.
 */
class Packing {
  readonly length: number;
  #trades: readonly PackedTrade[];
  /** The 20 bytes of each address string seen, checked. */
  #bytes = new Map<string, Buffer>();
  /** Table index by lower-case address. */
  #index = new Map<string, number>();
  #table: Buffer[];

  constructor(trades: readonly PackedTrade[]) {
    this.#trades = trades;
    const accounts = new Map<string, Buffer>();
    let groups = 0;
    for (let i = 0; i < trades.length; i += groupSize(trades, i)) groups++;
    for (const t of trades) {
      for (const field of ['buyer', 'seller'] as const) {
        const bytes = this.#address(t, field);
        const key = bytes.toString('hex');
        if (accounts.has(key)) continue;
        if (accounts.size === MAX_COUNT)
          throw new RangeError(
            `trade ${String(t.tradeId)}: ${field} ${t[field]} is one account too many for settlePacked's ` +
              `table (${MAX_COUNT} a batch): send fewer trades in one batch`,
          );
        accounts.set(key, bytes);
      }
    }
    const sorted = [...accounts.keys()].sort();
    sorted.forEach((key, k) => this.#index.set(key, k));
    this.#table = sorted.map((key) => accounts.get(key)!);
    this.length =
      TABLE_HEADER_BYTES +
      this.#table.length * ACCOUNT_BYTES +
      groups * GROUP_HEADER_BYTES +
      trades.length * TRADE_BYTES;
  }

  /** Writes the table and the groups into `buf` from `offset`; `buf` has room (`length`). */
  write(buf: Buffer, offset: number): void {
    const trades = this.#trades;
    buf.writeUInt16BE(this.#table.length, offset);
    let at = offset + TABLE_HEADER_BYTES;
    for (const account of this.#table) at += account.copy(buf, at);
    for (let first = 0; first < trades.length;) {
      const size = groupSize(trades, first);
      const head = trades[first]!;
      this.#address(head, 'security').copy(buf, at);
      this.#address(head, 'cash').copy(buf, at + 20);
      buf.writeUInt16BE(size, at + 40);
      at += GROUP_HEADER_BYTES;
      for (let i = first; i < first + size; i++) {
        const t = trades[i]!;
        buf.writeBigUInt64BE(uint(t, 'tradeId', 8), at);
        buf.writeUInt16BE(this.#entry(t, 'buyer'), at + 8);
        buf.writeUInt16BE(this.#entry(t, 'seller'), at + 10);
        writeUint128(buf, at + 12, uint(t, 'quantity', 16));
        writeUint128(buf, at + 28, uint(t, 'cashAmount', 16));
        writeUint128(buf, at + 44, uint(t, 'fee', 16));
        at += TRADE_BYTES;
      }
      first += size;
    }
  }

  #entry(t: PackedTrade, field: 'buyer' | 'seller'): number {
    return this.#index.get(this.#address(t, field).toString('hex'))!;
  }

  #address(t: PackedTrade, field: AddressField): Buffer {
    let bytes = this.#bytes.get(t[field]);
    if (bytes === undefined) {
      bytes = addressBytes(t, field);
      this.#bytes.set(t[field], bytes);
    }
    return bytes;
  }
}

/**
 * Trades in the group that trade `first` opens: those after it with the same security and cash
 * strings (a differently cased address only costs a header), at most a header's count.
 */
function groupSize(trades: readonly PackedTrade[], first: number): number {
  const { security, cash } = trades[first]!;
  const end = Math.min(trades.length, first + MAX_COUNT);
  let next = first + 1;
  while (next < end && trades[next]!.security === security && trades[next]!.cash === cash) next++;
  return next - first;
}

function writeUint128(buf: Buffer, offset: number, value: bigint): void {
  buf.writeBigUInt64BE(value >> 64n, offset);
  buf.writeBigUInt64BE(value & MAX_UINT64, offset + 8);
}

/** The field's value if it fits `bytes` unsigned, else a RangeError naming trade and field. */
function uint(t: PackedTrade, field: 'tradeId' | 'quantity' | 'cashAmount' | 'fee', bytes: 8 | 16): bigint {
  const value = t[field];
  const max = bytes === 8 ? MAX_UINT64 : MAX_UINT128;
  if (typeof value === 'bigint' && value >= 0n && value <= max) return value;
  throw new RangeError(
    `trade ${String(t.tradeId)}: ${field} ${String(value)} does not fit settlePacked's ${bytes} bytes ` +
      `(a bigint from 0 to ${max})`,
  );
}

function addressBytes(t: PackedTrade, field: AddressField): Buffer {
  const value = t[field];
  const fail = (cause?: unknown): RangeError =>
    new RangeError(
      `trade ${String(t.tradeId)}: ${field} ${String(value)} is not an address (0x and 40 hex digits, ` +
        'a valid checksum if mixed-case)',
      cause === undefined ? undefined : { cause },
    );
  if (typeof value !== 'string' || !ADDRESS.test(value)) throw fail();
  try {
    getAddress(value); // checks the checksum of a mixed-case address
  } catch (err) {
    throw fail(err);
  }
  return Buffer.from(value.slice(2), 'hex');
}
