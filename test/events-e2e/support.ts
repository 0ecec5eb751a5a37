/**
 * Shared pieces of the event end-to-end tests: fast master flags, and a client that lists and
 * watches a real master's events (ListEvents / WatchEvents over gRPC).
 */
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { Event, EventFilter, ListEventsRequest, ListEventsResponse, WatchEventsResponse } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { unary } from '../../client/index.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { eventually } from '../helpers/processes.js';

/** Sub-second health thresholds so degraded/offline show within a couple of seconds. */
export const FAST_MASTER = ['--heartbeat-interval', '200ms', '--degraded-after', '800ms', '--offline-after', '1600ms', '--health-check-interval', '50ms'] as const;

/** An event as the tests look at it: the wire fields, payload parsed. */
export type SeenEvent = Omit<Event, 'payloadJson'> & { payload: Record<string, unknown> };

/** Parses a wire event's payload. */
export function seen(e: Event): SeenEvent {
  const { payloadJson, ...rest } = e;
  return { ...rest, payload: payloadJson === '' ? {} : (JSON.parse(payloadJson) as Record<string, unknown>) };
}

/** ListEvents / WatchEvents against a real master. */
export class EventsClient extends TestMasterClient {
  /** One ListEvents call. */
  listRaw(req: Partial<ListEventsRequest> = {}): Promise<ListEventsResponse> {
    const full: ListEventsRequest = { sinceIndex: 0, sinceUs: 0, untilUs: 0, limit: 0, ...req };
    return unary<ListEventsRequest, ListEventsResponse>(this.raw.listEvents as never, this.raw, full, undefined, 10_000);
  }

  /** Every committed event matching `filter` (pages through the log). */
  async list(filter: Partial<EventFilter> = {}): Promise<SeenEvent[]> {
    const out: SeenEvent[] = [];
    let since = 0;
    for (;;) {
      const res = await this.listRaw({ filter: { types: [], agentId: '', nodeId: '', cluster: '', ...filter }, sinceIndex: since, limit: 1000 });
      out.push(...res.events.map(seen));
      const last = res.events[res.events.length - 1];
      if (res.events.length < 1000 || last === undefined) return out;
      since = last.index + 1;
    }
  }

  /** Events of `type` (optionally more filter fields). */
  ofType(type: string, filter: Partial<EventFilter> = {}): Promise<SeenEvent[]> {
    return this.list({ ...filter, types: [type] });
  }

  /** Waits until an event of `type` matching `match` is listed; returns the first such. */
  waitFor(type: string, match: (e: SeenEvent) => boolean = () => true, timeoutMs = 15_000, filter: Partial<EventFilter> = {}): Promise<SeenEvent> {
    return eventually(async () => (await this.ofType(type, filter)).find(match), timeoutMs, 100).catch((err: unknown) => {
      throw new Error(`no ${type} event within ${timeoutMs} ms: ${(err as Error).message}`);
    });
  }
}

/** A running WatchEvents stream that records what it receives. */
export interface WatchRecording {
  readonly events: Event[];
  readonly starts: Array<NonNullable<WatchEventsResponse['start']>>;
  /** Resolves with the stream's error (or undefined on a clean end). */
  readonly ended: Promise<ServiceError | undefined>;
  cancel(): void;
}

/** Opens WatchEvents from `fromIndex` on `client` and records every message (also handing events to `onEvent`). */
export function watch(client: TestMasterClient, fromIndex: number, filter?: EventFilter, onEvent?: (e: Event) => void): WatchRecording {
  const events: Event[] = [];
  const starts: Array<NonNullable<WatchEventsResponse['start']>> = [];
  const stream: ClientReadableStream<WatchEventsResponse> = client.raw.watchEvents({ fromIndex, filter });
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    stream.on('data', (m: WatchEventsResponse) => {
      if (m.start !== undefined) starts.push(m.start);
      if (m.event !== undefined) {
        events.push(m.event);
        onEvent?.(m.event);
      }
    });
    stream.on('error', (err: ServiceError) => resolve(err));
    stream.on('end', () => resolve(undefined));
  });
  return { events, starts, ended, cancel: () => stream.cancel() };
}

/** Asserts-by-throwing that indexes are strictly contiguous from `first`; returns them. */
export function contiguous(events: readonly { index: number }[], first: number): number[] {
  const idx = events.map((e) => e.index);
  idx.forEach((v, i) => {
    if (v !== first + i) throw new Error(`index ${v} at position ${i}, expected ${first + i} (got ${idx.join(',')})`);
  });
  return idx;
}
