import { mkdirSync, openSync, readFileSync, closeSync, ftruncateSync, fsyncSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type * as Zlib from 'node:zlib';
import { RuntimeError } from '../errors.js';

let zlib: typeof Zlib | undefined;
/**
 * zlib's crc32, with zlib loaded on the first record framed or checked: a node whose log is empty
 * serves without it (loading it was ~0.5 ms of a start).
 */
function crc32(data: Buffer): number {
  zlib ??= createRequire(import.meta.url)('node:zlib') as typeof Zlib;
  return zlib.crc32(data);
}

/**
 * Append-only record log: each record is `[u32 length][u32 crc32(payload)][payload]`, little endian.
 * Records are numbered from 1 in log order (a record's position); replicas hold the same records
 * at the same positions as their leader. Writes issued in the same tick are group-committed: one
 * write and one fdatasync per batch, and every caller resolves only once its record is on disk. On
 * open the log is replayed; a torn or corrupt tail (a crash mid-write) is cut off at the last intact
 * record instead of failing.
 */

const HEADER = 8;
/** A record larger than this is treated as corruption, not a reason to allocate gigabytes. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

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
    if (len > MAX_RECORD_BYTES || off + HEADER + len > data.length) break;
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
  /** Set by a failed write: what is on disk after it is unknown, so nothing more is appended. */
  private failure: Error | undefined;
  private durableCount: number;
  /** Called after each batch is on disk, with the new durable position, before its writers resume. */
  onDurable: ((position: number) => void) | undefined;

  private constructor(
    private readonly fh: FileHandle,
    private readonly reader: FileHandle,
    /** `offsets[i]` is where record i+1 starts; the last entry is the end of the last record. */
    private readonly offsets: number[],
  ) {
    this.durableCount = offsets.length - 1;
  }

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
    const offsets = [0];
    for (const p of payloads) offsets.push(offsets.at(-1)! + HEADER + p.length);
    const fh = await open(path, 'a');
    const reader = await open(path, 'r');
    return { log: new RecordLog(fh, reader, offsets), replay: { payloads, truncatedBytes } };
  }

  /** Records appended, durable or not yet. */
  get appended(): number {
    return this.offsets.length - 1;
  }

  /** Records on disk. */
  get durable(): number {
    return this.durableCount;
  }

  /**
   * Appends one record: its position at once, and a promise that resolves once it (and its batch)
   * is durable.
   */
  append(payload: Buffer): { position: number; durable: Promise<void> } {
    const refused = this.closed ? new Error('record log is closed') : this.failure;
    if (refused !== undefined) return { position: 0, durable: Promise.reject(refused) };
    const buf = frame(payload);
    this.offsets.push(this.offsets.at(-1)! + buf.length);
    const position = this.appended;
    const durable = new Promise<void>((resolve, reject) => {
      this.pending.push({ buf, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
    return { position, durable };
  }

  private async flushLoop(): Promise<void> {
    // Yield once so that every append of this tick joins the batch.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      if (this.failure !== undefined) {
        for (const p of batch) p.reject(this.failure);
        continue;
      }
      try {
        await this.fh.write(Buffer.concat(batch.map((p) => p.buf)));
        await this.fh.datasync();
        this.durableCount += batch.length;
        this.onDurable?.(this.durableCount);
        for (const p of batch) p.resolve();
      } catch (err) {
        this.failure = new RuntimeError('INTERNAL', `store log write failed (${(err as Error).message}); restart the server to recover the log`, {}, { cause: err });
        for (const p of batch) p.reject(this.failure);
      }
    }
    this.flushing = undefined;
  }

  /** Resolves once no write is in flight. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * Durable records from position `from` on: at least one when there is one, then as many as fit
   * in `maxBytes` and `maxCount`. Empty when `from` is past the durable end.
   */
  async read(from: number, maxBytes: number, maxCount: number): Promise<Buffer[]> {
    if (from < 1 || from > this.durableCount) return [];
    const base = this.offsets[from - 1]!;
    let to = from;
    while (to < this.durableCount && to - from + 1 < maxCount && this.offsets[to + 1]! - base <= maxBytes) to++;
    const { payloads } = unframe(await this.readBytes(base, this.offsets[to]! - base));
    if (payloads.length !== to - from + 1) throw new RuntimeError('INTERNAL', `store log: records ${from}-${to} could not be read back`);
    return payloads;
  }

  /** `length` bytes of the file from `offset` (fewer only if the file is shorter). */
  private async readBytes(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.reader.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  }

  /**
   * Cuts the log back to its first `position` records, after copying the records removed to
   * `asidePath` (same format) so that nothing is destroyed. Waits for writes in flight first; the
   * caller makes sure no new ones start. @returns how many records were removed.
   */
  async truncate(position: number, asidePath: string): Promise<number> {
    await this.idle();
    if (position >= this.appended) return 0;
    const start = this.offsets[position]!;
    const removed = this.appended - position;
    const tail = await this.readBytes(start, this.offsets.at(-1)! - start);
    const aside = await open(asidePath, 'wx');
    try {
      await aside.write(tail);
      await aside.datasync();
    } finally {
      await aside.close();
    }
    await this.fh.truncate(start);
    await this.fh.datasync();
    this.offsets.length = position + 1;
    this.durableCount = Math.min(this.durableCount, position);
    return removed;
  }

  /** Waits for pending writes, then closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    await this.fh.close();
    await this.reader.close();
  }
}
