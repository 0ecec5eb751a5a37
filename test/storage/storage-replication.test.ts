/**
 * Leader and replicas as real storage-server processes: replicas follow the leader's log (from their
 * own durable position, or from the start when new), hold its records byte for byte, serve reads,
 * and refuse writes naming the leader.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/agent-processes.js';
import { cleanup, eventually, runCli, tempDir } from '../helpers/processes.js';
import {
  atPosition,
  leaderArgs,
  logBytes,
  missingOn,
  replicaArgs,
  replicationClients,
  ReplicationClient,
  restartNode,
  startNode,
  StorageRole,
  writeConcepts,
} from './support/replication.js';

afterEach(cleanup);

const client = replicationClients();

/** Waits until `replica` holds as many records as `leader` (the logs are then compared byte for byte). */
async function converged(replica: ReplicationClient, leader: ReplicationClient): Promise<void> {
  await atPosition(replica, (await leader.status()).logPosition);
}

describe('storage-server replication', () => {
  it('serves 1,000 writes to the leader from both replicas within a bounded lag, their logs identical to the leader\'s', async () => {
    const leader = await startNode(leaderArgs('kg-0'));
    const [r1, r2] = await Promise.all([startNode(replicaArgs('kg-1', leader.address)), startNode(replicaArgs('kg-2', leader.address))]);
    const [lc, c1, c2] = [client(leader.address), client(r1.address), client(r2.address)];

    const acked = await writeConcepts(lc.data, 'c', 1000);
    expect(acked).toHaveLength(1000);
    await lc.data.learnAssociation({ sourceId: 'c1', targetId: 'c2', type: 'next', confidence: 0.5 });
    // The lag bound: 20 s on a loaded 2-core host; replication of this much takes well under one.
    await Promise.all([converged(c1, lc), converged(c2, lc)]);

    for (const c of [c1, c2]) {
      expect(await missingOn(c.data, acked)).toEqual([]);
      expect((await c.data.neighbors('c2')).associations).toEqual([{ sourceId: 'c1', targetId: 'c2', type: 'next', confidence: 0.5 }]);
      expect(await c.status()).toMatchObject({ role: StorageRole.STORAGE_ROLE_REPLICA, term: 1, leader: leader.address, logPosition: 1001, lastLogTerm: 1, catchingUp: false, connected: true });
    }
    expect(logBytes(r1)).toEqual(logBytes(leader));
    expect(logBytes(r2)).toEqual(logBytes(leader));
    const ls = await lc.status();
    expect(ls).toMatchObject({ role: StorageRole.STORAGE_ROLE_LEADER, term: 1, logPosition: 1001, appliedPosition: 1001 });
    await eventually(async () => (await lc.status()).replicas.every((r) => r.ackedPosition === 1001), 10_000);
    expect((await lc.status()).replicas.map((r) => [r.replicaId, r.connected, r.catchingUp]).sort()).toEqual([
      ['kg-1', true, false],
      ['kg-2', true, false],
    ]);
    // Replication streams do not hold a stop: the leader drains and exits 0 before the SIGKILL fallback.
    expect(await leader.proc.stop('SIGTERM', 8_000)).toEqual({ code: 0, signal: null });
    await eventually(async () => (await c1.status()).connected === false, 10_000);
    expect((await c1.status()).catchingUp).toBe(true);
  });

  it('two copies of one replica (a move starting the new copy first) stream side by side; a restarted copy replaces its own stream only', async () => {
    const leader = await startNode(leaderArgs('kg-0', 1, ['--durability', 'sync', '--sync-quorum', '1']));
    const lc = client(leader.address);
    const old = await startNode(replicaArgs('kg-1', leader.address));
    const first = await writeConcepts(lc.data, 'a', 100);
    // WHEN a second copy of kg-1 starts elsewhere (its own data dir) while the first streams
    const fresh = await startNode(replicaArgs('kg-1', leader.address));
    const more = await writeConcepts(lc.data, 'b', 100);
    // THEN both hold everything, and the leader keeps two connected streams for kg-1
    await Promise.all([converged(client(old.address), lc), converged(client(fresh.address), lc)]);
    for (const n of [old, fresh]) expect(await missingOn(client(n.address).data, [...first, ...more])).toEqual([]);
    await eventually(async () => {
      const r = (await lc.status()).replicas;
      return r.length === 2 && r.every((x) => x.replicaId === 'kg-1' && x.connected && !x.catchingUp && x.ackedPosition === 200);
    }, 10_000);
    // WHEN the old copy stops (the move's end) THEN sync writes go on through the new one
    await old.proc.stop('SIGTERM', 8_000);
    expect(await writeConcepts(lc.data, 'c', 10)).toHaveLength(10);
    // ...and a restart of the new copy replaces the gone copy's session instead of adding one
    await fresh.proc.stop('SIGTERM', 8_000);
    const again = await restartNode(fresh);
    await converged(client(again.address), lc);
    await eventually(async () => {
      const r = (await lc.status()).replicas;
      return r.length === 1 && r[0]!.connected;
    }, 10_000);
  });

  it('refuses writes on a replica with FAILED_PRECONDITION naming the leader, and serves reads', async () => {
    const leader = await startNode(leaderArgs('kg-0'));
    const replica = await startNode(replicaArgs('kg-1', leader.address));
    const [lc, rc] = [client(leader.address), client(replica.address)];

    const concept = await codeOf(rc.data.learnConcept('x', 'refused'));
    expect(concept.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(concept.details).toContain(`leader at ${leader.address}`);
    const assoc = await codeOf(rc.data.learnAssociation({ sourceId: 'a', targetId: 'b', type: 't', confidence: 1 }));
    expect(assoc.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(assoc.details).toContain(leader.address);

    await lc.data.learnConcept('k', 'from the leader');
    await eventually(async () => (await rc.data.queryConcept('k')).concept?.content === 'from the leader');
    expect((await rc.data.queryConcept('x')).found).toBe(false);
  });

  it('a replica restarted after missing writes catches up from its own position', async () => {
    const leader = await startNode(leaderArgs('kg-0'));
    const replica = await startNode(replicaArgs('kg-1', leader.address));
    const lc = client(leader.address);
    const first = await writeConcepts(lc.data, 'a', 200);
    await converged(client(replica.address), lc);
    await replica.proc.stop('SIGKILL');

    const second = await writeConcepts(lc.data, 'b', 300);
    const again = await restartNode(replica);
    const rc = client(again.address);
    await converged(rc, lc);
    expect(await missingOn(rc.data, [...first, ...second])).toEqual([]);
    // Byte for byte: a replica that fetched again what it had would hold records twice.
    expect(logBytes(again)).toEqual(logBytes(leader));
  });

  it('a new replica starting empty copies the whole log', async () => {
    const leader = await startNode(leaderArgs('kg-0'));
    const lc = client(leader.address);
    const ids = await writeConcepts(lc.data, 'n', 500);
    for (let i = 1; i < 50; i++) await lc.data.learnAssociation({ sourceId: `n${i - 1}`, targetId: `n${i}`, type: 'next', confidence: 1 });
    await lc.data.learnConcept('n0', 'rewritten');

    const replica = await startNode(replicaArgs('kg-9', leader.address));
    const rc = client(replica.address);
    await converged(rc, lc);
    expect(await missingOn(rc.data, ids)).toEqual([]);
    expect((await rc.data.queryConcept('n0')).concept?.content).toBe('rewritten');
    expect((await rc.data.neighbors('n10')).associations.map((a) => a.sourceId)).toEqual(['n9', 'n10']);
    expect(logBytes(replica)).toEqual(logBytes(leader));
  });

  it('refuses bad replication flags with one line naming the flag and exit 1', async () => {
    const dir = tempDir('repl-');
    const cases: Array<[string[], string]> = [
      [['--role', 'primary'], '--role'],
      [['--role', 'replica', '--node-id', 'kg-1', '--leader', 'nohost'], '--leader'],
      [['--role', 'replica', '--leader', '127.0.0.1:1'], '--node-id'],
      [['--role', 'leader', '--term', 'two'], '--term'],
      [['--role', 'leader', '--durability', 'eventual'], '--durability'],
      [['--role', 'leader', '--durability', 'sync', '--sync-quorum', '0'], '--sync-quorum'],
      [['--role', 'leader', '--durability', 'sync', '--sync-timeout', 'soon'], '--sync-timeout'],
    ];
    for (const [args, flag] of cases) {
      const res = await runCli(['storage-server', '--port', '0', '--storage-path', dir, ...args]);
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(res.stderr, args.join(' ')).toContain(flag);
    }
  });
});
