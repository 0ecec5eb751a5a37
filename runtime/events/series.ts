import type { GridEvent } from './event-types.js';

/** A series record to write: the opening event's identity with the series' current count. */
export interface SeriesUpdate {
  readonly template: GridEvent;
  readonly count: number;
  readonly lastSeenUs: number;
}

interface SeriesState {
  readonly template: GridEvent;
  count: number;
  lastSeenUs: number;
  /** Count carried by the last record written for this series. */
  writtenCount: number;
  lastWriteUs: number;
}

/** Folding parameters, in microseconds. */
export interface SeriesOptions {
  /** A repeat folds if it comes within this time of the previous occurrence. */
  readonly windowUs: number;
  /** While a series goes on, its count is written at most this often. */
  readonly flushUs: number;
  /** Open series tracked at most; beyond this, repeats are simply recorded individually. */
  readonly maxSeries: number;
}

/**
 * Folds repeated identical events (same type, agent, node, cluster and payload) into series, like
 * Kubernetes event series. How a series reaches the log without breaking index monotonicity:
 *
 * - The first occurrence is recorded at once as an ordinary event (count 1) and opens the series.
 * - Later occurrences within `windowUs` of the previous one are only counted in memory.
 * - A series update is written as a NEW record (new index, timestamp = when it is written, so both
 *   stay strictly increasing) carrying the cumulative `count` since the series opened and the
 *   `lastSeenUs` of the latest occurrence. It is written every `flushUs` while the series goes on,
 *   and once more when it ends (no repeat within the window, or the bus closes) if anything was
 *   counted since the last record. Watchers receive updates like any other event.
 * - The latest record of a series is its truth; an occurrence after the window opens a new series.
 *
 * So a heartbeat every 5 s with the defaults costs one record per agent per minute, not twelve.
 */
export class SeriesFolder {
  private readonly open = new Map<string, SeriesState>();

  constructor(private readonly options: SeriesOptions) {}

  /** The identity two events must share to fold. */
  static key(type: string, agentId: string, nodeId: string, cluster: string, payload: unknown): string {
    return `${type}\u0000${agentId}\u0000${nodeId}\u0000${cluster}\u0000${JSON.stringify(payload)}`;
  }

  /** Number of open series. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Counts an occurrence of `key` at `nowUs`. Returns `'folded'` when it joined an open series (the
   * caller records nothing now); otherwise the caller records the event and calls `start`. An
   * expired series is closed first and its final update returned in `closing`, if one is due.
   */
  observe(key: string, nowUs: number): 'folded' | { closing: SeriesUpdate | undefined } {
    const s = this.open.get(key);
    if (s === undefined) return { closing: undefined };
    if (nowUs - s.lastSeenUs <= this.options.windowUs) {
      s.count++;
      s.lastSeenUs = Math.max(s.lastSeenUs, nowUs);
      return 'folded';
    }
    this.open.delete(key);
    return { closing: s.count > s.writtenCount ? update(s) : undefined };
  }

  /** Opens a series with its first recorded occurrence. */
  start(key: string, recorded: GridEvent): void {
    if (this.open.size >= this.options.maxSeries) return;
    this.open.set(key, {
      template: recorded,
      count: 1,
      lastSeenUs: recorded.timestampUs,
      writtenCount: 1,
      lastWriteUs: recorded.timestampUs,
    });
  }

  /** Updates due at `nowUs`: periodic ones for long series, final ones for ended series. */
  sweep(nowUs: number): SeriesUpdate[] {
    const out: SeriesUpdate[] = [];
    for (const [key, s] of this.open) {
      const ended = nowUs - s.lastSeenUs > this.options.windowUs;
      const due = s.count > s.writtenCount && (ended || nowUs - s.lastWriteUs >= this.options.flushUs);
      if (due) {
        out.push(update(s));
        s.writtenCount = s.count;
        s.lastWriteUs = nowUs;
      }
      if (ended) this.open.delete(key);
    }
    return out;
  }

  /** Final updates of every open series (graceful stop), which are then forgotten. */
  drain(): SeriesUpdate[] {
    const out: SeriesUpdate[] = [];
    for (const s of this.open.values()) if (s.count > s.writtenCount) out.push(update(s));
    this.open.clear();
    return out;
  }
}

function update(s: SeriesState): SeriesUpdate {
  return { template: s.template, count: s.count, lastSeenUs: s.lastSeenUs };
}
