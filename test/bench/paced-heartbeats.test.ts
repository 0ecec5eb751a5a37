/**
 * The bench's simulated fleet split across isolates (bench/agent-fleet.ts) must beat as the one
 * fleet it stands for: each agent owned by one share, registered once, then beating once per
 * interval; and the figures are over every share's beats.
 */
import { describe, expect, it } from 'vitest';
import { paceShare, summarize, type ShareBeats } from '../../bench/paced-heartbeats.js';

describe('paced heartbeats split into shares', () => {
  it('gives each agent to one share, which registers it once and then beats it once per interval', async () => {
    const agents = 40;
    const calls: Array<{ share: number; agent: number; registration: boolean }> = [];
    const startAt = performance.now();
    // measureMs 0: the registration interval and the warm-up interval only (10 s).
    const shares = await Promise.all(
      [0, 1, 2, 3].map((index) =>
        paceShare({ agents, measureMs: 0, share: { index, of: 4 }, startAt, send: (agent, registration) => (calls.push({ share: index, agent, registration }), Promise.resolve()) }),
      ),
    );
    expect(calls.every((c) => c.agent % 4 === c.share)).toBe(true);
    for (let agent = 0; agent < agents; agent++) {
      const mine = calls.filter((c) => c.agent === agent);
      expect(mine.map((c) => c.registration)).toEqual([true, false]);
    }
    expect(shares.every((s) => s.errors === 0 && s.latencies.length === 0)).toBe(true);
  }, 30_000);

  it('takes percentiles over every share and leaves out only the paused beats from the clear p99', () => {
    const share = (latencies: number[], paused: number[], pauses: number[]): ShareBeats => ({
      latencies: Float64Array.from(latencies),
      sendTimes: new Float64Array(latencies.length),
      paused: Uint8Array.from(paused),
      pauses: Float64Array.from(pauses),
      errors: 1,
      firstError: undefined,
    });
    const fast = Array.from({ length: 98 }, () => 1);
    const r = summarize([share(fast, fast.map(() => 0), []), share([40, 60], [0, 1], [10, 30])], { masterCpuSeconds: 1, clientCpuSeconds: 2, wallSeconds: 10 });
    expect(r.heartbeats).toBe(100);
    expect(r.errors).toBe(2);
    expect(r.p99Ms).toBe(60);
    expect(r.maxMs).toBe(60);
    expect(r.p99ClearMs).toBe(40);
    expect(r.clientPausedBeats).toBe(1);
    expect(r.clientGcMs).toBe(30);
    expect(r.cpuPercent).toBe(10);
    expect(r.clientCpuPercent).toBe(20);
  });
});
