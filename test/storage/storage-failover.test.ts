/**
 * Terms and failover with real storage-server processes: promotion by SetRole with a higher term,
 * the old leader rejoining as a replica (its unreplicated suffix cut back and set aside), a deposed
 * leader learning the new term from a replica, and stale terms refused.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { unframe } from '../../runtime/storage/record-log.js';
import { codeOf } from '../helpers/agent-processes.js';
import { cleanup, eventually } from '../helpers/processes.js';
import {
  atPosition,
  leaderArgs,
  logBytes,
  missingOn,
  replicaArgs,
  replicationClients,
  restartNode,
  startNode,
  StorageRole,
  writeConcepts,
} from './support/replication.js';

afterEach(cleanup);

const client = replicationClients();

describe('storage-server failover', () => {
  it('promotes a replica with a higher term; the old leader rejoins as a replica, refuses writes and converges to the new leader', async () => {
    // GIVEN a leader in term 1 with two replicas holding its first 100 writes
    const a = await startNode(leaderArgs('kg-0'));
    const [b0, c0] = await Promise.all([startNode(replicaArgs('kg-1', a.address)), startNode(replicaArgs('kg-2', a.address))]);
    const ac = client(a.address);
    const kept = await writeConcepts(ac.data, 'k', 100);
    await Promise.all([atPosition(client(b0.address), 100), atPosition(client(c0.address), 100)]);

    // and 20 writes acknowledged by the async leader that no replica received (replicas down:
    // paused ones could still read what reached their sockets)
    await Promise.all([b0.proc.stop('SIGKILL'), c0.proc.stop('SIGKILL')]);
    const lost = await writeConcepts(ac.data, 'lost', 20);
    expect(lost).toHaveLength(20);
    await a.proc.stop('SIGKILL');
    const [b, c] = await Promise.all([restartNode(b0), restartNode(c0)]);
    const [bc, cc] = [client(b.address), client(c.address)];

    // WHEN the grid promotes kg-1 in term 2 and points kg-2 at it
    expect(await bc.setRole(StorageRole.STORAGE_ROLE_LEADER, 2)).toMatchObject({ role: StorageRole.STORAGE_ROLE_LEADER, term: 2, logPosition: 100 });
    expect(await cc.setRole(StorageRole.STORAGE_ROLE_REPLICA, 2, b.address)).toMatchObject({ role: StorageRole.STORAGE_ROLE_REPLICA, term: 2, leader: b.address });
    const later = await writeConcepts(bc.data, 'n', 50);
    await atPosition(cc, 150);

    // and the old leader comes back with its first flags, then is told to follow the new leader
    const a2 = await restartNode(a);
    const a2c = client(a2.address);
    expect((await a2c.status()).term).toBe(1);
    await a2c.setRole(StorageRole.STORAGE_ROLE_REPLICA, 2, b.address);

    // THEN it refuses writes naming the new leader, and holds exactly the new leader's log
    const refused = await codeOf(a2c.data.learnConcept('x', 'y'));
    expect(refused.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(refused.details).toContain(b.address);
    await atPosition(a2c, 150);
    expect(logBytes(a2)).toEqual(logBytes(b));
    expect(await missingOn(a2c.data, [...kept, ...later])).toEqual([]);
    // The async writes nobody else had are gone from its data, and set aside beside its log.
    expect(await missingOn(a2c.data, lost)).toEqual(lost);
    const aside = readdirSync(a.path).filter((f) => f.startsWith('store.log.diverged-'));
    expect(aside).toHaveLength(1);
    const setAside = unframe(readFileSync(join(a.path, aside[0]!))).payloads.map((p) => (JSON.parse(p.toString()) as { id: string }).id);
    expect(setAside.sort()).toEqual([...lost].sort());
    expect(logBytes(c)).toEqual(logBytes(b));

    // AND restarted again with its first flags (leader, term 1), it stays a replica of term 2
    await a2.proc.stop('SIGTERM');
    const a3 = await restartNode(a);
    const a3c = client(a3.address);
    expect(await a3c.status()).toMatchObject({ role: StorageRole.STORAGE_ROLE_REPLICA, term: 2, leader: b.address });
    expect((await codeOf(a3c.data.learnConcept('x', 'y'))).code).toBe(GrpcStatus.FAILED_PRECONDITION);
  });

  it('a leader the grid does not reach learns the new term from a replica and steps down to follow the new leader', async () => {
    const a = await startNode(leaderArgs('kg-0'));
    const [b, c] = await Promise.all([startNode(replicaArgs('kg-1', a.address)), startNode(replicaArgs('kg-2', a.address))]);
    const [ac, bc, cc] = [client(a.address), client(b.address), client(c.address)];
    await writeConcepts(ac.data, 'k', 30);
    await Promise.all([atPosition(bc, 30), atPosition(cc, 30)]);

    await bc.setRole(StorageRole.STORAGE_ROLE_LEADER, 2);
    // kg-2, moved to the new leader, tells the old one about term 2; nobody calls kg-0.
    await cc.setRole(StorageRole.STORAGE_ROLE_REPLICA, 2, b.address);
    await eventually(async () => (await ac.status()).role === StorageRole.STORAGE_ROLE_REPLICA, 10_000);
    expect(await ac.status()).toMatchObject({ role: StorageRole.STORAGE_ROLE_REPLICA, term: 2, leader: b.address });
    const refused = await codeOf(ac.data.learnConcept('x', 'y'));
    expect(refused.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(refused.details).toContain(b.address);
    await bc.data.learnConcept('after', 'the failover');
    await eventually(async () => (await ac.data.queryConcept('after')).found, 10_000);
  });

  it('refuses messages and assignments of a stale term', async () => {
    const a = await startNode(leaderArgs('kg-0', 3));
    const r = await startNode(replicaArgs('kg-1', a.address, 3));
    const [ac, rc] = [client(a.address), client(r.address)];
    await ac.data.learnConcept('k', 'v');
    await atPosition(rc, 1);

    const lower = await codeOf(ac.setRole(StorageRole.STORAGE_ROLE_LEADER, 2));
    expect(lower.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(lower.details).toMatch(/term 2 is older than this node's term 3/);
    // A new leader needs a term above every term the node has seen.
    const sameTerm = await codeOf(rc.setRole(StorageRole.STORAGE_ROLE_LEADER, 3));
    expect(sameTerm.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(sameTerm.details).toContain('a replica becomes leader only in a term above 3');
    // The leader of term 3 cannot become a replica within term 3.
    expect((await codeOf(ac.setRole(StorageRole.STORAGE_ROLE_REPLICA, 3, r.address))).code).toBe(GrpcStatus.FAILED_PRECONDITION);
    // An ack from a lower term.
    const ack = await codeOf(ac.ack('kg-1', 2, 1));
    expect(ack.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(ack.details).toContain('term 2 is older');
    // A leader stream of a lower term: a node of term 1 asked to feed a replica of term 3.
    const stale = await startNode(leaderArgs('old', 1));
    const sc = client(stale.address);
    await sc.data.learnConcept('stale', 'write');
    await rc.setRole(StorageRole.STORAGE_ROLE_REPLICA, 3, stale.address);
    // The stale leader learns term 3 from the replica's request and steps down; nothing of it is applied.
    await eventually(async () => (await sc.status()).role === StorageRole.STORAGE_ROLE_REPLICA, 10_000);
    expect((await sc.status()).term).toBe(3);
    expect((await codeOf(sc.data.learnConcept('more', 'refused'))).code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect((await rc.data.queryConcept('stale')).found).toBe(false);
    expect(await ac.status()).toMatchObject({ role: StorageRole.STORAGE_ROLE_LEADER, term: 3 });
    // Wire bounds: a replica id that is not an id, a last_log_term past the replica's term.
    const badId = await codeOf(ac.firstReplicateMessage({ replicaId: 'x'.repeat(100), copy: '', term: 3, fromPosition: 0, lastLogTerm: 0, leader: '' }));
    expect(badId.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(badId.details).toContain('replica_id');
    const badTerm = await codeOf(ac.firstReplicateMessage({ replicaId: 'kg-5', copy: '', term: 3, fromPosition: 1, lastLogTerm: 4, leader: '' }));
    expect(badTerm.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(badTerm.details).toContain('last_log_term');
    const badCopy = await codeOf(ac.firstReplicateMessage({ replicaId: 'kg-5', copy: 'Not-Hex', term: 3, fromPosition: 0, lastLogTerm: 0, leader: '' }));
    expect(badCopy.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(badCopy.details).toContain('copy');
  });
});
