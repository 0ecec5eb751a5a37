/**
 * Sync durability with real storage-server processes: a write is acknowledged only once a replica
 * holds it durably; without one it fails UNAVAILABLE and reads do not show it.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/agent-processes.js';
import { cleanup, eventually } from '../helpers/processes.js';
import { leaderArgs, missingOn, replicaArgs, replicationClients, restartNode, startNode, StorageRole } from './support/replication.js';

afterEach(cleanup);

const client = replicationClients();

const sync = (timeout: string): string[] => ['--durability', 'sync', '--sync-timeout', timeout];

describe('storage-server sync durability', () => {
  it('with no replica, a write fails UNAVAILABLE after --sync-timeout and reads do not show it', async () => {
    const leader = await startNode(leaderArgs('kg-0', 1, sync('1s')));
    const lc = client(leader.address);
    const t0 = Date.now();
    const res = await codeOf(lc.data.learnConcept('s1', 'unacknowledged'));
    expect(res.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(res.details).toMatch(/not acknowledged: 0 of the 1 replica/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect((await lc.data.queryConcept('s1')).found).toBe(false);
    expect(await lc.status()).toMatchObject({ role: StorageRole.STORAGE_ROLE_LEADER, logPosition: 1, appliedPosition: 0 });
    const assoc = await codeOf(lc.data.learnAssociation({ sourceId: 'a', targetId: 'b', type: 't', confidence: 1 }));
    expect(assoc.code).toBe(GrpcStatus.UNAVAILABLE);
    expect((await lc.data.neighbors('a')).associations).toEqual([]);

    // The failed writes were durable on the leader, their outcome unknown (as the error says): a
    // replica that arrives takes them, and from then on they are committed and read.
    const replica = await startNode(replicaArgs('kg-1', leader.address));
    await eventually(async () => (await lc.data.queryConcept('s1')).found, 15_000);
    expect((await client(replica.address).data.queryConcept('s1')).found).toBe(true);
    expect((await lc.data.learnConcept('s2', 'acknowledged')).created).toBe(true);
  });

  it('with a replica, every acknowledged write is on the replica when acknowledged, and survives the loss of the leader', async () => {
    const leader = await startNode(leaderArgs('kg-0', 1, sync('3s')));
    const replica = await startNode(replicaArgs('kg-1', leader.address));
    const [lc, rc] = [client(leader.address), client(replica.address)];
    await eventually(async () => (await lc.status()).replicas.some((r) => r.connected), 10_000);

    // One at a time: at each acknowledgement, the replica already serves the write.
    for (let i = 0; i < 50; i++) {
      await lc.data.learnConcept(`seq${i}`, `v${i}`);
      expect((await rc.data.queryConcept(`seq${i}`)).found, `seq${i}`).toBe(true);
    }

    // Concurrent writers while the replica dies (kill -9), then the leader's host is lost too.
    const acked: string[] = [];
    let failed = 0;
    let next = 0;
    const writer = async (): Promise<void> => {
      while (failed === 0 && next < 10_000) {
        const id = `par${next++}`;
        try {
          await lc.data.learnConcept(id, 'v');
          acked.push(id);
        } catch (err) {
          expect((err as { code: number }).code).toBe(GrpcStatus.UNAVAILABLE);
          failed++;
        }
      }
    };
    const writers = Promise.all(Array.from({ length: 16 }, writer));
    await eventually(() => acked.length >= 100, 20_000, 5);
    await replica.proc.stop('SIGKILL');
    await writers;
    expect(failed).toBeGreaterThan(0);
    await leader.proc.stop('SIGKILL');

    // The replica alone (its leader gone) still holds every write that was acknowledged.
    const again = await restartNode(replica);
    const ac = client(again.address);
    expect(await missingOn(ac.data, [...acked, ...Array.from({ length: 50 }, (_, i) => `seq${i}`)])).toEqual([]);
  });
});
