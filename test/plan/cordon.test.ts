/**
 * The cordon filter of the plan engine: a cordoned agent (by the spec's `agents[].cordoned` or the
 * operator's `LiveState.cordons`) takes no new node, for creates and for replacements, keeps the
 * nodes it has, and an unplaced node's reason names the cordon.
 */
import { describe, expect, it } from 'vitest';
import { PlanError, planGrid } from '../../plan/index.js';
import { agentSpec, applyPlan, brief, clusterSpec, gridSpec, liveAgentsOf, liveNode } from './fixtures.js';

const standalone = { topology: 'standalone' as const };

describe('plan: cordoned agents', () => {
  it('places new nodes only on agents not cordoned by the operator', () => {
    const spec = gridSpec(['agent-1', 'agent-2', 'agent-3'].map((id) => agentSpec(id)), [clusterSpec('s', 3, standalone)]);
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [], cordons: { 'agent-1': 'kernel upgrade' } });
    expect(brief(plan)).toEqual(['create s-0@agent-2', 'create s-1@agent-3', 'create s-2@agent-2']);
    expect(plan.unplaced).toEqual([]);
  });

  it('treats a cordon declared in the spec the same way', () => {
    const agents = [agentSpec('agent-1', { cordoned: true }), agentSpec('agent-2')];
    const spec = gridSpec(agents, [clusterSpec('s', 2, standalone)]);
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [] });
    expect(brief(plan)).toEqual(['create s-0@agent-2', 'create s-1@agent-2']);
  });

  it('keeps the nodes a cordoned agent runs, and scales up elsewhere', () => {
    const spec = gridSpec(['agent-1', 'agent-2'].map((id) => agentSpec(id)), [clusterSpec('kg', 3)]);
    const nodes = [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-1')];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes, cordons: { 'agent-1': '' } });
    expect(brief(plan)).toEqual(['create kg-2@agent-2']);
    expect(plan.summary).toMatchObject({ unchanged: 2, destroy: 0, replace: 0 });
  });

  it('reports nodes unplaced naming the cordon when no other agent has room', () => {
    const agents = [agentSpec('agent-1'), agentSpec('agent-2', { capacity: { nodes: 1, memoryMb: 0 } })];
    const spec = gridSpec(agents, [clusterSpec('kg', 3)]);
    const nodes = [liveNode('kg-0', 'agent-1')];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes, cordons: { 'agent-1': 'disk swap' } });
    expect(brief(plan)).toEqual(['create kg-1@agent-2']);
    expect(plan.unplaced).toEqual([
      { cluster: 'kg', nodeIds: ['kg-2'], reason: 'cluster kg: 1 of 3 nodes unplaced: agent-1 is cordoned; capacity exhausted on agent-2 (1/1)' },
    ]);
  });

  it('names every cordoned agent, whoever cordoned it', () => {
    const agents = [agentSpec('agent-1', { cordoned: true }), agentSpec('agent-2')];
    const spec = gridSpec(agents, [clusterSpec('s', 1, standalone)]);
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [], cordons: { 'agent-2': '' } });
    expect(plan.actions).toEqual([]);
    expect(plan.unplaced[0]!.reason).toBe('cluster s: 1 of 1 nodes unplaced: agent-1, agent-2 are cordoned');
  });

  it('names the cordon before health: an offline cordoned agent reads as cordoned', () => {
    const spec = gridSpec([agentSpec('agent-1')], [clusterSpec('s', 1, standalone)]);
    const live = liveAgentsOf(spec).map((a) => ({ ...a, health: 'offline' as const, offlineForMs: 1000 }));
    const plan = planGrid(spec, { agents: live, nodes: [], cordons: { 'agent-1': '' } });
    expect(plan.unplaced[0]!.reason).toBe('cluster s: 1 of 1 nodes unplaced: agent-1 is cordoned');
  });

  it('cordons an agent that has not registered', () => {
    const spec = gridSpec(['agent-1', 'agent-2'].map((id) => agentSpec(id)), [clusterSpec('s', 1, standalone)]);
    const plan = planGrid(spec, { agents: [], nodes: [], cordons: { 'agent-1': '' } });
    expect(plan.unplaced[0]!.reason).toBe('cluster s: 1 of 1 nodes unplaced: agent-1 is cordoned; agent-2 has not registered');
  });

  it('replaces a failed node elsewhere, never on the cordoned agent it failed on', () => {
    const spec = gridSpec(['agent-1', 'agent-2'].map((id) => agentSpec(id)), [clusterSpec('s', 1, standalone)]);
    const failed = liveNode('s-0', 'agent-1', { role: 'standalone', status: 'failed' });
    const moved = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [failed], cordons: { 'agent-1': '' } });
    expect(brief(moved)).toEqual(['replace s-0@agent-2<-agent-1']);
    // With no agent free of a cordon, the failed node is not restarted where it failed (as it is once uncordoned).
    const alone = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [failed], cordons: { 'agent-1': '', 'agent-2': '' } });
    expect(alone.actions).toEqual([]);
    expect(alone.unplaced[0]!.reason).toBe('cluster s: 1 of 1 nodes unplaced: agent-1, agent-2 are cordoned');
    const uncordoned = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [failed], cordons: { 'agent-2': '' } });
    expect(brief(uncordoned)).toEqual(['replace s-0@agent-1']);
  });

  it('restarts a node in place on a cordoned agent for a memory change: nothing new is placed there', () => {
    const spec = gridSpec(['agent-1', 'agent-2'].map((id) => agentSpec(id)), [clusterSpec('s', 1, { ...standalone, memoryMb: 512 })]);
    const node = liveNode('s-0', 'agent-1', { role: 'standalone', memoryMb: 256 });
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes: [node], cordons: { 'agent-1': '' } });
    expect(brief(plan)).toEqual(['replace s-0@agent-1']);
  });

  it('converges: after the cordon is lifted, the unplaced node is placed on the agent', () => {
    const spec = gridSpec([agentSpec('agent-1')], [clusterSpec('kg', 2)]);
    const live = { agents: liveAgentsOf(spec), nodes: [liveNode('kg-0', 'agent-1')] };
    const cordoned = planGrid(spec, { ...live, cordons: { 'agent-1': '' } });
    expect(cordoned.actions).toEqual([]);
    expect(cordoned.unplaced[0]!.nodeIds).toEqual(['kg-1']);
    const lifted = planGrid(spec, live);
    expect(brief(lifted)).toEqual(['create kg-1@agent-1']);
    expect(planGrid(spec, applyPlan(live, lifted)).changed).toBe(false);
  });

  it('refuses a cordon map with an empty agent id or a reason that is not a string', () => {
    const spec = gridSpec([agentSpec('agent-1')], []);
    const bad = (cordons: Record<string, string>): unknown => {
      try {
        planGrid(spec, { agents: [], nodes: [], cordons });
      } catch (err) {
        return err;
      }
      return undefined;
    };
    expect(bad({ '': '' })).toMatchObject({ code: 'PLAN_INVALID_LIVE_STATE' });
    expect(bad({ 'agent-1': 7 as unknown as string })).toBeInstanceOf(PlanError);
  });
});
