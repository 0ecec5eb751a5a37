import { describe, expect, it } from 'vitest';
import type { CompiledClusterSpec } from '../../schema/index.js';
import { planGrid, type LiveNode, type LiveState, type NodeStatus } from '../../plan/index.js';
import { agentSpec, applyPlan, clusterSpec, gridSpec, liveAgentsOf, liveNode } from './fixtures.js';
import { prng as rng } from '../helpers/prng.js';

const STATUSES: NodeStatus[] = ['running', 'running', 'running', 'starting', 'failed', 'stopped'];

describe('convergence over random grids', () => {
  it('one apply on healthy agents reaches a grid whose next plan is empty: one copy per node, one leader', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const agentIds = Array.from({ length: 2 + Math.floor(r() * 5) }, (_, i) => `agent-${i}`);
      const agents = agentIds.map((id) => agentSpec(id, { capacity: { nodes: 2 + Math.floor(r() * 6), memoryMb: 0 }, labels: { zone: pick(['a', 'b']) } }));
      const clusters: CompiledClusterSpec[] = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, c) =>
        clusterSpec(`c${c}`, Math.floor(r() * 6), {
          topology: pick(['standalone', 'leader-replicas'] as const),
          memoryMb: pick([128, 256]),
          placement: { strategy: pick(['spread', 'binpack'] as const), agents: [], selector: r() < 0.2 ? { zone: 'a' } : {} },
        }),
      );
      const spec = gridSpec(agents, clusters);
      // Random leftovers: undeclared clusters, hand-spawned nodes, wrong memory, failures, duplicates.
      const nodes: LiveNode[] = [];
      const taken = new Set<string>();
      for (let i = 0; i < Math.floor(r() * 12); i++) {
        const cluster = pick([...clusters.map((c) => c.name), 'gone', '']);
        const nodeId = cluster ? `${cluster}-${Math.floor(r() * 7)}` : `manual-${i}`;
        const agentId = pick(agentIds);
        if (taken.has(`${agentId}/${nodeId}`)) continue;
        taken.add(`${agentId}/${nodeId}`);
        nodes.push(liveNode(nodeId, agentId, {
          cluster,
          role: cluster ? pick(['leader', 'replica', 'standalone'] as const) : '',
          status: pick(STATUSES),
          memoryMb: pick([128, 256]),
          restarts: 3,
        }));
      }
      const live: LiveState = { agents: liveAgentsOf(spec), nodes };

      const after = applyPlan(live, planGrid(spec, live));
      const again = planGrid(spec, after);
      expect({ seed, actions: again.actions }).toEqual({ seed, actions: [] });
      for (const c of clusters) {
        const mine = after.nodes.filter((n) => n.cluster === c.name);
        const ids = mine.map((n) => n.nodeId);
        expect({ seed, dupes: ids.length - new Set(ids).size }).toEqual({ seed, dupes: 0 });
        const unplaced = again.unplaced.find((u) => u.cluster === c.name)?.nodeIds.length ?? 0;
        expect({ seed, c: c.name, n: mine.length }).toEqual({ seed, c: c.name, n: c.nodes - unplaced });
        // A replica is promoted only once it runs: a cluster of starting nodes may wait for its leader.
        const leaders = mine.filter((n) => n.role === 'leader').length;
        if (c.topology === 'standalone') {
          expect(mine.every((n) => n.role === 'standalone'), `seed ${seed}`).toBe(true);
        } else if (mine.some((n) => n.status === 'running')) {
          expect(leaders, `seed ${seed}`).toBe(1);
        } else {
          expect(leaders, `seed ${seed}`).toBeLessThanOrEqual(1);
        }
      }
      expect(after.nodes.filter((n) => n.cluster === 'gone')).toEqual([]);
      // Hand-spawned nodes are left alone (a stopped one leaves the view with its agent's next heartbeat).
      expect(after.nodes.filter((n) => n.cluster === '')).toEqual(nodes.filter((n) => n.cluster === '' && n.status !== 'stopped'));
    }
  });

  it('agents lost past the grace and then back: converges with exactly one copy of every node', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const r = rng(seed * 7919);
      const agentIds = Array.from({ length: 3 + Math.floor(r() * 4) }, (_, i) => `agent-${i}`);
      const spec = gridSpec(
        agentIds.map((id) => agentSpec(id, { capacity: { nodes: 6, memoryMb: 0 } })),
        [clusterSpec('kg', 1 + Math.floor(r() * 5)), clusterSpec('s', Math.floor(r() * 4), { topology: 'standalone' })],
      );
      const empty: LiveState = { agents: liveAgentsOf(spec), nodes: [] };
      const converged = applyPlan(empty, planGrid(spec, empty));
      // GIVEN some agents offline past the grace (their nodes keep running, unreachable)
      const lost = new Set(agentIds.filter(() => r() < 0.35));
      const offline: LiveState = {
        agents: converged.agents.map((a) => (lost.has(a.id) ? { ...a, health: 'offline' as const, offlineForMs: 120_000 } : a)),
        nodes: converged.nodes,
      };
      const healed = applyPlan(offline, planGrid(spec, offline));
      expect(planGrid(spec, healed).actions, `seed ${seed}: stable while offline`).toEqual([]);
      // WHEN they return with their stale copies
      const back: LiveState = { agents: converged.agents, nodes: healed.nodes };
      const final = applyPlan(back, planGrid(spec, back));
      // THEN one copy per node, one running leader, and nothing left to do
      const ids = final.nodes.map((n) => n.nodeId);
      expect(ids.length - new Set(ids).size, `seed ${seed}: duplicates`).toBe(0);
      if (lost.size < agentIds.length) {
        expect(final.nodes.filter((n) => n.cluster === 'kg' && n.role === 'leader'), `seed ${seed}: leaders`).toHaveLength(1);
      }
      expect(planGrid(spec, final).actions, `seed ${seed}: converged`).toEqual([]);
    }
  });
});
