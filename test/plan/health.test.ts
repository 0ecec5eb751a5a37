import { describe, expect, it } from 'vitest';
import { clusterHealth, clusterStatus } from '../../plan/index.js';
import { clusterSpec, liveNode } from './fixtures.js';

const kg = clusterSpec('kg', 3);

describe('clusterHealth', () => {
  it('is healthy when every declared node runs with a leader', () => {
    const nodes = [liveNode('kg-0', 'a'), liveNode('kg-1', 'b'), liveNode('kg-2', 'c'), liveNode('other-0', 'a', { status: 'failed' })];
    expect(clusterStatus(kg, nodes)).toEqual({ name: 'kg', desired: 3, running: 3, health: 'healthy', leaderNodeId: 'kg-0' });
  });

  it('is degraded when some but not all run, and a duplicate counts once', () => {
    const nodes = [liveNode('kg-0', 'a'), liveNode('kg-1', 'b'), liveNode('kg-1', 'c')];
    expect(clusterStatus(kg, nodes)).toMatchObject({ running: 2, health: 'degraded' });
  });

  it('is critical when the leader is missing or nothing runs', () => {
    expect(clusterHealth(kg, [liveNode('kg-1', 'b'), liveNode('kg-2', 'c')])).toBe('critical');
    expect(clusterHealth(kg, [liveNode('kg-0', 'a', { status: 'failed' })])).toBe('critical');
    expect(clusterHealth(kg, [])).toBe('critical');
  });

  it('needs no leader for a standalone cluster and ignores ordinals beyond the count', () => {
    const solo = clusterSpec('s', 2, { topology: 'standalone' });
    const nodes = [liveNode('s-1', 'a', { role: 'standalone' }), liveNode('s-5', 'a', { role: 'standalone' })];
    expect(clusterStatus(solo, nodes)).toEqual({ name: 's', desired: 2, running: 1, health: 'degraded', leaderNodeId: '' });
  });
});
