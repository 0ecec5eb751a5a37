import { status as GrpcStatus } from '@grpc/grpc-js';
import { GridError } from '../../errors/index.js';

/**
 * Stable error codes of the event library. Callers and tests branch on these, never on message text.
 *
 * - `EVENTS_INVALID_FILTER`: a ListEvents/WatchEvents filter or range was refused; `field` names it.
 * - `EVENTS_INVALID_EVENT`: an event (e.g. from ReportNodeEvents) has an unknown type or a bad payload.
 * - `EVENTS_INVALID_OPTIONS`: a library option (retention, batch sizes, ...) is out of range.
 * - `EVENTS_STORE_IO`: the store could not read or write its files (disk full, permissions, ...).
 * - `EVENTS_STORE_CORRUPT`: a committed record failed its CRC on read (bit rot, outside tampering).
 * - `EVENTS_STORE_LOCKED`: another live process holds the event directory.
 * - `EVENTS_CLOSED`: the store or bus was used after `close()`.
 * - `EVENTS_FLUSH_TIMEOUT`: `flush()`/`close()` could not make pending events durable in time.
 * - `EVENTS_WATCH_FELL_BEHIND`: retention removed events a running watch had not delivered yet;
 *   the client re-watches and gets an explicit truncated start.
 */
export type EventErrorCode =
  | 'EVENTS_INVALID_FILTER'
  | 'EVENTS_INVALID_EVENT'
  | 'EVENTS_INVALID_OPTIONS'
  | 'EVENTS_STORE_IO'
  | 'EVENTS_STORE_CORRUPT'
  | 'EVENTS_STORE_LOCKED'
  | 'EVENTS_CLOSED'
  | 'EVENTS_FLUSH_TIMEOUT'
  | 'EVENTS_WATCH_FELL_BEHIND';

/** Base of every error thrown by the event library: a stable code, the offending field, a cause. */
export class EventError extends GridError<EventErrorCode> {
  /** The filter, option or event field the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(code: EventErrorCode, message: string, field?: string, options?: { cause?: unknown }) {
    super(code, field === undefined ? message : `${field}: ${message}`, field === undefined ? {} : { field }, options);
    this.name = 'EventError';
    this.field = field;
  }
}

const GRPC_STATUS_OF: Record<EventErrorCode, GrpcStatus> = {
  EVENTS_INVALID_FILTER: GrpcStatus.INVALID_ARGUMENT,
  EVENTS_INVALID_EVENT: GrpcStatus.INVALID_ARGUMENT,
  EVENTS_INVALID_OPTIONS: GrpcStatus.INVALID_ARGUMENT,
  EVENTS_STORE_IO: GrpcStatus.UNAVAILABLE,
  EVENTS_STORE_CORRUPT: GrpcStatus.DATA_LOSS,
  EVENTS_STORE_LOCKED: GrpcStatus.FAILED_PRECONDITION,
  EVENTS_CLOSED: GrpcStatus.UNAVAILABLE,
  EVENTS_FLUSH_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  EVENTS_WATCH_FELL_BEHIND: GrpcStatus.OUT_OF_RANGE,
};

/** The gRPC status an event error crosses the wire with (the master's RPC handlers use this). */
export function eventErrorGrpcStatus(code: EventErrorCode): GrpcStatus {
  return GRPC_STATUS_OF[code];
}
