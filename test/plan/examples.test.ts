import { describe, expect, it } from 'vitest';
import { loadGridSpecOrThrow } from '../../schema/index.js';
import { planGrid, renderPlan } from '../../plan/index.js';
import { applyPlan, liveAgentsOf } from './fixtures.js';

// The shipped examples, through the real parser and compiler: they must plan fully and converge.
describe('plans of the example specs', () => {
  it('examples/local: 3 nodes over 2 agents, leader on agent-1, then no changes', async () => {
    const { compiled } = await loadGridSpecOrThrow('examples/local/grid.yaml');
    const empty = { agents: liveAgentsOf(compiled), nodes: [] };
    const plan = planGrid(compiled, empty);
    expect(plan.actions.map((a) => `${a.op} ${a.nodeId}@${a.agentId} ${a.role}`)).toEqual([
      'create kg-0@agent-1 leader',
      'create kg-1@agent-2 replica',
      'create kg-2@agent-1 replica',
    ]);
    expect(renderPlan(planGrid(compiled, applyPlan(empty, plan)))).toBe('No changes. The grid matches the spec.');
  });

  it('examples/labels: pins, selector and binpack are honoured', async () => {
    const { compiled } = await loadGridSpecOrThrow('examples/labels/grid.yaml');
    const empty = { agents: liveAgentsOf(compiled), nodes: [] };
    const plan = planGrid(compiled, empty);
    expect(plan.unplaced).toEqual([]);
    const where = (cluster: string): string[] => plan.actions.filter((a) => a.cluster === cluster).map((a) => a.agentId);
    expect(new Set(where('index'))).toEqual(new Set(['ssd-1', 'hdd-2']));
    // binpack over hdd agents: the first hdd agent fills before the other is used
    expect(where('cache').every((id) => id.startsWith('hdd-'))).toBe(true);
    expect(new Set(where('cache')).size).toBe(1);
    expect(where('logs').every((id) => id === 'ssd-1' || id === 'hdd-1')).toBe(true);
    expect(planGrid(compiled, applyPlan(empty, plan)).changed).toBe(false);
  });
});
