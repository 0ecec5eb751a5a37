/**
 * Certificate rotation while nodes run (issue 14): certificates live 20 s, so the master renews its
 * own every 10 s and each agent its own at half its remaining life. Over several rotations, a client
 * calling through fresh and long-lived connections (the master re-dialing agents for node status)
 * sees no failed call, agents stay healthy, and no node restarts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, trackPid } from '../helpers/processes.js';
import { gridSpec } from '../declarative/support/declarative-grid.js';
import { TestHosts } from './netns.js';
import { tearDownHosts, TlsGrid } from './support.js';

let hosts: TestHosts | undefined;
let grid: TlsGrid | undefined;

afterEach(async () => {
  await tearDownHosts(hosts, grid);
  hosts = undefined;
  grid = undefined;
});

const count = (text: string, pattern: RegExp): number => text.match(new RegExp(pattern, 'g'))?.length ?? 0;

describe('certificate rotation across hosts', () => {
  it('renews every certificate while nodes run: no call fails, no node restarts', async () => {
    hosts = TestHosts.create(['m', 'a1', 'a2']);
    grid = new TlsGrid(hosts);
    await grid.start(['--cert-ttl', '20s']);
    await grid.agent('a1', 'a1');
    await grid.agent('a2', 'a2');
    const steady = grid.client(grid.admin());
    await eventually(async () => (await steady.listAgents()).agents.length === 2, 30_000);
    await steady.applySpec(JSON.stringify(gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 2, placement: 'spread' }])));
    const before = await eventually(async () => {
      const nodes = (await steady.listNodes()).nodes;
      return nodes.length === 2 && nodes.every((n) => n.status === 'running' && n.pid > 0) ? nodes : undefined;
    }, 60_000);
    for (const n of before) trackPid(n.pid);

    // WHEN the master rotates at least three times and each agent at least twice
    const failures: string[] = [];
    let calls = 0;
    const enough = (): boolean =>
      count(grid!.master.logs(), /master certificate renewed/) >= 3 &&
      [...grid!.agents.values()].every((a) => count(a.proc.logs(), /agent certificate renewed/) >= 2);
    const deadline = Date.now() + 90_000;
    while (!enough() && Date.now() < deadline) {
      const fresh = grid.client(grid.admin());
      for (const [name, call] of [
        ['steady ListNodes', () => steady.listNodes()],
        ['fresh ListAgents', () => fresh.listAgents()],
        ['steady node status (master -> agent)', () => steady.nodeStatus(before[0]!.nodeId)],
        ['fresh node status (master -> agent)', () => fresh.nodeStatus(before[1]!.nodeId)],
      ] as const) {
        calls++;
        try {
          await call();
        } catch (err) {
          failures.push(`${name}: ${(err as Error).message}`);
        }
      }
      const agents = (await steady.listAgents()).agents;
      if (!agents.every((a) => a.health === 'healthy')) failures.push(`agent health: ${agents.map((a) => `${a.info?.agentId}=${a.health}`).join(', ')}`);
      fresh.raw.close();
      await new Promise((r) => setTimeout(r, 200));
    }
    // THEN it happened, and nothing failed or restarted
    const agentLogs = [...grid.agents.values()].map((a) => a.proc.logs().slice(-2000)).join('\n---\n');
    expect(enough(), `failures: ${failures.slice(0, 5).join('; ')}\nmaster:\n${grid.master.logs().slice(-3000)}\nagents:\n${agentLogs}`).toBe(true);
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(20);
    const after = (await steady.listNodes()).nodes;
    expect(after.map((n) => [n.nodeId, n.agentId, n.pid, n.status]).sort()).toEqual(before.map((n) => [n.nodeId, n.agentId, n.pid, 'running']).sort());
  }, 180_000);
});
