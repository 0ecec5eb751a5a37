/**
 * Partitions across hosts (issue 14): a master and two agents in their own network namespaces,
 * with mutual TLS; a host's link is cut by setting its bridge port down (every packet to and from
 * it is lost, as with a pulled cable) and healed by setting it up.
 *
 * - an agent cut off longer than offlineAfter + replaceAfter: its node is replaced on the other
 *   agent; after the heal exactly one copy of each node remains (the stale one was stopped);
 * - cut off for less: nothing is replaced, no node restarts;
 * - the master cut off from every agent: every node keeps running with the same pid, none stopped.
 *
 * "Running" is the node's process alive with its pid, and its agent's report through the master
 * after the heal. (Nodes bind their agent's host under mutual TLS; replicated-partition.test.ts
 * writes to them across hosts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { eventually, isAlive, trackPid } from '../helpers/processes.js';
import { gridSpec } from '../declarative/support/declarative-grid.js';
import type { TestMasterClient } from '../helpers/grid-client.js';
import { TestHosts } from './netns.js';
import { tearDownHosts, TlsGrid } from './support.js';

let hosts: TestHosts | undefined;
let grid: TlsGrid | undefined;

afterEach(async () => {
  await tearDownHosts(hosts, grid);
  hosts = undefined;
  grid = undefined;
});

/** node id -> where and which process, of the nodes the master lists. */
async function placement(c: TestMasterClient): Promise<Map<string, NodeInfo[]>> {
  const out = new Map<string, NodeInfo[]>();
  for (const n of (await c.listNodes()).nodes) out.set(n.nodeId, [...(out.get(n.nodeId) ?? []), n]);
  return out;
}

/** A grid of m, a1, a2 with a cluster of two nodes, one on each agent, all running. */
async function twoNodeGrid(replaceAfter: string): Promise<{ c: TestMasterClient; before: Map<string, NodeInfo> }> {
  hosts = TestHosts.create(['m', 'a1', 'a2']);
  grid = new TlsGrid(hosts);
  await grid.start();
  await grid.agent('a1', 'a1');
  await grid.agent('a2', 'a2');
  const c = grid.client(grid.admin());
  await eventually(async () => (await c.listAgents()).agents.length === 2, 30_000);
  const spec = gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 2, placement: 'spread' }], { replaceAfter });
  await c.applySpec(JSON.stringify(spec));
  const running = await eventually(async () => {
    const nodes = (await c.listNodes()).nodes;
    return nodes.length === 2 && nodes.every((n) => n.status === 'running' && n.pid > 0) ? nodes : undefined;
  }, 60_000);
  for (const n of running) trackPid(n.pid);
  expect(new Set(running.map((n) => n.agentId))).toEqual(new Set(['a1', 'a2']));
  return { c, before: new Map(running.map((n) => [n.nodeId, n])) };
}

describe('partitions across hosts', () => {
  it('an agent cut off past replaceAfter: its node is replaced elsewhere; after the heal one copy of each node remains', async () => {
    const { c, before } = await twoNodeGrid('1s');
    const onA1 = [...before.values()].find((n) => n.agentId === 'a1')!;
    // WHEN a1's link is cut
    hosts!.cut('a1');
    // THEN its node is recreated on a2
    await eventually(async () => (await placement(c)).get(onA1.nodeId)?.some((n) => n.agentId === 'a2' && n.status === 'running'), 60_000);
    // WHEN the link heals
    hosts!.heal('a1');
    // THEN a1 is back, and each node has exactly one copy: the stale one on a1 is stopped
    await eventually(async () => (await c.listAgents()).agents.find((a) => a.info?.agentId === 'a1')?.health === 'healthy', 30_000);
    const healed = await eventually(async () => {
      const p = await placement(c);
      const single = [...p.values()].every((copies) => copies.length === 1 && copies[0]!.status === 'running');
      return p.size === 2 && single ? p : undefined;
    }, 60_000);
    expect(healed.get(onA1.nodeId)![0]!.agentId).toBe('a2');
    await eventually(() => !isAlive(onA1.pid), 30_000);
  }, 180_000);

  it('an agent cut off for less than replaceAfter: nothing is replaced, no node restarts', async () => {
    const { c, before } = await twoNodeGrid('20s');
    hosts!.cut('a1');
    // Long enough for the master to hold a1 offline (offlineAfter 1.6 s), far below offlineAfter + replaceAfter.
    await eventually(async () => (await c.listAgents()).agents.find((a) => a.info?.agentId === 'a1')?.health === 'offline', 30_000);
    hosts!.heal('a1');
    await eventually(async () => (await c.listAgents()).agents.every((a) => a.health === 'healthy'), 30_000);
    const after = await placement(c);
    expect(after.size).toBe(2);
    for (const [id, n] of before) {
      expect(after.get(id)).toHaveLength(1);
      expect(after.get(id)![0]).toMatchObject({ agentId: n.agentId, pid: n.pid, status: 'running' });
      expect(isAlive(n.pid)).toBe(true);
    }
  }, 180_000);

  it('the master cut off from every agent: nodes keep running, none is stopped or moved', async () => {
    const { c, before } = await twoNodeGrid('1s');
    hosts!.cut('m');
    // Past offlineAfter + replaceAfter on the master's clock, nodes must live on.
    const cutAt = Date.now();
    await eventually(() => Date.now() - cutAt > 6000 && [...before.values()].every((n) => isAlive(n.pid)), 20_000);
    for (const n of before.values()) expect(isAlive(n.pid)).toBe(true);
    hosts!.heal('m');
    await eventually(async () => (await c.listAgents()).agents.filter((a) => a.health === 'healthy').length === 2, 30_000);
    // Give the reconciler passes after the agents' return the chance to do something wrong.
    const settled = await eventually(async () => {
      const p = await placement(c);
      return p.size === 2 && [...p.values()].every((copies) => copies.length === 1 && copies[0]!.status === 'running') ? p : undefined;
    }, 30_000);
    for (const [id, n] of before) {
      expect(settled.get(id)![0]).toMatchObject({ agentId: n.agentId, pid: n.pid });
      expect(isAlive(n.pid)).toBe(true);
    }
  }, 180_000);
});
