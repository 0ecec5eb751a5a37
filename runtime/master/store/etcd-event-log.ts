// Types only: a value import would load etcd3 (its own grpc-js, proto-loader and protobufjs) in
// every master, also on the file store (see etcd-target.ts).
import type { Etcd3, Watcher } from 'etcd3';
import { EventError, type EventStore, type GridEvent, type RetentionLimits } from '../../events/index.js';
import { RuntimeError } from '../../errors.js';
import type { Fence } from './etcd-spec-store.js';

/** Options of {@link EtcdEventLog}. */
export interface EtcdEventLogOptions {
  readonly client: Etcd3;
  /** The key prefix (ends with `/`); events are `<prefix>events/<index>`, the head `<prefix>events/meta`. */
  readonly prefix: string;
  /** The leadership an append is conditioned on (undefined: this master does not lead). */
  readonly fence: Fence;
  /** Recent events kept decoded in memory. @default 16384 */
  readonly cacheSize?: number;
  /** Told when following etcd failed (the watch or a catch-up read); must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** The log's head in etcd: the one key every append and retention compares and rewrites. */
interface Head {
  readonly first: number;
  readonly last: number;
  readonly lastTs: number;
}

/** etcd's default --max-txn-ops is 128 and --max-request-bytes 1.5 MiB: one txn stays under both. */
const TXN_EVENTS = 100;
const TXN_BYTES = 1024 * 1024;
const READ_PAGE = 1000;
const EMPTY: Head = { first: 1, last: 0, lastTs: 0 };

/**
 * The event log of several masters, in etcd: one key per event (`<prefix>events/` + the index,
 * zero-padded so keys sort as indexes) and a head key (`first`, `last`, last timestamp).
 *
 * Only the leader appends, and each append is one transaction per chunk that compares the head
 * with the one this master last read or wrote AND the leader key's create revision (the fence of
 * etcd-spec-store.ts): a deposed leader cannot append, and two writers can never both extend the
 * head, so an index is never repeated nor skipped, whichever master leads. A master that starts
 * leading reads the head ({@link takeOver}) and its bus continues after it (EventBus.rebase).
 *
 * Every master follows the log through an etcd watch (catching up from its head on each change),
 * so followers serve ListEvents and WatchEvents from it, and a watcher that moves from one master
 * to another finds the same indexes. Retention (by count and age, as the file log) is the
 * leader's: one transaction deletes the range and moves the head's `first`.
 *
 * Memory: the newest `cacheSize` events decoded, plus one timestamp per retained event (8 bytes,
 * for time queries). etcd keeps old revisions until it compacts: run it with
 * `--auto-compaction-retention`.
 */
export class EtcdEventLog implements EventStore {
  private head: Head = EMPTY;
  /** The head's value as stored (the append txn compares it); '' when no head exists yet. */
  private headText = '';
  /** Timestamps of the retained events: `stamps[i]` is the timestamp of index `head.first + i`. */
  private stamps: number[] = [];
  private cache: GridEvent[] = [];
  private cacheFirst = 1;
  private writable = false;
  private closed = false;
  private lock: Promise<unknown> = Promise.resolve();
  private catchingUp: Promise<void> | undefined;
  private again = false;
  private watcher: Watcher | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly cacheSize: number;
  private readonly keyPrefix: string;
  private readonly headKey: string;

  constructor(private readonly o: EtcdEventLogOptions) {
    this.keyPrefix = `${o.prefix}events/`;
    this.headKey = `${this.keyPrefix}meta`;
    this.cacheSize = o.cacheSize ?? 16_384;
  }

  /** Reads the log as etcd has it and starts following it. Call once, before handing it to a bus. */
  async open(): Promise<void> {
    // The watch first: what is appended while the log is read is then caught up after.
    const w = await this.o.client.watch().prefix(this.keyPrefix).create();
    this.watcher = w;
    w.on('data', () => this.follow());
    // After a reconnect the watch resumes, but whatever it missed meanwhile is read from the head.
    w.on('connected', () => this.follow());
    w.on('error', (err) => this.o.onError?.(err));
    await this.exclusive(() => this.catchUp());
  }

  /** Makes this master the log's writer: reads the head as it is now. Then rebase the bus on it. */
  async takeOver(): Promise<void> {
    await this.exclusive(async () => {
      await this.catchUp();
      this.writable = true;
    });
  }

  /** This master no longer leads: appends are refused (its bus drops what it had pending). */
  stepDown(): void {
    this.writable = false;
  }

  get firstIndex(): number {
    return this.head.first;
  }

  get lastIndex(): number {
    return this.head.last;
  }

  get lastTimestampUs(): number {
    return this.head.lastTs;
  }

  /** Calls `listener` whenever events appear that another master (or this one) appended. */
  onAppended(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Appends `events` (continuing `lastIndex`) in transactions fenced by the leadership and the
   * head. @throws RuntimeError MASTER_NOT_LEADER when this master does not lead (or was deposed);
   * EventError EVENTS_STORE_IO when etcd does not answer (the bus retries the same batch).
   */
  append(events: readonly GridEvent[]): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) throw new EventError('EVENTS_CLOSED', 'event log is closed');
      let i = 0;
      while (i < events.length) {
        const e = events[i] as GridEvent;
        if (e.index <= this.head.last) {
          // A write whose answer was lost may have landed: then those indexes hold these very events.
          if (this.cached(e.index)?.timestampUs !== e.timestampUs) throw new Error(`EtcdEventLog.append: index ${e.index} is already taken (the log is at ${this.head.last})`);
          i++;
          continue;
        }
        if (e.index !== this.head.last + 1) throw new Error(`EtcdEventLog.append: index ${e.index} does not continue ${this.head.last}`);
        const chunk: GridEvent[] = [];
        const values: string[] = [];
        let bytes = 0;
        while (i + chunk.length < events.length && chunk.length < TXN_EVENTS) {
          const next = events[i + chunk.length] as GridEvent;
          const v = JSON.stringify(next);
          if (chunk.length > 0 && bytes + v.length > TXN_BYTES) break;
          chunk.push(next);
          values.push(v);
          bytes += v.length;
        }
        const done = await this.commit(chunk, values);
        if (done) i += chunk.length;
        // else: the head moved (our own earlier write landed after all): caught up, look again.
      }
    });
  }

  /** One fenced transaction; false when the head moved (then this log has caught up). */
  private async commit(chunk: GridEvent[], values: string[]): Promise<boolean> {
    const fence = this.writable ? this.o.fence() : undefined;
    if (fence === undefined) {
      this.writable = false;
      throw new RuntimeError('MASTER_NOT_LEADER', 'this master does not lead: it appends no event', { field: 'leader' });
    }
    const last = chunk[chunk.length - 1] as GridEvent;
    const head: Head = { first: this.head.first, last: last.index, lastTs: last.timestampUs };
    const headText = JSON.stringify(head);
    const c = this.o.client;
    const cond = this.headText === '' ? c.if(this.headKey, 'Create', '==', 0) : c.if(this.headKey, 'Value', '==', this.headText);
    let res;
    try {
      res = await cond
        .and(fence.key, 'Create', '==', fence.createRevision)
        .then(...chunk.map((e, j) => c.put(this.keyOf(e.index)).value(values[j] as string)), c.put(this.headKey).value(headText))
        .else(c.get(fence.key))
        .commit();
    } catch (err) {
      throw new EventError('EVENTS_STORE_IO', `event write to etcd failed: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (res.succeeded) {
      this.head = head;
      this.headText = headText;
      for (const e of chunk) this.remember(e);
      this.notify();
      return true;
    }
    const leaderKv = res.responses[0]?.response_range?.kvs?.[0];
    if (leaderKv === undefined || Number(leaderKv.create_revision) !== fence.createRevision) {
      this.writable = false;
      throw new RuntimeError('MASTER_NOT_LEADER', 'this master does not lead: it was deposed (its etcd leader key is gone); its events were not appended', { field: 'leader' });
    }
    await this.catchUp();
    return false;
  }

  /**
   * Up to `maxCount` events from `max(fromIndex, firstIndex)` on, contiguous, from the cache or etcd.
   */
  async read(fromIndex: number, maxCount: number): Promise<GridEvent[]> {
    if (this.closed) throw new EventError('EVENTS_CLOSED', 'event log is closed');
    const from = Math.max(fromIndex, this.head.first);
    const to = Math.min(this.head.last, from + maxCount - 1);
    if (from > to) return [];
    if (from >= this.cacheFirst && this.cache.length > 0) return this.cache.slice(from - this.cacheFirst, to - this.cacheFirst + 1);
    return this.fetch(from, to);
  }

  indexAtOrAfter(timestampUs: number): number {
    let lo = 0;
    let hi = this.stamps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.stamps[mid] as number) < timestampUs) lo = mid + 1;
      else hi = mid;
    }
    return this.head.first + lo;
  }

  /** The leader drops events beyond the limits (as the file log: count and age); a follower none. */
  applyRetention(limits: RetentionLimits): Promise<number> {
    return this.exclusive(async () => {
      if (!this.writable || this.closed) return 0;
      const maxEvents = limits.maxEvents ?? 0;
      let first = this.head.first;
      if (maxEvents > 0) first = Math.max(first, this.head.last - maxEvents + 1);
      if ((limits.maxAgeMs ?? 0) > 0) first = Math.max(first, Math.min(this.head.last, this.indexAtOrAfter(limits.nowUs - (limits.maxAgeMs as number) * 1000)));
      if (first <= this.head.first) return 0;
      const fence = this.o.fence();
      if (fence === undefined) return 0;
      const head: Head = { ...this.head, first };
      const headText = JSON.stringify(head);
      const c = this.o.client;
      const res = await c
        .if(this.headKey, 'Value', '==', this.headText)
        .and(fence.key, 'Create', '==', fence.createRevision)
        .then(c.delete().inRange({ start: this.keyOf(this.head.first), end: this.keyOf(first) }), c.put(this.headKey).value(headText))
        .commit();
      if (!res.succeeded) return 0;
      const removed = first - this.head.first;
      this.trim(first);
      this.head = head;
      this.headText = headText;
      return removed;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.writable = false;
    await this.watcher?.cancel().catch(() => undefined);
    await this.lock.catch(() => undefined);
    this.listeners.clear();
  }

  /** A change seen in etcd: catch up (once at a time; a change during a catch-up runs another). */
  private follow(): void {
    if (this.closed) return;
    if (this.catchingUp !== undefined) {
      this.again = true;
      return;
    }
    this.catchingUp = this.exclusive(() => this.catchUp())
      .catch((err: unknown) => this.o.onError?.(err))
      .finally(() => {
        this.catchingUp = undefined;
        if (this.again) {
          this.again = false;
          this.follow();
        }
      });
  }

  /** Reads the head and every event this log has not seen yet. Run under the lock. */
  private async catchUp(): Promise<void> {
    const kv = (await this.o.client.get(this.headKey).exec()).kvs[0];
    const text = kv?.value.toString('utf8') ?? '';
    const head = text === '' ? EMPTY : parseHead(text);
    if (head.first > this.head.first) this.trim(head.first);
    let grew = false;
    for (let from = Math.max(this.head.last + 1, head.first); from <= head.last; ) {
      const page = await this.fetch(from, Math.min(head.last, from + READ_PAGE - 1));
      if (page.length === 0) break;
      for (const e of page) this.remember(e);
      from = (page[page.length - 1] as GridEvent).index + 1;
      grew = true;
    }
    this.head = head;
    this.headText = text;
    if (grew) this.notify();
  }

  private async fetch(from: number, to: number): Promise<GridEvent[]> {
    const res = await this.o.client.getAll().inRange({ start: this.keyOf(from), end: this.keyOf(to + 1) }).exec();
    return res.kvs.map((kv) => JSON.parse(kv.value.toString('utf8')) as GridEvent);
  }

  private remember(e: GridEvent): void {
    if (this.stamps.length === 0) this.stampsFirst(e.index);
    this.stamps.push(e.timestampUs);
    if (this.cacheSize === 0) return;
    if (this.cache.length === 0) this.cacheFirst = e.index;
    this.cache.push(e);
    if (this.cache.length > 2 * this.cacheSize) {
      const cut = this.cache.length - this.cacheSize;
      this.cache.splice(0, cut);
      this.cacheFirst += cut;
    }
  }

  /** Where `stamps` starts when it is empty (the head's first, as events arrive after it). */
  private stampsFirst(first: number): void {
    this.head = { ...this.head, first };
  }

  /** Forgets what is before `first` (retention, here or by the leader). */
  private trim(first: number): void {
    const cut = Math.min(this.stamps.length, first - this.head.first);
    if (cut > 0) this.stamps = this.stamps.slice(cut);
    if (first > this.cacheFirst) {
      const drop = Math.min(this.cache.length, first - this.cacheFirst);
      this.cache.splice(0, drop);
      this.cacheFirst += drop;
    }
    this.head = { ...this.head, first };
  }

  private cached(index: number): GridEvent | undefined {
    return index >= this.cacheFirst ? this.cache[index - this.cacheFirst] : undefined;
  }

  private keyOf(index: number): string {
    return `${this.keyPrefix}${String(index).padStart(16, '0')}`;
  }

  private notify(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // a subscriber's bug must not stop the log
      }
    }
  }

  /** Runs `fn` after everything queued before it: appends, catch-ups and retention never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

function parseHead(text: string): Head {
  try {
    const o = JSON.parse(text) as Partial<Head>;
    const n = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);
    const last = n(o.last);
    return { first: Math.max(1, Math.min(n(o.first) || 1, last + 1)), last, lastTs: n(o.lastTs) };
  } catch {
    return EMPTY;
  }
}
