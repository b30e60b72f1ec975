/**
 * The optional state file: every committed block (`common.Block`, its transaction filter in the
 * metadata) appended as a 4-byte big-endian length and the block's bytes, synced before anyone
 * hears of the commit. At start the file is read back; a torn last frame (a crash mid-write) is
 * cut off. A block is read again by its number (for the query system chaincode) from where its
 * frame lies.
 *
 * Private data is not part of blocks (as in Fabric, whose peers keep it in a private data store
 * beside the block store): the committed private read-write sets of a block go to a second file,
 * `<state file>.private`, before the block, one frame per block that has any: a 4-byte length,
 * the block number, then per transaction its index in the block, a length and its
 * `TxPvtReadWriteSet`. At start a frame for a block the block file does not hold (a crash between
 * the two writes) is cut off with whatever follows it.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from 'node:fs';
import { common } from '@hyperledger/fabric-protos';

/** A block's committed private data: per transaction index, its `TxPvtReadWriteSet`. */
export type BlockPrivateData = ReadonlyMap<number, Uint8Array>;

/** What the files held at start. */
export interface StoredBlocks {
  file: BlockFile;
  blocks: common.Block[];
  /** By block number. */
  privateData: Map<number, BlockPrivateData>;
}

/** An append-only file of blocks, and the file of their private data. */
export class BlockFile {
  readonly #fd: number;
  readonly #privateFd: number;
  /** Where each block's bytes lie in the file, in block order (the file holds blocks 1, 2, ...). */
  readonly #frames: Array<{ at: number; length: number }>;
  #size: number;

  private constructor(
    fd: number,
    privateFd: number,
    frames: Array<{ at: number; length: number }>,
    size: number,
  ) {
    this.#fd = fd;
    this.#privateFd = privateFd;
    this.#frames = frames;
    this.#size = size;
  }

  /** Opens (or creates) the files and returns them with the blocks and private data they hold. */
  static open(path: string): StoredBlocks {
    const blocks: common.Block[] = [];
    const frames: Array<{ at: number; length: number }> = [];
    let good = 0;
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      while (good + 4 <= bytes.length) {
        const length = bytes.readUInt32BE(good);
        if (good + 4 + length > bytes.length) break;
        blocks.push(common.Block.deserializeBinary(bytes.subarray(good + 4, good + 4 + length)));
        frames.push({ at: good + 4, length });
        good += 4 + length;
      }
    }
    const fd = openSync(path, 'a+');
    ftruncateSync(fd, good);
    const last = blocks.at(-1)?.getHeader()?.getNumber() ?? 0;
    const privatePath = `${path}.private`;
    const { privateData, length } = existsSync(privatePath)
      ? readPrivate(readFileSync(privatePath), last)
      : { privateData: new Map<number, BlockPrivateData>(), length: 0 };
    const privateFd = openSync(privatePath, 'a+');
    ftruncateSync(privateFd, length);
    return { file: new BlockFile(fd, privateFd, frames, good), blocks, privateData };
  }

  /** Appends a block, after its private data (if it has any). */
  append(block: common.Block, privateData?: BlockPrivateData): void {
    if (privateData !== undefined && privateData.size > 0) {
      writeFrame(this.#privateFd, privateFrame(block.getHeader()?.getNumber() ?? 0, privateData));
    }
    const bytes = block.serializeBinary();
    writeFrame(this.#fd, bytes);
    this.#frames.push({ at: this.#size + 4, length: bytes.length });
    this.#size += 4 + bytes.length;
  }

  /** The block `number` as the file holds it (undefined if it holds no such block). */
  read(number: number): common.Block | undefined {
    const frame = this.#frames[number - 1];
    if (frame === undefined) return undefined;
    const bytes = Buffer.alloc(frame.length);
    readSync(this.#fd, bytes, 0, frame.length, frame.at);
    return common.Block.deserializeBinary(bytes);
  }

  close(): void {
    closeSync(this.#fd);
    closeSync(this.#privateFd);
  }
}

function writeFrame(fd: number, bytes: Uint8Array): void {
  const frame = Buffer.alloc(4 + bytes.length);
  frame.writeUInt32BE(bytes.length, 0);
  frame.set(bytes, 4);
  writeSync(fd, frame);
  fdatasyncSync(fd);
}

function privateFrame(block: number, privateData: BlockPrivateData): Buffer {
  const parts: Buffer[] = [u32(block)];
  for (const [index, set] of [...privateData].sort(([a], [b]) => a - b)) {
    parts.push(u32(index), u32(set.length), Buffer.from(set));
  }
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** The whole frames of the private file up to block `last`, and the length they take. */
function readPrivate(
  bytes: Buffer,
  last: number,
): { privateData: Map<number, BlockPrivateData>; length: number } {
  const privateData = new Map<number, BlockPrivateData>();
  let good = 0;
  while (good + 8 <= bytes.length) {
    const length = bytes.readUInt32BE(good);
    const end = good + 4 + length;
    if (end > bytes.length || length < 4) break;
    const block = bytes.readUInt32BE(good + 4);
    if (block > last) break;
    const sets = new Map<number, Uint8Array>();
    let at = good + 8;
    while (at + 8 <= end) {
      const index = bytes.readUInt32BE(at);
      const size = bytes.readUInt32BE(at + 4);
      if (at + 8 + size > end) break;
      sets.set(index, bytes.subarray(at + 8, at + 8 + size));
      at += 8 + size;
    }
    if (at !== end) break; // not a frame this file writes: keep what came before
    privateData.set(block, sets);
    good = end;
  }
  return { privateData, length: good };
}
