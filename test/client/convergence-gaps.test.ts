/**
 * What a convergence wait judges, from one read of the grid: the master's and the reconciler's
 * generation, the reconciler's pending actions and unplaced nodes, and the nodes themselves.
 */
import { describe, expect, it } from 'vitest';
import { convergenceGaps, type GridNode, type GridView, type ReconcileState } from '../../client/index.js';
import type { NodeStatus } from '../../plan/index.js';

/** The clusters the master's applied spec declares. */
const clusters = [
  { name: 'kg', nodes: 2 },
  { name: 'idx', nodes: 1 },
];

function node(nodeId: string, cluster: string, status: NodeStatus, extra: Partial<GridNode> = {}): GridNode {
  return {
    nodeId, agentId: 'agent-1', port: 50051, pid: 1, status, storagePath: '', memoryMb: 64, restarts: 0,
    startedAtMs: 0, cluster, role: 'standalone', lastExit: '', containerId: '', generation: 1, ...extra,
  };
}

function view(nodes: GridNode[], specGeneration: number, reconcile: Partial<ReconcileState> = {}): GridView {
  return {
    nodes,
    status: {
      agentsTotal: 1, agentsHealthy: 1, agentsDegraded: 0, agentsOffline: 0, nodesTotal: nodes.length, nodesRunning: 0, nodesFailed: 0,
      health: 'healthy', clusters: clusters.map((c) => ({ name: c.name, desired: c.nodes, running: 0, health: 'critical', leaderNodeId: '' })),
      specGeneration, eventsDropped: 0, eventStoreError: '',
      reconcile: { generation: specGeneration, pendingActions: 0, unplaced: [], rollouts: [], ...reconcile },
    },
  };
}

describe('convergenceGaps', () => {
  it('is empty when every declared node runs and nothing else is up', () => {
    const nodes = [node('kg-1', 'kg', 'running'), node('kg-2', 'kg', 'running'), node('idx-1', 'idx', 'running'), node('old-1', 'old', 'stopped')];
    expect(convergenceGaps(view(nodes, 3), 3)).toEqual([]);
  });

  it('names the cluster, the node, its agent and how it last ended', () => {
    const nodes = [node('kg-1', 'kg', 'running'), node('kg-2', 'kg', 'failed', { lastExit: 'exit code 1' }), node('idx-1', 'idx', 'starting')];
    expect(convergenceGaps(view(nodes, 3), 3)).toEqual([
      'cluster kg: 1 of 2 nodes running (kg-2 on agent-1: failed, exit code 1)',
      'cluster idx: 0 of 1 nodes running (idx-1 on agent-1: starting)',
    ]);
  });

  it('waits for the master to reach the applied generation and for undeclared clusters to stop', () => {
    const nodes = [node('kg-1', 'kg', 'running'), node('kg-2', 'kg', 'running'), node('idx-1', 'idx', 'running'), node('old-1', 'old', 'running')];
    expect(convergenceGaps(view(nodes, 2), 3)).toEqual([
      'the master has not started generation 3 yet (at 2)',
      'node old-1 of undeclared cluster old is still running on agent-1',
    ]);
  });

  it('is not converged while a running cluster still has a node on its way (a rolling replace)', () => {
    const nodes = [node('kg-1', 'kg', 'running'), node('kg-2', 'kg', 'running'), node('kg-2', 'kg', 'stopping'), node('idx-1', 'idx', 'running')];
    expect(convergenceGaps(view(nodes, 3), 3)).toEqual(['cluster kg: 2 of 2 nodes running (kg-2 on agent-1: stopping)']);
  });

  it('is not converged before the reconciler has planned the generation, or while it has actions left or nodes it cannot place', () => {
    const nodes = [node('kg-1', 'kg', 'running'), node('kg-2', 'kg', 'running'), node('idx-1', 'idx', 'running')];
    expect(convergenceGaps(view(nodes, 3, { generation: 2 }), 3)).toEqual(['the reconciler has not planned generation 3 yet (at 2)']);
    // A memory change restarts running nodes one by one: counting them cannot tell, the reconciler can.
    expect(convergenceGaps(view(nodes, 3, { pendingActions: 2 }), 3)).toEqual(['still planned: 2 actions not finished']);
    const unplaced = [{ cluster: 'kg', nodeIds: ['kg-2'], reason: 'cluster kg: 1 of 2 nodes unplaced: capacity exhausted on agent-1 (1/1)' }];
    expect(convergenceGaps(view(nodes, 3, { unplaced }), 3)).toEqual([unplaced[0]!.reason]);
  });
});
