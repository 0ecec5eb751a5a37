import { describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../runtime/master/index.js';
import { agentFromWire, nodeFromWire } from '../../runtime/common/grid-wire.js';
import { fakeAgent, fakeNode } from '../helpers/grid-client.js';

// The registry holds domain views: the wire fakes as the master's edge converts them.
const agent = (...args: Parameters<typeof fakeAgent>) => agentFromWire(fakeAgent(...args));
const node = (...args: Parameters<typeof fakeNode>) => nodeFromWire(fakeNode(...args));

const T = { degradedAfterMs: 15_000, offlineAfterMs: 30_000 };

describe('AgentRegistry', () => {
  it('walks healthy -> degraded -> offline on silence and back to healthy on a heartbeat', () => {
    const r = new AgentRegistry();
    r.register(agent('a'), [], 0);
    expect(r.evaluateHealth(14_999, T)).toEqual([]);
    expect(r.evaluateHealth(15_000, T)).toEqual([{ agentId: 'a', from: 'healthy', to: 'degraded', silentForMs: 15_000 }]);
    expect(r.evaluateHealth(20_000, T)).toEqual([]);
    expect(r.evaluateHealth(30_000, T).map((t) => t.to)).toEqual(['offline']);
    expect(r.heartbeat('a', [], 31_000)).toEqual({ agentId: 'a', from: 'offline', to: 'healthy', silentForMs: 31_000 });
    expect(r.get('a')?.health).toBe('healthy');
  });

  it('reports both steps when one check finds an agent already past the offline threshold', () => {
    const r = new AgentRegistry();
    r.register(agent('a'), [], 0);
    expect(r.evaluateHealth(60_000, T).map((t) => `${t.from}->${t.to}`)).toEqual(['healthy->degraded', 'degraded->offline']);
  });

  it('throws AGENT_NOT_FOUND for a heartbeat from an unknown agent', () => {
    expect(() => new AgentRegistry().heartbeat('nobody', [], 0)).toThrow(expect.objectContaining({ code: 'AGENT_NOT_FOUND' }));
  });

  it('replaces an agent\'s nodes with each report but keeps a freshly spawned node for its pin period', () => {
    const r = new AgentRegistry();
    r.register(agent('a'), [node('n1', 'a')], 0);
    r.nodes.upsert(node('n2', 'a'), 1_000, 5_000);
    // A heartbeat assembled before n2 existed arrives after the spawn answered.
    r.heartbeat('a', [node('n1', 'a')], 2_000);
    expect(r.nodes.list().map((n) => n.nodeId)).toEqual(['n1', 'n2']);
    r.heartbeat('a', [node('n1', 'a')], 7_000);
    expect(r.nodes.list().map((n) => n.nodeId)).toEqual(['n1']);
  });

  it('re-registration updates in place: one record, new info, registration time kept', () => {
    const r = new AgentRegistry();
    r.register(agent('a'), [node('n1', 'a')], 100);
    const again = r.register(agent('a', { address: '127.0.0.1:9' }), [node('n1', 'a', { pid: 5 })], 200);
    expect(again).toEqual({ known: true, previous: 'healthy' });
    expect(r.size).toBe(1);
    expect([r.get('a')?.info.address, r.get('a')?.registeredAtMs]).toEqual(['127.0.0.1:9', 100]);
    expect(r.nodes.list().map((n) => n.pid)).toEqual([5]);
  });

  it('counts only active nodes against capacity', () => {
    const r = new AgentRegistry();
    r.register(agent('a'), [node('n1', 'a'), node('n2', 'a', { status: 'stopped' }), node('n3', 'a', { status: 'failed' })], 0);
    expect([r.nodes.activeCount('a'), r.nodes.countForAgent('a')]).toEqual([1, 3]);
  });
});
