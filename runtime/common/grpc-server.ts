import {
  experimental,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type Metadata,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type ServerErrorResponse,
} from '@grpc/grpc-js';
import { HealthService } from './health.js';
import { GridError, grpcStatusOf, RuntimeError } from '../errors.js';
import { TOKEN_METADATA_KEY, channelTarget, tokensEqual } from '../../client/transport.js';
import { capDetails, MalformedRequest, quote, strictDefinition } from './grpc-edge.js';
import { serverChannelOptions, type TlsSource } from '../../client/transport.js';
import { callerOf, setCaller, type Caller, type CallGuard, type GuardedCall } from './call-guard.js';

/** Loopback hosts a tokenless daemon may bind to. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Splits `host:port` (IPv6 in brackets) and validates the port. */
export function splitHostPort(addr: string, field = 'address'): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(addr.trim());
  if (!m) throw new RuntimeError('INVALID_ARGUMENT', `${field}: expected HOST:PORT, got ${quote(addr)}`, { field });
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RuntimeError('INVALID_ARGUMENT', `${field}: port ${m[2]} out of range 0-65535`, { field });
  }
  return { host: m[1]!, port };
}

/** True when `host` is a loopback name or address (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Refuses a non-loopback bind without a token: an unauthenticated control plane must not be
 * reachable from the network.
 */
export function checkBindPolicy(listen: string, token: string | undefined, field = '--listen', tls = false): void {
  const { host } = splitHostPort(listen, field);
  if (token === undefined && !tls && !isLoopbackHost(host)) {
    throw new RuntimeError(
      'INSECURE_BIND',
      `${field}: refusing to listen on ${host} without a token; give --token-file or SUTRA_GRID_TOKEN, or bind 127.0.0.1`,
      { field },
    );
  }
}

/**
 * Converts anything thrown by a handler into a gRPC error with the right status and a clear
 * message, bounded so that it always fits in the status trailer.
 */
export function toServiceError(err: unknown): ServerErrorResponse {
  const make = (code: GrpcStatus, text: string): ServerErrorResponse => {
    const details = capDetails(text);
    return Object.assign(new Error(details), { code, details });
  };
  if (err instanceof GridError) return make(grpcStatusOf(err.code), err.message);
  const maybe = err as { code?: unknown; details?: unknown; message?: unknown };
  if (typeof maybe?.code === 'number' && maybe.code >= 0 && maybe.code <= 16) {
    return make(maybe.code as GrpcStatus, typeof maybe.details === 'string' ? maybe.details : String(maybe.message ?? 'error'));
  }
  return make(GrpcStatus.INTERNAL, err instanceof Error ? err.message : String(err));
}

function authorized(metadata: Metadata, token: string): boolean {
  const value = metadata.get(TOKEN_METADATA_KEY)[0];
  if (typeof value !== 'string') return false;
  const presented = value.startsWith('Bearer ') ? value.slice(7) : value;
  return tokensEqual(presented, token);
}

const UNAUTH_MESSAGE = 'missing or invalid token (give --token-file or SUTRA_GRID_TOKEN)';

/**
 * Wraps every method of a service implementation: the caller check first (the shared token when
 * `auth` is a token; the role table and certificates when it is a {@link CallGuard}), then
 * malformed bodies refused with INVALID_ARGUMENT (see {@link strictDefinition}, which
 * {@link startGrpcServer} applies), and GridErrors / thrown errors mapped to gRPC statuses. Unary
 * handlers may be async functions `(request, call) => Promise<response>`; streaming handlers are
 * passed through after the checks.
 * @throws Error at start-up when a guard has no role requirement for one of the methods.
 */
export function wrapService(
  definition: ServiceDefinition,
  impl: Record<string, (...args: never[]) => unknown>,
  auth: string | undefined | CallGuard,
): UntypedServiceImplementation {
  const guard = typeof auth === 'object' ? auth : undefined;
  const token = typeof auth === 'string' ? auth : undefined;
  const out: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = impl[name];
    if (handler === undefined) throw new Error(`service implementation lacks ${name}`);
    if (guard !== undefined && !guard.knows(method.path)) throw new Error(`no role requirement for ${method.path} (runtime/common/rpc-roles.ts)`);
    /** The refusal of the call, or undefined when it may go on. */
    const refusal = (call: GuardedCall & object, request: unknown): Error | undefined => {
      if (guard === undefined) {
        if (token !== undefined && !authorized(call.metadata, token)) {
          return Object.assign(new Error(UNAUTH_MESSAGE), { code: GrpcStatus.UNAUTHENTICATED, details: UNAUTH_MESSAGE });
        }
        return undefined;
      }
      const caller = guard.authorize(method.path, call, request instanceof MalformedRequest ? undefined : request);
      if (caller instanceof Error) return caller;
      setCaller(call, caller);
      return undefined;
    };
    if (!method.requestStream && !method.responseStream) {
      const unaryHandler = (call: GuardedCall & { request: unknown }, callback: (e: unknown, v?: unknown) => void): void => {
        const refused = refusal(call, call.request);
        if (refused !== undefined) {
          callback(refused);
          return;
        }
        if (call.request instanceof MalformedRequest) {
          callback(call.request.toServiceError());
          return;
        }
        Promise.resolve()
          .then(() => (handler as (req: unknown, c: unknown) => unknown)(call.request, call))
          .then((value) => callback(null, value), (err: unknown) => callback(toServiceError(err)));
      };
      out[name] = unaryHandler as unknown as UntypedServiceImplementation[string];
    } else {
      const streamHandler = (call: GuardedCall & { request?: unknown; emit: (ev: string | symbol, ...args: unknown[]) => boolean }): void => {
        const refused = refusal(call, call.request);
        if (refused !== undefined) {
          call.emit('error', refused);
          return;
        }
        if (call.request instanceof MalformedRequest) {
          call.emit('error', call.request.toServiceError());
          return;
        }
        if (method.requestStream) refuseMalformedMessages(call, guard === undefined ? undefined : (msg) => guard.checkMessage(method.path, callerOfCall(call), msg));
        Promise.resolve()
          .then(() => (handler as (c: unknown) => unknown)(call))
          .catch((err: unknown) => call.emit('error', toServiceError(err)));
      };
      out[name] = streamHandler as unknown as UntypedServiceImplementation[string];
    }
  }
  return out;
}

function callerOfCall(call: object): Caller {
  const caller = callerOf(call);
  if (caller === undefined) throw new Error('stream message before its caller was checked');
  return caller;
}

/**
 * Makes a request stream end with INVALID_ARGUMENT at its first malformed message instead of
 * handing the handler a {@link MalformedRequest} as data.
 */
function refuseMalformedMessages(
  call: { emit: (ev: string | symbol, ...args: unknown[]) => boolean },
  checkMessage?: (message: unknown) => Error | undefined,
): void {
  const emit = call.emit.bind(call);
  call.emit = (ev, ...args) => {
    const first = args[0];
    if (ev === 'data' && first instanceof MalformedRequest) return emit('error', first.toServiceError());
    // An agent's stream carries its id in every message: each one is checked, not only the first.
    const refused = ev === 'data' ? checkMessage?.(first) : undefined;
    if (refused !== undefined) return emit('error', refused);
    return emit(ev, ...args);
  };
}

export interface GrpcServerHandle {
  readonly server: Server;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** host:port actually bound. */
  readonly address: string;
  /** The standard health service; `setStatus('', 'NOT_SERVING')` etc. */
  readonly health: HealthService;
  /** Graceful stop; forces after `timeoutMs`. Idempotent. */
  close(timeoutMs?: number): Promise<void>;
}

/** Mutual TLS of a server: its certificate and CA (replaceable while it serves), and whether every client needs a certificate. */
export interface ServerTls {
  readonly source: TlsSource;
  /**
   * Refuse the handshake of a client without a certificate of the CA. False on the master, whose
   * Join call is made before the caller has one: the call guard refuses every other call then.
   */
  readonly requireClientCert: boolean;
}

/** Server credentials for `tls`; new connections use the source's newest certificate. */
export function serverCredentials(tls: ServerTls | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return experimental.createCertificateProviderServerCredentials(tls.source, tls.source, tls.requireClientCert);
}

/**
 * Binds a gRPC server with the given services, the standard health service, and the bind policy.
 * Every server takes the shared message limits of `grpc-limits.ts`, and decodes requests strictly
 * ({@link strictDefinition}). With `tls`, the server speaks TLS only.
 */
export async function startGrpcServer(
  listen: string,
  services: ReadonlyArray<{ definition: ServiceDefinition; impl: UntypedServiceImplementation }>,
  token: string | undefined,
  tls?: ServerTls,
): Promise<GrpcServerHandle> {
  checkBindPolicy(listen, token, '--listen', tls !== undefined);
  const { host } = splitHostPort(listen);
  const server = new Server(serverChannelOptions());
  for (const s of services) server.addService(strictDefinition(s.definition), s.impl);
  const health = new HealthService({ '': 'SERVING' });
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    // An IP literal needs no name resolution: grpc-js' ipv4:/ipv6: schemes skip its DNS resolver
    // (and loading dns.promises), ~1 ms of a cold start's bind.
    server.bindAsync(channelTarget(listen), serverCredentials(tls), (err, p) => (err ? reject(err) : resolve(p)));
  });
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    address: `${host}:${port}`,
    health,
    close(timeoutMs = 5000): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        health.shutdown();
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
