/**
 * A grid leader's write lease with real storage-server processes: writes are taken only while the
 * lease holds, refused UNAVAILABLE (naming the term) once it lapses, taken again after a renewal;
 * renewals of another term, or to a replica, are refused; a sync write whose quorum answers after
 * the lease lapsed is not acknowledged; a node started without a lease keeps today's behaviour.
 * Unit checks of the lease clock and the renewal's deadline cut come first.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { leaseOf } from '../../runtime/storage/control-handlers.js';
import { WriteLease } from '../../runtime/storage/write-lease.js';
import { GridError } from '../../runtime/errors.js';
import { unary } from '../../client/index.js';
import { codeOf } from '../helpers/agent-processes.js';
import { cleanup, eventually } from '../helpers/processes.js';
import { leaderArgs, replicaArgs, replicationClients, startNode, StorageRole } from './support/replication.js';

afterEach(cleanup);

const client = replicationClients();

/** Leader flags of a grid node whose lease ends `ms` from now (0: holds none). */
function leased(ms: number): string[] {
  return ['--grid', 'g', '--write-lease-until', ms === 0 ? '0' : String(Date.now() + ms)];
}

describe('write lease (units)', () => {
  it('holds for its term until its end on the monotonic clock, and says which term lapsed', () => {
    let now = 1000;
    const lines: string[] = [];
    const lease = new WriteLease(true, (l) => lines.push(l), () => now);
    expect(() => lease.check(1, 'write')).toThrow(/leader lease expired: write refused: this leader holds no write lease for term 1 yet/);
    lease.grant(1, 500);
    expect(lease.held(1)).toBe(true);
    expect(lease.held(2)).toBe(false);
    now = 1499;
    lease.check(1, 'write');
    now = 1500;
    let err: unknown;
    try {
      lease.check(1, 'write');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GridError);
    expect((err as GridError).code).toBe('LEASE_EXPIRED');
    expect((err as GridError).message).toContain('write lease for term 1 expired');
    lease.grant(1, 100);
    expect(lease.remainingMs(1)).toBe(100);
    // One line per lapse and per renewal after one, not one per refused write.
    expect(lines).toEqual([
      'no write lease for term 1 yet: refusing writes until the agent renews it',
      'write lease of term 1 granted: taking writes',
      'write lease of term 1 lapsed: refusing writes until the agent renews it',
      'write lease of term 1 granted: taking writes',
    ]);
    const none = new WriteLease(false, () => undefined, () => now);
    none.check(7, 'write');
    expect(none.remainingMs(7)).toBe(Infinity);
  });

  it('cuts a renewal to its deadline, and refuses a lease out of bounds naming the field', () => {
    expect(leaseOf({ term: 1, leaseMs: 800 }, undefined, 0)).toBe(800);
    expect(leaseOf({ term: 1, leaseMs: 800 }, Infinity, 0)).toBe(800);
    expect(leaseOf({ term: 1, leaseMs: 800 }, 10_300, 10_000)).toBe(300);
    expect(leaseOf({ term: 1, leaseMs: 800 }, new Date(9_000), 10_000)).toBe(0);
    expect(() => leaseOf({ term: 1, leaseMs: 0 }, undefined)).toThrow(/^lease_ms:/);
    expect(() => leaseOf({ term: 1, leaseMs: 600_001 }, undefined)).toThrow(/^lease_ms:/);
  });
});

describe('storage-server write lease', () => {
  it('refuses writes once the lease lapses, naming the term, and takes them again after a renewal', async () => {
    // GIVEN a grid leader whose lease ends 3 s after it was launched
    const leader = await startNode(leaderArgs('kg-0', 1, leased(3000)));
    const lc = client(leader.address);
    expect((await lc.data.learnConcept('a', 'taken while the lease holds')).created).toBe(true);

    // WHEN the lease runs out unrenewed THEN writes are refused UNAVAILABLE, naming the term, and nothing is written
    await eventually(async () => (await codeOf(lc.data.learnConcept('probe', 'until refused'))).code !== 0 || undefined, 15_000, 100);
    const refused = await codeOf(lc.data.learnConcept('b', 'after the lapse'));
    expect(refused.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(refused.details).toMatch(/^leader lease expired: write refused: this leader's write lease for term 1 expired/);
    const assoc = await codeOf(lc.data.learnAssociation({ sourceId: 'a', targetId: 'c', type: 't', confidence: 1 }));
    expect(assoc.code).toBe(GrpcStatus.UNAVAILABLE);
    expect((await lc.data.queryConcept('b')).found).toBe(false);
    // ...reads go on
    expect((await lc.data.queryConcept('a')).found).toBe(true);

    // WHEN the lease is renewed THEN writes are taken again
    expect(await lc.renewLease(1, 60_000)).toBe(60_000);
    expect((await lc.data.learnConcept('b', 'after the renewal')).created).toBe(true);
    expect((await lc.data.learnAssociation({ sourceId: 'a', targetId: 'b', type: 't', confidence: 1 })).created).toBe(true);

    // Renewals of another term are refused: a stale one, and one the node was never given
    const ahead = await codeOf(lc.renewLease(2, 1000));
    expect(ahead.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(ahead.details).toMatch(/term 2 is past this node's term 1/);
    await lc.setRole(StorageRole.STORAGE_ROLE_LEADER, 2);
    // ...a new term starts without a lease: the old term's lease does not carry over
    expect((await codeOf(lc.data.learnConcept('c', 'term 2, no lease yet'))).details).toMatch(/no write lease for term 2 yet/);
    const stale = await codeOf(lc.renewLease(1, 1000));
    expect(stale.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(stale.details).toMatch(/term 1 is older than this node's term 2/);
    expect(await lc.renewLease(2, 60_000)).toBe(60_000);
    expect((await lc.data.learnConcept('c', 'term 2, leased')).created).toBe(true);

    // A bad renewal names its field
    expect((await codeOf(lc.renewLease(2, 0))).details).toMatch(/^lease_ms:/);
    expect((await codeOf(lc.renewLease(0, 100))).details).toMatch(/^term:/);
  });

  it('a leader launched with no lease left refuses writes until renewed; a replica refuses renewals naming its leader', async () => {
    const leader = await startNode(leaderArgs('kg-0', 1, leased(0)));
    const lc = client(leader.address);
    const r = await codeOf(lc.data.learnConcept('a', 'b'));
    expect(r.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(r.details).toMatch(/^leader lease expired: .*term 1/);
    // A renewal whose deadline has nearly passed grants no more than what is left of it.
    const granted = await lc.renewLease(1, 60_000, 5_000);
    expect(granted).toBeGreaterThan(0);
    expect(granted).toBeLessThanOrEqual(5_000);
    expect((await lc.data.learnConcept('a', 'b')).created).toBe(true);

    const replica = await startNode(replicaArgs('kg-1', leader.address, 1, leased(60_000)));
    const refused = await codeOf(client(replica.address).renewLease(1, 1000));
    expect(refused.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(refused.details).toContain(leader.address);
  });

  it('does not acknowledge a sync write whose quorum answered after the lease lapsed', async () => {
    // GIVEN a sync leader with no replica yet and a lease of a few seconds
    const leader = await startNode(leaderArgs('kg-0', 1, [...leased(4000), '--durability', 'sync', '--sync-timeout', '60s']));
    const lc = client(leader.address);
    // WHEN a write is taken while the lease holds, and waits for its quorum (a call deadline past the test's)
    const raw = lc.data.raw;
    const pending = codeOf(unary(raw.learnConcept, raw, { id: 'late', content: 'quorum after the lapse', attributes: {} }, undefined, 120_000));
    await eventually(async () => (await lc.status()).logPosition === 1, 10_000);
    // ...and its quorum (a replica) arrives only after the lease lapsed
    await eventually(async () => (await codeOf(lc.data.learnConcept('probe', 'x'))).details.startsWith('leader lease expired') || undefined, 15_000, 100);
    await startNode(replicaArgs('kg-1', leader.address));
    // THEN the write is refused at acknowledgement, UNAVAILABLE (its outcome unknown to the client)
    const r = await pending;
    expect(r.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(r.details).toMatch(/^leader lease expired: acknowledging the write at log position 1 refused/);
  });

  it('a node started without a lease flag keeps taking writes and answers a renewal with no lease', async () => {
    const leader = await startNode(leaderArgs('kg-0', 1));
    const lc = client(leader.address);
    expect(await lc.renewLease(1, 1000)).toBe(0);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await lc.data.learnConcept('a', 'b')).created).toBe(true);
  });
});
