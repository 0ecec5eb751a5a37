import { describe, expect, it } from 'vitest';
import { planGrid, type LiveState } from '../../plan/index.js';
import { agentSpec, applyPlan, brief, clusterSpec, gridSpec, liveAgent, liveAgentsOf, liveNode } from './fixtures.js';

const agents = ['agent-1', 'agent-2', 'agent-3'].map((id) => agentSpec(id));
const spec = gridSpec(agents, [clusterSpec('kg', 3)]);
const healthy = (): LiveState => ({
  agents: liveAgentsOf(spec),
  nodes: [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-2'), liveNode('kg-2', 'agent-3')],
});
const withAgent1 = (over: Parameters<typeof liveAgent>[1]): LiveState => ({
  ...healthy(),
  agents: healthy().agents.map((a) => (a.id === 'agent-1' ? liveAgent('agent-1', over) : a)),
});

describe('planGrid self-healing', () => {
  it('promotes a running replica when the leader failed; the replacement becomes a replica', () => {
    const live = healthy();
    const nodes = live.nodes.map((n) => (n.nodeId === 'kg-0' ? { ...n, status: 'failed' as const, restarts: 3 } : n));
    const plan = planGrid(spec, { ...live, nodes });
    expect(plan.actions.map((a) => `${a.op} ${a.nodeId}@${a.agentId} ${a.role}: ${a.reason}`)).toEqual([
      'update kg-1@agent-2 leader: leader lost: promote',
      // agent-1 is avoided (its copy just failed) while another agent has room.
      'replace kg-0@agent-2 replica: failed after 3 restarts on agent-1',
    ]);
    expect(plan.actions[1]!.fromAgentId).toBe('agent-1');
  });

  it('leaves nodes on a degraded agent or an agent offline within the grace alone', () => {
    const plan = planGrid(spec, withAgent1({ health: 'degraded' }));
    expect(plan.actions).toEqual([]);
    expect(plan.summary.unchanged).toBe(3);
    // A replica on an offline agent is not replaced within the grace either.
    const replicaAway = { ...healthy(), agents: healthy().agents.map((a) => (a.id === 'agent-3' ? liveAgent('agent-3', { health: 'offline', offlineForMs: 30_000 }) : a)) };
    expect(planGrid(spec, replicaAway).actions).toEqual([]);
  });

  it('promotes a replica at once when the leader\'s agent goes offline, and replaces the node only after the grace', () => {
    const plan = planGrid(spec, withAgent1({ health: 'offline', offlineForMs: 30_000 }));
    expect(plan.actions.map((a) => `${a.op} ${a.nodeId}@${a.agentId} ${a.role}: ${a.reason}`)).toEqual(['update kg-1@agent-2 leader: leader lost: promote']);
  });

  it('promotes the running replica holding the most of the log: last log term first, then position, then the lowest ordinal', () => {
    const lost = (replication: Record<string, { term: number; lastLogTerm: number; logPosition: number }>): string[] => {
      const live = withAgent1({ health: 'offline', offlineForMs: 30_000 });
      const nodes = live.nodes.map((n) => (replication[n.nodeId] !== undefined ? { ...n, replication: replication[n.nodeId] } : n));
      return planGrid(spec, { ...live, nodes }).actions.filter((a) => a.role === 'leader').map((a) => a.nodeId);
    };
    expect(lost({ 'kg-1': { term: 2, lastLogTerm: 2, logPosition: 90 }, 'kg-2': { term: 2, lastLogTerm: 2, logPosition: 100 } })).toEqual(['kg-2']);
    expect(lost({ 'kg-1': { term: 3, lastLogTerm: 3, logPosition: 5 }, 'kg-2': { term: 3, lastLogTerm: 2, logPosition: 100 } })).toEqual(['kg-1']);
    expect(lost({ 'kg-1': { term: 2, lastLogTerm: 2, logPosition: 7 }, 'kg-2': { term: 2, lastLogTerm: 2, logPosition: 7 } })).toEqual(['kg-1']);
  });

  it('replaces the nodes of an agent offline past the grace elsewhere, promoting a replica', () => {
    const live = withAgent1({ health: 'offline', offlineForMs: 61_000 });
    const plan = planGrid(spec, live);
    expect(brief(plan)).toEqual(['update kg-1@agent-2', 'replace kg-0@agent-2<-agent-1']);
    expect(plan.actions[1]!.reason).toBe('agent-1 offline for 1m1s (grace 1m)');
    expect(plan.actions[1]!.role).toBe('replica');
    // The grace can be overridden by the caller: then only the promotion.
    expect(brief(planGrid(spec, live, { replaceAfterMs: 120_000 }))).toEqual(['update kg-1@agent-2']);
  });

  it('keeps exactly one copy when the agent returns: the stale copy is destroyed, not duplicated', () => {
    // GIVEN agent-1 went offline past the grace and the plan was applied
    const offline = withAgent1({ health: 'offline', offlineForMs: 61_000 });
    const first = planGrid(spec, offline);
    const afterApply = applyPlan(offline, first);
    expect(planGrid(spec, afterApply).actions).toEqual([]);
    // WHEN agent-1 comes back still running its old kg-0 (which still believes it is leader)
    const returned: LiveState = { agents: liveAgentsOf(spec), nodes: afterApply.nodes };
    const plan = planGrid(spec, returned);
    // THEN the stale copy goes, the replacement and the promoted leader stay
    expect(brief(plan)).toEqual(['destroy kg-0@agent-1']);
    expect(plan.actions[0]!.reason).toBe('stale copy: kg-0 is kept on agent-2');
    const final = applyPlan(returned, plan);
    expect(final.nodes.filter((n) => n.nodeId === 'kg-0')).toHaveLength(1);
    expect(final.nodes.filter((n) => n.role === 'leader').map((n) => n.nodeId)).toEqual(['kg-1']);
    expect(planGrid(spec, final).changed).toBe(false);
  });

  it('keeps the copy on the agent the previous plan chose', () => {
    const nodes = [liveNode('kg-0', 'agent-1'), liveNode('kg-0', 'agent-3'), liveNode('kg-1', 'agent-2'), liveNode('kg-2', 'agent-2')];
    const live = { agents: liveAgentsOf(spec), nodes };
    expect(brief(planGrid(spec, live))).toEqual(['destroy kg-0@agent-3']);
    expect(brief(planGrid(spec, live, { assignments: { 'kg-0': 'agent-3' } }))).toEqual(['destroy kg-0@agent-1']);
  });

  it('keeps the later-started copy when nothing else decides', () => {
    const nodes = [
      liveNode('kg-0', 'agent-1', { startedAtMs: 1000 }),
      liveNode('kg-0', 'agent-3', { startedAtMs: 5000 }),
      liveNode('kg-1', 'agent-2'),
      liveNode('kg-2', 'agent-2'),
    ];
    expect(brief(planGrid(spec, { agents: liveAgentsOf(spec), nodes }))).toEqual(['destroy kg-0@agent-1']);
  });

  it('defers destroying a copy on an offline agent until it returns', () => {
    const small = gridSpec(agents, [clusterSpec('kg', 1)]);
    const live = withAgent1({ health: 'offline', offlineForMs: 1000 });
    const nodes = [liveNode('kg-0', 'agent-2'), liveNode('kg-1', 'agent-1')];
    const plan = planGrid(small, { agents: live.agents, nodes });
    expect(plan.actions).toEqual([]);
    expect(plan.deferred).toEqual([
      { cluster: 'kg', nodeId: 'kg-1', agentId: 'agent-1', reason: 'scale down to 1 node (waits for agent-1 to return)' },
    ]);
  });

  it('demotes a second leader', () => {
    const nodes = [liveNode('kg-0', 'agent-1'), liveNode('kg-1', 'agent-2', { role: 'leader' }), liveNode('kg-2', 'agent-3')];
    const plan = planGrid(spec, { agents: liveAgentsOf(spec), nodes });
    expect(plan.actions.map((a) => `${a.op} ${a.nodeId} ${a.role}: ${a.reason}`)).toEqual([
      'update kg-1 replica: duplicate leader: demote to replica',
    ]);
  });

  it('does not promote a replica that is not running yet; a lost leader with no replica is recreated as leader', () => {
    const starting = [liveNode('kg-1', 'agent-2', { status: 'starting' })];
    const plan = planGrid(gridSpec(agents, [clusterSpec('kg', 2)]), { agents: liveAgentsOf(spec), nodes: starting });
    expect(plan.actions.map((a) => `${a.op} ${a.nodeId} ${a.role}`)).toEqual(['create kg-0 leader']);
  });
});

describe('planGrid leader on scale down', () => {
  it('promotes a remaining replica when scale down removes the leader', () => {
    const two = gridSpec(agents, [clusterSpec('kg', 2)]);
    const nodes = [
      liveNode('kg-0', 'agent-1', { role: 'replica' }),
      liveNode('kg-1', 'agent-2'),
      liveNode('kg-2', 'agent-3', { role: 'leader' }),
    ];
    const plan = planGrid(two, { agents: liveAgentsOf(two), nodes });
    expect(plan.actions.map((a) => `${a.op} ${a.nodeId} ${a.role}: ${a.reason}`)).toEqual([
      'destroy kg-2 leader: scale down to 2 nodes',
      'update kg-0 leader: leader lost: promote',
    ]);
  });
});
