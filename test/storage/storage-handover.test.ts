/**
 * A leader's planned handover (SetRole with hand_over_ms) on real storage-server processes: it
 * refuses new writes but keeps streaming its log, answers with its final position, ends with the
 * next SetRole or on its own when the time is up; only a leader within its own term hands over.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/agent-processes.js';
import { cleanup } from '../helpers/processes.js';
import { atPosition, leaderArgs, missingOn, replicaArgs, replicationClients, startNode, StorageRole, writeConcepts } from './support/replication.js';

afterEach(cleanup);

const client = replicationClients();

describe('storage-server handover', () => {
  it('refuses writes while handing over, still feeds its replica, and resumes on the next SetRole or when the time is up', async () => {
    // GIVEN a leader in term 1 with a replica, and writes flowing
    const a = await startNode(leaderArgs('kg-0'));
    const b = await startNode(replicaArgs('kg-1', a.address));
    const [ac, bc] = [client(a.address), client(b.address)];
    const written = await writeConcepts(ac.data, 'k', 200);

    // WHEN it hands over
    const fenced = await ac.setRole(StorageRole.STORAGE_ROLE_LEADER, 1, '', undefined, 0, 30_000);

    // THEN its answer holds every write it acknowledged, it refuses new ones, and the replica reaches that position
    expect(fenced).toMatchObject({ role: StorageRole.STORAGE_ROLE_LEADER, term: 1, logPosition: 200 });
    const refused = await codeOf(ac.data.learnConcept('x', 'during the handover'));
    expect(refused.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(refused.details).toContain('handing over');
    await atPosition(bc, 200);
    expect(await missingOn(bc.data, written)).toEqual([]);

    // WHEN it is told to lead its term again, it takes writes again
    await ac.setRole(StorageRole.STORAGE_ROLE_LEADER, 1);
    expect((await codeOf(ac.data.learnConcept('y', 'after the handover'))).code).toBe(0);

    // ...and a handover nobody finishes ends on its own
    await ac.setRole(StorageRole.STORAGE_ROLE_LEADER, 1, '', undefined, 0, 2000);
    expect((await codeOf(ac.data.learnConcept('z', 'fenced'))).code).toBe(GrpcStatus.FAILED_PRECONDITION);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await codeOf(ac.data.learnConcept('z', 'fence expired'))).code).toBe(0);

    // AND only a leader within its own term hands over; the bound is checked
    const wrongTerm = await codeOf(ac.setRole(StorageRole.STORAGE_ROLE_LEADER, 2, '', undefined, 0, 1000));
    expect(wrongTerm.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(wrongTerm.details).toContain('hand_over_ms');
    const replica = await codeOf(bc.setRole(StorageRole.STORAGE_ROLE_REPLICA, 1, a.address, undefined, 0, 1000));
    expect(replica.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    const tooLong = await codeOf(ac.setRole(StorageRole.STORAGE_ROLE_LEADER, 1, '', undefined, 0, 60_001));
    expect(tooLong.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect((await ac.status()).term).toBe(1);
  });
});
