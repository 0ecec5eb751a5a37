import { writeSync } from 'node:fs';

/** How daemons write their logs: pino's JSON lines, or one readable line per record. */
export type LogFormat = 'json' | 'pretty';

/**
 * The format from `LOG_FORMAT` (`json` or `pretty`); unset means pretty on a terminal and JSON
 * otherwise, so log collectors and tests that pipe the output keep getting JSON.
 * @throws Error naming LOG_FORMAT for any other value.
 */
export function resolveLogFormat(env: NodeJS.ProcessEnv = process.env, isTty: boolean = process.stderr.isTTY === true): LogFormat {
  const v = env['LOG_FORMAT'];
  if (v === undefined || v === '') return isTty ? 'pretty' : 'json';
  if (v === 'json' || v === 'pretty') return v;
  throw new Error(`LOG_FORMAT: expected "json" or "pretty", got ${JSON.stringify(v)}`);
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every record has, or that the line already shows. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);

function show(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/**
 * One pino JSON record as a readable line:
 * `2026-11-26T10:20:00.151Z INFO  master: agent a1 degraded: no heartbeat for 900 ms agentId=a1 silentForMs=900`.
 * Input that is not a JSON object is returned as it was.
 */
export function formatLogRecord(line: string): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (r === null || typeof r !== 'object') return line;
  const time = typeof r['time'] === 'number' ? new Date(r['time']).toISOString() : '';
  const level = (LEVELS[r['level'] as number] ?? String(r['level'])).padEnd(5);
  const name = typeof r['name'] === 'string' ? `${r['name'].replace(/^sutra-grid-/, '')}: ` : '';
  const extra = Object.entries(r)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => (k === 'err' && typeof v === 'object' && v !== null && 'message' in v ? `err=${show((v as { message: unknown }).message)}` : `${k}=${show(v)}`));
  return `${time} ${level} ${name}${String(r['msg'] ?? '')}${extra.length > 0 ? ` ${extra.join(' ')}` : ''}`;
}

/** A pino destination writing {@link formatLogRecord} lines to a file descriptor, synchronously. */
export function prettyDestination(fd = 2): { write(chunk: string): boolean } {
  return {
    write(chunk: string): boolean {
      const out = chunk
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => `${formatLogRecord(l)}\n`)
        .join('');
      try {
        writeSync(fd, out);
      } catch {
        // The reader is gone (EPIPE) or the terminal closed (EIO): logging must never throw into
        // the code that logs, e.g. a daemon stopping its nodes after SIGHUP.
      }
      return true;
    },
  };
}
