// grpc-js's constants alone: its index loads the whole library (http2, tls...), which an offline verb
// (`validate`, `plan` of a file) that only formats an error does not need.
import { Status as GrpcStatus } from '@grpc/grpc-js/build/src/constants.js';
import { GridError } from './grid-error.js';

/** `UNAVAILABLE` for 14: gRPC status codes by name, for messages. */
export function statusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? `STATUS_${code}`;
}

/**
 * One line, no stack, for anything thrown: `<what happened> (<CODE>)`. A {@link GridError} shows
 * its message and code, a gRPC error the server's message and status name; `detailed` adds the
 * error's {@link GridError.detailLines} below it.
 */
export function formatError(err: unknown, detailed = false): string {
  if (err instanceof GridError) {
    const head = oneLine(`${err.message} (${err.code})`);
    return detailed ? [head, ...err.detailLines()].join('\n') : head;
  }
  const e = err as { code?: unknown; details?: unknown; message?: unknown; metadata?: unknown };
  if (typeof e?.code === 'number' && e.metadata !== undefined) {
    const details = typeof e.details === 'string' && e.details !== '' ? e.details : String(e.message ?? 'error');
    return oneLine(`${details} (${statusName(e.code)})`);
  }
  if (err instanceof Error) return oneLine(err.message);
  return oneLine(String(err));
}

function oneLine(text: string): string {
  // grpc-js appends an empty "Resolution note:" to connection errors; it says nothing.
  return text.replace(/\s*\n\s*/g, '; ').replace(/\.?\s*Resolution note:\s*(?=\(|$)/, ' ').replace(/\s+/g, ' ').trim();
}
