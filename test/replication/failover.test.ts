/**
 * Failover keeps acknowledged writes: a sync leader-replicas cluster loses its leader's host (its
 * agent and its storage process killed with -9) while a client writes; the master promotes the
 * replica holding the most in a new term, every acknowledged write is on it, and the old leader,
 * back with its host, rejoins as a replica of the new term, refuses writes and converges. Real
 * master, agents and storage-servers; timing bounds are generous ceilings only.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/agent-processes.js';
import { eventually, isAlive, trackPid } from '../helpers/processes.js';
import { DeclarativeGrid, gridSpec } from '../declarative/support/declarative-grid.js';
import { addressOf, ContinuousWriter, missingOn, roles, storageClients, writeConcepts } from './support.js';

let grid: DeclarativeGrid | undefined;
const client = storageClients();

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

describe('failover of a sync leader-replicas cluster', () => {
  it('promotes the replica holding every acknowledged write when the leader host is lost; the old leader rejoins as a replica', async () => {
    // GIVEN a 3-node sync cluster (quorum 1) over three agents; nodes are not replaced while away
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const ids = ['a1', 'a2', 'a3'];
    await Promise.all(ids.map((id) => grid!.agent(id)));
    const spec = gridSpec(ids.map((id) => ({ id })), [{ name: 'kg', nodes: 3, topology: 'leader-replicas', replication: { durability: 'sync', syncQuorum: 1 } }], { replaceAfter: '10m' });
    await grid.apply(grid.writeSpec(spec));
    const before = await eventually(async () => {
      const r = await roles(grid!, 'kg');
      return r.leader?.replication?.role === 'leader' && r.replicas.length === 2 && r.replicas.every((n) => n.replication?.leader === addressOf(r.leader!)) ? r : undefined;
    }, 20_000);
    const oldLeader = before.leader!;
    const oldTerm = oldLeader.replication!.term;

    // ...and clients writing to the leader all along, four writes in flight
    const writers = ['w', 'x', 'y', 'z'].map((prefix) => new ContinuousWriter(client(oldLeader), prefix));
    const acked = (): string[] => writers.flatMap((w) => w.acked);
    await eventually(() => acked().length >= 200, 20_000);

    // WHEN the leader's host is lost: its agent and its storage process killed with -9
    trackPid(oldLeader.pid);
    await grid.agentProcess(oldLeader.agentId).stop('SIGKILL');
    process.kill(oldLeader.pid, 'SIGKILL');
    const lostAt = Date.now();

    // THEN a replica is promoted in a later term, without waiting for replaceAfter
    const promoted = await eventually(async () => {
      const events = await grid!.events('LeaderChanged');
      return events.find((e) => e.cluster === 'kg' && e.nodeId !== oldLeader.nodeId && (e.payload['term'] as number) > oldTerm);
    }, 30_000, 200);
    const failoverMs = Date.now() - lostAt;
    await Promise.all(writers.map((w) => w.stop()));
    expect(failoverMs, 'failover time (offlineAfter is 1.6 s)').toBeLessThan(20_000);
    const newTerm = promoted.payload['term'] as number;
    const newLeader = await eventually(async () => {
      const n = (await roles(grid!, 'kg')).all.find((x) => x.nodeId === promoted.nodeId && x.agentId !== oldLeader.agentId);
      return n?.replication?.role === 'leader' && n.replication.term === newTerm ? n : undefined;
    }, 15_000);

    // ...the role changes are events: the new leader, and the other replica following it in the new term
    const roleChanges = await eventually(async () => {
      const events = (await grid!.events('RoleChanged')).filter((e) => e.payload['term'] === newTerm);
      return events.length >= 2 ? events : undefined;
    }, 10_000);
    expect(roleChanges.find((e) => e.nodeId === newLeader.nodeId)?.payload).toEqual({ role: 'leader', term: newTerm });
    expect(roleChanges.find((e) => e.nodeId !== newLeader.nodeId && e.nodeId !== oldLeader.nodeId)?.payload).toEqual({ role: 'replica', term: newTerm, leader: addressOf(newLeader) });

    // ...holding every write that was acknowledged
    expect(acked().length).toBeGreaterThanOrEqual(200);
    const nc = client(newLeader);
    expect(await missingOn(nc, acked())).toEqual([]);

    // ...and it takes writes (the other replica now follows it and acknowledges them)
    const after = await writeConcepts(nc, 'after', 50, 4);
    expect(after).toHaveLength(50);

    // WHEN the old leader's host returns (its agent restarted; the node's data dir is still there)
    expect(isAlive(oldLeader.pid)).toBe(false);
    await grid.agent(oldLeader.agentId);

    // THEN its node comes back as a replica of the new term, following the new leader, caught up
    const rejoined = await eventually(async () => {
      const n = (await roles(grid!, 'kg')).all.find((x) => x.nodeId === oldLeader.nodeId);
      const r = n?.replication;
      return r?.role === 'replica' && r.term === newTerm && r.leader === addressOf(newLeader) && !r.catchingUp ? n : undefined;
    }, 30_000, 200);
    expect(rejoined.agentId).toBe(oldLeader.agentId);
    expect(rejoined.role).toBe('replica');
    // ...refuses writes, naming the new leader
    const oc = client(rejoined);
    // (The first calls may find the channel still backing off from the old process on this port.)
    const refused = await eventually(async () => {
      const r = await codeOf(oc.learnConcept('stale', 'written to the old leader'));
      return r.code !== GrpcStatus.UNAVAILABLE ? r : undefined;
    }, 10_000, 200);
    expect(refused.code, refused.details).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(refused.details).toContain(addressOf(newLeader));
    // ...and converges to the new leader's data
    await eventually(async () => (await missingOn(oc, [...acked(), ...after])).length === 0, 30_000, 250);
    // Exactly one leader, in the new term, and the cluster whole again.
    await eventually(async () => (await grid!.client.clusterStatus()).clusters[0]?.running === 3, 20_000);
    const final = await roles(grid, 'kg');
    expect(final.all.filter((n) => n.replication?.role === 'leader').map((n) => n.nodeId)).toEqual([newLeader.nodeId]);
    expect((await grid.client.clusterStatus()).clusters[0]).toMatchObject({ leaderNodeId: newLeader.nodeId, running: 3, desired: 3 });
  });
});
