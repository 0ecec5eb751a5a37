import { describe, expect, it } from 'vitest';
import { compileMasterOptions } from '../../runtime/master/index.js';

describe('compileMasterOptions', () => {
  it('compiles readable durations to milliseconds with documented defaults', () => {
    expect(compileMasterOptions({ dataDir: '/tmp/x', degradedAfter: '500ms', offlineAfter: '1s', heartbeatInterval: 100 })).toMatchObject({
      listen: '127.0.0.1:7000',
      heartbeatIntervalMs: 100,
      degradedAfterMs: 500,
      offlineAfterMs: 1000,
      healthCheckIntervalMs: 1000,
    });
  });

  it.each([
    [{ degradedAfter: 'soon' }, '--degraded-after'],
    [{ heartbeatInterval: 0 }, '--heartbeat-interval'],
    [{ degradedAfter: '30s', offlineAfter: '15s' }, '--offline-after'],
    [{ heartbeatInterval: '20s' }, '--degraded-after'],
    [{ listen: 'nowhere' }, '--listen'],
    [{ dataDir: '' }, '--data-dir'],
    [{ eventBuffer: 0 }, '--event-buffer'],
    [{ eventSeriesFlush: 'often' }, '--event-series-flush'],
  ])('refuses %j naming %s', (bad, flag) => {
    expect(() => compileMasterOptions({ dataDir: '/tmp/x', ...bad })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', context: { field: flag } }));
  });

  it('event bus options: buffer and series flush compile with their defaults', () => {
    expect(compileMasterOptions({ dataDir: '/d' })).toMatchObject({ eventBuffer: 100_000, eventSeriesFlushMs: 60_000 });
    expect(compileMasterOptions({ dataDir: '/d', eventBuffer: 50, eventSeriesFlush: '400ms' })).toMatchObject({ eventBuffer: 50, eventSeriesFlushMs: 400 });
  });

  it('refuses a tokenless non-loopback listen address but allows it with a token', () => {
    expect(() => compileMasterOptions({ dataDir: '/d', listen: '0.0.0.0:7000' })).toThrow(expect.objectContaining({ code: 'INSECURE_BIND' }));
    expect(compileMasterOptions({ dataDir: '/d', listen: '0.0.0.0:7000', token: 't' }).listen).toBe('0.0.0.0:7000');
  });
});
