/**
 * `sutra-grid up` as a user runs it: embedded master, local agents, apply, Ctrl+C, run again.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestMasterClient } from '../helpers/grid-client.js';
import { isAlive, pidsMentioning, startDaemon } from '../helpers/processes.js';
import { DeclarativeGrid, portBlock } from './support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

/** Runs one `up` until converged, checks its nodes, then Ctrl+C; returns the node pids it ran. */
async function upOnce(g: DeclarativeGrid, file: string, stateDir: string, expectLine: RegExp): Promise<{ pids: number[]; generation: number }> {
  const up = g.adopt(await startDaemon('master', ['up', file, '--listen', '127.0.0.1:0', '--state-dir', stateDir], { timeoutMs: 60_000 }));
  await up.waitForLog(expectLine, 30_000);
  await up.waitForLog(/^grid converged$/m, 60_000);
  await up.waitForLog(/following lifecycle events/, 10_000);
  const client = new TestMasterClient(up.address);
  let pids: number[];
  let generation: number;
  try {
    const { nodes } = await client.listNodes();
    expect(nodes.map((n) => `${n.nodeId} ${n.status}`).sort()).toEqual(['kg-0 running', 'kg-1 running', 'kg-2 running']);
    expect(new Set(nodes.map((n) => n.agentId))).toEqual(new Set(['u1', 'u2']));
    pids = nodes.map((n) => n.pid);
    generation = (await client.getSpec()).generation;
  } finally {
    client.close();
  }
  expect(up.logs()).toMatch(/cluster kg: healthy \(3\/3 running, leader kg-\d\)/);

  // WHEN Ctrl+C
  const exit = await up.stop('SIGINT', 30_000);

  // THEN it exits cleanly and leaves no process behind
  expect(exit, up.logs()).toEqual({ code: 0, signal: null });
  expect(up.logs()).toContain('grid stopped');
  for (const pid of pids) expect(isAlive(pid), `node pid ${pid}`).toBe(false);
  expect(pidsMentioning(g.marker)).toEqual([]);
  return { pids, generation };
}

describe('sutra-grid up', () => {
  it('runs the grid until SIGINT, leaves no process, and resumes from the saved state', async () => {
    grid = new DeclarativeGrid();
    const ports = portBlock(100);
    const data = join(grid.dir('up-data'), 'nodes');
    const stateDir = join(grid.dir('up-state'), '.grid');
    const file = grid.writeSpec(`name: up-test
monitoring: { heartbeatInterval: 200ms, degradedAfter: 800ms, offlineAfter: 1600ms, replaceAfter: 2s }
storage:
  dataPath: ${data}
  memory: 64Mi
  portRange: { start: ${ports.start}, end: ${ports.end} }
agents:
  - { id: u1, platform: process, capacity: { nodes: 4 } }
  - { id: u2, platform: process, capacity: { nodes: 4 } }
clusters:
  - { name: kg, nodes: 3, topology: leader-replicas }
`);

    const first = await upOnce(grid, file, stateDir, /applied .* as generation 1/);
    expect(first.generation).toBe(1);

    // Running it again resumes the stored spec: same generation, nothing re-applied.
    const second = await upOnce(grid, file, stateDir, /resuming generation 1 \(spec unchanged\)/);
    expect(second.generation).toBe(1);
  });

  it('Ctrl+C while waiting for a grid that cannot converge stops everything at once', async () => {
    grid = new DeclarativeGrid();
    const ports = portBlock(50);
    // The docker agent never joins, so one node stays unplaced and convergence would take the
    // whole --timeout (2m).
    const file = grid.writeSpec(`name: up-stuck
monitoring: { heartbeatInterval: 200ms, degradedAfter: 800ms, offlineAfter: 1600ms }
storage:
  dataPath: ${join(grid.dir('up-data'), 'nodes')}
  memory: 64Mi
  portRange: { start: ${ports.start}, end: ${ports.end} }
agents:
  - { id: u1, platform: process, capacity: { nodes: 2 } }
  - { id: remote, platform: docker, capacity: { nodes: 2 } }
clusters:
  - { name: kg, nodes: 3 }
`);
    const up = grid.adopt(await startDaemon('master', ['up', file, '--listen', '127.0.0.1:0', '--state-dir', join(grid.dir('up-state'), '.grid')], { timeoutMs: 60_000 }));
    await up.waitForLog(/kg-1 on u1: running/, 30_000);

    const t0 = Date.now();
    const exit = await up.stop('SIGINT', 15_000);
    expect(exit, up.logs()).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(up.logs()).toContain('grid stopped');
    expect(up.logs()).not.toContain('grid converged');
    expect(pidsMentioning(grid.marker)).toEqual([]);
  });
});
