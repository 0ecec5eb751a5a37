import { EventError } from './errors.js';

/**
 * Options of the event bus. Durations are milliseconds: the master's config layer turns readable
 * values ("15s") into numbers with schema's parseDuration before handing them here.
 */
export interface EventBusOptions {
  /** Longest an event waits before its batch is committed (group commit). @default 100 */
  readonly flushIntervalMs?: number;
  /** Commit at once, without waiting for the interval, once this many events wait. @default 4096 */
  readonly largeBatch?: number;
  /** Most events in one write. @default 32768 */
  readonly maxBatch?: number;
  /** Events buffered in memory while the store is failing or slow; beyond, emits are dropped. @default 100000 */
  readonly maxPending?: number;
  /** Identical repeats within this time of the previous one fold into a series. @default 60000 */
  readonly seriesWindowMs?: number;
  /** A running series writes its count at most this often. @default 60000 */
  readonly seriesFlushMs?: number;
  /** How often ended/due series are looked for. @default 1000 */
  readonly seriesSweepMs?: number;
  /** Open series tracked at most. @default 10000 */
  readonly maxSeries?: number;
  /** Retention by count: keep at least the newest this many; 0 = unlimited. @default 1000000 */
  readonly maxEvents?: number;
  /** Retention by age; 0 = unlimited. @default 7 days */
  readonly maxAgeMs?: number;
  /** How often retention runs; 0 = only when `runRetention()` is called. @default 60000 */
  readonly retentionCheckMs?: number;
  /** Upper bound of the backoff between write retries while the store fails. @default 5000 */
  readonly maxRetryDelayMs?: number;
  /** Check payloads against their type in `emit()` (malformed ones are rejected and counted). @default true */
  readonly validatePayloads?: boolean;
  /** Microseconds since the epoch; tests inject a fake clock. @default wall clock with µs precision */
  readonly clock?: () => number;
  /**
   * Whether this bus records events now; when false, emits are dropped and counted. A master of
   * several records only while it leads (a deposed leader's view of the agents is stale).
   * @default always
   */
  readonly accepting?: () => boolean;
  /** Told about every store failure (the master logs it); must not throw. */
  readonly onStoreError?: (err: unknown) => void;
  /** Told how long each batch write took and whether it succeeded (the master's metrics); must not throw. */
  readonly onWrite?: (e: { seconds: number; events: number; ok: boolean }) => void;
}

/** `EventBusOptions` with every default filled in and every value checked. */
export type CompiledBusOptions = Required<EventBusOptions>;

/** Wall clock in microseconds; `performance` gives sub-millisecond precision. */
export function wallClockUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** Fills defaults and refuses bad values with `EVENTS_INVALID_OPTIONS` naming the option. */
export function compileBusOptions(o: EventBusOptions): CompiledBusOptions {
  const int = (name: keyof EventBusOptions, def: number, min: number): number => {
    const v = (o[name] as number | undefined) ?? def;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new EventError('EVENTS_INVALID_OPTIONS', `must be an integer >= ${min}, got ${String(v)}`, name);
    }
    return v;
  };
  return {
    flushIntervalMs: int('flushIntervalMs', 100, 1),
    largeBatch: int('largeBatch', 4096, 1),
    maxBatch: int('maxBatch', 32768, 1),
    maxPending: int('maxPending', 100_000, 1),
    seriesWindowMs: int('seriesWindowMs', 60_000, 1),
    seriesFlushMs: int('seriesFlushMs', 60_000, 1),
    seriesSweepMs: int('seriesSweepMs', 1000, 1),
    maxSeries: int('maxSeries', 10_000, 0),
    maxEvents: int('maxEvents', 1_000_000, 0),
    maxAgeMs: int('maxAgeMs', 7 * 24 * 3600 * 1000, 0),
    retentionCheckMs: int('retentionCheckMs', 60_000, 0),
    maxRetryDelayMs: int('maxRetryDelayMs', 5000, 1),
    validatePayloads: o.validatePayloads ?? true,
    clock: o.clock ?? wallClockUs,
    accepting: o.accepting ?? (() => true),
    onStoreError: o.onStoreError ?? (() => undefined),
    onWrite: o.onWrite ?? (() => undefined),
  };
}
