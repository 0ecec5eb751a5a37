/**
 * The agent's write-lease bookkeeping, on a fake clock and a fake node: leases run from when the
 * answered call was sent; a leader whose lease lapsed waits for the master's confirmation before it
 * is renewed; the launch flag carries what is left (nothing to a replica or an unconfirmed leader).
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/common/logger.js';
import { LeaseKeeper, leaseMsFor } from '../../runtime/agent/lease-keeper.js';
import { newNodeRecord, type NodeRecord } from '../../runtime/agent/node-record.js';
import type { ReplicationReader } from '../../runtime/agent/node-replication.js';

const RESTART = { enabled: true, maxRestarts: 3, windowMs: 60_000, backoffMs: 50, backoffMaxMs: 1000 };

function leader(grid = 'g'): NodeRecord {
  const r = newNodeRecord(
    { nodeId: 'kg-0', port: 1, memoryMb: 64, storagePath: '/d', cluster: 'kg', role: 'leader', generation: 1, replication: { grid, term: 3, leaderAddress: '', durability: 'sync', syncQuorum: 1, syncTimeoutMs: 0 } },
    RESTART,
  );
  r.status = 'running';
  r.replication = { role: 'leader', term: 3, leader: '', durability: 'sync', syncQuorum: 1, logPosition: 0, lastLogTerm: 0, leaderLogPosition: 0, catchingUp: false, connected: false, readAtMs: 0 };
  return r;
}

function keeper(): { k: LeaseKeeper; renewals: Array<{ term: number; ms: number }>; clock: { now: number } } {
  const renewals: Array<{ term: number; ms: number }> = [];
  const reader = { renewLease: async (_r: NodeRecord, term: number, ms: number) => void renewals.push({ term, ms }) } as unknown as ReplicationReader;
  const clock = { now: 10_000 };
  return { k: new LeaseKeeper(reader, silentLogger, () => clock.now), renewals, clock };
}

describe('lease keeper', () => {
  it('is offlineAfter / 2, 15 s from a master that does not say', () => {
    expect(leaseMsFor(1600)).toBe(800);
    expect(leaseMsFor(undefined)).toBe(15_000);
  });

  it('renews a leader after each answer, for what is left from when the call was sent', () => {
    const { k, renewals, clock } = keeper();
    const r = leader();
    expect(k.remainingMs()).toBe(0);
    // The call left 100 ms ago: 700 of the 800 ms are left.
    k.answered(clock.now - 100, 1600, [r]);
    expect(renewals).toEqual([{ term: 3, ms: 700 }]);
    const until = k.launchUntilMs(r)!;
    expect(until - Date.now()).toBeGreaterThan(600);
    expect(until - Date.now()).toBeLessThanOrEqual(700);
    // A replica launches with no lease; a node outside a grid with none at all.
    expect(k.launchUntilMs({ ...r, spec: { ...r.spec, role: 'replica' } })).toBe(0);
    expect(k.launchUntilMs(leader(''))).toBeUndefined();
    k.answered(clock.now, 1600, [leader('')]);
    expect(renewals).toHaveLength(1);
  });

  it('does not renew a leader whose lease lapsed until the master confirms it', () => {
    const { k, renewals, clock } = keeper();
    const r = leader();
    k.answered(clock.now, 1600, [r]);
    clock.now += 500;
    k.answered(clock.now, 1600, [r]);
    expect(renewals.map((x) => x.ms)).toEqual([800, 800]);
    expect(r.leaseUnconfirmed).toBe(false);
    // WHEN no answer comes for longer than the lease
    clock.now += 801;
    k.sweep(r);
    // THEN the leader is reported unconfirmed, launches without a lease, and the next answer does not renew it
    expect(r.leaseUnconfirmed).toBe(true);
    expect(k.launchUntilMs(r)).toBe(0);
    k.answered(clock.now, 1600, [r]);
    expect(renewals).toHaveLength(2);
    // WHEN the master tells it its role again THEN it is renewed at once
    k.confirmed(r);
    expect(r.leaseUnconfirmed).toBe(false);
    expect(renewals).toEqual([{ term: 3, ms: 800 }, { term: 3, ms: 800 }, { term: 3, ms: 800 }]);
  });

  it('holds a re-adopted leader until the master confirms it; a replica needs no confirmation', () => {
    const { k, renewals, clock } = keeper();
    const r = leader();
    k.adopted(r);
    expect(r.leaseUnconfirmed).toBe(true);
    const replica = leader();
    replica.spec = { ...replica.spec, role: 'replica' };
    replica.replication = { ...replica.replication!, role: 'replica' };
    k.adopted(replica);
    expect(replica.leaseUnconfirmed).toBe(false);
    k.answered(clock.now, 1600, [r, replica]);
    expect(renewals).toEqual([]);
  });
});
