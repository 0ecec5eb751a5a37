import { describe, expect, test } from 'vitest';
import { agentFit, findCapacityShortfalls, type CapacityAgent, type CapacityDemand } from '../../schema/capacity-check.js';

/** Exhaustive search: can every demand's nodes be put on its eligible agents within node counts? */
function feasible(agents: readonly CapacityAgent[], demands: readonly CapacityDemand[]): boolean {
  const free = agents.map((a) => a.nodes);
  const place = (d: number, left: number, from: number): boolean => {
    const demand = demands[d];
    if (!demand) return true;
    if (left === 0) return place(d + 1, demands[d + 1]?.nodes ?? 0, 0);
    for (let k = from; k < demand.eligible.length; k++) {
      const a = demand.eligible[k] ?? 0;
      if ((free[a] ?? 0) > 0) {
        free[a] = (free[a] ?? 0) - 1;
        const ok = place(d, left - 1, k);
        free[a] = (free[a] ?? 0) + 1;
        if (ok) return true;
      }
    }
    return false;
  };
  return place(0, demands[0]?.nodes ?? 0, 0);
}

/** Small deterministic PRNG so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('findCapacityShortfalls', () => {
  test('agrees with exhaustive search on 2,000 random small grids', () => {
    const random = prng(42);
    const pick = (n: number): number => Math.floor(random() * n);
    let infeasible = 0;
    for (let round = 0; round < 2_000; round++) {
      const agents = Array.from({ length: 1 + pick(4) }, () => ({ nodes: pick(4), memoryMb: 0 }));
      const demands = Array.from({ length: 1 + pick(4) }, () => {
        const eligible = agents.map((_, a) => a).filter(() => random() < 0.6);
        return { nodes: 1 + pick(3), memoryMb: 256, eligible: eligible.length > 0 ? eligible : [pick(agents.length)] };
      });
      const expected = feasible(agents, demands);
      const shortfalls = findCapacityShortfalls(agents, demands);
      expect({ round, agents, demands, fits: shortfalls.length === 0 }).toEqual({ round, agents, demands, fits: expected });
      for (const s of shortfalls) expect(s.canHold).toBeLessThan(s.need);
      if (!expected) infeasible++;
    }
    // The generator must exercise both outcomes for the agreement to mean anything.
    expect(infeasible).toBeGreaterThan(200);
    expect(infeasible).toBeLessThan(1_800);
  });

  test('names the competing set, not every cluster', () => {
    const agents = [{ nodes: 3, memoryMb: 0 }, { nodes: 3, memoryMb: 0 }];
    const demands = [
      { nodes: 3, memoryMb: 1, eligible: [0] },
      { nodes: 2, memoryMb: 1, eligible: [0] },
      { nodes: 3, memoryMb: 1, eligible: [0, 1] },
    ];
    expect(findCapacityShortfalls(agents, demands)).toEqual([{ kind: 'nodes', demands: [0, 1], need: 5, canHold: 3, agents: [0] }]);
  });

  test('memory limits how many nodes one agent holds', () => {
    expect(agentFit({ nodes: 10, memoryMb: 1024 }, { memoryMb: 300 })).toBe(3);
    expect(agentFit({ nodes: 2, memoryMb: 1024 }, { memoryMb: 300 })).toBe(2);
    expect(agentFit({ nodes: 2, memoryMb: 0 }, { memoryMb: 300 })).toBe(2);
  });

  test('stays fast for 1,000 agents and 1,000 clusters with varied placements', () => {
    const agents = Array.from({ length: 1_000 }, () => ({ nodes: 10, memoryMb: 0 }));
    const demands = Array.from({ length: 1_000 }, (_, c) => ({
      nodes: 10,
      memoryMb: 256,
      eligible: Array.from({ length: 50 }, (_, k) => (c * 7 + k) % 1_000),
    }));
    const started = performance.now();
    expect(findCapacityShortfalls(agents, demands)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
