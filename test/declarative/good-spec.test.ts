/**
 * The last good spec (what a failed rollout with autoRevert goes back to) is the last one the grid
 * reached, whether or not a reconcile pass ran between the grid reaching it and the next apply.
 * `apply` returns once it sees the grid converged, and nodes report running between passes, so a
 * CI pipeline's next apply could come first: the good spec then stayed unrecorded, and a failed
 * rollout of that next spec was "not reverted: no earlier good spec". Real master, agent, nodes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeclarativeGrid, gridSpec } from './support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

describe('the last good spec', () => {
  it('is the spec the grid reached, recorded when the next apply comes before any pass saw it', async () => {
    const g = (grid = new DeclarativeGrid());
    // No periodic pass within the test: passes run only when an apply or an action asks for one.
    await g.startMaster(undefined, ['--reconcile-interval', '10m']);
    await g.agent('a1');
    await g.apply(g.writeSpec(gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 2 }])));
    await g.apply(g.writeSpec(gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 2 }, { name: 'kw', nodes: 1 }])));
    // The master's stored state: what it would revert to, after a restart too.
    const stored = JSON.parse(readFileSync(join(g.masterDataDir, 'spec.json'), 'utf8')) as { generation: number; good?: { generation: number } };
    expect(stored.generation).toBe(2);
    expect(stored.good?.generation).toBe(1);
  }, 60_000);
});
