/**
 * Errors as RFC 9457 problem details (`application/problem+json`), decided by the same codes and
 * gRPC statuses the gRPC side answers with: one mapping from GridError code to gRPC status
 * (runtime/errors.ts, the event library's own), then one from gRPC status to HTTP status here.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { GridError, grpcStatusOf } from '../errors.js';
import { statusName } from '../../client/transport.js';
import { EventError, eventErrorGrpcStatus } from '../events/index.js';

/** The body of every error answer. */
export interface Problem {
  /** `urn:sutra-grid:error:<CODE>`: the stable code, as the CLI prints it in parentheses. */
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** The request field the error names (`agentId`, `expectedGeneration`, `/clusters/0/nodes`...). */
  readonly field?: string;
  /** The gRPC status the same refusal has on the gRPC side, e.g. `FAILED_PRECONDITION`. */
  readonly grpcCode: string;
  /** More about the problem (a spec's diagnostics). */
  readonly [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** HTTP status per gRPC status; RESOURCE_EXHAUSTED is 429 unless the body was too large (413). */
const HTTP_OF: Readonly<Record<number, number>> = {
  [GrpcStatus.CANCELLED]: 503,
  [GrpcStatus.UNKNOWN]: 500,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.FAILED_PRECONDITION]: 409,
  [GrpcStatus.ABORTED]: 409,
  [GrpcStatus.OUT_OF_RANGE]: 400,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.INTERNAL]: 500,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DATA_LOSS]: 500,
  [GrpcStatus.UNAUTHENTICATED]: 401,
};

/** The HTTP status of a gRPC status. */
export function httpStatusOf(grpc: number): number {
  return HTTP_OF[grpc] ?? 500;
}

/**
 * `agent_id` -> `agentId`, `events[2].payload_json` -> `events[2].payloadJson`: the master's errors
 * name wire fields; HTTP callers sent camelCase JSON.
 */
export function camelField(field: string): string {
  return field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** `STALE_GENERATION` -> `Stale generation`. */
function titleOf(code: string): string {
  const words = code.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A problem from its parts. */
export function problem(code: string, grpc: number, detail: string, extra: { field?: string | undefined; status?: number; [k: string]: unknown } = {}): Problem {
  const { field, status, ...rest } = extra;
  return {
    type: `urn:sutra-grid:error:${code}`,
    title: titleOf(code),
    status: status ?? httpStatusOf(grpc),
    detail,
    ...(field !== undefined && field !== '' ? { field } : {}),
    grpcCode: statusName(grpc),
    ...rest,
  };
}

/** A refusal decided in the HTTP layer, already a problem (a spec's diagnostics, a bad query). */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

/** The event library's field names as the `events` route's query names them. */
const EVENT_FIELDS: Readonly<Record<string, string>> = {
  'filter.types': 'type',
  'filter.agentId': 'agent',
  'filter.nodeId': 'node',
  'filter.cluster': 'cluster',
  fromIndex: 'Last-Event-ID',
};

/**
 * Anything a service threw, as a problem: a GridError by its code (an EventError by the event
 * library's own mapping), an agent's status passed through the master (`{code, details}`), and
 * anything else as INTERNAL without its text (it may hold paths or stack details).
 */
export function problemOf(err: unknown): Problem {
  if (err instanceof ProblemError) return err.problem;
  if (err instanceof EventError) {
    const field = err.field === undefined ? undefined : (EVENT_FIELDS[err.field] ?? err.field);
    return problem(err.code, eventErrorGrpcStatus(err.code), err.message, { field });
  }
  if (err instanceof GridError) {
    const field = typeof err.context.field === 'string' ? camelField(err.context.field) : undefined;
    return problem(err.code, grpcStatusOf(err.code), err.message, { field });
  }
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  if (typeof e?.code === 'number' && e.code > 0 && e.code <= 16) {
    const detail = typeof e.details === 'string' && e.details !== '' ? e.details : String(e.message ?? 'error');
    return problem(statusName(e.code), e.code, detail);
  }
  return problem('INTERNAL', GrpcStatus.INTERNAL, 'internal error; the master logged it');
}
