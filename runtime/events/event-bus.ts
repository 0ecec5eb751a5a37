import { EventError } from './errors.js';
import type { EventFilterInput, ListOptions } from './event-filter.js';
import { EventLog, type EventLogOptions, type EventStore, type RecoveryReport } from './event-log.js';
import { listEvents, watchEvents, type ListResult, type WatchItem, type WatchSource } from './event-query.js';
import { defaultSeverity, isEventType, isFoldable, validatePayload, type EventInput, type GridEvent } from './event-types.js';
import { compileBusOptions, type CompiledBusOptions, type EventBusOptions } from './bus-options.js';
import { SeriesFolder, type SeriesUpdate } from './series.js';

/** Counters for `status` and health checks. */
export interface EventBusStats {
  /** Events refused because the in-memory queue was full (store failing or too slow), or while not `accepting`. */
  readonly dropped: number;
  /** Emits refused as malformed (unknown type, bad payload) or after close. */
  readonly rejected: number;
  /** The current store failure, or null while writes succeed. */
  readonly storeError: string | null;
  /** Oldest retained index. */
  readonly firstIndex: number;
  /** Newest durable index. */
  readonly lastIndex: number;
  /** Newest index handed out by `emit()` (durable or still queued). */
  readonly assignedIndex: number;
  /** Events queued, not yet durable. */
  readonly pending: number;
  /** Open event series (see series.ts). */
  readonly openSeries: number;
  /** What recovery found damaged when the log was opened, in one line; null when it was intact. */
  readonly recovery: string | null;
}

/** One line for `status` and logs: what was set aside, recovered and lost. */
export function recoverySummary(r: RecoveryReport): string {
  const parts = [
    r.damagedSegments.length > 0 ? `${r.damagedSegments.length} damaged segment(s) set aside (${r.damagedSegments.join(', ')})` : '',
    r.recoveredRecords > 0 ? `${r.recoveredRecords} records after the damage recovered` : '',
    r.lostIndexes > 0 ? `${r.lostIndexes} indexes lost (never reused)` : '',
    `next index ${r.nextIndex}`,
  ];
  return parts.filter((p) => p !== '').join('; ');
}

/** Lifecycle of the bus. */
export type EventBusState = 'open' | 'closing' | 'closed';

/**
 * The master's event emitter over the durable log.
 *
 * `emit()` is synchronous, never blocks and never throws: it assigns the next index and a strictly
 * increasing microsecond timestamp, queues the event and returns. An async writer group-commits the
 * queue (one write + one fdatasync per batch) at most every `flushIntervalMs`, sooner once
 * `largeBatch` events wait. Watchers and queries only ever see durable events, so an index a
 * watcher saw is never reused after a crash.
 *
 * When the store fails, the writer keeps the batch and retries with backoff; the queue holds up to
 * `maxPending` events, and emits beyond that are dropped and counted (they get no index, so the
 * index stays gapless). After the next successful write the bus emits `EventStoreRecovered` with
 * the number dropped.
 */
export class EventBus implements WatchSource {
  private readonly o: CompiledBusOptions;
  private readonly series: SeriesFolder;
  private pending: GridEvent[] = [];
  /** Events of the write in progress: out of `pending` but still held, so they count against `maxPending`. */
  private inFlight = 0;
  private assigned: number;
  private lastTs: number;
  private state: EventBusState = 'open';
  private writing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private lastCommitStartMs = 0;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly retentionTimer: NodeJS.Timeout | undefined;
  private retentionRun: Promise<number> | undefined;
  private readonly listeners = new Set<(what: 'commit' | 'closed') => void>();
  private flushWaiters: Array<{ target: number; resolve: () => void }> = [];
  private dropped = 0;
  private droppedUnreported = 0;
  private rejected = 0;
  private storeError: string | null = null;
  private storeDownSinceMs = 0;
  private recovery: RecoveryReport | undefined;
  private readonly unfollow: (() => void) | undefined;

  /** Wraps an already open store (tests inject failing ones); prefer `EventBus.open`. */
  constructor(
    readonly store: EventStore,
    options: EventBusOptions = {},
  ) {
    this.o = compileBusOptions(options);
    this.series = new SeriesFolder({
      windowUs: this.o.seriesWindowMs * 1000,
      flushUs: this.o.seriesFlushMs * 1000,
      maxSeries: this.o.maxSeries,
    });
    this.assigned = store.lastIndex;
    this.lastTs = store.lastTimestampUs;
    this.retryDelayMs = this.o.flushIntervalMs;
    this.sweepTimer = setInterval(() => this.sweep(), this.o.seriesSweepMs).unref();
    this.unfollow = store.onAppended?.(() => this.notify('commit'));
    if (this.o.retentionCheckMs > 0) {
      this.retentionTimer = setInterval(() => {
        if (this.retentionRun === undefined) void this.runRetention();
      }, this.o.retentionCheckMs).unref();
    }
  }

  /**
   * Opens the event log in `dir` (recovering it) and starts a bus on it. When recovery found
   * damage, the first event is `EventLogRecovered` saying what was set aside, recovered and lost.
   */
  static async open(dir: string, options: EventBusOptions & EventLogOptions = {}): Promise<EventBus> {
    compileBusOptions(options); // refuse bad options before touching the disk
    const log = await EventLog.open(dir, options);
    const bus = new EventBus(log, options);
    const r = log.recovery;
    if (r.damaged) {
      bus.recovery = r;
      bus.emit({
        type: 'EventLogRecovered',
        payload: { damagedFiles: r.damagedSegments.length, recoveredRecords: r.recoveredRecords, lostIndexes: r.lostIndexes, nextIndex: r.nextIndex, report: [recoverySummary(r), ...r.details].join('; ').slice(0, 4000) },
      });
    }
    return bus;
  }

  /** What recovery found when the log was opened, when it found damage; undefined when intact. */
  get recoveryReport(): RecoveryReport | undefined {
    return this.recovery;
  }

  /**
   * Records an event. Returns its index; 0 when it was folded into an open series (see series.ts),
   * dropped (queue full) or rejected (malformed, or the bus is closing). Never throws.
   */
  emit(input: EventInput): number {
    try {
      if (this.state !== 'open' || !isEventType(input.type)) {
        this.rejected++;
        return 0;
      }
      if (!this.o.accepting()) {
        this.dropped++;
        return 0;
      }
      const payload = this.o.validatePayloads ? validatePayload(input.type, input.payload) : input.payload;
      const now = this.o.clock();
      const agentId = input.agentId ?? '';
      const nodeId = input.nodeId ?? '';
      const cluster = input.cluster ?? '';
      let key: string | undefined;
      if (isFoldable(input.type)) {
        key = SeriesFolder.key(input.type, agentId, nodeId, cluster, payload);
        const seen = this.series.observe(key, now);
        if (seen === 'folded') return 0;
        if (seen.closing !== undefined) this.enqueueUpdate(seen.closing, now);
      }
      if (this.pending.length + this.inFlight >= this.o.maxPending) {
        this.dropped++;
        this.droppedUnreported++;
        return 0;
      }
      const ts = this.nextTimestamp(now);
      const event = {
        index: ++this.assigned,
        timestampUs: ts,
        type: input.type,
        severity: input.severity ?? defaultSeverity(input.type),
        agentId,
        nodeId,
        cluster,
        payload,
        count: 1,
        lastSeenUs: ts,
      } as GridEvent;
      this.pending.push(event);
      if (key !== undefined) this.series.start(key, event);
      this.schedule();
      return event.index;
    } catch {
      this.rejected++;
      return 0;
    }
  }

  private nextTimestamp(now: number): number {
    // Strictly increasing: a timestamp identifies an event (storage concept ids) and orders time queries.
    this.lastTs = Math.max(now, this.lastTs + 1);
    return this.lastTs;
  }

  private enqueueUpdate(u: SeriesUpdate, now: number): void {
    if (this.pending.length + this.inFlight >= this.o.maxPending) {
      this.dropped++;
      this.droppedUnreported++;
      return;
    }
    const ts = this.nextTimestamp(now);
    this.pending.push({ ...u.template, index: ++this.assigned, timestampUs: ts, count: u.count, lastSeenUs: u.lastSeenUs });
    this.schedule();
  }

  private sweep(): void {
    if (this.state !== 'open') return;
    const now = this.o.clock();
    for (const u of this.series.sweep(now)) this.enqueueUpdate(u, now);
  }

  private schedule(): void {
    if (this.writing !== undefined || this.retryTimer !== undefined || this.pending.length === 0) return;
    // Sooner than the interval when the batch is large, when someone waits in flush(), or on close.
    if (this.pending.length >= this.o.largeBatch || this.state !== 'open' || this.flushWaiters.length > 0) {
      if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.writing = this.drain();
      return;
    }
    if (this.flushTimer !== undefined) return;
    const delay = Math.max(0, this.lastCommitStartMs + this.o.flushIntervalMs - Date.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.writing === undefined && this.retryTimer === undefined) this.writing = this.drain();
    }, delay);
  }

  /** Writes one batch. Runs with `this.writing` set; never rejects. */
  private async drain(): Promise<void> {
    await Promise.resolve(); // let schedule() record `this.writing` before anything below runs
    let batch = this.pending;
    if (batch.length > this.o.maxBatch) {
      this.pending = batch.slice(this.o.maxBatch);
      batch = batch.slice(0, this.o.maxBatch);
    } else {
      this.pending = [];
    }
    this.lastCommitStartMs = Date.now();
    this.inFlight = batch.length;
    let committed = false;
    const started = process.hrtime.bigint();
    try {
      await this.store.append(batch);
      committed = true;
    } catch (err) {
      // Keep the batch (its indexes are assigned) and retry it first; emits keep queueing behind it.
      this.pending = batch.concat(this.pending);
      if (this.storeError === null) this.storeDownSinceMs = Date.now();
      this.storeError = err instanceof Error ? err.message : String(err);
      this.o.onStoreError(err);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.writing === undefined && this.pending.length > 0) this.writing = this.drain();
      }, this.retryDelayMs);
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.o.maxRetryDelayMs);
    } finally {
      this.inFlight = 0;
      this.writing = undefined;
    }
    try {
      this.o.onWrite({ seconds: Number(process.hrtime.bigint() - started) / 1e9, events: batch.length, ok: committed });
    } catch {
      // a metrics bug must not stop the writer
    }
    // Outside the try: whatever happens after a successful append must never re-queue the batch.
    if (committed) this.onCommitted();
    this.schedule();
  }

  private onCommitted(): void {
    this.retryDelayMs = this.o.flushIntervalMs;
    const last = this.store.lastIndex;
    if ((this.storeError !== null || this.droppedUnreported > 0) && this.state === 'open') {
      const error = this.storeError ?? 'event queue full';
      const downForMs = this.storeError !== null ? Date.now() - this.storeDownSinceMs : 0;
      const dropped = this.droppedUnreported;
      this.storeError = null;
      this.droppedUnreported = 0;
      this.emit({ type: 'EventStoreRecovered', payload: { dropped, downForMs, error } });
    }
    this.storeError = null;
    const ready = this.flushWaiters.filter((w) => w.target <= last);
    if (ready.length > 0) {
      this.flushWaiters = this.flushWaiters.filter((w) => w.target > last);
      for (const w of ready) w.resolve();
    }
    this.notify('commit');
  }

  private notify(what: 'commit' | 'closed'): void {
    for (const l of this.listeners) {
      try {
        l(what);
      } catch {
        // a subscriber's bug must not stop the writer or other subscribers
      }
    }
  }

  /** @inheritdoc */
  onCommit(listener: (what: 'commit' | 'closed') => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves once every event emitted before the call is durable. Rejects with
   * `EVENTS_FLUSH_TIMEOUT` if the store cannot take them within `timeoutMs`.
   */
  async flush(timeoutMs = 10_000): Promise<void> {
    const target = this.assigned;
    if (this.store.lastIndex >= target) return;
    const waiting = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.flushWaiters = this.flushWaiters.filter((w) => w.resolve !== done);
        reject(new EventError('EVENTS_FLUSH_TIMEOUT', `events up to ${target} not durable after ${timeoutMs} ms (${this.storeError ?? 'store slow'})`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.flushWaiters.push({ target, resolve: done });
    });
    this.schedule();
    await waiting;
  }

  /**
   * Graceful stop: writes the final update of every open series, makes everything durable, ends
   * watches and closes the store. Idempotent. Emits after this call are rejected. If the store
   * cannot take the rest within `timeoutMs` the store is still closed and `EVENTS_FLUSH_TIMEOUT`
   * says how many events were lost.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.state !== 'open') return;
    const now = this.o.clock();
    for (const u of this.series.drain()) this.enqueueUpdate(u, now);
    this.state = 'closing';
    clearInterval(this.sweepTimer);
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    let failure: unknown;
    try {
      await this.flush(timeoutMs);
    } catch (err) {
      failure = err;
    }
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    await this.writing;
    await this.retentionRun;
    this.state = 'closed';
    this.unfollow?.();
    const lost = this.assigned - this.store.lastIndex;
    this.notify('closed');
    this.listeners.clear();
    await this.store.close();
    if (failure !== undefined) {
      throw new EventError('EVENTS_FLUSH_TIMEOUT', `closed with ${lost} events not durable: ${(failure as Error).message}`, undefined, { cause: failure });
    }
  }

  /**
   * Runs retention now (it also runs every `retentionCheckMs`), after any run in progress, so the
   * limits are applied to the log as it is at the call. Returns the number of events removed.
   */
  async runRetention(): Promise<number> {
    while (this.retentionRun !== undefined) await this.retentionRun;
    if (this.state !== 'open') return 0;
    const run = this.store
      .applyRetention({ maxEvents: this.o.maxEvents, maxAgeMs: this.o.maxAgeMs, nowUs: this.o.clock() })
      .catch((err: unknown) => {
        this.o.onStoreError(err);
        return 0;
      });
    this.retentionRun = run;
    try {
      return await run;
    } finally {
      this.retentionRun = undefined;
    }
  }

  /**
   * The store's end moved under this bus: another writer appended (a shared log whose writer
   * changed: the leader of several masters). After the write in progress, the events still
   * pending are either renumbered after the store's end (`keep`: this bus is the writer now;
   * they get new, later timestamps too, so index order stays time order) or dropped and counted
   * (this bus no longer writes). Returns how many were renumbered or dropped.
   */
  async rebase(keep: boolean): Promise<number> {
    while (this.writing !== undefined) await this.writing;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryDelayMs = this.o.flushIntervalMs;
    this.storeError = null;
    this.assigned = this.store.lastIndex;
    this.lastTs = Math.max(this.lastTs, this.store.lastTimestampUs);
    const moved = this.pending.length;
    if (keep) {
      this.pending = this.pending.map((e) => {
        const ts = this.nextTimestamp(e.timestampUs);
        return { ...e, index: ++this.assigned, timestampUs: ts, lastSeenUs: Math.max(e.lastSeenUs, ts) };
      });
    } else {
      this.dropped += moved;
      this.pending = [];
    }
    // Waiters for indexes this bus will no longer write are released: nothing more will come of them.
    const gone = this.flushWaiters.filter((w) => w.target > this.assigned);
    this.flushWaiters = this.flushWaiters.filter((w) => w.target <= this.assigned);
    for (const w of gone) w.resolve();
    this.schedule();
    return moved;
  }

  /** Committed events matching `filter` in the range of `options` (see `listEvents`). */
  list(filter?: EventFilterInput, options?: ListOptions): Promise<ListResult> {
    return listEvents(this.store, filter, options);
  }

  /** Replays from `fromIndex`, then follows live (see `watchEvents`). */
  watch(fromIndex: number, filter?: EventFilterInput, signal?: AbortSignal): AsyncIterable<WatchItem> {
    return watchEvents(this, fromIndex, filter, signal);
  }

  /** The bus's lifecycle state. */
  get status(): EventBusState {
    return this.state;
  }

  /** Counters for `status` (see `EventBusStats`). */
  stats(): EventBusStats {
    return {
      dropped: this.dropped,
      rejected: this.rejected,
      storeError: this.storeError,
      firstIndex: this.store.firstIndex,
      lastIndex: this.store.lastIndex,
      assignedIndex: this.assigned,
      pending: this.pending.length,
      openSeries: this.series.size,
      recovery: this.recovery !== undefined ? recoverySummary(this.recovery) : null,
    };
  }
}
