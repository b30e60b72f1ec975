/**
 * The packed calldata of `Settlement.settlePacked`: a batch's trades in groups that share a
 * security and a cash token, fixed-width big-endian fields, no padding (byte layout in
 * docs/evm-contracts.md). 500 trades of one instrument take 48 KB instead of the 128 KB of
 * `settleBatch`'s ABI encoding, and are written straight into one buffer rather than through
 * ethers' ABI coder, so there is less to encode, to hash when signing, and to pay for.
 *
 * Every field is checked before it is written: an address must be one (a mixed-case address
 * must carry a valid checksum), a trade id must fit 8 bytes and an amount 16. A value that does
 * not fit throws a RangeError naming the trade and the field, since a truncated amount would
 * settle a different trade than the one matched.
 */
import { getAddress, id } from 'ethers';

/** One trade as settlePacked takes it: the fields of the contract's `Trade`, in base units. */
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

/** [security 20][cash 20][count 2] */
const GROUP_HEADER_BYTES = 42;
/** [tradeId 8][buyer 20][seller 20][quantity 16][cashAmount 16][fee 16] */
const TRADE_BYTES = 96;
/** The largest count a group header holds; a longer run of one instrument opens a new group. */
const MAX_GROUP_TRADES = 0xffff;
const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT128 = (1n << 128n) - 1n;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** `settlePacked(bytes,bool)`: selector, offset of the bytes, the bool, then the bytes' length. */
const SELECTOR = Buffer.from(id('settlePacked(bytes,bool)').slice(2, 10), 'hex');
const CALL_HEAD_BYTES = 4 + 3 * 32;

/**
 * The `data` argument of settlePacked for these trades, in their order (verdicts depend on it:
 * each trade is checked against the balances the ones before it left). Consecutive trades with
 * the same security and cash strings share a group.
 */
export function packTrades(trades: readonly PackedTrade[]): string {
  const buf = Buffer.alloc(packedLength(trades));
  writeTrades(trades, buf, 0);
  return `0x${buf.toString('hex')}`;
}

/**
 * The whole calldata of `settlePacked(packTrades(trades), netting)`, the same bytes ethers'
 * `encodeFunctionData` gives, without its ABI coder: send it as a transaction's `data` to the
 * Settlement address.
 */
export function settlePackedCalldata(trades: readonly PackedTrade[], netting: boolean): string {
  const length = packedLength(trades);
  const buf = Buffer.alloc(CALL_HEAD_BYTES + Math.ceil(length / 32) * 32); // zeros pad the words
  SELECTOR.copy(buf, 0);
  buf[4 + 31] = 0x40; // the bytes start after the two head words
  buf[4 + 63] = netting ? 1 : 0;
  buf.writeUIntBE(length, 4 + 96 - 6, 6); // the low 6 bytes of the length word
  writeTrades(trades, buf, CALL_HEAD_BYTES);
  return `0x${buf.toString('hex')}`;
}

/** Bytes of the packed trades: a header per group, a record per trade. */
function packedLength(trades: readonly PackedTrade[]): number {
  let groups = 0;
  for (let i = 0; i < trades.length; i += groupSize(trades, i)) groups++;
  return groups * GROUP_HEADER_BYTES + trades.length * TRADE_BYTES;
}

/**
 * Trades in the group that trade `first` opens: those after it with the same security and cash
 * strings (a differently cased address only costs a header), at most a header's count.
 */
function groupSize(trades: readonly PackedTrade[], first: number): number {
  const { security, cash } = trades[first]!;
  const end = Math.min(trades.length, first + MAX_GROUP_TRADES);
  let next = first + 1;
  while (next < end && trades[next]!.security === security && trades[next]!.cash === cash) next++;
  return next - first;
}

/**
 * Writes the groups into `buf` from `offset`; `buf` has room (packedLength). Allocates the 20
 * bytes of each distinct address once per call, as it checks it.
 */
function writeTrades(trades: readonly PackedTrade[], buf: Buffer, offset: number): void {
  const addresses = new Map<string, Buffer>();
  const address = (t: PackedTrade, field: AddressField): Buffer => {
    let bytes = addresses.get(t[field]);
    if (bytes === undefined) {
      bytes = addressBytes(t, field);
      addresses.set(t[field], bytes);
    }
    return bytes;
  };
  let at = offset;
  for (let first = 0; first < trades.length;) {
    const size = groupSize(trades, first);
    const head = trades[first]!;
    address(head, 'security').copy(buf, at);
    address(head, 'cash').copy(buf, at + 20);
    buf.writeUInt16BE(size, at + 40);
    at += GROUP_HEADER_BYTES;
    for (let i = first; i < first + size; i++) {
      const t = trades[i]!;
      buf.writeBigUInt64BE(uint(t, 'tradeId', 8), at);
      address(t, 'buyer').copy(buf, at + 8);
      address(t, 'seller').copy(buf, at + 28);
      writeUint128(buf, at + 48, uint(t, 'quantity', 16));
      writeUint128(buf, at + 64, uint(t, 'cashAmount', 16));
      writeUint128(buf, at + 80, uint(t, 'fee', 16));
      at += TRADE_BYTES;
    }
    first += size;
  }
}

function writeUint128(buf: Buffer, offset: number, value: bigint): void {
  buf.writeBigUInt64BE(value >> 64n, offset);
  buf.writeBigUInt64BE(value & MAX_UINT64, offset + 8);
}

type AddressField = 'security' | 'cash' | 'buyer' | 'seller';

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
