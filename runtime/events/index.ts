/**
 * The event library: typed grid events, the durable embedded event log, the master's emitter with
 * series folding, list/watch queries, the proto boundary and the storage-server mirror.
 */
export { EventError, eventErrorGrpcStatus, type EventErrorCode } from './errors.js';
export {
  EVENT_TYPES,
  defaultSeverity,
  formatEventLine,
  formatEventMessage,
  isEventType,
  isFoldable,
  isSeverity,
  isoMicros,
  validatePayload,
  type EventInput,
  type EventPayloads,
  type EventType,
  type GridEvent,
  type GridEventOf,
  type Severity,
} from './event-types.js';
export {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  compileFilter,
  matchesFilter,
  type EventFilter,
  type EventFilterInput,
  type ListOptions,
} from './event-filter.js';
export { EventLog, type EventLogOptions, type EventStore, type RecoveryReport, type RetentionLimits } from './event-log.js';
export { compileBusOptions, wallClockUs, type EventBusOptions } from './bus-options.js';
export { EventBus, recoverySummary, type EventBusState, type EventBusStats } from './event-bus.js';
export { listEvents, watchEvents, type ListResult, type WatchItem, type WatchSource, type WatchStart } from './event-query.js';
export {
  eventsFromReport,
  filterFromProto,
  fromProtoEvent,
  listRequestFromProto,
  toProtoEvent,
  toProtoListResponse,
  toProtoWatchItem,
  watchRequestFromProto,
} from './event-wire.js';
export {
  StorageMirror,
  agentConceptId,
  eventConceptId,
  mirrorCursorPath,
  nodeConceptId,
  timeConceptId,
  type MirrorAssociation,
  type MirrorClient,
  type MirrorConcept,
  type StorageMirrorOptions,
  type StorageMirrorStats,
} from './storage-mirror.js';
export { mirrorClientFrom } from './storage-mirror-wire.js';
