/**
 * `GET events`: the filters of `sutra-grid events` (type, agent, node, cluster, since,
 * sinceIndex, limit) over the master's event log; with `Accept: text/event-stream` it follows
 * live, resuming after `Last-Event-ID`.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { parseDuration } from '../../../schema/index.js';
import type { EventFilterInput } from '../../events/index.js';
import { problem, ProblemError } from '../problem.js';
import { EVENT_SCHEMA, answers, int, object } from '../schemas.js';
import { streamEvents, wantsEventStream } from '../sse.js';
import { eventJson } from '../views.js';
import type { GridRoute } from './grid-route.js';

interface EventsQuery {
  readonly type?: readonly string[];
  readonly agent?: string;
  readonly node?: string;
  readonly cluster?: string;
  readonly since?: string;
  readonly sinceIndex?: number;
  readonly limit?: number;
}

const bad = (field: string, detail: string): ProblemError => new ProblemError(problem('INVALID_ARGUMENT', GrpcStatus.INVALID_ARGUMENT, `${field}: ${detail}`, { field }));

/** `--since 10m` as microseconds since the epoch (0: not given). */
function sinceUs(since: string | undefined): number {
  if (since === undefined || since === '') return 0;
  try {
    return (Date.now() - parseDuration(since, 'since')) * 1000;
  } catch {
    throw bad('since', `must be a duration like 30s, 10m or 2h, got ${JSON.stringify(since.slice(0, 64))}`);
  }
}

/** `Last-Event-ID`: the index of the last event the client received. */
function lastEventId(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? (header[0] ?? '') : header;
  if (!/^\d{1,15}$/.test(text.trim())) throw bad('Last-Event-ID', `must be an event index (a non-negative integer), got ${JSON.stringify(text.slice(0, 64))}`);
  return Number(text.trim());
}

export const EVENT_ROUTES: readonly GridRoute[] = [
  {
    method: 'GET',
    url: '/events',
    summary:
      'lifecycle events, oldest first (`sutra-grid events --json`). With `Accept: text/event-stream`: a live stream, each event with its index as `id`; it starts after `Last-Event-ID` when given, else at `sinceIndex` or `since`, else with the next event',
    access: 'read',
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          type: { type: 'array', items: { type: 'string', maxLength: 1024 }, maxItems: 64, description: 'only these event types (repeatable, or comma-separated)' },
          agent: { type: 'string', maxLength: 63, description: 'only events of this agent' },
          node: { type: 'string', maxLength: 63, description: 'only events of this node' },
          cluster: { type: 'string', maxLength: 63, description: 'only events of this cluster' },
          since: { type: 'string', maxLength: 64, description: 'only events newer than this, e.g. 10m' },
          sinceIndex: { type: 'integer', minimum: 0, description: 'only events from this index on' },
          limit: { type: 'integer', minimum: 0, description: 'at most this many events (default 1000; not for streams)' },
        },
      },
      response: answers(object({ events: { type: 'array', items: EVENT_SCHEMA }, firstIndex: int, lastIndex: int })),
    },
    handler: async (api, req, reply) => {
      const q = req.query as EventsQuery;
      const filter: EventFilterInput = {
        types: (q.type ?? []).flatMap((t) => t.split(',')).filter((t) => t !== ''),
        agentId: q.agent ?? '',
        nodeId: q.node ?? '',
        cluster: q.cluster ?? '',
      };
      const fromUs = sinceUs(q.since);
      if (wantsEventStream(req)) {
        const last = lastEventId(req.headers['last-event-id']);
        const from =
          last !== undefined ? last + 1 : (q.sinceIndex ?? 0) > 0 ? (q.sinceIndex ?? 0) : fromUs > 0 ? api.events.store.indexAtOrAfter(fromUs) : api.events.store.lastIndex + 1;
        await streamEvents(api, req, reply, from, filter);
        return undefined;
      }
      const listed = await api.events.list(filter, { sinceIndex: q.sinceIndex ?? 0, sinceUs: fromUs, untilUs: 0, limit: q.limit ?? 0 });
      return { events: listed.events.map(eventJson), firstIndex: listed.firstIndex, lastIndex: listed.lastIndex };
    },
  },
];
