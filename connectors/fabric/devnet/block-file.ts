/**
 * The optional state file: every committed block (`common.Block`, its transaction filter in the
 * metadata) appended as a 4-byte big-endian length and the block's bytes, synced before anyone
 * hears of the commit. At start the file is read back; a torn last frame (a crash mid-write) is
 * cut off.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { common } from '@hyperledger/fabric-protos';

/** An append-only file of blocks. */
export class BlockFile {
  readonly #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Opens (or creates) the file and returns it with the blocks it holds. */
  static open(path: string): { file: BlockFile; blocks: common.Block[] } {
    const blocks: common.Block[] = [];
    let good = 0;
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      while (good + 4 <= bytes.length) {
        const length = bytes.readUInt32BE(good);
        if (good + 4 + length > bytes.length) break;
        blocks.push(common.Block.deserializeBinary(bytes.subarray(good + 4, good + 4 + length)));
        good += 4 + length;
      }
    }
    const fd = openSync(path, 'a+');
    ftruncateSync(fd, good);
    return { file: new BlockFile(fd), blocks };
  }

  append(block: common.Block): void {
    const bytes = block.serializeBinary();
    const frame = Buffer.alloc(4 + bytes.length);
    frame.writeUInt32BE(bytes.length, 0);
    frame.set(bytes, 4);
    writeSync(this.#fd, frame);
    fdatasyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
