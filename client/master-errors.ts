/**
 * The one place a failed master call becomes a {@link ClientError}: a stable code (the master's
 * declarative refusals by name, anything else by its gRPC status), the master's own wording as
 * the message, and where it happened in the context. The CLI prints it as it is; the Pulumi
 * provider maps the code to its own.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { statusName } from '../errors/index.js';
import { ClientError, type ClientErrorCode, type GrpcStatusName } from './errors.js';

/** Transport failures: the call never reached a master (as opposed to the master's own UNAVAILABLE answers). */
const UNREACHABLE = /No connection established|ECONNREFUSED|ECONNRESET|Connection dropped|getaddrinfo|Failed to connect/i;

/** What {@link classifyMasterError} puts in a ClientError's context. */
export interface MasterErrorContext {
  readonly address: string;
  /** The RPC, e.g. `ApplySpec`. */
  readonly rpc: string;
  /** The gRPC status code. */
  readonly status: number;
  /** The master's (or transport's) message, unchanged. */
  readonly details: string;
  /** True when no master answered: nothing listens there, or the connection broke. */
  readonly unreachable: boolean;
}

/**
 * `err` (a failed call of `rpc` on the master at `address`) as a ClientError; anything that is not
 * a gRPC failure (a ClientError already, a bug) is returned unchanged.
 */
export function classifyMasterError(err: unknown, address: string, rpc: string): unknown {
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  if (err instanceof ClientError || typeof e?.code !== 'number') return err;
  const status = e.code;
  const details = typeof e.details === 'string' && e.details !== '' ? e.details : String(e.message ?? 'error');
  // The master's own UNAVAILABLE answers (an agent it could not reach) name that agent first.
  const unreachable = status === GrpcStatus.UNAVAILABLE && !details.startsWith('agent "') && UNREACHABLE.test(details);
  const context: MasterErrorContext = { address, rpc, status, details, unreachable };
  const message = unreachable ? `cannot reach the master at ${address}: ${details}` : details;
  return new ClientError(codeOf(status, rpc), message, { ...context }, { cause: err });
}

function codeOf(status: number, rpc: string): ClientErrorCode {
  const declarative = rpc === 'ApplySpec' || rpc === 'DeleteSpec';
  // Only the declarative calls carry an expected generation (or grid name); elsewhere
  // FAILED_PRECONDITION means something else (a port in use, an unhealthy agent).
  if (declarative && status === GrpcStatus.FAILED_PRECONDITION) return 'STALE_GENERATION';
  if (rpc === 'ApplySpec' && status === GrpcStatus.INVALID_ARGUMENT) return 'SPEC_INVALID';
  const name = statusName(status);
  return name.startsWith('STATUS_') || name === 'OK' ? 'UNKNOWN' : (name as GrpcStatusName);
}
