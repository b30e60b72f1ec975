/**
 * A block's hash as Fabric computes it (protoutil `BlockHeaderHash`): sha256 of the ASN.1 DER
 * encoding of the header, `SEQUENCE { INTEGER number, OCTET STRING previousHash, OCTET STRING
 * dataHash }`. Each header holds the hash of the one before it, so the hash of a block stands
 * for the whole chain up to it: the devnet links its blocks so, and the connector names a block
 * by it, on the devnet and on a Fabric peer alike.
 */
import { createHash } from 'node:crypto';
import type { common } from '@hyperledger/fabric-protos';

/** The hash of a block with this header. */
export function blockHash(header: common.BlockHeader): Buffer {
  const der = tlv(
    0x30,
    Buffer.concat([
      tlv(0x02, integer(header.getNumber())),
      tlv(0x04, Buffer.from(header.getPreviousHash_asU8())),
      tlv(0x04, Buffer.from(header.getDataHash_asU8())),
    ]),
  );
  return createHash('sha256').update(der).digest();
}

/** A non-negative integer's DER content: big-endian, minimal, a leading 0 if its top bit is set. */
function integer(n: number): Buffer {
  const bytes = bigEndian(n);
  return bytes[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** Tag, DER length (short form below 128, else long form), content. */
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : Buffer.concat([Buffer.from([0x80 | bigEndian(n).length]), bigEndian(n)]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

/** The fewest big-endian bytes that hold `n` (one for 0). */
function bigEndian(n: number): Buffer {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex');
}
