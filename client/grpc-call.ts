import { credentials, Metadata, status as GrpcStatus, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { backoffDelay, sleep } from './backoff.js';
import { bearer, TOKEN_METADATA_KEY } from './token.js';

export { clientChannelOptions } from './wire-limits.js';

/** Insecure channel credentials: transport security is the operator's (mesh, tunnel) concern for now. */
export const insecureCredentials = credentials.createInsecure();

/** Call metadata carrying the token, when there is one. */
export function authMetadata(token: string | undefined): Metadata {
  const md = new Metadata();
  if (token !== undefined) md.set(TOKEN_METADATA_KEY, bearer(token));
  return md;
}

/** Call options with a deadline `ms` from now. */
export function deadline(ms: number): CallOptions {
  return { deadline: new Date(Date.now() + ms) };
}

/** A unary client method in grpc-js callback style. */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, res: Res) => void,
) => unknown;

/** Promise form of one unary call. */
export function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  thisArg: object,
  request: Req,
  token: string | undefined,
  timeoutMs: number,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    method.call(thisArg, request, authMetadata(token), deadline(timeoutMs), (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export interface RetryOptions {
  readonly attempts: number;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly jitter?: number;
  readonly signal?: AbortSignal;
  /** Called before each retry, e.g. to drop a cached client. */
  readonly onRetry?: (err: ServiceError, attempt: number) => void;
}

/** Master -> agent policy: 3 attempts, 100 -> 200 -> 400 ms. */
export const DEFAULT_RETRY: RetryOptions = { attempts: 3, initialMs: 100, maxMs: 400, jitter: 0.2 };

/** Runs `fn`, retrying only retryable statuses, with exponential backoff and jitter. */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as ServiceError).code;
      if (attempt + 1 >= opts.attempts || typeof code !== 'number' || !isRetryableStatus(code)) throw err;
      opts.onRetry?.(err as ServiceError, attempt);
      await sleep(backoffDelay(attempt, { initialMs: opts.initialMs, maxMs: opts.maxMs, jitter: opts.jitter ?? 0.5 }), opts.signal);
    }
  }
}

/**
 * Codes a caller may retry: the callee may succeed next time without any change on our side.
 * RESOURCE_EXHAUSTED is not one here: agents use it for "at capacity", which a retry cannot fix.
 */
export function isRetryableStatus(code: GrpcStatus): boolean {
  return code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.ABORTED;
}
