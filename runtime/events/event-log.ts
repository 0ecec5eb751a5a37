import { mkdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { lockFile, type HeldLock } from '../common/file-lock.js';
import { EventError } from './errors.js';
import type { GridEvent } from './event-types.js';
import { encodeBatch } from './record-codec.js';
import { HighWaterMark } from './high-water-mark.js';
import { Segment, segmentFileName } from './segment.js';
import { fsyncDir, recoverSegments, type RecoveryReport } from './segment-recovery.js';

export type { RecoveryReport } from './segment-recovery.js';

/** Options of `EventLog.open`. */
export interface EventLogOptions {
  /** A new segment starts once the active one reaches this size. @default 64 MiB */
  readonly segmentMaxBytes?: number;
  /**
   * A new segment also starts once the active one spans this much event time, so age and count
   * retention (which drop whole segments) work at low event rates too. @default 1 hour
   */
  readonly segmentMaxAgeMs?: number;
  /** Recent events kept decoded in memory so live watchers and recent queries skip the disk. @default 16384 */
  readonly cacheSize?: number;
  /**
   * The file keeping the highest index ever committed (see high-water-mark.ts). Put it outside
   * `dir` (the master keeps it in its data dir) so that even a deleted events directory cannot
   * make an index be handed out twice. @default `dir`/HWM
   */
  readonly highWaterMarkPath?: string;
}

/** Retention limits; a segment is dropped only when every record in it is beyond a limit. */
export interface RetentionLimits {
  /** Keep at least the newest `maxEvents`; 0 = no count limit. */
  readonly maxEvents?: number;
  /** Drop events older than this; 0 = no age limit. */
  readonly maxAgeMs?: number;
  /** "Now" for the age limit, in microseconds. */
  readonly nowUs: number;
}

/** The store surface the bus, watch and mirror use (the bus can be handed a wrapped one in tests). */
export interface EventStore {
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly lastTimestampUs: number;
  append(events: readonly GridEvent[]): Promise<void>;
  read(fromIndex: number, maxCount: number): Promise<GridEvent[]>;
  indexAtOrAfter(timestampUs: number): number;
  applyRetention(limits: RetentionLimits): Promise<number>;
  close(): Promise<void>;
  /**
   * A store that others append to as well (several masters' shared log) calls `listener` when
   * events appear, so watches on this bus see them; the file log has no other writer.
   */
  onAppended?(listener: () => void): () => void;
}

const LOCK_FILE = 'LOCK';
/** The directory locks this process holds, by resolved directory. */
const HELD_LOCKS = new Map<string, HeldLock>();

/**
 * The embedded, durable, append-only event store: a directory of segment files of CRC-checked,
 * length-prefixed records (see record-codec.ts). After a crash, recovery cuts only a torn last
 * record, so the index continues with no gap and no corrupt record. Damage on disk (a flipped
 * byte, a zero-length or deleted segment) is set aside without dropping the valid records around
 * it, and a high-water mark kept apart from the segments makes sure no index is ever handed out
 * twice: lost indexes stay a gap (see segment-recovery.ts). Retention deletes whole old segments,
 * never the active one, so it does not touch the bytes a writer is appending to and never waits
 * for it.
 */
export class EventLog implements EventStore {
  private readonly segments: Segment[];
  private readonly cache: GridEvent[] = [];
  private cacheFirst: number;
  private appending = false;
  private closed = false;

  private constructor(
    readonly dir: string,
    segments: Segment[],
    readonly recovery: RecoveryReport,
    private readonly hwm: HighWaterMark,
    private readonly segmentMaxBytes: number,
    private readonly segmentMaxAgeUs: number,
    private readonly cacheSize: number,
  ) {
    this.segments = segments;
    this.cacheFirst = this.lastIndex + 1;
  }

  /** Opens (creating if needed) the store in `dir`, recovering from any crash. */
  static async open(dir: string, options: EventLogOptions = {}): Promise<EventLog> {
    const segmentMaxBytes = options.segmentMaxBytes ?? 64 * 1024 * 1024;
    const cacheSize = options.cacheSize ?? 16384;
    const segmentMaxAgeMs = options.segmentMaxAgeMs ?? 3600_000;
    if (!Number.isSafeInteger(segmentMaxAgeMs) || segmentMaxAgeMs < 1) {
      throw new EventError('EVENTS_INVALID_OPTIONS', 'must be a positive integer', 'segmentMaxAgeMs');
    }
    if (!Number.isSafeInteger(segmentMaxBytes) || segmentMaxBytes < 1024) {
      throw new EventError('EVENTS_INVALID_OPTIONS', 'must be an integer >= 1024', 'segmentMaxBytes');
    }
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
      throw new EventError('EVENTS_INVALID_OPTIONS', 'must be a non-negative integer', 'cacheSize');
    }
    try {
      await mkdir(dir, { recursive: true });
      takeLock(dir);
    } catch (err) {
      if (err instanceof EventError) throw err;
      throw new EventError('EVENTS_STORE_IO', `cannot open event directory ${dir}: ${(err as Error).message}`, undefined, { cause: err });
    }
    let hwm: HighWaterMark | undefined;
    try {
      hwm = await HighWaterMark.open(options.highWaterMarkPath ?? join(dir, 'HWM'));
      const { segments, report } = await recoverSegments(dir, hwm.value);
      // Before anything is handed out, the mark must cover what recovery found (a data dir from
      // before the mark existed, or a crash between a commit and its mark write).
      hwm.advance(report.nextIndex - 1);
      await hwm.settle();
      return new EventLog(dir, segments, report, hwm, segmentMaxBytes, segmentMaxAgeMs * 1000, cacheSize);
    } catch (err) {
      await hwm?.close().catch(() => undefined);
      releaseLock(dir);
      if (err instanceof EventError) throw err;
      throw new EventError('EVENTS_STORE_IO', `recovery of ${dir} failed: ${(err as Error).message}`, undefined, { cause: err });
    }
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  /** Oldest retained index; `lastIndex + 1` when the store is empty. */
  get firstIndex(): number {
    return (this.segments[0] as Segment).first;
  }

  /** Newest committed (fsynced) index; 0 when nothing was ever written. */
  get lastIndex(): number {
    return this.active.last;
  }

  /** Timestamp of the newest committed record; 0 when the store is empty. */
  get lastTimestampUs(): number {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const ts = (this.segments[i] as Segment).lastTimestampUs;
      if (ts !== undefined) return ts;
    }
    return 0;
  }

  /**
   * Durably appends `events`, whose indexes must continue `lastIndex` with no gap: one write and one
   * fdatasync for the whole batch. Resolves once they are on disk; only then do readers see them.
   * Throws `EVENTS_STORE_IO` on a write error; the store stays consistent and the same batch may be
   * retried.
   */
  async append(events: readonly GridEvent[]): Promise<void> {
    if (this.closed) throw new EventError('EVENTS_CLOSED', 'event log is closed');
    if (this.appending) throw new Error('EventLog.append called concurrently');
    if (events.length === 0) return;
    events.forEach((e, i) => {
      if (e.index !== this.lastIndex + 1 + i) {
        throw new Error(`EventLog.append: index ${e.index} does not continue ${this.lastIndex + i}`);
      }
    });
    this.appending = true;
    try {
      const { buf, sizes } = encodeBatch(events);
      // A batch fills the active segment up to segmentMaxBytes and goes on in the next one, so a
      // large group commit (a slow disk, a burst) never makes one oversized segment that
      // retention could only drop whole.
      let from = 0;
      let offset = 0;
      while (from < events.length) {
        const active = this.active;
        const span = (events[from] as GridEvent).timestampUs - (active.firstTimestampUs ?? Infinity);
        if (active.count > 0 && (active.size + (sizes[from] as number) > this.segmentMaxBytes || span >= this.segmentMaxAgeUs)) await this.roll();
        const room = this.segmentMaxBytes - this.active.size;
        let to = from;
        let bytes = 0;
        while (to < events.length && (to === from || bytes + (sizes[to] as number) <= room)) bytes += sizes[to++] as number;
        await this.active.append(buf.subarray(offset, offset + bytes), sizes.slice(from, to), events.slice(from, to));
        from = to;
        offset += bytes;
      }
    } catch (err) {
      throw new EventError('EVENTS_STORE_IO', `event write failed: ${(err as Error).message}`, undefined, { cause: err });
    } finally {
      this.appending = false;
    }
    this.hwm.advance(this.lastIndex);
    this.remember(events);
  }

  private async roll(): Promise<void> {
    const seg = await Segment.create(join(this.dir, segmentFileName(this.lastIndex + 1)), this.lastIndex + 1);
    await fsyncDir(this.dir);
    this.segments.push(seg);
  }

  private remember(events: readonly GridEvent[]): void {
    if (this.cacheSize === 0) return;
    if (this.cache.length === 0) this.cacheFirst = (events[0] as GridEvent).index;
    for (const e of events) this.cache.push(e);
    // Trim in chunks so the array shift cost is amortised over many appends.
    if (this.cache.length > 2 * this.cacheSize) {
      const cut = this.cache.length - this.cacheSize;
      this.cache.splice(0, cut);
      this.cacheFirst += cut;
    }
  }

  /**
   * Up to `maxCount` committed events from `max(fromIndex, firstIndex)` on, in index order and
   * contiguous within one call, except that a call starting inside a gap left by damage (see
   * segment-recovery.ts) starts after it. The caller detects that retention removed what it asked
   * for by comparing the first index it got with `firstIndex`.
   */
  async read(fromIndex: number, maxCount: number): Promise<GridEvent[]> {
    if (this.closed) throw new EventError('EVENTS_CLOSED', 'event log is closed');
    let from = Math.max(fromIndex, this.firstIndex);
    if (from > this.lastIndex || maxCount < 1) return [];
    if (from >= this.cacheFirst && this.cache.length > 0) {
      return this.cache.slice(from - this.cacheFirst, Math.min(this.lastIndex, from + maxCount - 1) - this.cacheFirst + 1);
    }
    let i = this.segmentOf(from);
    let seg = this.segments[i] as Segment;
    while (from > seg.last) {
      const next = this.segments[++i];
      if (next === undefined) return [];
      seg = next;
      from = Math.max(from, seg.first);
    }
    return seg.read(from, Math.min(seg.last, from + maxCount - 1));
  }

  /** Position of the segment whose range starts at or before `index` (the first one if none does). */
  private segmentOf(index: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.segments[mid] as Segment).first <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The first retained index whose timestamp is >= `timestampUs`; `lastIndex + 1` if none. */
  indexAtOrAfter(timestampUs: number): number {
    for (const seg of this.segments) {
      const ts = seg.lastTimestampUs;
      if (ts !== undefined && ts >= timestampUs) return seg.indexAtOrAfter(timestampUs);
    }
    return this.lastIndex + 1;
  }

  /**
   * Drops whole old segments beyond the limits and returns how many events went. The segments
   * leave the in-memory list synchronously (new reads no longer see them); the files are unlinked
   * and closed afterwards, a read already in flight finishing on its open handle.
   */
  async applyRetention(limits: RetentionLimits): Promise<number> {
    const maxEvents = limits.maxEvents ?? 0;
    const cutoffUs = (limits.maxAgeMs ?? 0) > 0 ? limits.nowUs - (limits.maxAgeMs as number) * 1000 : -Infinity;
    const dropped: Segment[] = [];
    while (this.segments.length > 1 && !this.closed) {
      const seg = this.segments[0] as Segment;
      const overCount = maxEvents > 0 && this.lastIndex - seg.last >= maxEvents;
      const overAge = seg.count === 0 || (seg.lastTimestampUs as number) < cutoffUs;
      if (!overCount && !overAge) break;
      dropped.push(this.segments.shift() as Segment);
    }
    let removed = 0;
    for (const seg of dropped) {
      removed += seg.count;
      await unlink(seg.path).catch(() => undefined);
      await seg.retire();
    }
    return removed;
  }

  /** Closes every file and releases the directory lock. Everything appended is already durable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const seg of this.segments) await seg.close().catch(() => undefined);
    await this.hwm.close().catch(() => undefined);
    releaseLock(this.dir);
  }

  /** Waits until the high-water mark covers every committed index (tests and orderly shutdowns). */
  settleHighWaterMark(): Promise<void> {
    return this.hwm.settle();
  }
}

/**
 * One store per directory: a second master on the same data dir would interleave writes. The lock
 * is an flock on `LOCK`, so the kernel releases it when its holder dies however it dies; a pid in
 * the file (of a killed master, or recycled by an unrelated process) never blocks a start.
 */
function takeLock(dir: string): void {
  const lock = lockFile(join(dir, LOCK_FILE));
  if (!lock.held) {
    const who = lock.holderPid !== undefined ? `process ${lock.holderPid}` : 'another process';
    throw new EventError('EVENTS_STORE_LOCKED', `event directory ${dir} is in use by ${who} (another master on this data dir?)`);
  }
  HELD_LOCKS.set(resolve(dir), lock);
}

function releaseLock(dir: string): void {
  const key = resolve(dir);
  HELD_LOCKS.get(key)?.release();
  HELD_LOCKS.delete(key);
}
