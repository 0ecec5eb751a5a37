import { describe, expect, it } from 'vitest';
import type { NodeReplication, NodeView } from '../../runtime/common/grid-types.js';
import { ReplicationWatch } from '../../runtime/master/reconcile/replication-watch.js';

function node(nodeId: string, r: Partial<NodeReplication>, over: Partial<NodeView> = {}): NodeView {
  return {
    nodeId, agentId: 'a1', port: 1, pid: 1, status: 'running', storagePath: '/d', memoryMb: 64, restarts: 0, startedAtMs: 1,
    cluster: 'kg', role: 'replica', lastExit: '', containerId: '', generation: 1,
    replication: {
      role: 'replica', term: 1, leader: '127.0.0.1:5000', durability: 'sync', syncQuorum: 1, logPosition: 0, lastLogTerm: 0,
      leaderLogPosition: 0, catchingUp: false, connected: true, readAtMs: 1, ...r,
    },
    ...over,
  };
}

describe('ReplicationWatch', () => {
  it('tells role changes, catch-up start and end, and lag over the threshold, each once per change', () => {
    const seen: string[] = [];
    const w = new ReplicationWatch(
      {
        roleChanged: (e) => seen.push(`role ${e.nodeId} ${e.role} ${e.term} ${e.leader}`),
        catchUpStarted: (e) => seen.push(`catch-up ${e.nodeId} from ${e.logPosition} to ${e.leaderLogPosition}`),
        catchUpDone: (e) => seen.push(`caught up ${e.nodeId} at ${e.logPosition} in ${e.durationMs}`),
        replicationLagging: (e) => seen.push(`lagging ${e.nodeId} ${e.lagRecords}`),
      },
      100,
    );
    // A new replica copying its leader, then caught up
    w.observe([node('kg-1', { catchingUp: true, leaderLogPosition: 500 })], 1000);
    w.observe([node('kg-1', { catchingUp: true, logPosition: 300, leaderLogPosition: 500 })], 1500);
    w.observe([node('kg-1', { logPosition: 500, leaderLogPosition: 500 })], 1800);
    // Falls behind: once over the threshold, not again until back within half of it
    w.observe([node('kg-1', { logPosition: 500, leaderLogPosition: 700 })], 2000);
    w.observe([node('kg-1', { logPosition: 500, leaderLogPosition: 800 })], 2100);
    w.observe([node('kg-1', { logPosition: 760, leaderLogPosition: 800 })], 2200);
    w.observe([node('kg-1', { logPosition: 760, leaderLogPosition: 900 })], 2300);
    // Promoted: a role change in a later term (no lag counted for a leader)
    w.observe([node('kg-1', { role: 'leader', term: 2, leader: '', logPosition: 900, leaderLogPosition: 0 })], 2400);
    // Not running, or not replicated: nothing
    w.observe([node('kg-1', { role: 'replica', term: 3 }, { status: 'restarting' }), node('kg-9', {}, { replication: undefined })], 2500);
    expect(seen).toEqual([
      'catch-up kg-1 from 0 to 500',
      'caught up kg-1 at 500 in 800',
      'lagging kg-1 200',
      'lagging kg-1 140',
      'role kg-1 leader 2 ',
    ]);
  });
});
