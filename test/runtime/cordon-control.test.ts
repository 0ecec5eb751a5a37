/**
 * The master's cordon state on a real spec store: the operator's cordons are written to
 * `spec.json` beside the applied spec (read back by a fresh store, as after a restart), kept by a
 * new apply, combined with the spec's own, and a damaged cordon entry makes the file count as
 * damaged like any other bad field.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/common/logger.js';
import { AgentRegistry } from '../../runtime/master/agent-registry.js';
import { CordonControl, DEFAULT_DRAIN_DEADLINE_MS, drainDeadline, type CordonEvents } from '../../runtime/master/cordons.js';
import { compileSpecJson } from '../../runtime/master/reconcile/compile-spec.js';
import { DesiredStateManager, type SpecWork } from '../../runtime/master/reconcile/desired-state.js';
import { FileSpecStore, storedSpecProblem } from '../../runtime/master/spec-store.js';
import { cleanup, tempDir } from '../helpers/processes.js';

afterAll(cleanup);

const spec = (cordonA2: boolean): string =>
  JSON.stringify({
    name: 'g',
    agents: [
      { id: 'a1', capacity: { nodes: 2 } },
      { id: 'a2', capacity: { nodes: 2 }, ...(cordonA2 ? { cordoned: true } : {}) },
    ],
  });

/** Spec work without a plan: only what the store keeps matters here. */
const work: SpecWork = async (json) => ({ summary: { create: 0, destroy: 0, update: 0, replace: 0, unchanged: 0 }, encodedPlan: new Uint8Array(), compiled: compileSpecJson(json), canonical: json });

async function open(dir: string, events: CordonEvents = {}): Promise<{ desired: DesiredStateManager; cordons: CordonControl }> {
  const desired = new DesiredStateManager(new FileSpecStore(dir), compileSpecJson);
  await desired.init();
  return { desired, cordons: new CordonControl({ registry: new AgentRegistry(), desired, logger: silentLogger, events }) };
}

describe('CordonControl on a file spec store', () => {
  it('keeps the operator cordons across a reopen and a new apply, beside the spec cordons', async () => {
    const dir = tempDir();
    const seen: string[] = [];
    const events: CordonEvents = {
      agentCordoned: (e) => seen.push(`cordoned ${e.agentId} by ${e.by}: ${e.reason}`),
      agentUncordoned: (e) => seen.push(`uncordoned ${e.agentId} by ${e.by}${e.stillCordoned ? ' (still)' : ''}`),
    };
    const first = await open(dir, events);
    // No spec and no registered agent: nothing is known yet.
    await expect(first.cordons.cordon('a1', 'x')).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
    const applied = await first.desired.apply(spec(true), 0, false, work);
    first.cordons.specChanged(applied.previous, first.desired.inForce());
    expect(await first.cordons.cordon('a1', 'disk swap')).toMatchObject({ changed: true, cordon: { bySpec: false, byOperator: true, reason: 'disk swap' } });
    expect(await first.cordons.cordon('a1', 'disk swap')).toMatchObject({ changed: false });
    expect(await first.cordons.cordon('a2', '')).toMatchObject({ changed: true, cordon: { bySpec: true, byOperator: true } });
    expect(seen).toEqual(['cordoned a2 by spec: ', 'cordoned a1 by operator: disk swap', 'cordoned a2 by operator: ']);

    // A fresh store on the same dir (a restarted master) reads the same cordons.
    const second = await open(dir, events);
    expect(second.cordons.of('a1')).toMatchObject({ bySpec: false, byOperator: true, reason: 'disk swap' });
    expect(second.cordons.forPlan()).toEqual({ a1: 'disk swap', a2: '' });
    // A new spec without a2's cordon keeps the operator's cordons.
    const reapplied = await second.desired.apply(spec(false), 1, false, work);
    second.cordons.specChanged(reapplied.previous, second.desired.inForce());
    expect(second.cordons.of('a2')).toMatchObject({ bySpec: false, byOperator: true });
    expect(await second.cordons.uncordon('a2')).toEqual({ changed: true, cordon: undefined });
    expect(await second.cordons.uncordon('a2')).toEqual({ changed: false, cordon: undefined });
    expect(seen.slice(3)).toEqual(['uncordoned a2 by spec (still)', 'uncordoned a2 by operator']);
    const stored = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')) as { generation: number; cordons: Record<string, { reason: string }> };
    expect(stored.generation).toBe(2);
    expect(Object.keys(stored.cordons)).toEqual(['a1']);
  });

  it('refuses a reason over 256 characters or with a line break, naming the field', async () => {
    const { desired, cordons } = await open(tempDir());
    await desired.apply(spec(false), 0, false, work);
    await expect(cordons.cordon('a1', 'r'.repeat(257))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', context: { field: 'reason' } });
    await expect(cordons.cordon('a1', 'two\nlines')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', context: { field: 'reason' } });
    await expect(cordons.cordon('bad id!', '')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', context: { field: 'agent_id' } });
    expect(await cordons.cordon('a1', 'é'.repeat(256))).toMatchObject({ changed: true });
  });

  it('counts a stored file with a malformed cordon as damaged', () => {
    const base = { specJson: '', generation: 3, appliedAtMs: 0, leaders: {} };
    expect(storedSpecProblem(JSON.stringify({ ...base, cordons: { a1: { reason: 'r', sinceMs: 5 } } }))).toMatchObject({ cordons: { a1: { reason: 'r', sinceMs: 5 } } });
    expect(storedSpecProblem(JSON.stringify({ ...base, cordons: { a1: 'yes' } }))).toMatch(/^has bad cordons: must map agent ids to \{reason, sinceMs, drainDeadlineMs\?\}/);
    expect(storedSpecProblem(JSON.stringify({ ...base, cordons: { a1: { reason: 'r', sinceMs: 5, drainDeadlineMs: 'soon' } } }))).toMatch(/^has bad cordons/);
    expect(storedSpecProblem(JSON.stringify({ ...base, cordons: { a1: { reason: 'r', sinceMs: 5, drainDeadlineMs: 9 } } }))).toMatchObject({ cordons: { a1: { drainDeadlineMs: 9 } } });
    expect(storedSpecProblem(JSON.stringify({ ...base, cordons: [] }))).toMatch(/^has bad cordons/);
    const dir = tempDir();
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...base, cordons: { a1: { reason: 'r', sinceMs: -1 } } }));
    return expect(new FileSpecStore(dir).load()).rejects.toMatchObject({ code: 'STATE_DAMAGED' });
  });

  it('keeps a drain across a reopen; a new deadline is a change, a cordon keeps the drain, uncordon ends it; drained is told once', async () => {
    const dir = tempDir();
    const seen: string[] = [];
    const events: CordonEvents = {
      agentDrainStarted: (e) => seen.push(`drain ${e.agentId} until ${e.deadlineMs}: ${e.reason}`),
      agentDrained: (e) => seen.push(`drained ${e.agentId}${e.durationMs >= 0 ? '' : ' (negative duration)'}`),
    };
    const first = await open(dir, events);
    await first.desired.apply(spec(false), 0, false, work);
    const deadline = Date.now() + 60_000;
    expect(await first.cordons.drain('a1', deadline, 'swap')).toMatchObject({ changed: true, cordon: { byOperator: true, reason: 'swap', drainDeadlineMs: deadline } });
    expect(await first.cordons.drain('a1', deadline, 'swap')).toMatchObject({ changed: false });
    expect(await first.cordons.drain('a1', deadline + 1, 'swap')).toMatchObject({ changed: true, cordon: { drainDeadlineMs: deadline + 1 } });
    expect(first.cordons.draining()).toEqual({ a1: deadline + 1 });
    expect(first.cordons.forPlan()).toEqual({ a1: 'swap' });
    // A cordon of a draining agent changes its reason, not the drain.
    expect(await first.cordons.cordon('a1', 'swap, then reboot')).toMatchObject({ changed: true, cordon: { drainDeadlineMs: deadline + 1 } });

    // No node of a declared cluster is on a1 (no agent even registered): drained, told once.
    expect(first.cordons.of('a1')).toMatchObject({ drained: true });
    first.cordons.observeDrains();
    first.cordons.observeDrains();
    // A restarted master does not tell of a drain that had ended before.
    const second = await open(dir, events);
    expect(second.cordons.draining()).toEqual({ a1: deadline + 1 });
    expect(second.cordons.of('a1')).toMatchObject({ drained: true });
    second.cordons.observeDrains();
    expect(await second.cordons.uncordon('a1')).toEqual({ changed: true, cordon: undefined });
    expect(second.cordons.draining()).toEqual({});
    expect(seen).toEqual([`drain a1 until ${deadline}: swap`, `drain a1 until ${deadline + 1}: swap`, 'drained a1']);
  });

  it('drain deadlines: 0 is the default, negative or over 24 h is refused by name', () => {
    expect(drainDeadline(0, 1000)).toBe(1000 + DEFAULT_DRAIN_DEADLINE_MS);
    expect(drainDeadline(90_000, 1000)).toBe(91_000);
    expect(() => drainDeadline(-1, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', context: { field: 'deadline_ms' } }));
    expect(() => drainDeadline(24 * 3600_000 + 1, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', context: { field: 'deadline_ms' } }));
  });
});
