/**
 * A declared leader-replicas cluster is real: the master spawns its nodes as leader and replicas
 * of one term, the replicas follow the leader, serve what was written to it, and refuse writes
 * naming it. Real master, agents and storage-servers.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/agent-processes.js';
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

describe('a declared leader-replicas cluster', () => {
  it('replicates 1,000 writes to the leader onto both replicas, which refuse writes naming the leader', async () => {
    // GIVEN a 3-node leader-replicas cluster over three agents (async: acknowledged once on the leader)
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const ids = ['a1', 'a2', 'a3'];
    await Promise.all(ids.map((id) => grid!.agent(id)));
    // (replaceAfter long: a restarted master waits for every declared agent before it acts on absences)
    const spec = gridSpec(ids.map((id) => ({ id })), [{ name: 'kg', nodes: 3, topology: 'leader-replicas', replication: { durability: 'async' } }], { replaceAfter: '10m' });
    await grid.apply(grid.writeSpec(spec));

    // THEN every node knows its role in one term, and the replicas follow the leader's address
    const { leader, replicas } = await eventually(async () => {
      const r = await roles(grid!, 'kg');
      const following = r.replicas.every((n) => n.replication?.role === 'replica' && n.replication.leader === addressOf(r.leader!) && !n.replication.catchingUp);
      return r.leader?.replication?.role === 'leader' && r.replicas.length === 2 && following ? r : undefined;
    }, 20_000);
    const term = leader!.replication!.term;
    expect(term).toBeGreaterThanOrEqual(1);
    for (const r of replicas) expect(r.replication).toMatchObject({ role: 'replica', term, leader: addressOf(leader!), durability: 'async' });
    expect(leader!.replication).toMatchObject({ role: 'leader', term, durability: 'async' });
    expect((await grid.client.clusterStatus()).clusters[0]).toMatchObject({ name: 'kg', running: 3, desired: 3, leaderNodeId: leader!.nodeId });

    // WHEN 1,000 concepts are written to the leader
    const written = await writeConcepts(client(leader!), 'c', 1000);
    expect(written).toHaveLength(1000);

    // THEN each replica serves every one of them within a bounded lag
    for (const r of replicas) {
      const rc = client(r);
      await eventually(async () => (await missingOn(rc, written)).length === 0, 30_000, 250);
      expect((await rc.queryConcept('c999')).concept?.content).toBe('value c999');
    }
    // ...and the master sees them at the leader's position, not catching up
    await eventually(async () => {
      const r = await roles(grid!, 'kg');
      const at = r.leader?.replication?.logPosition ?? -1;
      return at >= 1000 && r.replicas.every((n) => n.replication?.logPosition === at && n.replication.leaderLogPosition === at && !n.replication.catchingUp);
    }, 20_000, 250);

    // AND a write to a replica is refused FAILED_PRECONDITION naming the leader
    for (const r of replicas) {
      const refused = await codeOf(client(r).learnConcept('nope', 'written to a replica'));
      expect(refused.code, refused.details).toBe(GrpcStatus.FAILED_PRECONDITION);
      expect(refused.details).toContain(addressOf(leader!));
    }
    expect((await client(leader!).queryConcept('nope')).found).toBe(false);

    // WHEN the master restarts, it keeps the cluster's leader and term (kept with the spec)
    const address = grid.master.address;
    await grid.master.stop('SIGTERM');
    await grid.startMaster(address);
    await eventually(async () => (await roles(grid!, 'kg')).all.length === 3, 15_000);
    // Reconcile passes run every 200 ms: a master that lost the term would have raised it by now.
    await new Promise((r) => setTimeout(r, 2000));
    const after = await roles(grid, 'kg');
    expect(after.leader?.nodeId).toBe(leader!.nodeId);
    expect(after.all.map((n) => n.replication?.term)).toEqual([term, term, term]);
    expect(await grid.events('LeaderChanged')).toEqual([]);
  });
});
