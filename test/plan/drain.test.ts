/**
 * Draining agents in the plan engine (`LiveState.draining`): the nodes of a draining agent move to
 * other agents as rollout steps of their cluster (with its restarts in place, replicas first), a
 * leader hands over to a running replica before it moves, and a node that fits nowhere stays,
 * reported unplaced naming the drain.
 */
import { describe, expect, it } from 'vitest';
import type { LiveState, Plan } from '../../plan/index.js';
import { planGrid, renderPlan } from '../../plan/index.js';
import { agentSpec, clusterSpec, gridSpec, liveAgentsOf, liveNode } from './fixtures.js';

const standalone = { topology: 'standalone' as const };
const agents = (n: number, over: Parameters<typeof agentSpec>[1] = {}) => Array.from({ length: n }, (_, i) => agentSpec(`agent-${i + 1}`, over));

/** `op node@agent<-from [step N] role`: what and in which step. */
function steps(plan: Plan): string[] {
  return plan.actions.map((a) => `${a.op} ${a.nodeId}@${a.agentId}${a.fromAgentId && a.fromAgentId !== a.agentId ? `<-${a.fromAgentId}` : ''}${a.step !== undefined ? ` [step ${a.step}]` : ''} ${a.role}`);
}

/** The operator drains `id`: cordoned and draining, as the master hands it to the plan. */
function draining(live: Omit<LiveState, 'cordons' | 'draining'>, id: string): LiveState {
  return { ...live, cordons: { [id]: '' }, draining: { [id]: 1_764_000_000_000 } };
}

describe('plan: draining agents', () => {
  it('moves every node off a draining agent, one step each, naming the drain', () => {
    const spec = gridSpec(agents(3), [clusterSpec('s', 3, standalone)]);
    const nodes = [liveNode('s-0', 'agent-1', { role: 'standalone' }), liveNode('s-1', 'agent-1', { role: 'standalone' }), liveNode('s-2', 'agent-2', { role: 'standalone' })];
    const plan = planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes }, 'agent-1'));
    expect(steps(plan)).toEqual(['replace s-0@agent-3<-agent-1 [step 1] standalone', 'replace s-1@agent-2<-agent-1 [step 2] standalone']);
    expect(plan.actions.map((a) => a.reason)).toEqual(['agent-1 is draining', 'agent-1 is draining']);
    expect(plan.unplaced).toEqual([]);
  });

  it('a plain cordon moves nothing: only a drain does', () => {
    const spec = gridSpec(agents(2), [clusterSpec('s', 1, standalone)]);
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [liveNode('s-0', 'agent-1', { role: 'standalone' })], cordons: { 'agent-1': '' } });
    expect(plan.actions).toEqual([]);
  });

  it('numbers the moves with the restarts in place of the same cluster, maxUnavailable per step', () => {
    const update = { maxUnavailable: 2, maxSurge: 1, minHealthyMs: 0, healthyDeadlineMs: 60_000, autoRevert: false };
    const spec = gridSpec(agents(3), [clusterSpec('s', 4, { ...standalone, memoryMb: 512, update })]);
    const nodes = ['agent-1', 'agent-2', 'agent-2', 'agent-3'].map((agent, i) => liveNode(`s-${i}`, agent, { role: 'standalone' }));
    const plan = planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes }, 'agent-1'));
    expect(steps(plan)).toEqual([
      'replace s-0@agent-3<-agent-1 [step 1] standalone',
      'replace s-1@agent-2 [step 1] standalone',
      'replace s-2@agent-2 [step 2] standalone',
      'replace s-3@agent-3 [step 2] standalone',
    ]);
  });

  it('a leader moves last, handing its leadership to a running replica off the agent first', () => {
    const spec = gridSpec(agents(4), [clusterSpec('kg', 3)]);
    const nodes = [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-1'), liveNode('kg-2', 'agent-2')];
    const plan = planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes }, 'agent-1'));
    expect(steps(plan)).toEqual(['replace kg-1@agent-4<-agent-1 [step 1] replica', 'replace kg-0@agent-3<-agent-1 [step 2] replica']);
    expect(plan.actions[1]).toMatchObject({ handoverTo: 'kg-2', reason: 'agent-1 is draining; hands leadership to kg-2 first' });
  });

  it('a leader with no replica off the agent stays until one runs elsewhere, then hands over and moves', () => {
    const spec = gridSpec(agents(3), [clusterSpec('kg', 2)]);
    const before = [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-1')];
    const first = planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes: before }, 'agent-1'));
    expect(steps(first)).toEqual(['replace kg-1@agent-2<-agent-1 [step 1] replica']);
    expect(first.summary).toMatchObject({ unchanged: 1, replace: 1 });
    expect(first.unplaced).toEqual([]);

    // The replica catching up on agent-2 counts as starting: the leader still waits.
    const catchingUp = [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-2', { status: 'starting' })];
    expect(steps(planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes: catchingUp }, 'agent-1')))).toEqual([]);

    const moved = [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-2')];
    const second = planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes: moved }, 'agent-1'));
    expect(steps(second)).toEqual(['replace kg-0@agent-3<-agent-1 [step 1] replica']);
    expect(second.actions[0]!.handoverTo).toBe('kg-1');
  });

  it('the leader of a one-node cluster moves as it is: there is nobody to hand over to', () => {
    const spec = gridSpec(agents(2), [clusterSpec('kg', 1)]);
    const plan = planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes: [liveNode('kg-0', 'agent-1')] }, 'agent-1'));
    expect(steps(plan)).toEqual(['replace kg-0@agent-2<-agent-1 [step 1] leader']);
  });

  it('a move starts its new copy first (maxSurge), a leader after handing over; never as a leader', () => {
    const spec = gridSpec(agents(4), [clusterSpec('kg', 3)]);
    const nodes = [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-1'), liveNode('kg-2', 'agent-2')];
    const plan = planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes }, 'agent-1'));
    expect(plan.actions.map((a) => [a.nodeId, a.surge])).toEqual([['kg-1', true], ['kg-0', true]]);
    expect(renderPlan(plan).split('\n')[0]).toBe('-/+ replace kg-1 on agent-4 (from agent-1) (replica, 256 MiB) [step 1] [new copy first]: agent-1 is draining');

    // maxSurge 0: the old copies stop first.
    const noSurge = gridSpec(agents(4), [clusterSpec('kg', 3, { update: { maxUnavailable: 1, maxSurge: 0, minHealthyMs: 0, healthyDeadlineMs: 60_000, autoRevert: false } })]);
    expect(planGrid(noSurge, draining({ agents: liveAgentsOf(noSurge), nodes }, 'agent-1')).actions.map((a) => a.surge)).toEqual([undefined, undefined]);

    // A one-node cluster's leader has nobody to hand over to: two copies would both lead.
    const single = gridSpec(agents(2), [clusterSpec('kg', 1)]);
    expect(planGrid(single, draining({ agents: liveAgentsOf(single), nodes: [liveNode('kg-0', 'agent-1')] }, 'agent-1')).actions[0]!.surge).toBeUndefined();

    // Nodes on a degraded agent are left alone, a drain's moves too: nothing surges off it.
    const degraded = liveAgentsOf(spec).map((a) => (a.id === 'agent-1' ? { ...a, health: 'degraded' as const } : a));
    expect(planGrid(spec, draining({ agents: degraded, nodes }, 'agent-1')).actions).toEqual([]);
  });

  it('a restart in place never surges: both copies would share the node\'s data directory', () => {
    const spec = gridSpec(agents(2), [clusterSpec('s', 2, { ...standalone, memoryMb: 512 })]);
    const nodes = [liveNode('s-0', 'agent-1', { role: 'standalone' }), liveNode('s-1', 'agent-2', { role: 'standalone' })];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes });
    expect(plan.actions.map((a) => [a.op, a.fromAgentId === a.agentId, a.surge])).toEqual([['replace', true, undefined], ['replace', true, undefined]]);
  });

  it('a node that fits nowhere stays on the draining agent, reported unplaced naming the drain', () => {
    const spec = gridSpec([agentSpec('agent-1'), agentSpec('agent-2', { capacity: { nodes: 1, memoryMb: 0 } })], [clusterSpec('s', 2, standalone)]);
    const nodes = [liveNode('s-0', 'agent-1', { role: 'standalone' }), liveNode('s-1', 'agent-2', { role: 'standalone' })];
    const plan = planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes }, 'agent-1'));
    expect(plan.actions).toEqual([]);
    expect(plan.unplaced).toEqual([
      { cluster: 's', nodeIds: ['s-0'], reason: 'cluster s: s-0 stays on agent-1 (agent-1 is draining): agent-1 is draining; capacity exhausted on agent-2 (1/1)' },
    ]);
  });

  it('places no new node on a draining agent', () => {
    const spec = gridSpec(agents(2), [clusterSpec('s', 2, standalone)]);
    const plan = planGrid(spec, draining({ agents: liveAgentsOf(spec), nodes: [] }, 'agent-1'));
    expect(steps(plan)).toEqual(['create s-0@agent-2 standalone', 'create s-1@agent-2 standalone']);
  });

  it('refuses a malformed drain deadline by name', () => {
    const spec = gridSpec(agents(1), []);
    expect(() => planGrid(spec, { agents: liveAgentsOf(spec), nodes: [], draining: { 'agent-1': -1 } })).toThrow(
      expect.objectContaining({ code: 'PLAN_INVALID_LIVE_STATE', field: 'live.draining.agent-1' }),
    );
  });
});
