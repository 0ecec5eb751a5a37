import { pino, type Logger } from 'pino';
import { prettyDestination, resolveLogFormat } from './log-format.js';

export type { Logger };

/**
 * Logs on stderr (stdout stays free for command output), level from `LOG_LEVEL`: JSON lines, or
 * readable lines with `LOG_FORMAT=pretty` (the default on a terminal; see log-format.ts).
 * Every daemon creates one root logger and hands children (`logger.child({component})`) down.
 */
export function createLogger(name: string, level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  const dest = resolveLogFormat() === 'pretty' ? prettyDestination(2) : pino.destination({ dest: 2, sync: true });
  return pino({ name, level, base: { pid: process.pid } }, dest);
}

/** A logger that drops everything, for library callers that did not pass one. */
export const silentLogger: Logger = pino({ level: 'silent' });
