/**
 * Scale-out gets the data: new replicas of a cluster that already holds 10,000 writes copy all of
 * it before they count as running, so `apply` returns only once they hold it. Real master, agents
 * and storage-servers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/processes.js';
import { DeclarativeGrid, gridSpec } from '../declarative/support/declarative-grid.js';
import { addressOf, missingOn, roles, storageClients, writeConcepts } from './support.js';

let grid: DeclarativeGrid | undefined;
const client = storageClients();

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

describe('scale-out of a leader-replicas cluster', () => {
  it('new replicas hold all 10,000 earlier writes by the time apply says they run', async () => {
    // GIVEN a one-node leader-replicas cluster holding 10,000 writes
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const ids = ['a1', 'a2', 'a3'];
    await Promise.all(ids.map((id) => grid!.agent(id)));
    const agents = ids.map((id) => ({ id }));
    await grid.apply(grid.writeSpec(gridSpec(agents, [{ name: 'kg', nodes: 1, topology: 'leader-replicas' }])));
    const { leader } = await roles(grid, 'kg');
    expect(leader?.replication).toMatchObject({ role: 'leader', durability: 'async' });
    const written = await writeConcepts(client(leader!), 'd', 10_000, 32);

    // WHEN it is scaled to three nodes (its durability becomes sync: the default with replicas)
    await grid.apply(grid.writeSpec(gridSpec(agents, [{ name: 'kg', nodes: 3, topology: 'leader-replicas' }])), '90s');

    // THEN once apply returns, every replica already serves every earlier write
    const after = await roles(grid, 'kg');
    expect(after.leader?.nodeId).toBe(leader!.nodeId);
    expect(after.replicas).toHaveLength(2);
    for (const r of after.replicas) {
      expect(r.replication).toMatchObject({ role: 'replica', leader: addressOf(leader!), catchingUp: false });
      expect(r.replication!.logPosition, r.nodeId).toBeGreaterThanOrEqual(written.length);
      const rc = client(r);
      for (let i = 0; i < written.length; i += 1000) expect(await missingOn(rc, written.slice(i, i + 1000)), r.nodeId).toEqual([]);
    }
    // ...and the leader now acknowledges writes once a replica holds them too
    await eventually(async () => (await roles(grid!, 'kg')).leader?.replication?.durability === 'sync', 10_000);
    expect(await writeConcepts(client(leader!), 'e', 20, 4)).toHaveLength(20);
  }, 180_000);
});
