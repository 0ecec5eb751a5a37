/** The agent's monotonic clock (leases, heartbeats) counts milliseconds as performance.now() does. */
import { describe, expect, it } from 'vitest';
import { monotonicMs } from '../../runtime/agent/monotonic-clock.js';

describe('monotonicMs', () => {
  it('never goes back and counts elapsed milliseconds', async () => {
    const t0 = monotonicMs();
    const p0 = performance.now();
    await new Promise((r) => setTimeout(r, 50));
    const t1 = monotonicMs();
    const p1 = performance.now();
    expect(t1).toBeGreaterThan(t0);
    // The same interval as performance.now() measures around it, to within a millisecond.
    expect(Math.abs(t1 - t0 - (p1 - p0))).toBeLessThan(1);
  });
});
