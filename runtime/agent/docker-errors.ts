/**
 * Turns Docker Engine API failures into runtime GridErrors with a code the supervisor and the
 * master can act on, and a message naming the node and the setting to fix.
 */
import { GridError, RuntimeError } from '../errors.js';

/** The shape of a dockerode / docker-modem failure (HTTP status from the Engine, or a socket error). */
interface EngineFailure {
  readonly statusCode?: number;
  readonly code?: string;
  readonly json?: { readonly message?: string } | null;
  readonly reason?: string;
  readonly message?: string;
}

/** The Engine's own message when it gave one, else the transport error's. */
export function engineMessage(err: unknown): string {
  const e = err as EngineFailure;
  const fromJson = typeof e?.json === 'object' && e.json !== null ? e.json.message : undefined;
  return (fromJson ?? e?.message ?? String(err)).trim();
}

/** HTTP status of an Engine failure, or undefined for transport errors. */
export function engineStatus(err: unknown): number | undefined {
  return (err as EngineFailure)?.statusCode;
}

/** True for the Engine's "no such container/image" answer. */
export function isNotFound(err: unknown): boolean {
  return engineStatus(err) === 404;
}

/** True when the socket could not be reached at all (Engine down, wrong path, no permission). */
export function isUnreachable(err: unknown): boolean {
  const code = (err as EngineFailure)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ECONNRESET' || code === 'EPIPE';
}

/** Error of a node that could not be created or started; `socket` goes into the message when unreachable. */
export function spawnError(err: unknown, nodeId: string, socket: string, image: string): GridError {
  const msg = engineMessage(err);
  if (isUnreachable(err)) {
    return new RuntimeError('SPAWN_FAILED', `node ${nodeId}: Docker Engine not reachable at ${socket} ([docker].socket_path): ${msg}`, {
      nodeId,
      field: '[docker].socket_path',
    }, { cause: err });
  }
  if (isNotFound(err) && /no such image/i.test(msg)) {
    return new RuntimeError(
      'SPAWN_FAILED',
      `node ${nodeId}: image "${image}" is not present on the Docker host ([docker].image); build or load it first`,
      { nodeId, field: '[docker].image', image },
      { cause: err },
    );
  }
  // docker-proxy or the Engine itself could not bind the published port.
  if (/address already in use|port is already allocated/i.test(msg)) {
    return new RuntimeError('PORT_IN_USE', `node ${nodeId}: port is already in use on the host: ${msg}`, { nodeId, field: 'port' }, { cause: err });
  }
  return new RuntimeError('SPAWN_FAILED', `node ${nodeId}: Docker Engine refused the container: ${msg}`, { nodeId }, { cause: err });
}
