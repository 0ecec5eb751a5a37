import { GridError } from '../errors.js';
import { statusName } from '../common/grpc-client.js';

/**
 * One line, no stack, for anything a command threw: `<what happened> (<CODE>)`. gRPC errors show
 * the server's message and status name; GridErrors their message and code.
 */
export function formatCliError(err: unknown): string {
  if (err instanceof GridError) return oneLine(`${err.message} (${err.code})`);
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
