import { mkdirSync, openSync, readFileSync, closeSync, ftruncateSync, fsyncSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * Append-only record log: each record is `[u32 length][u32 crc32(payload)][payload]`, little endian.
 * Writes issued in the same tick are group-committed: one write and one fdatasync per batch, and
 * every caller resolves only once its record is on disk. On open the log is replayed; a torn or
 * corrupt tail (a crash mid-write) is cut off at the last intact record instead of failing.
 */

const HEADER = 8;
/** A record larger than this is treated as corruption, not a reason to allocate gigabytes. */
const MAX_RECORD = 64 * 1024 * 1024;

export interface ReplayResult {
  readonly payloads: Buffer[];
  /** Bytes of a torn/corrupt tail that were cut off (0 when the log was clean). */
  readonly truncatedBytes: number;
}

/** Frames one payload as a log record. */
export function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER);
  return out;
}

/** Splits a log image into intact payloads; stops at the first torn or corrupt record. */
export function unframe(data: Buffer): { payloads: Buffer[]; validBytes: number } {
  const payloads: Buffer[] = [];
  let off = 0;
  while (off + HEADER <= data.length) {
    const len = data.readUInt32LE(off);
    if (len > MAX_RECORD || off + HEADER + len > data.length) break;
    const payload = data.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== data.readUInt32LE(off + 4)) break;
    payloads.push(payload);
    off += HEADER + len;
  }
  return { payloads, validBytes: off };
}

interface Pending {
  readonly buf: Buffer;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class RecordLog {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly fh: FileHandle) {}

  /**
   * Opens (creating) `<dir>/<name>`, replays it and truncates a torn tail. Synchronous replay keeps
   * start-up short: the whole log is read in one call.
   */
  static async open(dir: string, name = 'store.log'): Promise<{ log: RecordLog; replay: ReplayResult }> {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      data = Buffer.alloc(0);
    }
    const { payloads, validBytes } = unframe(data);
    const truncatedBytes = data.length - validBytes;
    if (truncatedBytes > 0) {
      const fd = openSync(path, 'r+');
      try {
        ftruncateSync(fd, validBytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    const fh = await open(path, 'a');
    return { log: new RecordLog(fh), replay: { payloads, truncatedBytes } };
  }

  /** Appends one record; resolves once it (and its batch) is durable. */
  append(payload: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('record log is closed'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ buf: frame(payload), resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Yield once so that every append of this tick joins the batch.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.fh.write(Buffer.concat(batch.map((p) => p.buf)));
        await this.fh.datasync();
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err as Error);
      }
    }
    this.flushing = undefined;
  }

  /** Waits for pending writes, then closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.fh.close();
  }
}
