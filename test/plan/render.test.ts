import { describe, expect, it } from 'vitest';
import { planGrid, planToJson, renderPlan } from '../../plan/index.js';
import { agentSpec, applyPlan, clusterSpec, gridSpec, liveAgentsOf, liveNode } from './fixtures.js';

const agents = [agentSpec('agent-1', { capacity: { nodes: 2, memoryMb: 0 } }), agentSpec('agent-2', { capacity: { nodes: 2, memoryMb: 0 } })];

describe('renderPlan', () => {
  it('renders terraform-like lines, unplaced reasons and the summary', () => {
    const spec = gridSpec(agents, [clusterSpec('kg', 3), clusterSpec('xl', 2, { topology: 'standalone', memoryMb: 1024 })]);
    const nodes = [liveNode('kg-0', 'agent-1'), liveNode('old-0', 'agent-2', { role: 'standalone' })];
    const text = renderPlan(planGrid(spec, { agents: liveAgentsOf(spec), nodes }));
    expect(text).toBe(
      [
        '  - destroy old-0 on agent-2 (standalone, 256 MiB): cluster old is no longer declared',
        '  + create kg-1 on agent-2 (replica, 256 MiB): missing',
        '  + create kg-2 on agent-1 (replica, 256 MiB): missing',
        '  + create xl-0 on agent-2 (standalone, 1 GiB): missing',
        '',
        'Cannot place:',
        '  ! cluster xl: 1 of 2 nodes unplaced: capacity exhausted on agent-1 (2/2), agent-2 (2/2)',
        '',
        'Plan: 3 to create, 0 to update, 0 to replace, 1 to destroy.',
      ].join('\n'),
    );
  });

  it('renders a replace with its source agent', () => {
    const spec = gridSpec(agents, [clusterSpec('kg', 1)]);
    const nodes = [liveNode('kg-0', 'agent-1', { status: 'failed', restarts: 5 })];
    expect(renderPlan(planGrid(spec, { agents: liveAgentsOf(spec), nodes })).split('\n')[0]).toBe(
      '-/+ replace kg-0 on agent-2 (from agent-1) (leader, 256 MiB): failed after 5 restarts on agent-1',
    );
  });

  it('says so when nothing changes', () => {
    const spec = gridSpec(agents, [clusterSpec('kg', 2)]);
    const empty = { agents: liveAgentsOf(spec), nodes: [] };
    const converged = applyPlan(empty, planGrid(spec, empty));
    expect(renderPlan(planGrid(spec, converged))).toBe('No changes. The grid matches the spec.');
  });

  it('lists destroys deferred for an offline agent, and does not call that a change', () => {
    const spec = gridSpec(agents, [clusterSpec('kg', 1)]);
    const live = {
      agents: liveAgentsOf(spec).map((a) => (a.id === 'agent-2' ? { ...a, health: 'offline' as const, offlineForMs: 120_000 } : a)),
      nodes: [liveNode('kg-0', 'agent-1', { startedAtMs: 2 }), liveNode('kg-0', 'agent-2', { startedAtMs: 1 })],
    };
    expect(renderPlan(planGrid(spec, live))).toBe(
      [
        'Deferred until the agent returns:',
        '  - destroy kg-0 on agent-2: stale copy: kg-0 is kept on agent-1 (waits for agent-2 to return)',
        '',
        'No changes. The grid matches the spec; 1 stale copy goes when its agent returns.',
      ].join('\n'),
    );
  });

  it('serialises the plan object with a stable key order', () => {
    const spec = gridSpec(agents, [clusterSpec('kg', 1)]);
    const json = planToJson(planGrid(spec, { agents: liveAgentsOf(spec), nodes: [] }), 0);
    expect(json).toBe(
      '{"actions":[{"op":"create","cluster":"kg","nodeId":"kg-0","agentId":"agent-1","role":"leader","memoryMb":256,"reason":"missing"}],' +
        '"unplaced":[],"deferred":[],"summary":{"create":1,"destroy":0,"update":0,"replace":0,"unchanged":0},"changed":true}',
    );
  });
});
