import { GridError, type ErrorContext } from '../errors/index.js';

/** gRPC status names: the code of a master's refusal that has no more precise meaning here. */
export type GrpcStatusName =
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

/**
 * Stable codes of the client layer: its own refusals (before anything reaches the master), the
 * declarative refusals of a master it can name (client/master-errors.ts), and otherwise the gRPC
 * status the call ended with (`UNAVAILABLE` also when the master cannot be reached at all).
 */
export type ClientErrorCode =
  /** The spec is too big to send, or the master refused it (ApplySpec INVALID_ARGUMENT). */
  | 'SPEC_INVALID'
  /** ApplySpec or DeleteSpec named a generation (or grid) that is no longer the applied one. */
  | 'STALE_GENERATION'
  /** The master answered with something this client cannot read (a plan op or node status it does not know). */
  | 'MASTER_ANSWER_INVALID'
  | GrpcStatusName;

/** An error raised on the client side of the wire. */
export class ClientError extends GridError<ClientErrorCode> {
  constructor(code: ClientErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, message, context, options);
    this.name = 'ClientError';
  }
}
