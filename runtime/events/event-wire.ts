/**
 * The event library's wire edge: its domain types to and from the generated types of grid.proto.
 * The master's ListEvents / WatchEvents / ReportNodeEvents handlers call only these.
 */
import type {
  Event as PbEvent,
  EventFilter as PbEventFilter,
  ListEventsRequest,
  ListEventsResponse,
  ReportNodeEventsRequest,
  WatchEventsRequest,
  WatchEventsResponse,
} from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { EventError } from './errors.js';
import type { EventFilterInput, ListOptions } from './event-filter.js';
import type { ListResult, WatchItem } from './event-query.js';
import { formatEventMessage, isEventType, isSeverity, validatePayload, type EventInput, type GridEvent } from './event-types.js';

/** A domain event as the wire `Event`; `message` is the human one-liner. */
export function toProtoEvent(e: GridEvent): PbEvent {
  return {
    index: e.index,
    timestampUs: e.timestampUs,
    type: e.type,
    severity: e.severity,
    agentId: e.agentId,
    nodeId: e.nodeId,
    cluster: e.cluster,
    payloadJson: JSON.stringify(e.payload),
    count: e.count,
    lastSeenUs: e.lastSeenUs,
    message: formatEventMessage(e),
  };
}

/**
 * Turns an agent's `ReportNodeEventsRequest` into emit inputs. The reporting agent is authoritative
 * for `agentId`; index, timestamp, count and message from the agent are ignored (the master assigns
 * them). Every bad event is reported at once; the error's `field` names the first, e.g.
 * `events[2].payload_json`.
 */
export function eventsFromReport(req: ReportNodeEventsRequest): EventInput[] {
  const problems: Array<{ field: string; message: string }> = [];
  const out: EventInput[] = [];
  req.events.forEach((pe, i) => {
    try {
      out.push(fromProtoEvent(pe, req.agentId));
    } catch (err) {
      const e = err as EventError;
      problems.push({ field: `events[${i}].${e.field ?? 'type'}`, message: e.message });
    }
  });
  const first = problems[0];
  if (first !== undefined) {
    throw new EventError('EVENTS_INVALID_EVENT', problems.map((p) => `events: ${p.message}`).join('; '), first.field);
  }
  return out;
}

/** One wire event as an emit input; throws `EVENTS_INVALID_EVENT` naming the bad field. */
export function fromProtoEvent(pe: PbEvent, agentId?: string): EventInput {
  if (!isEventType(pe.type)) {
    throw new EventError('EVENTS_INVALID_EVENT', `unknown event type ${JSON.stringify(pe.type)}`, 'type');
  }
  if (pe.severity !== '' && !isSeverity(pe.severity)) {
    throw new EventError('EVENTS_INVALID_EVENT', `must be info, warning or error, got ${JSON.stringify(pe.severity)}`, 'severity');
  }
  let payload: unknown;
  try {
    payload = pe.payloadJson === '' ? {} : JSON.parse(pe.payloadJson);
  } catch (err) {
    throw new EventError('EVENTS_INVALID_EVENT', `is not valid JSON: ${(err as Error).message}`, 'payload_json');
  }
  try {
    payload = validatePayload(pe.type, payload);
  } catch (err) {
    const e = err as EventError;
    throw new EventError('EVENTS_INVALID_EVENT', e.message, `payload_json.${(e.field ?? 'payload').replace(/^payload\.?/, '')}`);
  }
  return {
    type: pe.type,
    payload,
    agentId: agentId !== undefined && agentId !== '' ? agentId : pe.agentId,
    nodeId: pe.nodeId,
    cluster: pe.cluster,
    ...(pe.severity !== '' ? { severity: pe.severity } : {}),
  } as EventInput;
}

/** The wire filter as a filter input (validated later by `compileFilter`). */
export function filterFromProto(f: PbEventFilter | undefined): EventFilterInput | undefined {
  if (f === undefined) return undefined;
  return { types: f.types, agentId: f.agentId, nodeId: f.nodeId, cluster: f.cluster };
}

/** A ListEvents request as the arguments of `EventBus.list`. */
export function listRequestFromProto(req: ListEventsRequest): { filter: EventFilterInput | undefined; options: ListOptions } {
  return {
    filter: filterFromProto(req.filter),
    options: { sinceIndex: req.sinceIndex, sinceUs: req.sinceUs, untilUs: req.untilUs, limit: req.limit },
  };
}

/** A `list()` result as the ListEvents response. */
export function toProtoListResponse(r: ListResult): ListEventsResponse {
  return { events: r.events.map(toProtoEvent), firstIndex: r.firstIndex, lastIndex: r.lastIndex };
}

/** A WatchEvents request as the arguments of `EventBus.watch`. */
export function watchRequestFromProto(req: WatchEventsRequest): { fromIndex: number; filter: EventFilterInput | undefined } {
  return { fromIndex: req.fromIndex, filter: filterFromProto(req.filter) };
}

/** A watch item as one WatchEvents stream message. */
export function toProtoWatchItem(item: WatchItem): WatchEventsResponse {
  if (item.kind === 'start') {
    return { start: { requestedIndex: item.requestedIndex, startIndex: item.startIndex, truncated: item.truncated } };
  }
  return { event: toProtoEvent(item.event) };
}
