import { describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { convergenceGaps, liveGrid, planLines } from '../../provider/pulumi/grid-converge.js';
import type { Plan } from '../../plan/index.js';

const spec = {
  name: 'lab',
  agents: [{ id: 'agent-1', capacity: { nodes: 4 } }],
  clusters: [
    { name: 'kg', nodes: 2 },
    { name: 'idx', nodes: 1 },
  ],
};

function node(nodeId: string, cluster: string, status: string, extra: Partial<NodeInfo> = {}): NodeInfo {
  return {
    nodeId, agentId: 'agent-1', port: 50051, pid: 1, status, storagePath: '', memoryMb: 64, restarts: 0,
    startedAtMs: 0, cluster, role: 'standalone', lastExit: '', containerId: '', generation: 1, ...extra,
  };
}

describe('convergenceGaps', () => {
  it('is empty when every declared node runs and nothing else is up', () => {
    const nodes = [node('kg-1', 'kg', 'running'), node('kg-2', 'kg', 'running'), node('idx-1', 'idx', 'running'), node('old-1', 'old', 'stopped')];
    expect(convergenceGaps(spec, nodes, 3, 3)).toEqual([]);
  });

  it('names the cluster, the node, its agent and how it last ended', () => {
    const nodes = [node('kg-1', 'kg', 'running'), node('kg-2', 'kg', 'failed', { lastExit: 'exit code 1' }), node('idx-1', 'idx', 'starting')];
    expect(convergenceGaps(spec, nodes, 3, 3)).toEqual([
      'cluster kg: 1 of 2 nodes running (kg-2 on agent-1: failed, exit code 1)',
      'cluster idx: 0 of 1 nodes running (idx-1 on agent-1: starting)',
    ]);
  });

  it('waits for the master to reach the applied generation and for undeclared clusters to stop', () => {
    const nodes = [node('kg-1', 'kg', 'running'), node('kg-2', 'kg', 'running'), node('idx-1', 'idx', 'running'), node('old-1', 'old', 'running')];
    expect(convergenceGaps(spec, nodes, 2, 3)).toEqual([
      'the master has not started generation 3 yet (at 2)',
      'node old-1 of undeclared cluster old is still running on agent-1',
    ]);
  });

  it('is not converged while a running cluster still has a node on its way (a rolling replace)', () => {
    const nodes = [node('kg-1', 'kg', 'running'), node('kg-2', 'kg', 'running'), node('kg-2', 'kg', 'stopping'), node('idx-1', 'idx', 'running')];
    expect(convergenceGaps(spec, nodes, 3, 3)).toEqual(['cluster kg: 2 of 2 nodes running (kg-2 on agent-1: stopping)']);
  });
});

describe('outputs', () => {
  it('keep only declared clusters, in a stable order', () => {
    const nodes = [node('kg-2', 'kg', 'running'), node('x-1', '', 'running'), node('kg-1', 'kg', 'running'), node('old-1', 'old', 'running')];
    const live = liveGrid(spec, nodes, {
      agentsTotal: 1, agentsHealthy: 1, agentsDegraded: 0, agentsOffline: 0, nodesTotal: 4, nodesRunning: 4, nodesFailed: 0,
      health: 'healthy', clusters: [{ name: 'kg', desired: 2, running: 2, health: 'healthy', leaderNodeId: '' }], specGeneration: 3,
      eventsDropped: 0, eventStoreError: '',
    });
    expect(live.placements.map((p) => p.nodeId)).toEqual(['kg-1', 'kg-2']);
    expect(live.clusterHealth).toEqual([{ name: 'kg', desired: 2, running: 2, health: 'healthy', leaderNodeId: '' }]);
  });

  it('render each planned action and unplaceable cluster as one line', () => {
    const plan: Plan = {
      actions: [{ op: 'create', cluster: 'kg', nodeId: 'kg-3', agentId: 'agent-2', role: 'replica', memoryMb: 256, reason: 'missing' }],
      unplaced: [{ cluster: 'idx', nodeIds: ['idx-1'], reason: 'cluster idx: 1 of 1 nodes unplaced: capacity exhausted' }],
      deferred: [],
      summary: { create: 1, destroy: 0, update: 0, replace: 0, unchanged: 2 },
      changed: true,
    };
    expect(planLines(plan)).toEqual([
      '+ create kg-3 on agent-2 (replica, 256 MiB): missing',
      '! cluster idx: 1 of 1 nodes unplaced: capacity exhausted',
    ]);
  });
});
