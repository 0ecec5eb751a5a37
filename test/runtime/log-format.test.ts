/**
 * Readable daemon logs: LOG_FORMAT resolution and the pino-record-to-line formatting, then a real
 * master started with LOG_FORMAT=pretty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatLogRecord, resolveLogFormat } from '../../runtime/common/log-format.js';
import { cleanup, startMaster } from '../helpers/processes.js';

afterEach(cleanup);

describe('LOG_FORMAT', () => {
  it('defaults to pretty on a terminal and JSON on a pipe; an explicit value wins; anything else names LOG_FORMAT', () => {
    expect(resolveLogFormat({}, true)).toBe('pretty');
    expect(resolveLogFormat({}, false)).toBe('json');
    expect(resolveLogFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(resolveLogFormat({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(() => resolveLogFormat({ LOG_FORMAT: 'yaml' }, false)).toThrow(/^LOG_FORMAT: expected "json" or "pretty", got "yaml"/);
  });
});

describe('formatLogRecord', () => {
  it('puts time, level, daemon and message first, then the record fields as key=value', () => {
    const line = formatLogRecord(
      JSON.stringify({ level: 40, time: Date.UTC(2026, 10, 26, 10, 20, 0, 151), pid: 7, name: 'sutra-grid-master', agentId: 'a1', silentForMs: 900, note: 'two words', msg: 'agent a1 degraded' }),
    );
    expect(line).toBe('2026-11-26T10:20:00.151Z WARN  master: agent a1 degraded agentId=a1 silentForMs=900 note="two words"');
  });

  it('shows an error by its message and leaves non-JSON input as it was', () => {
    expect(formatLogRecord(JSON.stringify({ level: 50, time: 0, msg: 'write failed', err: { message: 'ENOSPC', stack: 'x' } }))).toBe(
      '1970-01-01T00:00:00.000Z ERROR write failed err=ENOSPC',
    );
    expect(formatLogRecord('not json')).toBe('not json');
  });
});

describe('a master with LOG_FORMAT=pretty', () => {
  it('logs readable lines, and the listening line tools wait for is still there', async () => {
    const master = await startMaster({ env: { LOG_FORMAT: 'pretty' } });
    const logs = master.logs();
    expect(logs).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}master: master listening on 127\.0\.0\.1:\d+ address=127\.0\.0\.1:\d+ /m);
    expect(logs).not.toMatch(/"level":/);
  });
});
