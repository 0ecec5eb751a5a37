import { status as GrpcStatus } from '@grpc/grpc-js';
import { GridError, type ErrorContext } from '../errors/index.js';

export { GridError, ConfigError, type ErrorContext } from '../errors/index.js';

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
  | 'PERMISSION_DENIED'
  | 'STALE_GENERATION'
  | 'SPEC_INVALID'
  | 'SPAWN_FAILED'
  | 'CONFIG_INVALID'
  | 'INSECURE_BIND'
  | 'SHUTDOWN_TIMEOUT'
  | 'STATE_DAMAGED'
  | 'NOT_LEADER'
  | 'MASTER_NOT_LEADER'
  | 'STALE_TERM'
  | 'QUORUM_UNAVAILABLE'
  | 'LEASE_EXPIRED'
  | 'NOT_REPLICATED'
  | 'PROMOTION_REFUSED'
  | 'ROLLOUT_FAILED'
  | 'MOVE_NOT_READY'
  | 'NODE_NOT_RUNNING'
  | 'INTERNAL';

/** Base of every runtime error: a {@link GridError} whose code is one of {@link RuntimeErrorCode}. */
export class RuntimeError extends GridError<RuntimeErrorCode> {
  constructor(code: RuntimeErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, message, context, options);
    this.name = 'RuntimeError';
  }
}

/** A daemon did not drain within its force timeout. */
export class ShutdownTimeoutError extends RuntimeError {
  constructor(what: string, timeoutMs: number) {
    super('SHUTDOWN_TIMEOUT', `${what} did not stop within ${timeoutMs} ms; forced`);
    this.name = 'ShutdownTimeoutError';
  }
}

const GRPC_STATUS_OF: Record<RuntimeErrorCode, GrpcStatus> = {
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
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
  NOT_LEADER: GrpcStatus.FAILED_PRECONDITION,
  /** A master that does not lead (several masters on etcd): the message names the leader as `[leader=HOST:PORT]`. */
  MASTER_NOT_LEADER: GrpcStatus.UNAVAILABLE,
  STALE_TERM: GrpcStatus.FAILED_PRECONDITION,
  QUORUM_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  /** A leader whose write lease lapsed (its grid link is cut): retry, the grid may fail over. */
  LEASE_EXPIRED: GrpcStatus.UNAVAILABLE,
  /** A replication change asked of a node without a replication role. */
  NOT_REPLICATED: GrpcStatus.FAILED_PRECONDITION,
  /** A promotion the replicas' positions do not allow (another holds more). */
  PROMOTION_REFUSED: GrpcStatus.FAILED_PRECONDITION,
  /** A rolling change stopped: a restarted node did not become healthy within the policy's deadline. */
  ROLLOUT_FAILED: GrpcStatus.ABORTED,
  MOVE_NOT_READY: GrpcStatus.UNAVAILABLE,
  /** An action that needs the node running (a handover, a restart of a leader) found it otherwise. */
  NODE_NOT_RUNNING: GrpcStatus.FAILED_PRECONDITION,
  INTERNAL: GrpcStatus.INTERNAL,
};

/** The gRPC status a runtime error crosses the wire with. */
export function grpcStatusOf(code: string): GrpcStatus {
  if (code.startsWith('SPEC_')) return GrpcStatus.INVALID_ARGUMENT;
  return GRPC_STATUS_OF[code as RuntimeErrorCode] ?? GrpcStatus.INTERNAL;
}
