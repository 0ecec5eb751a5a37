/**
 * GetClusterStatus's counts (computeClusterStatus) and the node as ListNodes sends it (nodeToWire):
 * both now read the node table without copying it, and must count and send what they did before.
 */
import { describe, expect, it } from 'vitest';
import { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { AgentRegistry, computeClusterStatus } from '../../runtime/master/index.js';
import { agentFromWire, nodeFromWire, nodeToWire } from '../../runtime/common/grid-wire.js';
import type { NodeReplication, NodeView } from '../../runtime/common/grid-types.js';
import { fakeAgent, fakeNode } from '../helpers/grid-client.js';

const agent = (id: string) => agentFromWire(fakeAgent(id));
const node = (...args: Parameters<typeof fakeNode>) => nodeFromWire(fakeNode(...args));
const T = { degradedAfterMs: 15_000, offlineAfterMs: 30_000 };

describe('computeClusterStatus', () => {
  it('counts every agent by health and every node of a known agent; an offline agent runs nothing', () => {
    const r = new AgentRegistry();
    r.register(agent('a'), [node('a1', 'a'), node('a2', 'a', { status: 'failed' })], 0);
    r.register(agent('b'), [node('b1', 'b'), node('b2', 'b', { status: 'starting' })], 0);
    r.register(agent('c'), [node('c1', 'c')], 0);
    // c falls silent: offline; b beats late enough to be degraded only.
    r.heartbeat('a', [node('a1', 'a'), node('a2', 'a', { status: 'failed' })], 29_000);
    r.heartbeat('b', [node('b1', 'b'), node('b2', 'b', { status: 'starting' })], 10_000);
    r.evaluateHealth(30_000, T);

    expect(computeClusterStatus(r)).toEqual({
      agentsTotal: 3,
      agentsHealthy: 1,
      agentsDegraded: 1,
      agentsOffline: 1,
      nodesTotal: 5,
      // a1 and b1; c1 says running, but its agent is offline.
      nodesRunning: 2,
      nodesFailed: 1,
      health: 'degraded',
    });
    // statusOf decides how a node counts (a replica catching up counts as starting).
    expect(computeClusterStatus(r, (n) => (n.nodeId === 'b1' ? 'starting' : n.status))).toMatchObject({ nodesRunning: 1, nodesTotal: 5 });
  });

  it('grades an empty grid critical and a grid of healthy agents without failed nodes healthy', () => {
    const r = new AgentRegistry();
    expect(computeClusterStatus(r)).toMatchObject({ agentsTotal: 0, nodesTotal: 0, health: 'critical' });
    r.register(agent('a'), [node('a1', 'a')], 0);
    expect(computeClusterStatus(r)).toMatchObject({ agentsTotal: 1, agentsHealthy: 1, nodesTotal: 1, nodesRunning: 1, health: 'healthy' });
  });
});

describe('nodeToWire', () => {
  it('sends a node without replication field for field, and fills in what a replication report left out', () => {
    const plain = node('n1', 'a', { port: 7001, pid: 42, cluster: 'kv', role: 'standalone', generation: 3, lastExit: 'exit code 1' });
    expect(NodeInfo.decode(NodeInfo.encode(nodeToWire(plain)).finish())).toEqual({ ...fakeNode('n1', 'a', { port: 7001, pid: 42, cluster: 'kv', role: 'standalone', generation: 3, lastExit: 'exit code 1', startedAtMs: plain.startedAtMs }), replication: undefined });

    const replication: NodeReplication = { role: 'replica', term: 2, leader: '127.0.0.1:7001', durability: 'async', syncQuorum: 0, logPosition: 4, lastLogTerm: 2, leaderLogPosition: 5, catchingUp: true, connected: true, readAtMs: 1 };
    const replica: NodeView = { ...node('n2', 'a', { cluster: 'kv', role: 'replica' }), replication };
    const wire = nodeToWire(replica);
    expect(wire.replication).toMatchObject({ role: 'replica', term: 2, leaseUnconfirmed: false });
    // The view itself is never changed by its wire form.
    expect(replica.replication).not.toHaveProperty('leaseUnconfirmed');
  });
});
