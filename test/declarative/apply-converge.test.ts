/**
 * apply against a real master and agents: converge, idempotence, scale up and down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestStorageClient } from '../helpers/storage-client.js';
import { eventually, isAlive } from '../helpers/processes.js';
import { DeclarativeGrid, duplicates, gridSpec } from './support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

const AGENTS = [{ id: 'a1' }, { id: 'a2' }];

describe('declarative apply with real processes', () => {
  it('converges to running nodes that answer storage calls; the same spec again changes nothing', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all(AGENTS.map((a) => grid!.agent(a.id)));
    const file = grid.writeSpec(gridSpec(AGENTS, [{ name: 'kv', nodes: 3 }]));

    // WHEN the spec is applied
    const first = await grid.apply(file);
    expect(first.stdout).toMatch(/\+ create kv-0 on a[12]/);
    expect(first.stdout).toContain('Spec stored as generation 1.');
    expect(first.stdout).toContain('Apply complete.');

    // THEN three running nodes, spread over both agents, each answering storage calls
    const nodes = await grid.nodes();
    expect(nodes.map((n) => n.nodeId).sort()).toEqual(['kv-0', 'kv-1', 'kv-2']);
    expect(nodes.every((n) => n.status === 'running' && n.pid > 0 && n.generation === 1)).toBe(true);
    expect(new Set(nodes.map((n) => n.agentId))).toEqual(new Set(['a1', 'a2']));
    for (const n of nodes) {
      const storage = new TestStorageClient(`127.0.0.1:${n.port}`);
      try {
        expect((await storage.learnConcept(`c-${n.nodeId}`, `held by ${n.nodeId}`)).id).toBe(`c-${n.nodeId}`);
        expect((await storage.queryConcept(`c-${n.nodeId}`)).concept?.content).toBe(`held by ${n.nodeId}`);
      } finally {
        storage.close();
      }
    }

    // WHEN the same spec is planned and applied again
    const plan = await grid.cli('plan', file);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('No changes. The grid matches the spec.');
    const second = await grid.apply(file);
    expect(second.stdout).not.toContain('Spec stored');

    // THEN nothing changed: same generation, same processes
    expect((await grid.client.getSpec()).generation).toBe(1);
    const after = await grid.nodes();
    expect(after.map((n) => `${n.nodeId}@${n.agentId}:${n.pid}`).sort()).toEqual(nodes.map((n) => `${n.nodeId}@${n.agentId}:${n.pid}`).sort());
  });

  it('scales up with + creates and down with - destroys of the highest ordinals', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all(AGENTS.map((a) => grid!.agent(a.id)));
    await grid.apply(grid.writeSpec(gridSpec(AGENTS, [{ name: 'kv', nodes: 2 }])));
    const initial = await grid.nodes();
    expect(initial.map((n) => n.nodeId).sort()).toEqual(['kv-0', 'kv-1']);

    // GIVEN a spec with four nodes: the plan shows two creates, exit code 2
    const up = grid.writeSpec(gridSpec(AGENTS, [{ name: 'kv', nodes: 4 }]));
    const planUp = await grid.cli('plan', up);
    expect(planUp.code, planUp.stderr).toBe(2);
    expect(planUp.stdout).toMatch(/^ {2}\+ create kv-2 on a[12]/m);
    expect(planUp.stdout).toMatch(/^ {2}\+ create kv-3 on a[12]/m);
    expect(planUp.stdout).not.toMatch(/kv-[01]/);
    expect(planUp.stdout).toContain('Plan: 2 to create, 0 to update, 0 to replace, 0 to destroy.');
    await grid.apply(up);
    const scaled = await grid.nodes();
    expect(scaled.map((n) => n.nodeId).sort()).toEqual(['kv-0', 'kv-1', 'kv-2', 'kv-3']);
    expect(scaled.every((n) => n.status === 'running')).toBe(true);
    expect(duplicates(scaled)).toEqual([]);
    // The nodes that were there are untouched.
    for (const n of initial) expect(scaled.find((s) => s.nodeId === n.nodeId)?.pid).toBe(n.pid);

    // WHEN scaled down to one node: the three highest ordinals are destroyed
    const down = grid.writeSpec(gridSpec(AGENTS, [{ name: 'kv', nodes: 1 }]));
    const planDown = await grid.cli('plan', down, '--json');
    expect(planDown.code, planDown.stderr).toBe(2);
    const actions = (JSON.parse(planDown.stdout) as { actions: Array<{ op: string; nodeId: string }> }).actions;
    expect(actions.map((a) => `${a.op} ${a.nodeId}`).sort()).toEqual(['destroy kv-1', 'destroy kv-2', 'destroy kv-3']);
    await grid.apply(down);

    // THEN only kv-0 remains, still the same process, and the others' processes are gone
    const final = await eventually(async () => {
      const ns = (await grid!.nodes()).filter((n) => n.status !== 'stopped');
      return ns.length === 1 ? ns : undefined;
    }, 10_000);
    expect(final[0]).toMatchObject({ nodeId: 'kv-0', status: 'running', pid: initial.find((n) => n.nodeId === 'kv-0')!.pid });
    for (const n of scaled.filter((s) => s.nodeId !== 'kv-0')) expect(isAlive(n.pid), `${n.nodeId} pid ${n.pid}`).toBe(false);
    expect((await grid.client.getSpec()).generation).toBe(3);
  });

  it('a memory change restarts each node in place with the new memory', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all(AGENTS.map((a) => grid!.agent(a.id)));
    const spec = (memory: string): Record<string, unknown> => ({ ...gridSpec(AGENTS, [{ name: 'kv', nodes: 2, update: { minHealthyTime: '500ms' } }]), storage: { memory } });
    await grid.apply(grid.writeSpec(spec('64Mi')));
    const before = (await grid.nodes()).sort((a, b) => a.nodeId.localeCompare(b.nodeId));

    const file = grid.writeSpec(spec('96Mi'));
    const plan = await grid.cli('plan', file);
    expect(plan.code, plan.stderr).toBe(2);
    before.forEach((n, i) => expect(plan.stdout).toContain(`-/+ replace ${n.nodeId} on ${n.agentId} (standalone, 96 MiB) [step ${i + 1}]: memory 64 MiB -> 96 MiB: restart on ${n.agentId}`));
    await grid.apply(file);

    const after = await grid.nodes();
    expect(after.map((n) => `${n.nodeId}@${n.agentId} ${n.status} ${n.memoryMb}`).sort()).toEqual(before.map((n) => `${n.nodeId}@${n.agentId} running 96`).sort());
    for (const n of before) expect(isAlive(n.pid), `old ${n.nodeId}`).toBe(false);
    expect((await grid.cli('plan', file)).code).toBe(0);
  });

  it('a plan made right after an apply that removed a cluster is empty, before the agents have beaten again', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all(AGENTS.map((a) => grid!.agent(a.id)));
    // Heartbeats 5 s apart: the master lists a stopped node until its agent's next beat drops it.
    const slow = { heartbeatInterval: '5s', degradedAfter: '20s', offlineAfter: '40s' };
    await grid.apply(grid.writeSpec(gridSpec(AGENTS, [{ name: 'kv', nodes: 2 }, { name: 'old', nodes: 2 }], slow)));
    const file = grid.writeSpec(gridSpec(AGENTS, [{ name: 'kv', nodes: 2 }], slow), 'without-old.yaml');
    const applied = await grid.apply(file);
    expect(applied.stdout).toContain('Apply complete.');
    const startedAt = Date.now();

    // WHEN it is planned again at once
    const plan = await grid.cli('plan', file);

    // THEN nothing is left to do: the stopped nodes of `old` have no process to destroy
    expect(plan.stdout).toContain('No changes. The grid matches the spec.');
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    // (Made while the master may still list them: within one heartbeat interval of the apply.)
    expect(Date.now() - startedAt).toBeLessThan(5000);
  });
});
