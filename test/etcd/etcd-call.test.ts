/**
 * A call etcd3 refused untried because every member's circuit breaker was open is tried again once
 * the breakers let calls through (etcdCall); any other failure is the answer at once.
 */
import { BrokenCircuitError } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { ETCD_HALF_OPEN_MS, etcdCall } from '../../runtime/master/store/etcd-target.js';

describe('etcdCall', () => {
  it('tries again once, after the breakers half-open, a call refused by open breakers', async () => {
    let calls = 0;
    const t0 = Date.now();
    const out = await etcdCall(async () => {
      calls++;
      if (calls === 1) throw new BrokenCircuitError();
      return 'answered';
    });
    expect(out).toBe('answered');
    expect(calls).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(ETCD_HALF_OPEN_MS - 50);
  });

  it('gives up after the second refusal, and passes any other failure on at once', async () => {
    let calls = 0;
    await expect(etcdCall(() => (calls++, Promise.reject(new BrokenCircuitError())))).rejects.toMatchObject({ isBrokenCircuitError: true });
    expect(calls).toBe(2);
    calls = 0;
    await expect(etcdCall(() => (calls++, Promise.reject(new Error('deadline exceeded'))))).rejects.toThrow('deadline exceeded');
    expect(calls).toBe(1);
  });
});
