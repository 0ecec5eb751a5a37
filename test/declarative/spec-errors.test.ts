/**
 * Bad specs against a real master: an invalid spec applies nothing; unplaceable nodes are explained.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/agent-processes.js';
import { DeclarativeGrid, gridSpec } from './support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

/** Two problems: a wrong type on line 7 and an unknown key on line 11. */
const INVALID = `name: test
monitoring: { replaceAfter: 1s }
agents:
  - id: a1
    platform: process
    capacity:
      nodes: many
clusters:
  - name: kv
    nodes: 2
    colour: blue
`;

describe('bad specs with a real master', () => {
  it('an invalid spec applies nothing and names every problem as file:line:col', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await grid.agent('a1');
    await grid.apply(grid.writeSpec(gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 1 }])));
    const before = await grid.client.getSpec();
    const nodesBefore = await grid.nodes();

    const file = grid.writeSpec(INVALID, 'invalid.yaml');
    for (const verb of ['plan', 'apply']) {
      // WHEN the invalid file is planned or applied
      const res = verb === 'apply' ? await grid.cli('apply', file, '--auto-approve') : await grid.cli('plan', file);

      // THEN exit 1, one file:line:col line per problem, and a summary saying nothing was applied
      expect(res.code, `${verb}: ${res.stdout}${res.stderr}`).toBe(1);
      expect(res.stderr).toMatch(new RegExp(`^${escape(file)}:7:\\d+: .*\\(at /agents/0/capacity/nodes\\)`, 'm'));
      expect(res.stderr).toMatch(new RegExp(`^${escape(file)}:11:\\d+: .*colour`, 'm'));
      expect(res.stderr).toContain('nothing was applied');
      expect(res.stdout).toBe('');
    }

    // A raw ApplySpec with an invalid spec is refused naming the field, and stores nothing.
    const raw = await codeOf(grid.client.applySpec(JSON.stringify({ name: 'test', agents: [{ id: 'a1' }] }), before.generation));
    expect(raw.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(raw.details).toContain('spec_json');
    expect(raw.details).toMatch(/capacity/);

    expect(await grid.client.getSpec()).toEqual(before);
    expect((await grid.nodes()).map((n) => `${n.nodeId}:${n.pid}`)).toEqual(nodesBefore.map((n) => `${n.nodeId}:${n.pid}`));
  });

  it('explains nodes that cannot be placed, and apply exits 1 saying what is left', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    // The spec allows 4 nodes per agent; the agents themselves take 2 and 1.
    await grid.agent('a1', { maxNodes: 2 });
    await grid.agent('a2', { maxNodes: 1 });
    const file = grid.writeSpec(gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kg', nodes: 5 }]));

    const plan = await grid.cli('plan', file);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/cluster kg: 2 of 5 nodes unplaced: .*a1 \(2\/2\).*a2 \(1\/1\)/);

    const res = await grid.cli('apply', file, '--auto-approve', '--timeout', '4s');
    expect(res.code, res.stdout).toBe(1);
    expect(res.stderr).toMatch(/not converged after 4s: .*cluster kg: 2 of 5 nodes unplaced/);
    expect(res.stderr).toContain('cluster kg: 3 of 5 nodes running');
    // What can be placed is placed: lowest ordinals first.
    const nodes = await grid.nodes();
    expect(nodes.filter((n) => n.status === 'running').map((n) => n.nodeId).sort()).toEqual(['kg-0', 'kg-1', 'kg-2']);
    expect((await grid.events('PlacementFailed')).map((e) => e.cluster)).toContain('kg');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
