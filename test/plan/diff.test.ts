import { describe, expect, it } from 'vitest';
import { planGrid, PlanError, renderAction, type LiveState } from '../../plan/index.js';
import { agentSpec, applyPlan, brief, clusterSpec, gridSpec, liveAgent, liveAgentsOf, liveNode } from './fixtures.js';

const twoAgents = [agentSpec('agent-1'), agentSpec('agent-2')];

describe('planGrid diff', () => {
  it('creates every node of a new cluster, leader at ordinal 0, on distinct agents', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 3)]);
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [] });
    expect(brief(plan)).toEqual(['create kg-0@agent-1', 'create kg-1@agent-2', 'create kg-2@agent-1']);
    expect(plan.actions.map((a) => a.role)).toEqual(['leader', 'replica', 'replica']);
    expect(plan.actions.every((a) => a.reason === 'missing' && a.memoryMb === 256)).toBe(true);
    expect(plan.summary).toEqual({ create: 3, destroy: 0, update: 0, replace: 0, unchanged: 0 });
    expect(plan.changed).toBe(true);
  });

  it('is a no-op once applied (apply twice changes nothing)', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 3), clusterSpec('solo', 2, { topology: 'standalone' })]);
    const empty: LiveState = { agents: liveAgentsOf(spec), nodes: [] };
    const converged = applyPlan(empty, planGrid(spec, empty));
    const again = planGrid(spec, converged);
    expect(again.actions).toEqual([]);
    expect(again.changed).toBe(false);
    expect(again.summary.unchanged).toBe(5);
  });

  it('scales up by adding the next ordinals only', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 4)]);
    const live = { agents: liveAgentsOf(spec), nodes: [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-2')] };
    const plan = planGrid(spec, live);
    expect(brief(plan)).toEqual(['create kg-2@agent-1', 'create kg-3@agent-2']);
    expect(plan.summary.unchanged).toBe(2);
  });

  it('scales down by destroying the highest ordinals', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 2)]);
    const nodes = ['kg-0', 'kg-1', 'kg-2', 'kg-3'].map((id, i) => liveNode(id, i % 2 ? 'agent-2' : 'agent-1'));
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes });
    expect(brief(plan)).toEqual(['destroy kg-2@agent-1', 'destroy kg-3@agent-2']);
    expect(plan.actions[0]!.reason).toBe('scale down to 2 nodes');
  });

  it('changes memory by replacing on the same agent, and says so', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 2, { memoryMb: 512 })]);
    const live = { agents: liveAgentsOf(spec), nodes: [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-2')] };
    const plan = planGrid(spec, live);
    // The replica restarts first (step 1), the leader last in a step of its own.
    expect(brief(plan)).toEqual(['replace kg-1@agent-2', 'replace kg-0@agent-1']);
    // ...after handing its leadership to the replica (it restarts as that one's replica)
    expect(plan.actions[1]).toMatchObject({ op: 'replace', fromAgentId: 'agent-1', memoryMb: 512, role: 'replica', step: 2, handoverTo: 'kg-1' });
    expect(plan.actions[0]).toMatchObject({ role: 'replica', step: 1 });
    expect(plan.actions[0]).not.toHaveProperty('handoverTo');
    expect(plan.actions[1]!.reason).toBe('memory 256 MiB -> 512 MiB: restart on agent-1; hands leadership to kg-1 first');
  });

  it('numbers a rolling restart in steps of maxUnavailable, replicas in node order, the leader alone last', () => {
    const update = { maxUnavailable: 2, maxSurge: 1, minHealthyMs: 0, healthyDeadlineMs: 60_000, autoRevert: false };
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 6, { memoryMb: 512, update }), clusterSpec('st', 2, { memoryMb: 512, topology: 'standalone' })]);
    const nodes = [0, 1, 2, 3, 4, 5].map((i) => liveNode(`kg-${i}`, i % 2 === 0 ? 'agent-1' : 'agent-2', { role: i === 2 ? 'leader' : 'replica' }));
    nodes.push(liveNode('st-0', 'agent-1', { role: 'standalone' }), liveNode('st-1', 'agent-2', { role: 'standalone' }));
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes });
    const steps = plan.actions.map((a) => `${a.nodeId}:${a.step ?? '-'}`);
    expect(steps).toEqual(['kg-0:1', 'kg-1:1', 'kg-3:2', 'kg-4:2', 'kg-5:3', 'kg-2:4', 'st-0:1', 'st-1:2']);
    expect(renderAction(plan.actions[5]!)).toContain('(leader -> replica, 512 MiB) [step 4]: memory 256 MiB -> 512 MiB: restart on agent-1; hands leadership to kg-0 first');
  });

  it('restarts a leader with no running replica in place, as leader (nobody to hand over to)', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 2, { memoryMb: 512 })]);
    const live = { agents: liveAgentsOf(spec), nodes: [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-2', { role: 'replica', status: 'failed' })] };
    const leader = planGrid(spec, live).actions.find((a) => a.nodeId === 'kg-0');
    expect(leader).toMatchObject({ op: 'replace', role: 'leader' });
    expect(leader).not.toHaveProperty('handoverTo');
  });

  it('moves a node whose memory no longer fits its agent', () => {
    const agents = [agentSpec('agent-1', { capacity: { nodes: 4, memoryMb: 600 } }), agentSpec('agent-2', { capacity: { nodes: 4, memoryMb: 2048 } })];
    const spec = gridSpec(agents, [clusterSpec('kg', 1, { memoryMb: 1024, topology: 'standalone' })]);
    const live = { agents: liveAgentsOf(spec), nodes: [liveNode('kg-0', 'agent-1', { role: 'standalone' })] };
    const plan = planGrid(spec, live);
    expect(brief(plan)).toEqual(['replace kg-0@agent-2<-agent-1']);
    expect(plan.actions[0]!.reason).toBe('memory 256 MiB -> 1 GiB: does not fit on agent-1');
  });

  it('destroys every node of a cluster no longer declared, but never a hand-spawned node', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 1)]);
    const nodes = [
      liveNode('kg-0', 'agent-1'),
      liveNode('old-0', 'agent-1'),
      liveNode('old-1', 'agent-2'),
      liveNode('manual-7', 'agent-2', { cluster: '', role: '' }),
    ];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes });
    expect(brief(plan)).toEqual(['destroy old-0@agent-1', 'destroy old-1@agent-2']);
    expect(plan.actions[0]!.reason).toBe('cluster old is no longer declared');
  });

  it('has nothing to destroy for a stopped node the spec no longer wants: its process is gone', () => {
    // The master lists a node it stopped until its agent's next heartbeat; a plan made meanwhile
    // (right after an apply) must be as empty as the apply's wait judged the grid.
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 1)]);
    const nodes = [
      liveNode('kg-0', 'agent-1'),
      liveNode('kg-1', 'agent-2', { status: 'stopped' }),
      liveNode('old-0', 'agent-1', { status: 'stopped' }),
      liveNode('old-1', 'agent-2', { status: 'stopping' }),
    ];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes });
    expect(brief(plan)).toEqual(['destroy old-1@agent-2']);
  });

  it('counts hand-spawned nodes against capacity', () => {
    const spec = gridSpec([agentSpec('agent-1', { capacity: { nodes: 2, memoryMb: 0 } })], [clusterSpec('kg', 2)]);
    const nodes = [liveNode('manual-1', 'agent-1', { cluster: '', role: '' })];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes });
    expect(brief(plan)).toEqual(['create kg-0@agent-1']);
    expect(plan.unplaced[0]!.reason).toBe('cluster kg: 1 of 2 nodes unplaced: capacity exhausted on agent-1 (2/2)');
  });

  it('treats stopped nodes of a declared cluster as missing', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 2)]);
    const nodes = [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-2', { status: 'stopped' })];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes });
    expect(brief(plan)).toEqual(['replace kg-1@agent-2']);
    expect(plan.actions[0]!.reason).toBe('stopped on agent-2');
  });

  it('changes roles in place when the topology changes', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 2, { topology: 'standalone' })]);
    const live = { agents: liveAgentsOf(spec), nodes: [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-2')] };
    const plan = planGrid(spec, live);
    expect(plan.actions.map((a) => `${a.op} ${a.nodeId} ${a.role}: ${a.reason}`)).toEqual([
      'update kg-0 standalone: role leader -> standalone',
      'update kg-1 standalone: role replica -> standalone',
    ]);
  });

  it('is deterministic: same input, same plan, whatever the order of live entries', () => {
    const spec = gridSpec(
      ['a', 'b', 'c', 'd'].map((id) => agentSpec(`agent-${id}`)),
      [clusterSpec('kg', 5), clusterSpec('bp', 3, { placement: { strategy: 'binpack', agents: [], selector: {} } })],
    );
    const nodes = [liveNode('kg-0', 'agent-c'), liveNode('kg-3', 'agent-a', { status: 'failed', restarts: 3 }), liveNode('bp-2', 'agent-d')];
    const agents = liveAgentsOf(spec);
    const a = planGrid(spec, { agents, nodes });
    const b = planGrid(spec, { agents: [...agents].reverse(), nodes: [...nodes].reverse() });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(planGrid(spec, { agents, nodes }))).toBe(JSON.stringify(a));
  });

  it('refuses malformed input with a code naming the field', () => {
    const spec = gridSpec(twoAgents, [clusterSpec('kg', 1), clusterSpec('kg', 2)]);
    expect(() => planGrid(spec, { agents: [], nodes: [] })).toThrow(expect.objectContaining({ code: 'PLAN_INVALID_SPEC', field: 'spec.clusters[1].name' }));
    const ok = gridSpec(twoAgents, []);
    const badNode = { ...liveNode('kg-0', 'agent-1'), status: 'exploded' } as never;
    expect(() => planGrid(ok, { agents: [], nodes: [badNode] })).toThrow(expect.objectContaining({ code: 'PLAN_INVALID_LIVE_STATE', field: 'live.nodes[0].status' }));
    const dupAgents = [liveAgent('agent-1'), liveAgent('agent-1')];
    expect(() => planGrid(ok, { agents: dupAgents, nodes: [] })).toThrow(PlanError);
    expect(() => planGrid(ok, { agents: [], nodes: [] }, { replaceAfterMs: -1 })).toThrow(expect.objectContaining({ code: 'PLAN_INVALID_OPTIONS' }));
  });
});
