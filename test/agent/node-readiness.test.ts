/**
 * How the supervisor waits for a starting node that gives a readiness notification
 * (node-liveness.ts): no health check before the word, polling once it comes, one check a second
 * should it never come; and the check, not the word, decides.
 */
import { describe, expect, it } from 'vitest';
import { waitOwnServing } from '../../runtime/agent/node-liveness.js';
import { newNodeRecord } from '../../runtime/agent/node-record.js';
import type { HealthProbe } from '../../runtime/agent/health-probe.js';
import type { NodePlatform } from '../../runtime/agent/platform.js';
import type { SupervisorOptions } from '../../runtime/agent/node-types.js';

const OPTS = { startTimeoutMs: 10_000, startupProbeIntervalMs: 10 } as SupervisorOptions;
const PLATFORM = { listensOn: () => true } as unknown as NodePlatform;

/** A record whose probe answers `serving()`, counting the checks and polls made. */
function nodeWith(serving: () => boolean) {
  const r = newNodeRecord({ nodeId: 'n1', port: 1, memoryMb: 64, storagePath: '/x', cluster: '', role: '', generation: 0 }, { enabled: false, maxRestarts: 0, windowMs: 1, backoffMs: 1, backoffMaxMs: 1 });
  r.launchedAt = Date.now();
  const calls = { checks: 0, polls: 0 };
  r.probe = {
    check: async () => (calls.checks++, serving()),
    waitServing: async () => (calls.polls++, serving()),
  } as unknown as HealthProbe;
  return { r, calls };
}

describe('waiting for a node that says when it serves', () => {
  it('checks nothing before the word, then polls and takes the check as the answer', async () => {
    let say!: () => void;
    const ready = new Promise<void>((res) => (say = res));
    const { r, calls } = nodeWith(() => true);
    const waiting = waitOwnServing(r, PLATFORM, OPTS, new AbortController().signal, ready);
    await new Promise((res) => setTimeout(res, 200));
    expect(calls).toEqual({ checks: 0, polls: 0 });
    say();
    expect(await waiting).toBe(true);
    expect(calls).toEqual({ checks: 0, polls: 1 });
  });

  it('a word the health check does not confirm is not running: the start times out', async () => {
    const { r } = nodeWith(() => false);
    r.launchedAt = Date.now() - OPTS.startTimeoutMs + 300;
    expect(await waitOwnServing(r, PLATFORM, OPTS, new AbortController().signal, Promise.resolve())).toBe(false);
  });

  it('without the word, still finds a serving node by one check a second', async () => {
    const { r, calls } = nodeWith(() => true);
    const t0 = Date.now();
    expect(await waitOwnServing(r, PLATFORM, OPTS, new AbortController().signal, new Promise<void>(() => {}))).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(calls).toEqual({ checks: 1, polls: 0 });
  });

  it('rejects when the run ends while it waits for the word', async () => {
    const { r } = nodeWith(() => true);
    const ac = new AbortController();
    const waiting = waitOwnServing(r, PLATFORM, OPTS, ac.signal, new Promise<void>(() => {}));
    ac.abort(new Error('node exited'));
    await expect(waiting).rejects.toThrow('node exited');
  });
});
