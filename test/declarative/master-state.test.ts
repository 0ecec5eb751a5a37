/**
 * The master's desired state with real processes: a master killed mid-apply, concurrent applies
 * with the same expected generation, DeleteSpec.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { codeOf, TestAgentClient } from '../helpers/agent-processes.js';
import { eventually, isAlive } from '../helpers/processes.js';
import { DeclarativeGrid, duplicates, gridSpec } from './support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

const active = (nodes: readonly NodeInfo[]): NodeInfo[] => nodes.filter((n) => n.status !== 'stopped' && n.status !== 'failed');

describe('declarative desired state at a real master', () => {
  it('a master killed mid-apply and restarted on its data dir converges without duplicates', async () => {
    grid = new DeclarativeGrid();
    const master = await grid.startMaster();
    const ids = ['a1', 'a2'];
    const agents = await Promise.all(ids.map((id) => grid!.agent(id)));
    const spec = gridSpec(ids.map((id) => ({ id })), [{ name: 'kv', nodes: 6 }], { replaceAfter: '6s' });

    // WHEN the spec is stored and the master dies while the nodes are being created
    const applied = await grid.client.applySpec(JSON.stringify(spec), 0);
    expect(applied).toMatchObject({ generation: 1, changed: true });
    await eventually(async () => (await grid!.nodes()).length > 0, 10_000, 20);
    await master.stop('SIGKILL');

    // The agents finish what they were asked; what runs now must survive the restart untouched.
    await new Promise((r) => setTimeout(r, 1_500));
    const clients = agents.map((a) => new TestAgentClient(a.address));
    let before: NodeInfo[];
    try {
      before = (await Promise.all(clients.map((c) => c.list()))).flat().filter((n) => n.status === 'running');
    } finally {
      for (const c of clients) c.close();
    }
    expect(before.length).toBeGreaterThan(0);

    // THEN a master restarted on the same data dir and port converges to six nodes, one copy each
    // Agents reconnect with a backoff of up to several seconds, longer than --settle (0.8 s here):
    // the restarted master must not create a node before they have told it what they run, as long
    // as it would keep the nodes of an offline agent (the spec's replaceAfter, 6 s).
    await grid.startMaster(master.address);
    expect((await grid.client.getSpec()).generation).toBe(1);
    const final = await eventually(async () => {
      const ns = active(await grid!.nodes());
      return ns.length === 6 && ns.every((n) => n.status === 'running') ? ns : undefined;
    }, 30_000);
    expect(final.map((n) => n.nodeId).sort()).toEqual(['kv-0', 'kv-1', 'kv-2', 'kv-3', 'kv-4', 'kv-5']);
    expect(duplicates(await grid.nodes())).toEqual([]);
    for (const b of before) expect(final.find((n) => n.nodeId === b.nodeId), `${b.nodeId}\n${grid.masterLogs()}`).toMatchObject({ agentId: b.agentId, pid: b.pid });
    // Every storage process on the host is one of the six: nothing was started twice.
    expect(grid.nodePids().sort()).toEqual(final.map((n) => n.pid).sort());
    const plan = await grid.cli('plan', grid.writeSpec(spec));
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  });

  it('of two applies expecting the same generation exactly one wins; the other names both generations', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await grid.agent('a1');
    const agents = [{ id: 'a1' }];
    await grid.apply(grid.writeSpec(gridSpec(agents, [{ name: 'kv', nodes: 1 }])));
    expect((await grid.client.getSpec()).generation).toBe(1);

    // WHEN two different specs are applied at once, both expecting generation 1
    const specs = [2, 3].map((n) => JSON.stringify(gridSpec(agents, [{ name: 'kv', nodes: n }])));
    const results = await Promise.all(specs.map((s) => codeOf(grid!.client.applySpec(s, 1))));

    // THEN exactly one is stored and the other is refused with FAILED_PRECONDITION
    expect(results.map((r) => r.code).sort()).toEqual([GrpcStatus.OK, GrpcStatus.FAILED_PRECONDITION].sort());
    const refused = results.find((r) => r.code === GrpcStatus.FAILED_PRECONDITION)!;
    expect(refused.details).toContain('expected_generation 1');
    expect(refused.details).toContain('generation 2');
    const stored = await grid.client.getSpec();
    expect(stored.generation).toBe(2);
    const winner = specs[results.findIndex((r) => r.code === GrpcStatus.OK)]!;
    expect(JSON.parse(stored.specJson)).toEqual(JSON.parse(winner));
  });

  it('DeleteSpec stops every declared node and leaves hand-spawned ones alone', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const ids = ['a1', 'a2'];
    await Promise.all(ids.map((id) => grid!.agent(id)));
    await grid.apply(grid.writeSpec(gridSpec(ids.map((id) => ({ id })), [{ name: 'kv', nodes: 2 }, { name: 'kg', nodes: 2, topology: 'leader-replicas' }])));
    const declared = await grid.nodes();
    expect(declared).toHaveLength(4);
    const manual = (await grid.client.spawn({ agentId: 'a1', nodeId: 'by-hand' })).node!;

    // WHEN the spec is deleted
    expect(await codeOf(grid.client.deleteSpec(0))).toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION });
    const { generation } = await grid.client.deleteSpec(1);
    expect(generation).toBe(2);

    // THEN every declared node stops; the node spawned by hand keeps running
    await eventually(async () => active(await grid!.nodes()).length === 0, 20_000);
    for (const n of declared) expect(isAlive(n.pid), n.nodeId).toBe(false);
    expect(isAlive(manual.pid)).toBe(true);
    expect(await grid.client.getSpec()).toMatchObject({ specJson: '', generation: 2 });
    expect((await grid.client.clusterStatus()).clusters).toEqual([]);
  });
});
