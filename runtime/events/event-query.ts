import { EventError } from './errors.js';
import { checkListOptions, compileFilter, matchesFilter, type EventFilterInput, type ListOptions } from './event-filter.js';
import type { EventStore } from './event-log.js';
import type { GridEvent } from './event-types.js';

/** The part of a store queries read from. */
export type ReadableStore = Pick<EventStore, 'firstIndex' | 'lastIndex' | 'read' | 'indexAtOrAfter'>;

/** A store plus commit notifications: what `watchEvents` follows. */
export interface WatchSource {
  readonly store: ReadableStore;
  /**
   * Calls `listener` after each durable commit (`'commit'`) and once when the source closes
   * (`'closed'`). Returns the unsubscribe function.
   */
  onCommit(listener: (what: 'commit' | 'closed') => void): () => void;
}

/** One page of `listEvents`. */
export interface ListResult {
  readonly events: GridEvent[];
  /** Oldest index still retained. */
  readonly firstIndex: number;
  /** Newest committed index. */
  readonly lastIndex: number;
}

const READ_CHUNK = 2048;

/**
 * Committed events matching `filter` within the range of `options`, oldest first. Throws
 * `EVENTS_INVALID_FILTER` naming the bad filter or bound.
 */
export async function listEvents(store: ReadableStore, filter?: EventFilterInput, options: ListOptions = {}): Promise<ListResult> {
  const f = compileFilter(filter);
  const o = checkListOptions(options);
  let from = Math.max(o.sinceIndex, store.firstIndex, o.sinceUs > 0 ? store.indexAtOrAfter(o.sinceUs) : 0);
  const to = o.untilUs > 0 ? store.indexAtOrAfter(o.untilUs + 1) - 1 : store.lastIndex;
  const events: GridEvent[] = [];
  while (from <= to && events.length < o.limit) {
    const chunk = await store.read(from, Math.min(READ_CHUNK, to - from + 1));
    const last = chunk[chunk.length - 1];
    if (last === undefined) break;
    for (const e of chunk) {
      if (e.index > to) break;
      if (matchesFilter(f, e)) {
        events.push(e);
        if (events.length >= o.limit) break;
      }
    }
    from = last.index + 1;
  }
  return { events, firstIndex: store.firstIndex, lastIndex: store.lastIndex };
}

/** Always the first item of a watch: where the stream really starts. */
export interface WatchStart {
  readonly kind: 'start';
  readonly requestedIndex: number;
  /** First index the stream can deliver; greater than `requestedIndex` when retention removed the rest. */
  readonly startIndex: number;
  /** True when events at or after `requestedIndex` were already removed by retention. */
  readonly truncated: boolean;
}

/** An item of a watch stream. */
export type WatchItem = WatchStart | { readonly kind: 'event'; readonly event: GridEvent };

/**
 * Watches committed events from `fromIndex` (0 = the oldest retained) on: first a `start` item,
 * then a replay from the store, then live events, ending when `signal` aborts or the source closes.
 *
 * No gap and no duplicate between replay and live: the watch subscribes to commits BEFORE it
 * reads anything, and a single cursor (the next index to deliver) drives both phases. Each round
 * reads from the store (recent events come from its in-memory cache) from the cursor up to the
 * committed end; when the cursor is past the end it sleeps until the next commit. A commit between
 * the check and the sleep cannot be missed because nothing awaits in between.
 *
 * The filter and index are validated now (throwing `EVENTS_INVALID_FILTER`), not at first
 * iteration. If retention removes events this watch has not delivered yet (a consumer far behind),
 * iteration throws `EVENTS_WATCH_FELL_BEHIND` instead of skipping them.
 */
export function watchEvents(
  source: WatchSource,
  fromIndex: number,
  filter?: EventFilterInput,
  signal?: AbortSignal,
): AsyncIterable<WatchItem> {
  const f = compileFilter(filter);
  if (!Number.isSafeInteger(fromIndex) || fromIndex < 0) {
    throw new EventError('EVENTS_INVALID_FILTER', `must be a non-negative integer, got ${String(fromIndex)}`, 'fromIndex');
  }
  return {
    async *[Symbol.asyncIterator]() {
      let wake: (() => void) | undefined;
      let closed = false;
      const unsubscribe = source.onCommit((what) => {
        if (what === 'closed') closed = true;
        wake?.();
      });
      const onAbort = (): void => wake?.();
      signal?.addEventListener('abort', onAbort);
      try {
        const store = source.store;
        const first = store.firstIndex;
        const startIndex = fromIndex === 0 ? first : Math.max(fromIndex, first);
        yield { kind: 'start', requestedIndex: fromIndex, startIndex, truncated: fromIndex > 0 && fromIndex < first } satisfies WatchStart;
        let cursor = startIndex;
        while (!signal?.aborted && !closed) {
          if (cursor <= store.lastIndex) {
            const chunk = await store.read(cursor, READ_CHUNK);
            const head = chunk[0];
            // Past the cursor while the cursor is still retained: a gap that damage left (those
            // indexes no longer exist anywhere), not retention; go on after it.
            if (head === undefined || (head.index > cursor && cursor < store.firstIndex)) {
              throw new EventError(
                'EVENTS_WATCH_FELL_BEHIND',
                `retention removed events from ${cursor} before this watch delivered them; oldest is now ${store.firstIndex}`,
              );
            }
            for (const e of chunk) {
              cursor = e.index + 1;
              if (matchesFilter(f, e)) yield { kind: 'event', event: e };
              if (signal?.aborted) return;
            }
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        unsubscribe();
      }
    },
  };
}
