import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * Stable error codes of the runtime layer. Tests and callers branch on these, never on message text.
 */
export type RuntimeErrorCode =
  | 'INVALID_ARGUMENT'
  | 'AGENT_NOT_FOUND'
  | 'NODE_NOT_FOUND'
  | 'NODE_EXISTS'
  | 'PORT_IN_USE'
  | 'PORT_OUT_OF_RANGE'
  | 'PATH_OUTSIDE_DATA_DIR'
  | 'CAPACITY_EXCEEDED'
  | 'AGENT_UNAVAILABLE'
  | 'AGENT_NOT_HEALTHY'
  | 'DEADLINE_EXCEEDED'
  | 'UNAUTHENTICATED'
  | 'STALE_GENERATION'
  | 'SPEC_INVALID'
  | 'SPAWN_FAILED'
  | 'CONFIG_INVALID'
  | 'INSECURE_BIND'
  | 'SHUTDOWN_TIMEOUT'
  | 'STATE_DAMAGED'
  | 'INTERNAL';

/** Context fields an error may carry; each names what the error is about. */
export interface ErrorContext {
  readonly agentId?: string;
  readonly nodeId?: string;
  readonly field?: string;
  readonly [key: string]: unknown;
}

/** Base of every runtime error: a stable code, readonly context and an optional cause. */
export class GridError extends Error {
  readonly code: RuntimeErrorCode;
  readonly context: ErrorContext;

  constructor(code: RuntimeErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GridError';
    this.code = code;
    this.context = context;
  }
}

/** A daemon did not drain within its force timeout. */
export class ShutdownTimeoutError extends GridError {
  constructor(what: string, timeoutMs: number) {
    super('SHUTDOWN_TIMEOUT', `${what} did not stop within ${timeoutMs} ms; forced`);
    this.name = 'ShutdownTimeoutError';
  }
}

/** A daemon or CLI configuration value was refused; `field` names the key or flag. */
export class ConfigError extends GridError {
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', `${field}: ${message}`, { field }, options);
    this.name = 'ConfigError';
  }
}

const GRPC_STATUS_OF: Record<RuntimeErrorCode, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  AGENT_NOT_FOUND: GrpcStatus.NOT_FOUND,
  NODE_NOT_FOUND: GrpcStatus.NOT_FOUND,
  NODE_EXISTS: GrpcStatus.ALREADY_EXISTS,
  PORT_IN_USE: GrpcStatus.FAILED_PRECONDITION,
  PORT_OUT_OF_RANGE: GrpcStatus.INVALID_ARGUMENT,
  PATH_OUTSIDE_DATA_DIR: GrpcStatus.INVALID_ARGUMENT,
  CAPACITY_EXCEEDED: GrpcStatus.RESOURCE_EXHAUSTED,
  AGENT_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  AGENT_NOT_HEALTHY: GrpcStatus.FAILED_PRECONDITION,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  STALE_GENERATION: GrpcStatus.FAILED_PRECONDITION,
  SPEC_INVALID: GrpcStatus.INVALID_ARGUMENT,
  SPAWN_FAILED: GrpcStatus.INTERNAL,
  CONFIG_INVALID: GrpcStatus.INVALID_ARGUMENT,
  INSECURE_BIND: GrpcStatus.FAILED_PRECONDITION,
  SHUTDOWN_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  STATE_DAMAGED: GrpcStatus.DATA_LOSS,
  INTERNAL: GrpcStatus.INTERNAL,
};

/** The gRPC status a runtime error crosses the wire with. */
export function grpcStatusOf(code: RuntimeErrorCode): GrpcStatus {
  return GRPC_STATUS_OF[code];
}

/**
 * Codes a caller may retry: the callee may succeed next time without any change on our side.
 * RESOURCE_EXHAUSTED is not one here: agents use it for "at capacity", which a retry cannot fix.
 */
export function isRetryableStatus(code: GrpcStatus): boolean {
  return code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.ABORTED;
}
