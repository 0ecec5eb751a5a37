import { open, type FileHandle } from 'node:fs/promises';
import { EventError } from './errors.js';
import type { GridEvent } from './event-types.js';
import { decodeRecord, scanRecord } from './record-codec.js';

/** Segment files are named by the index of their first record, zero padded so names sort. */
export function segmentFileName(firstIndex: number): string {
  return `seg-${String(firstIndex).padStart(16, '0')}.log`;
}

/** The first index encoded in a segment file name, or null if the name is not a segment. */
export function parseSegmentFileName(name: string): number | null {
  const m = /^seg-(\d{16})\.log$/.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * One file of contiguous records starting at `first`. It keeps the byte offset and timestamp of
 * every record in memory (16 bytes per event), so index and time lookups never touch the disk and
 * a range read is a single positional read.
 */
export class Segment {
  /** Committed bytes: everything before this offset is valid, fsynced records. */
  size = 0;
  private readonly offsets: number[] = [];
  private readonly times: number[] = [];
  private readers = 0;
  private retired = false;
  /** Set when a write failed: bytes past `size` may be garbage and must be cut before appending. */
  private dirtyTail = false;

  private constructor(
    readonly first: number,
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  /** Creates an empty segment file (fails if it exists). The caller fsyncs the directory. */
  static async create(path: string, first: number): Promise<Segment> {
    return new Segment(first, path, await open(path, 'wx+'));
  }

  /**
   * Opens an existing segment whose records were already found and checked by recovery (see
   * segment-recovery.ts): `offsets`/`times` of the contiguous records from `first`, ending at byte
   * `validBytes`. Anything after that (a torn tail) is cut and the cut fsynced.
   */
  static async adopt(path: string, first: number, offsets: readonly number[], times: readonly number[], validBytes: number): Promise<Segment> {
    const fh = await open(path, 'r+');
    try {
      const seg = new Segment(first, path, fh);
      // A loop, not push(...): a 64 MiB segment holds more records than a call may take arguments.
      for (let i = 0; i < offsets.length; i++) {
        seg.offsets.push(offsets[i] as number);
        seg.times.push(times[i] as number);
      }
      seg.size = validBytes;
      if ((await fh.stat()).size > validBytes) {
        await fh.truncate(validBytes);
        await fh.sync();
      }
      return seg;
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /** Number of records. */
  get count(): number {
    return this.offsets.length;
  }

  /** Index of the last record; `first - 1` when empty. */
  get last(): number {
    return this.first + this.offsets.length - 1;
  }

  /** Timestamp of the first record, or undefined when empty. */
  get firstTimestampUs(): number | undefined {
    return this.times[0];
  }

  /** Timestamp of the last record, or undefined when empty. */
  get lastTimestampUs(): number | undefined {
    return this.times[this.times.length - 1];
  }

  /** Timestamp of the record with `index` (which must be in this segment). */
  timestampAt(index: number): number {
    return this.times[index - this.first] as number;
  }

  /** The first index in this segment whose timestamp is >= `us`, or `last + 1` if none. */
  indexAtOrAfter(us: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] as number) < us) lo = mid + 1;
      else hi = mid;
    }
    return this.first + lo;
  }

  /**
   * Appends an encoded batch at the committed end and fdatasyncs it: one write + one sync per batch
   * (group commit). Only after the sync do the records become visible to readers. On failure the
   * segment remembers that its tail may hold garbage and cuts it before the next attempt.
   */
  async append(buf: Buffer, sizes: readonly number[], events: readonly GridEvent[]): Promise<void> {
    if (this.dirtyTail) {
      await this.fh.truncate(this.size);
      this.dirtyTail = false;
    }
    this.dirtyTail = true;
    let written = 0;
    while (written < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, written, buf.length - written, this.size + written);
      written += bytesWritten;
    }
    await this.fh.datasync();
    this.dirtyTail = false;
    let off = this.size;
    for (let i = 0; i < events.length; i++) {
      this.offsets.push(off);
      this.times.push((events[i] as GridEvent).timestampUs);
      off += sizes[i] as number;
    }
    this.size = off;
  }

  /**
   * Reads records `from..to` (inclusive, both inside this segment) with one positional read.
   * CRCs are checked again: a committed record that fails now was damaged on disk afterwards.
   */
  async read(from: number, to: number): Promise<GridEvent[]> {
    const start = this.offsets[from - this.first] as number;
    const end = to >= this.last ? this.size : (this.offsets[to + 1 - this.first] as number);
    this.readers++;
    try {
      const buf = Buffer.allocUnsafe(end - start);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await this.fh.read(buf, got, buf.length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      const out: GridEvent[] = [];
      let off = 0;
      for (let index = from; index <= to; index++) {
        const rec = scanRecord(buf, off);
        if (rec === null || rec.index !== index) {
          throw new EventError('EVENTS_STORE_CORRUPT', `record ${index} in ${this.path} failed its CRC check`);
        }
        out.push(decodeRecord(buf, off, rec.size));
        off += rec.size;
      }
      return out;
    } finally {
      this.readers--;
      if (this.retired && this.readers === 0) await this.fh.close().catch(() => undefined);
    }
  }

  /** Closes the file once no read is in flight (retention calls this after unlinking it). */
  async retire(): Promise<void> {
    this.retired = true;
    if (this.readers === 0) await this.fh.close().catch(() => undefined);
  }

  /** Fsyncs and closes the file. */
  async close(): Promise<void> {
    this.retired = true;
    await this.fh.close();
  }
}
