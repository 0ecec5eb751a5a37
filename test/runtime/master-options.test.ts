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

  it('refuses a non-loopback listen address with neither TLS nor a token; allows it with either', () => {
    expect(() => compileMasterOptions({ dataDir: '/d', listen: '0.0.0.0:7000', tls: 'off' })).toThrow(expect.objectContaining({ code: 'INSECURE_BIND' }));
    expect(compileMasterOptions({ dataDir: '/d', listen: '0.0.0.0:7000', token: 't', tls: 'off' }).listen).toBe('0.0.0.0:7000');
    expect(compileMasterOptions({ dataDir: '/d', listen: '0.0.0.0:7000' }).tls.enabled).toBe(true);
  });

  it('turns mutual TLS on by default beyond loopback only; 24h certificates unless told', () => {
    expect(compileMasterOptions({ dataDir: '/d', listen: '127.0.0.1:7000' }).tls).toMatchObject({ enabled: false, certTtlMs: 86_400_000 });
    expect(compileMasterOptions({ dataDir: '/d', listen: '10.0.0.1:7000' }).tls.enabled).toBe(true);
    expect(compileMasterOptions({ dataDir: '/d', listen: '127.0.0.1:7000', tls: 'on', certTtl: '1h' }).tls).toMatchObject({ enabled: true, certTtlMs: 3_600_000 });
    expect(() => compileMasterOptions({ dataDir: '/d', tls: 'maybe' as 'on' })).toThrow(expect.objectContaining({ context: { field: '--tls' } }));
    expect(() => compileMasterOptions({ dataDir: '/d', tlsCaCert: '/ca.pem' })).toThrow(expect.objectContaining({ context: { field: '--tls-ca-key' } }));
  });
});
