import { pino, type Logger } from 'pino';
import { prettyDestination, resolveLogFormat } from './log-format.js';

export type { Logger };

/**
 * Logs on stderr (stdout stays free for command output), level from `LOG_LEVEL`: JSON lines, or
 * readable lines with `LOG_FORMAT=pretty` (the default on a terminal; see log-format.ts).
 * Every daemon creates one root logger and hands children (`logger.child({component})`) down.
 */
export function createLogger(name: string, level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  const dest = resolveLogFormat() === 'pretty' ? prettyDestination(2) : jsonDestination();
  return pino({ name, level, base: { pid: process.pid } }, dest);
}

/** A logger that drops everything, for library callers that did not pass one. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** pino's stderr destination, which drops what it cannot write instead of throwing into the caller. */
function jsonDestination(): ReturnType<typeof pino.destination> {
  const dest = pino.destination({ dest: 2, sync: true });
  // pino itself swallows only EPIPE; a closed terminal fails with EIO, which would throw from the
  // logging call (e.g. in the middle of a daemon's drain after SIGHUP).
  dest.on('error', () => {});
  return dest;
}
