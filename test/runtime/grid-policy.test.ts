import { describe, expect, it } from 'vitest';
import { describeEffectivePolicy, resolvePolicy, type EffectivePolicy } from '../../runtime/agent/grid-policy.js';
import { RestartPolicy } from '../../runtime/agent/restart-policy.js';

const OWN: EffectivePolicy = { heartbeatIntervalMs: 5000, restart: { enabled: true, maxRestarts: 3, windowMs: 60_000, backoffMs: 200, backoffMaxMs: 5000 } };

describe("the grid's policy on an agent", () => {
  it('takes the values the grid sets over its own config, and keeps its own for the rest', () => {
    expect(resolvePolicy({ generation: 0 }, OWN)).toEqual(OWN);
    const p = resolvePolicy({ generation: 4, heartbeatIntervalMs: 1000, maxRestarts: 0, restartBackoffMs: 8000 }, OWN);
    expect(p).toEqual({ heartbeatIntervalMs: 1000, restart: { enabled: true, maxRestarts: 0, windowMs: 60_000, backoffMs: 8000, backoffMaxMs: 8000 } });
    expect(describeEffectivePolicy(p)).toBe('heartbeat 1s, restarts 0 in 1m, backoff 8s');
    // The spec has no switch for restarts: an agent configured without them stays without.
    expect(resolvePolicy({ generation: 4, maxRestarts: 5 }, { ...OWN, restart: { ...OWN.restart, enabled: false } }).restart.enabled).toBe(false);
  });

  it('a node keeps its restart count under a new policy: no fresh allowance from a change', () => {
    const p = new RestartPolicy(OWN.restart);
    expect(p.onCrash(0).action).toBe('restart');
    expect(p.onCrash(100).action).toBe('restart');
    p.update({ ...OWN.restart, maxRestarts: 2 });
    expect(p.onCrash(200)).toMatchObject({ action: 'fail', reason: expect.stringContaining('2 restarts') });
    p.update({ ...OWN.restart, maxRestarts: 5, backoffMs: 10, backoffMaxMs: 1000 });
    expect(p.onCrash(300)).toEqual({ action: 'restart', delayMs: 20 });
  });
});
