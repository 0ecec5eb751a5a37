import { EventError } from './errors.js';
import { isEventType, type EventType, type GridEvent } from './event-types.js';

/** What a caller asks for; every field is optional and empty means "any". */
export interface EventFilterInput {
  readonly types?: readonly string[];
  readonly agentId?: string;
  readonly nodeId?: string;
  readonly cluster?: string;
}

/** A validated filter: build it with `compileFilter`, test events with `matchesFilter`. */
export interface EventFilter {
  readonly types: ReadonlySet<EventType> | null;
  readonly agentId: string;
  readonly nodeId: string;
  readonly cluster: string;
}

/** The filter that matches every event. */
export const MATCH_ALL: EventFilter = Object.freeze({ types: null, agentId: '', nodeId: '', cluster: '' });

/**
 * Validates a filter. Unknown type names throw `EVENTS_INVALID_FILTER` with `field` = `filter.types`
 * (the master maps that code to INVALID_ARGUMENT), so a typo never silently matches nothing.
 */
export function compileFilter(input: EventFilterInput | undefined): EventFilter {
  if (input === undefined) return MATCH_ALL;
  const types = input.types ?? [];
  const unknown = types.filter((t) => !isEventType(t));
  if (unknown.length > 0) {
    throw new EventError(
      'EVENTS_INVALID_FILTER',
      `unknown event type(s) ${unknown.map((t) => JSON.stringify(t)).join(', ')}`,
      'filter.types',
    );
  }
  for (const field of ['agentId', 'nodeId', 'cluster'] as const) {
    const v = input[field];
    if (v !== undefined && typeof v !== 'string') {
      throw new EventError('EVENTS_INVALID_FILTER', 'must be a string', `filter.${field}`);
    }
  }
  return {
    types: types.length === 0 ? null : new Set(types as EventType[]),
    agentId: input.agentId ?? '',
    nodeId: input.nodeId ?? '',
    cluster: input.cluster ?? '',
  };
}

/** Whether `e` passes `f`. */
export function matchesFilter(f: EventFilter, e: GridEvent): boolean {
  return (
    (f.types === null || f.types.has(e.type)) &&
    (f.agentId === '' || f.agentId === e.agentId) &&
    (f.nodeId === '' || f.nodeId === e.nodeId) &&
    (f.cluster === '' || f.cluster === e.cluster)
  );
}

/** Range and size of a `list()` query. All bounds are inclusive; 0/undefined means unbounded. */
export interface ListOptions {
  /** First index to consider. */
  readonly sinceIndex?: number;
  /** Only events with `timestampUs >= sinceUs`. */
  readonly sinceUs?: number;
  /** Only events with `timestampUs <= untilUs`. */
  readonly untilUs?: number;
  /** At most this many events; 0 = `DEFAULT_LIST_LIMIT`, capped at `MAX_LIST_LIMIT`. */
  readonly limit?: number;
}

/** Events a `list()` returns when the caller gives no limit. */
export const DEFAULT_LIST_LIMIT = 1000;
/** Largest page a `list()` returns, to bound the memory of one RPC answer. */
export const MAX_LIST_LIMIT = 100_000;

/** Checks list bounds; each bad value throws `EVENTS_INVALID_FILTER` naming it. */
export function checkListOptions(o: ListOptions): Required<ListOptions> {
  const nonNegInt = (name: keyof ListOptions): number => {
    const v = o[name] ?? 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new EventError('EVENTS_INVALID_FILTER', `must be a non-negative integer, got ${String(v)}`, name);
    }
    return v;
  };
  const sinceIndex = nonNegInt('sinceIndex');
  const sinceUs = nonNegInt('sinceUs');
  const untilUs = nonNegInt('untilUs');
  const limit = nonNegInt('limit');
  if (untilUs !== 0 && untilUs < sinceUs) {
    throw new EventError('EVENTS_INVALID_FILTER', `is before sinceUs (${sinceUs})`, 'untilUs');
  }
  return { sinceIndex, sinceUs, untilUs, limit: limit === 0 ? DEFAULT_LIST_LIMIT : Math.min(limit, MAX_LIST_LIMIT) };
}
