import { describe, expect, it } from 'vitest';
import { RestartPolicy } from '../../runtime/agent/restart-policy.js';

const OPTS = { enabled: true, maxRestarts: 3, windowMs: 10_000, backoffMs: 200, backoffMaxMs: 1000 };

describe('restart policy', () => {
  it('restarts a first crash at once, then backs off 200 -> 400 ms, then fails on the 4th crash in the window', () => {
    const p = new RestartPolicy(OPTS);
    expect(p.onCrash(0)).toEqual({ action: 'restart', delayMs: 0 });
    expect(p.onCrash(100)).toEqual({ action: 'restart', delayMs: 200 });
    expect(p.onCrash(200)).toEqual({ action: 'restart', delayMs: 400 });
    const last = p.onCrash(300);
    expect(last.action).toBe('fail');
    expect(last.action === 'fail' && last.reason).toContain('3 restarts');
  });

  it('forgets restarts older than the window', () => {
    const p = new RestartPolicy(OPTS);
    p.onCrash(0);
    p.onCrash(1);
    p.onCrash(2);
    expect(p.onCrash(10_003)).toEqual({ action: 'restart', delayMs: 0 });
  });

  it('caps the backoff', () => {
    const p = new RestartPolicy({ ...OPTS, maxRestarts: 10, backoffMaxMs: 500 });
    const delays = Array.from({ length: 6 }, (_, i) => p.onCrash(i)).map((d) => (d.action === 'restart' ? d.delayMs : -1));
    expect(delays).toEqual([0, 200, 400, 500, 500, 500]);
  });

  it('never restarts when restarts are disabled', () => {
    expect(new RestartPolicy({ ...OPTS, enabled: false }).onCrash(0).action).toBe('fail');
  });
});
