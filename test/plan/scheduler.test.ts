import { describe, expect, it } from 'vitest';
import { planGrid } from '../../plan/index.js';
import { agentSpec, brief, clusterSpec, gridSpec, liveAgent, liveAgentsOf, liveNode } from './fixtures.js';

const three = ['agent-1', 'agent-2', 'agent-3'].map((id) => agentSpec(id));

describe('scheduler placement', () => {
  it('spread: fewest nodes of the cluster, then fewest nodes overall, ties by agent id', () => {
    const spec = gridSpec(three, [clusterSpec('s', 4, { topology: 'standalone' })]);
    // agent-1 already runs two hand-spawned nodes, so the spread favours agent-2 and agent-3.
    const manual = [liveNode('m-0', 'agent-1', { cluster: '', role: '' }), liveNode('m-1', 'agent-1', { cluster: '', role: '' })];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: manual });
    expect(brief(plan)).toEqual(['create s-0@agent-2', 'create s-1@agent-3', 'create s-2@agent-1', 'create s-3@agent-2']);
  });

  it('binpack: fills the most used agent first', () => {
    const binpack = { strategy: 'binpack' as const, agents: [], selector: {} };
    const spec = gridSpec(three, [clusterSpec('b', 3, { topology: 'standalone', placement: binpack })]);
    const manual = [liveNode('m-0', 'agent-2', { cluster: '', role: '' })];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: manual });
    // agent-2 holds 1 of 4 and takes 3 more; then it is full.
    expect(brief(plan)).toEqual(['create b-0@agent-2', 'create b-1@agent-2', 'create b-2@agent-2']);
  });

  it('binpack with leader-replicas still puts leader and replicas on distinct agents first', () => {
    const binpack = { strategy: 'binpack' as const, agents: [], selector: {} };
    const spec = gridSpec(three, [clusterSpec('kg', 4, { placement: binpack })]);
    const manual = [liveNode('m-0', 'agent-3', { cluster: '', role: '' })];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: manual });
    expect(brief(plan)).toEqual(['create kg-0@agent-3', 'create kg-1@agent-1', 'create kg-2@agent-2', 'create kg-3@agent-3']);
  });

  it('pins: only the pinned agents are used', () => {
    const pinned = { strategy: 'spread' as const, agents: ['agent-3'], selector: {} };
    const spec = gridSpec(three, [clusterSpec('p', 2, { placement: pinned })]);
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [] });
    expect(brief(plan)).toEqual(['create p-0@agent-3', 'create p-1@agent-3']);
  });

  it('selector: only agents with every label; none matching is explained', () => {
    const agents = [agentSpec('agent-1', { labels: { zone: 'a' } }), agentSpec('agent-2', { labels: { zone: 'b', disk: 'ssd' } })];
    const spec = gridSpec(agents, [
      clusterSpec('fast', 2, { placement: { strategy: 'spread', agents: [], selector: { zone: 'b', disk: 'ssd' } } }),
      clusterSpec('far', 1, { placement: { strategy: 'spread', agents: [], selector: { zone: 'c' } } }),
    ]);
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [] });
    expect(brief(plan)).toEqual(['create fast-0@agent-2', 'create fast-1@agent-2']);
    expect(plan.unplaced).toEqual([{ cluster: 'far', nodeIds: ['far-0'], reason: 'cluster far: 1 of 1 nodes unplaced: no agent matches selector zone=c' }]);
  });

  it('explains capacity exhaustion precisely', () => {
    const agents = ['agent-1', 'agent-2'].map((id) => agentSpec(id, { capacity: { nodes: 4, memoryMb: 0 } }));
    const spec = gridSpec(agents, [clusterSpec('fill', 6, { topology: 'standalone' }), clusterSpec('kg', 5)]);
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [] });
    expect(plan.summary.create).toBe(8);
    expect(plan.unplaced.map((u) => u.reason)).toEqual([
      'cluster kg: 3 of 5 nodes unplaced: capacity exhausted on agent-1 (4/4), agent-2 (4/4)',
    ]);
    expect(plan.unplaced[0]!.nodeIds).toEqual(['kg-2', 'kg-3', 'kg-4']);
  });

  it('explains offline, degraded, unregistered, platform, memory and port obstacles', () => {
    const agents = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((id) => agentSpec(id, { capacity: { nodes: 4, memoryMb: id === 'a5' ? 300 : 0 } }));
    const spec = gridSpec(agents, [clusterSpec('kg', 1, { memoryMb: 512 })]);
    const live = [
      liveAgent('a1', { health: 'offline', offlineForMs: 5000 }),
      liveAgent('a2', { health: 'degraded' }),
      liveAgent('a4', { platform: 'docker' }),
      liveAgent('a5'),
      liveAgent('a6', { portRange: { start: 9000, end: 9000 } }),
    ];
    const nodes = [liveNode('m-0', 'a6', { cluster: '', role: '' })];
    const plan = planGrid(spec, { agents: live, nodes });
    expect(plan.unplaced[0]!.reason).toBe(
      'cluster kg: 1 of 1 nodes unplaced: a1 is offline; a2 is degraded; a3 has not registered; ' +
        'a4 runs docker, spec declares process; not enough memory for 512 MiB on a5 (0/300 MiB used); ports exhausted on a6 (1/1)',
    );
  });

  it('does not place on live agents missing from the spec', () => {
    const spec = gridSpec([agentSpec('agent-1', { capacity: { nodes: 1, memoryMb: 0 } })], [clusterSpec('kg', 2)]);
    const plan = planGrid(spec, { agents: [liveAgent('agent-1'), liveAgent('stray')], nodes: [] });
    expect(brief(plan)).toEqual(['create kg-0@agent-1']);
    expect(plan.unplaced[0]!.reason).toBe('cluster kg: 1 of 2 nodes unplaced: capacity exhausted on agent-1 (1/1)');
  });

  it('moves a node off an agent that is no longer pinned', () => {
    const pinned = { strategy: 'spread' as const, agents: ['agent-2'], selector: {} };
    const spec = gridSpec(three, [clusterSpec('kg', 1, { placement: pinned })]);
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [liveNode('kg-0', 'agent-1')] });
    expect(brief(plan)).toEqual(['replace kg-0@agent-2<-agent-1']);
    expect(plan.actions[0]!.reason).toBe('agent-1 is not among the pinned agents agent-2');
  });

  it('takes the tighter of the declared and the reported capacity', () => {
    const spec = gridSpec([agentSpec('agent-1', { capacity: { nodes: 4, memoryMb: 0 } })], [clusterSpec('kg', 3)]);
    const plan = planGrid(spec, { agents: [liveAgent('agent-1', { capacity: { nodes: 2, memoryMb: 0 } })], nodes: [] });
    expect(plan.summary.create).toBe(2);
    expect(plan.unplaced[0]!.reason).toContain('capacity exhausted on agent-1 (2/2)');
  });
});
