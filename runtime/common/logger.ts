import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays free for command output), level from `LOG_LEVEL`.
 * Every daemon creates one root logger and hands children (`logger.child({component})`) down.
 */
export function createLogger(name: string, level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything, for library callers that did not pass one. */
export const silentLogger: Logger = pino({ level: 'silent' });
