/**
 * Cordons with real processes: `sutra-grid cordon` / `uncordon` and a spec's `agents[].cordoned`.
 * A cordoned agent gets no new node (a scale-up goes elsewhere, or stays unplaced naming the
 * cordon), keeps the nodes it runs, stays cordoned across a master restart, and takes the waiting
 * node once uncordoned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { eventually, runCli, type CliResult } from '../helpers/processes.js';
import { DeclarativeGrid, duplicates, gridSpec } from './support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

/** `sutra-grid <args> --master <this grid's master>`. */
function cli(g: DeclarativeGrid, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--master', g.master.address], { timeoutMs: 60_000 });
}

interface ListedAgent {
  readonly id: string;
  readonly cordoned: boolean;
  readonly cordonedBy: string;
  readonly cordonReason: string;
}

/** `list-agents --json`, by agent id. */
async function listAgents(g: DeclarativeGrid): Promise<Map<string, ListedAgent>> {
  const res = await cli(g, 'list-agents', '--json');
  expect(res.code, res.stderr).toBe(0);
  return new Map((JSON.parse(res.stdout) as { agents: ListedAgent[] }).agents.map((a) => [a.id, a]));
}

/** ListAgents' cordon of each agent, straight from the master (no CLI process: cheap in a wait loop). */
async function cordons(g: DeclarativeGrid): Promise<Map<string, { bySpec: boolean; byOperator: boolean; reason: string } | undefined>> {
  return new Map((await g.client.listAgents()).agents.map((a) => [a.info?.agentId ?? '', a.cordon]));
}

const running = (nodes: readonly NodeInfo[]): NodeInfo[] => nodes.filter((n) => n.status === 'running');
const where = (nodes: readonly NodeInfo[]): Record<string, string> => Object.fromEntries(nodes.map((n) => [n.nodeId, n.agentId]));

describe('cordon and uncordon at a real master', () => {
  it('a cordoned agent keeps its nodes, gets none of a scale-up, keeps its cordon across a master restart, and takes the waiting node once uncordoned', async () => {
    grid = new DeclarativeGrid();
    const master = await grid.startMaster();
    await Promise.all(['a1', 'a2'].map((id) => grid!.agent(id)));
    const agents = [{ id: 'a1' }, { id: 'a2', nodes: 3 }];
    const spec = (n: number): string => grid!.writeSpec(gridSpec(agents, [{ name: 'kv', nodes: n, topology: 'standalone' }]));
    await grid.apply(spec(2));
    const before = running(await grid.nodes('kv'));
    expect(where(before)).toEqual({ 'kv-0': 'a1', 'kv-1': 'a2' });
    const kv0 = before.find((n) => n.nodeId === 'kv-0')!;

    // WHEN a1 is cordoned
    const cordoned = await cli(grid, 'cordon', 'a1', '--reason', 'disk swap');
    expect(cordoned.code, cordoned.stderr).toBe(0);
    expect(cordoned.stdout.trim()).toBe('agent a1 cordoned (disk swap): no new nodes are placed on it, its nodes stay');
    const listed = await listAgents(grid);
    expect(listed.get('a1')).toMatchObject({ cordoned: true, cordonedBy: 'operator', cordonReason: 'disk swap' });
    expect(listed.get('a2')).toMatchObject({ cordoned: false, cordonedBy: '' });
    const table = await cli(grid, 'list-agents');
    expect(table.stdout).toMatch(/^ID\s+STATUS\s+CORDONED\s/m);
    expect(table.stdout).toMatch(/^a1\s+healthy\s+operator \(disk swap\)\s/m);
    expect(table.stdout).toMatch(/^a2\s+healthy\s+-\s/m);

    // THEN a scale-up goes to a2 only, and kv-0 keeps running on a1 untouched
    await grid.apply(spec(3));
    const scaled = running(await grid.nodes('kv'));
    expect(where(scaled)).toEqual({ 'kv-0': 'a1', 'kv-1': 'a2', 'kv-2': 'a2' });
    expect(scaled.find((n) => n.nodeId === 'kv-0')).toMatchObject({ agentId: 'a1', pid: kv0.pid });

    // WHEN a2 is full too, the plan shows the next node unplaced, naming the cordon
    await grid.apply(spec(4));
    const plan = await grid.cli('plan', spec(5));
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stdout).toContain('cluster kv: 1 of 5 nodes unplaced: a1 is cordoned; capacity exhausted on a2 (3/3)');
    expect((await grid.client.applySpec(JSON.stringify(gridSpec(agents, [{ name: 'kv', nodes: 5, topology: 'standalone' }])), 3)).changed).toBe(true);
    const unplacedReason = async (): Promise<string | undefined> => (await grid!.client.clusterStatus()).reconcile?.unplaced.find((u) => u.cluster === 'kv')?.reason;
    await eventually(async () => (await unplacedReason())?.includes('a1 is cordoned; capacity exhausted on a2 (3/3)'), 20_000);

    // WHEN the master restarts on its data dir, the cordon is still there and kv-4 still waits
    await master.stop('SIGTERM');
    await grid.startMaster(master.address);
    await eventually(async () => (await cordons(grid!)).size === 2, 30_000);
    expect((await cordons(grid)).get('a1')).toMatchObject({ bySpec: false, byOperator: true, reason: 'disk swap' });
    await eventually(async () => (await unplacedReason())?.includes('a1 is cordoned; capacity exhausted on a2 (3/3)'), 30_000);
    expect((await grid.nodes('kv')).map((n) => n.nodeId).sort()).toEqual(['kv-0', 'kv-1', 'kv-2', 'kv-3']);
    expect((await grid.nodes('kv')).find((n) => n.nodeId === 'kv-0')).toMatchObject({ agentId: 'a1', pid: kv0.pid, status: 'running' });

    // WHEN a1 is uncordoned, THEN the waiting node is placed on it
    const uncordoned = await cli(grid, 'uncordon', 'a1');
    expect(uncordoned.code, uncordoned.stderr).toBe(0);
    expect(uncordoned.stdout.trim()).toBe('agent a1 uncordoned: it takes new nodes again');
    const final = await eventually(async () => {
      const ns = running(await grid!.nodes('kv'));
      return ns.length === 5 ? ns : undefined;
    }, 30_000);
    expect(where(final)).toMatchObject({ 'kv-0': 'a1', 'kv-4': 'a1' });
    expect(duplicates(await grid.nodes())).toEqual([]);
    expect((await cordons(grid)).get('a1')).toBeUndefined();

    const cordonEvents = await grid.events('AgentCordoned');
    expect(cordonEvents.map((e) => ({ agentId: e.agentId, ...e.payload }))).toEqual([{ agentId: 'a1', by: 'operator', reason: 'disk swap' }]);
    const uncordonEvents = await grid.events('AgentUncordoned');
    expect(uncordonEvents.map((e) => ({ agentId: e.agentId, ...e.payload }))).toEqual([{ agentId: 'a1', by: 'operator', stillCordoned: false }]);
  }, 240_000);

  it("a spec-declared cordon places nothing on the agent, list-agents says the spec did it, and only a spec change lifts it; bad requests are refused by name", async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all(['a1', 'a2'].map((id) => grid!.agent(id)));
    // a3 is declared but never runs: it is known, so it may be cordoned.
    const agents = (cordonA1: boolean) => [{ id: 'a1', cordoned: cordonA1 }, { id: 'a2' }, { id: 'a3' }];
    const cluster = [{ name: 'kv', nodes: 3, topology: 'standalone' as const, agents: ['a1', 'a2'] }];
    await grid.apply(grid.writeSpec(gridSpec(agents(true), cluster)));
    expect(where(running(await grid.nodes('kv')))).toEqual({ 'kv-0': 'a2', 'kv-1': 'a2', 'kv-2': 'a2' });
    expect((await listAgents(grid)).get('a1')).toMatchObject({ cordoned: true, cordonedBy: 'spec', cordonReason: '' });
    expect((await grid.events('AgentCordoned')).map((e) => ({ agentId: e.agentId, ...e.payload }))).toEqual([{ agentId: 'a1', by: 'spec', reason: '' }]);

    // An operator cannot lift what the spec declares: one error line, exit 1.
    const refused = await cli(grid, 'uncordon', 'a1');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe('error: agent a1 is still cordoned: the applied spec declares it (agents[].cordoned); remove that and apply to uncordon it');

    // Both may cordon it at once; list-agents shows both.
    expect((await cli(grid, 'cordon', 'a1')).code).toBe(0);
    expect((await listAgents(grid)).get('a1')).toMatchObject({ cordoned: true, cordonedBy: 'spec+operator' });
    expect((await cli(grid, 'cordon', 'a3', '--reason', 'not racked yet')).code).toBe(0);

    // WHEN the spec no longer cordons a1, the operator's cordon still holds it
    await grid.apply(grid.writeSpec(gridSpec(agents(false), cluster)));
    expect((await cordons(grid)).get('a1')).toMatchObject({ bySpec: false, byOperator: true });
    expect((await grid.events('AgentUncordoned')).map((e) => ({ agentId: e.agentId, ...e.payload }))).toEqual([{ agentId: 'a1', by: 'spec', stillCordoned: true }]);
    const uncordoned = await cli(grid, 'uncordon', 'a1');
    expect(uncordoned.code, uncordoned.stderr).toBe(0);
    expect((await cordons(grid)).get('a1')).toBeUndefined();
    const again = await cli(grid, 'uncordon', 'a1');
    expect(again.stdout.trim()).toBe('agent a1 uncordoned (it was not cordoned): it takes new nodes again');

    // Unknown agents are NOT_FOUND, bad ids and reasons INVALID_ARGUMENT, each one line and exit 1.
    const unknown = await cli(grid, 'cordon', 'a9');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toMatch(/^error: agent "a9" not found: it is neither registered nor declared in the applied spec \(NOT_FOUND\)$/);
    const badId = await cli(grid, 'cordon', 'no/such');
    expect(badId.code).toBe(1);
    expect(badId.stderr).toMatch(/^error: agent_id: must be .* \(INVALID_ARGUMENT\)\n$/);
    const longReason = await cli(grid, 'cordon', 'a2', '--reason', 'x'.repeat(257));
    expect(longReason.code).toBe(1);
    expect(longReason.stderr).toBe('error: reason: at most 256 characters, got 257 (INVALID_ARGUMENT)\n');
    expect((await cordons(grid)).get('a2')).toBeUndefined();
  }, 240_000);
});
