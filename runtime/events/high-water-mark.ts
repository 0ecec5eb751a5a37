import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * Two 16-byte slots, written alternately, each `f64 value | u32 crc32(value) | u32 magic`: a write
 * torn by a power cut spoils at most the slot being written, and the other still holds the value
 * before it. Reading takes the larger valid slot.
 */
const SLOT_BYTES = 16;
const MAGIC = 0x4857_4d31; // "HWM1"

/**
 * The highest event index ever committed, kept in a small file apart from the segments so that
 * losing segments (a zero-length file, a flipped byte, a deleted events directory) can never make
 * the log hand out an index again: on open, the index continues after the larger of this mark and
 * what the segments hold.
 *
 * It is written after each group commit, never ahead of it, so a crash mid-commit leaves no gap;
 * the writes run in the background, coalesced (one in flight, the newest value next), so the
 * commit path never waits for this second fsync.
 */
export class HighWaterMark {
  private slot = 0;
  private durable: number;
  private wanted: number;
  private writing: Promise<void> | undefined;
  private failure: Error | undefined;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    value: number,
  ) {
    this.durable = value;
    this.wanted = value;
  }

  /** Opens (creating, with its directory entry fsynced) the mark at `path` and reads it; 0 when new. */
  static async open(path: string): Promise<HighWaterMark> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fh = await open(path, 'w+', 0o600);
      await fh.sync();
      const dh = await open(dirname(path), 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    }
    try {
      const buf = Buffer.alloc(2 * SLOT_BYTES);
      await fh.read(buf, 0, buf.length, 0);
      const a = readSlot(buf, 0);
      const b = readSlot(buf, SLOT_BYTES);
      const mark = new HighWaterMark(path, fh, Math.max(a ?? 0, b ?? 0));
      // Overwrite the older (or invalid) slot first.
      mark.slot = (a ?? -1) >= (b ?? -1) ? 1 : 0;
      return mark;
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /** The highest index known durable in the mark. */
  get value(): number {
    return this.durable;
  }

  /** The last background write failure, cleared by the next success. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Records that indexes up to `index` are committed; returns at once, writing in the background. */
  advance(index: number): void {
    if (index <= this.wanted) return;
    this.wanted = index;
    this.writing ??= this.writeLoop();
  }

  /** Waits until every value passed to `advance` so far is durable; throws the write error if any. */
  async settle(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    if (this.failure !== undefined && this.durable < this.wanted) throw this.failure;
  }

  /** Waits for pending writes (errors are kept in `error`, not thrown) and closes the file. */
  async close(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    await this.fh.close();
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.durable < this.wanted) {
        const value = this.wanted;
        const buf = Buffer.alloc(SLOT_BYTES);
        buf.writeDoubleLE(value, 0);
        buf.writeUInt32LE(crc32(buf.subarray(0, 8)), 8);
        buf.writeUInt32LE(MAGIC, 12);
        try {
          await this.fh.write(buf, 0, SLOT_BYTES, this.slot * SLOT_BYTES);
          await this.fh.datasync();
        } catch (err) {
          this.failure = err as Error;
          return; // the next advance() tries again
        }
        this.failure = undefined;
        this.durable = value;
        this.slot ^= 1;
      }
    } finally {
      this.writing = undefined;
    }
  }
}

function readSlot(buf: Buffer, off: number): number | undefined {
  if (buf.readUInt32LE(off + 12) !== MAGIC) return undefined;
  if (crc32(buf.subarray(off, off + 8)) !== buf.readUInt32LE(off + 8)) return undefined;
  const value = buf.readDoubleLE(off);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
