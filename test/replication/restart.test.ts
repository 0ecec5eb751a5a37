/**
 * `sutra-grid restart NODE`: one node stopped and started again in place by its agent, keeping its
 * data: a replica, the leader (which hands over first and comes back as a replica), and a
 * standalone node (whose data nothing but its own disk could give back). Real master, agents and
 * storage-servers; timing bounds are generous ceilings only.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/agent-processes.js';
import { eventually, isAlive, runCli, trackPid } from '../helpers/processes.js';
import { DeclarativeGrid } from '../declarative/support/declarative-grid.js';
import { settledCluster } from './handover-support.js';
import { addressOf, missingOn, roles, storageClients, writeConcepts } from './support.js';

let grid: DeclarativeGrid | undefined;
const client = storageClients();

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

/** `sutra-grid restart NODE`, which must succeed; its one line. */
async function restart(nodeId: string): Promise<string> {
  const res = await runCli(['restart', nodeId, '--master', grid!.master.address], { timeoutMs: 120_000 });
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.trim();
}

describe('restart', () => {
  it('restarts a replica and the leader in place, keeping their data; the leader hands over first', async () => {
    // GIVEN a settled async cluster holding 300 writes
    const c = await settledCluster('async');
    grid = c.grid;
    const written = await writeConcepts(client(c.leader), 'k', 300, 16);
    const replica = c.replicas[0]!;
    await eventually(async () => (await missingOn(client(replica), written)).length === 0, 60_000, 200);

    // WHEN a replica is restarted
    trackPid(replica.pid);
    const line = await restart(replica.nodeId);

    // THEN it runs again under a new process on the same agent and data dir, as a replica of the same leader, with every write
    expect(line).toMatch(new RegExp(`^node ${replica.nodeId} restarted on agent ${replica.agentId}: running \\(pid \\d+, port \\d+\\)$`));
    expect(isAlive(replica.pid)).toBe(false);
    const back = await eventually(async () => {
      const n = (await roles(grid!, 'kg')).all.find((x) => x.nodeId === replica.nodeId);
      return n?.replication?.role === 'replica' && n.replication.leader === addressOf(c.leader) && !n.replication.catchingUp ? n : undefined;
    }, 60_000);
    expect(back.pid).not.toBe(replica.pid);
    expect(back.agentId).toBe(replica.agentId);
    expect(back.storagePath).toBe(replica.storagePath);
    expect(back.replication!.term).toBe(c.leader.replication!.term);
    expect(await missingOn(client(back), written)).toEqual([]);

    // WHEN the leader is restarted
    trackPid(c.leader.pid);
    const leaderLine = await restart(c.leader.nodeId);

    // THEN a caught-up replica took over first, in the next term, with every write
    const handedTo = /; (\S+) leads its cluster now$/.exec(leaderLine)?.[1];
    expect(handedTo, leaderLine).toBeDefined();
    expect(c.replicas.map((n) => n.nodeId)).toContain(handedTo);
    const term = c.leader.replication!.term + 1;
    const after = await eventually(async () => {
      const r = await roles(grid!, 'kg');
      const old = r.all.find((x) => x.nodeId === c.leader.nodeId);
      const settled = r.leader !== undefined && r.leader.nodeId === handedTo && r.leader.replication?.term === term && old?.replication?.role === 'replica' && !old.replication.catchingUp;
      return settled && old.replication!.leader === addressOf(r.leader!) ? { leader: r.leader!, old } : undefined;
    }, 60_000);
    // ...and the old leader runs again under a new process, as a replica holding every write, refusing writes
    expect(isAlive(c.leader.pid)).toBe(false);
    expect(after.old.pid).not.toBe(c.leader.pid);
    expect(after.old.storagePath).toBe(c.leader.storagePath);
    expect(await missingOn(client(after.leader), written)).toEqual([]);
    expect(await missingOn(client(after.old), written)).toEqual([]);
    const refused = await eventually(async () => {
      const r = await codeOf(client(after.old).learnConcept('late', 'to the old leader'));
      return r.code !== GrpcStatus.UNAVAILABLE ? r : undefined;
    }, 10_000, 200);
    expect(refused.code, refused.details).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(refused.details).toContain(addressOf(after.leader));
    // ...both restarts are events, the leader's saying it handed over
    const events = await eventually(async () => {
      const e = (await grid!.events('NodeRestarted')).filter((x) => typeof x.payload['reason'] === 'string');
      return e.length >= 2 ? e : undefined;
    }, 10_000);
    expect(events.map((e) => e.nodeId).sort()).toEqual([c.leader.nodeId, replica.nodeId].sort());
    expect(events.find((e) => e.nodeId === c.leader.nodeId)?.payload['reason']).toBe(`restarted by an operator after handing leadership over to ${handedTo}`);
  }, 300_000);

  it('restarts a standalone node with its data, from its own disk', async () => {
    // GIVEN a standalone node holding 200 writes
    const c = await settledCluster('async', [{ name: 'solo', nodes: 1, topology: 'standalone' }]);
    grid = c.grid;
    const solo = await eventually(async () => (await grid!.nodes('solo')).find((n) => n.status === 'running'), 60_000);
    const written = await writeConcepts(client(solo), 's', 200, 16);

    // WHEN it is restarted
    trackPid(solo.pid);
    await restart(solo.nodeId);

    // THEN it runs under a new process, on its own data, with every write and taking new ones
    const back = await eventually(async () => (await grid!.nodes('solo')).find((n) => n.status === 'running' && n.pid !== solo.pid), 60_000);
    expect(isAlive(solo.pid)).toBe(false);
    expect(back.storagePath).toBe(solo.storagePath);
    expect(await missingOn(client(back), written)).toEqual([]);
    expect((await codeOf(client(back).learnConcept('new', 'after the restart'))).code).toBe(0);
    // ...and the reconciler left it alone: one copy, not restarted again
    await new Promise((r) => setTimeout(r, 1500));
    const copies = (await grid.nodes('solo')).filter((n) => n.nodeId === solo.nodeId);
    expect(copies.map((n) => n.pid)).toEqual([back.pid]);
  }, 180_000);

  it('an unknown node is NOT_FOUND: one line, exit 1', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const res = await runCli(['restart', 'no-such-node', '--master', grid.master.address]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('node "no-such-node" not found');
  }, 120_000);
});
