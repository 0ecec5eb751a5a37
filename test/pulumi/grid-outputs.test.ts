import { describe, expect, it } from 'vitest';
import type { GridNode, GridStatus } from '../../client/index.js';
import { liveGrid, planLines } from '../../provider/pulumi/grid-outputs.js';
import type { NodeStatus, Plan } from '../../plan/index.js';

const spec = {
  name: 'lab',
  agents: [{ id: 'agent-1', capacity: { nodes: 4 } }],
  clusters: [
    { name: 'kg', nodes: 2 },
    { name: 'idx', nodes: 1 },
  ],
};

function node(nodeId: string, cluster: string, status: NodeStatus): GridNode {
  return {
    nodeId, agentId: 'agent-1', port: 50051, pid: 1, status, storagePath: '', memoryMb: 64, restarts: 0,
    startedAtMs: 0, cluster, role: 'standalone', lastExit: '', containerId: '', generation: 1,
  };
}

describe('outputs', () => {
  it('keep only declared clusters, in a stable order', () => {
    const nodes = [node('kg-2', 'kg', 'running'), node('x-1', '', 'running'), node('kg-1', 'kg', 'running'), node('old-1', 'old', 'running')];
    const status: GridStatus = {
      agentsTotal: 1, agentsHealthy: 1, agentsDegraded: 0, agentsOffline: 0, nodesTotal: 4, nodesRunning: 4, nodesFailed: 0,
      health: 'healthy', clusters: [{ name: 'kg', desired: 2, running: 2, health: 'healthy', leaderNodeId: '' }], specGeneration: 3,
      eventsDropped: 0, eventStoreError: '', reconcile: { generation: 3, pendingActions: 0, unplaced: [], rollouts: [] },
    };
    const live = liveGrid(spec, { nodes, status });
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
